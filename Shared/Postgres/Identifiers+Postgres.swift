import MusterDomain

// Typed ids bind and decode as the values they wrap. A UUID id is declared
// `uuid`, so it compares with the planner's `uuid` columns; bind its
// `rawValue` where a column is `TEXT` (the launcher's, poller's and
// notifier's `execution_id`), since `text = uuid` has no operator.

extension PostgresBindable where Self: UUIDIdentifier {
    /// `uuid`
    public static var postgresDataType: PostgresDataType { .uuid }
    /// The lowercase hyphenated form.
    public var postgresValue: PostgresValue { .text(rawValue) }
}

extension PostgresDecodable where Self: UUIDIdentifier {
    /// A `uuid` column, or text holding one; anything else is a decoding error naming the column.
    public init(postgresCell cell: PostgresCell) throws {
        let text = try cell.requireText(for: Self.self)
        guard let id = Self(rawValue: text) else {
            throw PostgresError.decoding(
                "Column \"\(cell.column)\" holds no \(Self.kind): \(MalformedIdentifier(kind: Self.kind, text: text))")
        }
        self = id
    }
}

extension ExecutionID: PostgresBindable, PostgresDecodable {}
extension PlanID: PostgresBindable, PostgresDecodable {}
extension TeamID: PostgresBindable, PostgresDecodable {}
extension SourceServerID: PostgresBindable, PostgresDecodable {}
extension JobID: PostgresBindable, PostgresDecodable {}
