import Foundation

/// A value bound as a query parameter (`$1`, `$2`, …). Values travel separately from the SQL
/// text (libpq `PQsendQueryParams`), so they never become SQL and cannot inject any.
///
/// Conform your own types by forwarding to a conforming value; a `RawRepresentable` type whose
/// raw value is bindable (e.g. a `String` enum) only needs `extension MyEnum: PostgresBindable {}`.
public protocol PostgresBindable: Sendable {
    /// The type the parameter is declared as; also used when the value is NULL.
    static var postgresDataType: PostgresDataType { get }
    /// The value as PostgreSQL receives it.
    var postgresValue: PostgresValue { get }
}

/// A parameter value on the wire: NULL, text in the type's input syntax, or raw bytes.
public enum PostgresValue: Sendable, Equatable {
    /// SQL NULL.
    case null
    /// Text in the input syntax of the parameter's type. Must not contain NUL characters.
    case text(String)
    /// Raw bytes, sent in binary format (used for `bytea`).
    case binary([UInt8])
}

extension String: PostgresBindable {
    /// `text`
    public static var postgresDataType: PostgresDataType { .text }
    /// The string itself.
    public var postgresValue: PostgresValue { .text(self) }
}

extension Int: PostgresBindable {
    /// `int8`: Swift's `Int` is 64 bits on every supported platform.
    public static var postgresDataType: PostgresDataType { .int8 }
    /// Decimal digits.
    public var postgresValue: PostgresValue { .text(String(self)) }
}

extension Int64: PostgresBindable {
    /// `int8`
    public static var postgresDataType: PostgresDataType { .int8 }
    /// Decimal digits.
    public var postgresValue: PostgresValue { .text(String(self)) }
}

extension Int32: PostgresBindable {
    /// `int4`
    public static var postgresDataType: PostgresDataType { .int4 }
    /// Decimal digits.
    public var postgresValue: PostgresValue { .text(String(self)) }
}

extension Bool: PostgresBindable {
    /// `bool`
    public static var postgresDataType: PostgresDataType { .bool }
    /// `t` or `f`.
    public var postgresValue: PostgresValue { .text(self ? "t" : "f") }
}

extension Double: PostgresBindable {
    /// `float8`
    public static var postgresDataType: PostgresDataType { .float8 }
    /// Shortest text that reads back as the same `Double`; PostgreSQL's spelling for NaN and infinities.
    public var postgresValue: PostgresValue {
        if isNaN { return .text("NaN") }
        if isInfinite { return .text(self < 0 ? "-Infinity" : "Infinity") }
        return .text(description)
    }
}

extension UUID: PostgresBindable {
    /// `uuid`
    public static var postgresDataType: PostgresDataType { .uuid }
    /// The canonical hyphenated form.
    public var postgresValue: PostgresValue { .text(uuidString) }
}

extension Date: PostgresBindable {
    /// `timestamptz`
    public static var postgresDataType: PostgresDataType { .timestamptz }
    /// ISO 8601 in UTC with microseconds, PostgreSQL's precision.
    public var postgresValue: PostgresValue { .text(PostgresTimestamp.format(self)) }
}

extension Array: PostgresBindable where Element == UInt8 {
    /// `bytea`
    public static var postgresDataType: PostgresDataType { .bytea }
    /// The bytes as they are, zero bytes included.
    public var postgresValue: PostgresValue { .binary(self) }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    /// The wrapped type's, so a NULL is still typed.
    public static var postgresDataType: PostgresDataType { Wrapped.postgresDataType }
    /// NULL for `nil`, else the wrapped value.
    public var postgresValue: PostgresValue {
        switch self {
        case .none: .null
        case .some(let wrapped): wrapped.postgresValue
        }
    }
}

extension PostgresBindable where Self: RawRepresentable, RawValue: PostgresBindable {
    /// The raw value's type.
    public static var postgresDataType: PostgresDataType { RawValue.postgresDataType }
    /// The raw value.
    public var postgresValue: PostgresValue { rawValue.postgresValue }
}

extension PostgresBindable {
    /// The dynamic type's `postgresDataType`, reachable through an existential.
    var dynamicPostgresDataType: PostgresDataType { Self.postgresDataType }
}
