import Foundation

/// One value of a result row as handed to `PostgresDecodable`: PostgreSQL's text output
/// (nil for NULL), the column's type and its name (for error messages).
public struct PostgresCell: Sendable {
    /// The value in PostgreSQL's text output format; nil for NULL.
    public var text: String?
    /// The column's type.
    public var dataType: PostgresDataType
    /// The column's name.
    public var column: String

    /// A cell with these contents.
    public init(text: String?, dataType: PostgresDataType, column: String) {
        self.text = text
        self.dataType = dataType
        self.column = column
    }

    /// The text, or an error explaining that the column is NULL.
    public func requireText<T>(for type: T.Type) throws -> String {
        guard let text else {
            throw PostgresError.decoding(
                "Column \"\(column)\" is NULL; decode it as \(T.self)? to accept NULL.")
        }
        return text
    }

    /// An error saying this cell's value is not a valid `type`.
    public func mismatch<T>(_ type: T.Type) -> PostgresError {
        PostgresError.decoding(
            "Column \"\(column)\" (\(dataType)) holds a value that is not a \(T.self); "
                + "change the query or the type decoded.")
    }
}

/// A Swift type a result column can be decoded into.
///
/// A `RawRepresentable` type whose raw value is decodable (e.g. a `String` enum) only needs
/// `extension MyEnum: PostgresDecodable {}`.
public protocol PostgresDecodable {
    /// Decodes `cell`, throwing `PostgresError` (kind `.decoding`) when it does not fit.
    init(postgresCell cell: PostgresCell) throws
}

extension String: PostgresDecodable {
    /// Any column's text output.
    public init(postgresCell cell: PostgresCell) throws {
        self = try cell.requireText(for: String.self)
    }
}

extension Int: PostgresDecodable {
    /// An integer column (or any column whose text is a decimal integer).
    public init(postgresCell cell: PostgresCell) throws {
        guard let value = Int(try cell.requireText(for: Int.self)) else { throw cell.mismatch(Int.self) }
        self = value
    }
}

extension Int64: PostgresDecodable {
    /// An integer column.
    public init(postgresCell cell: PostgresCell) throws {
        guard let value = Int64(try cell.requireText(for: Int64.self)) else { throw cell.mismatch(Int64.self) }
        self = value
    }
}

extension Int32: PostgresDecodable {
    /// An integer column whose value fits 32 bits.
    public init(postgresCell cell: PostgresCell) throws {
        guard let value = Int32(try cell.requireText(for: Int32.self)) else { throw cell.mismatch(Int32.self) }
        self = value
    }
}

extension Bool: PostgresDecodable {
    /// A `bool` column (`t` / `f`).
    public init(postgresCell cell: PostgresCell) throws {
        switch try cell.requireText(for: Bool.self) {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw cell.mismatch(Bool.self)
        }
    }
}

extension Double: PostgresDecodable {
    /// A floating-point, numeric or integer column; `NaN` and `±Infinity` included.
    public init(postgresCell cell: PostgresCell) throws {
        let text = try cell.requireText(for: Double.self)
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text), value.isFinite else { throw cell.mismatch(Double.self) }
            self = value
        }
    }
}

extension UUID: PostgresDecodable {
    /// A `uuid` column (or text holding one).
    public init(postgresCell cell: PostgresCell) throws {
        guard let value = UUID(uuidString: try cell.requireText(for: UUID.self)) else {
            throw cell.mismatch(UUID.self)
        }
        self = value
    }
}

extension Date: PostgresDecodable {
    /// A `timestamptz`, `timestamp` (read as UTC) or `date` (midnight UTC) column.
    public init(postgresCell cell: PostgresCell) throws {
        guard let value = PostgresTimestamp.parse(try cell.requireText(for: Date.self)) else {
            throw cell.mismatch(Date.self)
        }
        self = value
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// A `bytea` column.
    public init(postgresCell cell: PostgresCell) throws {
        let text = try cell.requireText(for: [UInt8].self)
        guard cell.dataType == .bytea, let bytes = ByteaHex.decode(text) else { throw cell.mismatch([UInt8].self) }
        self = bytes
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// nil for NULL, else the wrapped type's decoding.
    public init(postgresCell cell: PostgresCell) throws {
        self = cell.text == nil ? nil : try Wrapped(postgresCell: cell)
    }
}

extension PostgresJSON: PostgresDecodable {
    /// A `json` or `jsonb` column (or text holding JSON).
    public init(postgresCell cell: PostgresCell) throws {
        self.init(try cell.requireText(for: PostgresJSON.self))
    }

    /// The document decoded with a `JSONDecoder` (ISO 8601 dates).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(json.utf8))
    }
}

extension PostgresDecodable where Self: RawRepresentable, RawValue: PostgresDecodable {
    /// The raw value's decoding, then `init(rawValue:)`.
    public init(postgresCell cell: PostgresCell) throws {
        let raw = try RawValue(postgresCell: cell)
        guard let value = Self(rawValue: raw) else {
            throw PostgresError.decoding(
                "Column \"\(cell.column)\" holds \(raw), which is not a valid \(Self.self).")
        }
        self = value
    }
}
