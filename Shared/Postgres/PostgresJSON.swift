import Foundation

/// A JSON document bound as `jsonb`. Use it where a column or parameter is `jsonb`;
/// a plain `String` binds as `text`, which PostgreSQL will not convert implicitly.
public struct PostgresJSON: PostgresBindable, Hashable {
    /// The JSON text, sent as is (the server validates it).
    public var json: String

    /// Wraps JSON text.
    public init(_ json: String) {
        self.json = json
    }

    /// Encodes `value` with a `JSONEncoder` (sorted keys, ISO 8601 dates).
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        self.json = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `jsonb`
    public static var postgresDataType: PostgresDataType { .jsonb }
    /// The JSON text.
    public var postgresValue: PostgresValue { .text(json) }
}
