/// A result column's name and type.
public struct PostgresColumn: Sendable, Hashable {
    /// The column's name as the query labels it.
    public var name: String
    /// The column's type.
    public var dataType: PostgresDataType

    /// A column with this name and type.
    public init(name: String, dataType: PostgresDataType) {
        self.name = name
        self.dataType = dataType
    }
}

/// The columns of a result, shared by all its rows.
final class PostgresColumnLayout: Sendable {
    let columns: [PostgresColumn]
    /// First position of each name (later duplicates are reachable by position only).
    let positions: [String: Int]

    init(_ columns: [PostgresColumn]) {
        self.columns = columns
        var positions: [String: Int] = [:]
        for (index, column) in columns.enumerated() where positions[column.name] == nil {
            positions[column.name] = index
        }
        self.positions = positions
    }
}

/// One row of a result. Values are kept in PostgreSQL's text output and decoded on demand.
public struct PostgresRow: Sendable {
    let layout: PostgresColumnLayout
    let values: [String?]

    init(layout: PostgresColumnLayout, values: [String?]) {
        self.layout = layout
        self.values = values
    }

    /// A row built by hand, for testing code that maps rows. `values` are in PostgreSQL's text
    /// output format (`t` for true, `\x00ff` for bytea…), nil for NULL, one per column.
    public init(columns: [PostgresColumn], values: [String?]) {
        precondition(columns.count == values.count, "PostgresRow needs one value per column")
        self.init(layout: PostgresColumnLayout(columns), values: values)
    }

    /// The row's columns, in order.
    public var columns: [PostgresColumn] { layout.columns }

    /// The value of the column named `column`, decoded as `T`. Throws when the column is missing,
    /// NULL (decode as an Optional to allow that) or not convertible to `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T {
        guard let index = layout.positions[column] else {
            let names = layout.columns.map(\.name).joined(separator: ", ")
            throw PostgresError.decoding("No column \"\(column)\" in the result; it has: \(names).")
        }
        return try decode(type, at: index)
    }

    /// The value at position `index` (0-based), decoded as `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard layout.columns.indices.contains(index) else {
            throw PostgresError.decoding(
                "No column at position \(index); the result has \(layout.columns.count) columns.")
        }
        return try T(postgresCell: cell(at: index))
    }

    /// True when the column named `column` is NULL (or missing).
    public func isNull(_ column: String) -> Bool {
        guard let index = layout.positions[column] else { return true }
        return values[index] == nil
    }

    private func cell(at index: Int) -> PostgresCell {
        let column = layout.columns[index]
        return PostgresCell(text: values[index], dataType: column.dataType, column: column.name)
    }
}

/// What a statement returned.
public struct PostgresResult: Sendable {
    /// The rows, for statements that return any (`SELECT`, `… RETURNING`).
    public var rows: [PostgresRow]
    /// Rows inserted, updated, deleted, selected… as the server reports it; 0 when it does not say.
    public var affectedRows: Int

    /// A result with these rows and count.
    public init(rows: [PostgresRow], affectedRows: Int) {
        self.rows = rows
        self.affectedRows = affectedRows
    }
}
