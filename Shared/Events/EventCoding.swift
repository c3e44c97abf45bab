import Foundation

/// The one JSON convention of every event body: ISO-8601 dates with
/// fractional seconds, identifier keys spelled `…Id`/`…Ids` (as the REST API
/// spells them), unknown fields ignored on decode.
///
/// Swift properties keep Swift's spelling (`executionID`, `sourceServerIDs`);
/// one key rule, ``jsonKey(_:)``, writes them as `executionId` and
/// `sourceServerIds`, and ``swiftKey(_:)`` reads either spelling back, so a
/// body written before the rule (a row in a table, a record still on a topic)
/// still decodes. The rule touches only a trailing `ID`/`IDs`: a key with
/// `ID` inside a word is left alone, and so are dictionary keys (tags,
/// parameters), which are data, not member names.
public enum EventCoding {
    /// Encoder for event bodies.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTime(date))
        }
        encoder.keyEncodingStrategy = .custom { path in Key(jsonKey(path[path.count - 1].stringValue)) }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Decoder for event bodies.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let raw = try container.decode(String.self)
            guard let date = parseTime(raw) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 timestamp: \(raw)")
            }
            return date
        }
        decoder.keyDecodingStrategy = .custom { path in Key(swiftKey(path[path.count - 1].stringValue)) }
        return decoder
    }

    /// The JSON spelling of a member name: a trailing `ID` becomes `Id` and
    /// `IDs` becomes `Ids` (`executionID` → `executionId`); anything else is
    /// unchanged.
    public static func jsonKey(_ name: String) -> String {
        if name.count > 2, name.hasSuffix("ID") { return name.dropLast(2) + "Id" }
        if name.count > 3, name.hasSuffix("IDs") { return name.dropLast(3) + "Ids" }
        return name
    }

    /// The member name a JSON key is read into: the inverse of ``jsonKey(_:)``
    /// (`executionId` → `executionID`); a key already spelled `…ID` is
    /// unchanged. A member that must be read under a literal `…Id` key cannot
    /// use this decoder's key rule (``LaunchProfile`` reads both).
    public static func swiftKey(_ key: String) -> String {
        if key.count > 2, key.hasSuffix("Id") { return key.dropLast(2) + "ID" }
        if key.count > 3, key.hasSuffix("Ids") { return key.dropLast(3) + "IDs" }
        return key
    }

    /// RFC 3339 with milliseconds, UTC.
    public static func formatTime(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// Parses RFC 3339 with or without fractional seconds.
    public static func parseTime(_ raw: String) -> Date? {
        if let date = try? Date(raw, strategy: .iso8601.year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted)) {
            return date
        }
        return try? Date(raw, strategy: .iso8601)
    }

    /// A coding key with a computed name.
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ stringValue: String) { self.stringValue = stringValue }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
