/// A PostgreSQL type, identified by its OID (`pg_type.oid`): the type a parameter is sent as,
/// or the type of a result column.
public struct PostgresDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The type's OID.
    public var rawValue: UInt32
    /// The type with this OID.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Lets the server infer the type from context, like an untyped literal.
    public static let unspecified = PostgresDataType(rawValue: 0)
    /// `bool`
    public static let bool = PostgresDataType(rawValue: 16)
    /// `bytea`
    public static let bytea = PostgresDataType(rawValue: 17)
    /// `int8` / `bigint`
    public static let int8 = PostgresDataType(rawValue: 20)
    /// `int2` / `smallint`
    public static let int2 = PostgresDataType(rawValue: 21)
    /// `int4` / `integer`
    public static let int4 = PostgresDataType(rawValue: 23)
    /// `text`
    public static let text = PostgresDataType(rawValue: 25)
    /// `json`
    public static let json = PostgresDataType(rawValue: 114)
    /// `float4` / `real`
    public static let float4 = PostgresDataType(rawValue: 700)
    /// `float8` / `double precision`
    public static let float8 = PostgresDataType(rawValue: 701)
    /// `varchar`
    public static let varchar = PostgresDataType(rawValue: 1043)
    /// `date`
    public static let date = PostgresDataType(rawValue: 1082)
    /// `timestamp` (without time zone)
    public static let timestamp = PostgresDataType(rawValue: 1114)
    /// `timestamptz`
    public static let timestamptz = PostgresDataType(rawValue: 1184)
    /// `numeric`
    public static let numeric = PostgresDataType(rawValue: 1700)
    /// `uuid`
    public static let uuid = PostgresDataType(rawValue: 2950)
    /// `jsonb`
    public static let jsonb = PostgresDataType(rawValue: 3802)

    /// The type's SQL name when known, else `oid <n>`.
    public var description: String {
        switch self {
        case .unspecified: "unspecified"
        case .bool: "bool"
        case .bytea: "bytea"
        case .int8: "int8"
        case .int2: "int2"
        case .int4: "int4"
        case .text: "text"
        case .json: "json"
        case .float4: "float4"
        case .float8: "float8"
        case .varchar: "varchar"
        case .date: "date"
        case .timestamp: "timestamp"
        case .timestamptz: "timestamptz"
        case .numeric: "numeric"
        case .uuid: "uuid"
        case .jsonb: "jsonb"
        default: "oid \(rawValue)"
        }
    }
}
