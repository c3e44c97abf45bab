import Foundation

/// The one JSON convention of every event body: ISO-8601 dates with
/// fractional seconds, keys as declared, unknown fields ignored on decode.
public enum EventCoding {
    /// Encoder for event bodies.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTime(date))
        }
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
        return decoder
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
}
