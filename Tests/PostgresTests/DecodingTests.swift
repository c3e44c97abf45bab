import Foundation
import Testing

@testable import MusterPostgres

@Suite("Row decoding and bytea (pure)")
struct DecodingTests {
    enum Status: String, PostgresDecodable, PostgresBindable { case pending, done }

    let row = PostgresRow(
        columns: [
            PostgresColumn(name: "id", dataType: .int8),
            PostgresColumn(name: "name", dataType: .text),
            PostgresColumn(name: "flag", dataType: .bool),
            PostgresColumn(name: "blob", dataType: .bytea),
            PostgresColumn(name: "at", dataType: .timestamptz),
            PostgresColumn(name: "missing", dataType: .text),
            PostgresColumn(name: "status", dataType: .text),
            PostgresColumn(name: "ratio", dataType: .float8),
        ],
        values: ["42", "héllo", "t", "\\x00ff10", "2024-02-29 12:00:00.5+00", nil, "done", "-Infinity"])

    @Test("decodes by name and by position")
    func decodes() throws {
        #expect(try row.decode(Int.self, "id") == 42)
        #expect(try row.decode(Int64.self, at: 0) == 42)
        #expect(try row.decode(Int32.self, "id") == 42)
        #expect(try row.decode(String.self, "name") == "héllo")
        #expect(try row.decode(Bool.self, "flag"))
        #expect(try row.decode([UInt8].self, "blob") == [0, 255, 16])
        #expect(try row.decode(Date.self, "at") == Date(timeIntervalSince1970: 1_709_208_000.5))
        #expect(try row.decode(Status.self, "status") == .done)
        #expect(try row.decode(Double.self, "ratio") == -.infinity)
    }

    @Test("NULL decodes as nil for optionals and fails otherwise")
    func nulls() throws {
        #expect(row.isNull("missing"))
        #expect(!row.isNull("id"))
        #expect(try row.decode(String?.self, "missing") == nil)
        #expect(try row.decode(Int?.self, "id") == 42)
        let error = #expect(throws: PostgresError.self) { try row.decode(String.self, "missing") }
        #expect(error?.kind == .decoding)
        #expect(error?.message.contains("String?") == true)
    }

    @Test("unknown columns and mismatched types are explained")
    func mismatches() throws {
        let unknown = #expect(throws: PostgresError.self) { try row.decode(Int.self, "nope") }
        #expect(unknown?.message.contains("id, name") == true)
        #expect(throws: PostgresError.self) { try row.decode(Int.self, "name") }
        #expect(throws: PostgresError.self) { try row.decode(Int.self, at: 99) }
        #expect(throws: PostgresError.self) { try row.decode(UUID.self, "name") }
        // Only a bytea column decodes as bytes, so text that happens to start with \x is not misread.
        #expect(throws: PostgresError.self) { try row.decode([UInt8].self, "name") }
        let badEnum = PostgresRow(columns: [PostgresColumn(name: "s", dataType: .text)], values: ["weird"])
        #expect(throws: PostgresError.self) { try badEnum.decode(Status.self, "s") }
    }

    @Test("bytea hex decoding")
    func bytea() {
        #expect(ByteaHex.decode("\\x") == [])
        #expect(ByteaHex.decode("\\x0001FFab") == [0, 1, 255, 171])
        #expect(ByteaHex.decode("\\x0") == nil)
        #expect(ByteaHex.decode("\\xzz") == nil)
        #expect(ByteaHex.decode("0001") == nil)
    }

    @Test("bindable values are typed and encoded for PostgreSQL")
    func bindables() throws {
        #expect(Double.nan.postgresValue == .text("NaN"))
        #expect((-Double.infinity).postgresValue == .text("-Infinity"))
        #expect(true.postgresValue == .text("t"))
        #expect(Int?.none.postgresValue == .null)
        #expect(Int?.postgresDataType == .int8)
        #expect(Status.done.postgresValue == .text("done"))
        #expect(Status.postgresDataType == .text)
        #expect([UInt8]([0, 1]).postgresValue == .binary([0, 1]))
        let json = try PostgresJSON(encoding: ["b": 2, "a": 1])
        #expect(json.json == #"{"a":1,"b":2}"#)
        #expect(PostgresJSON.postgresDataType == .jsonb)
        #expect(try json.decode([String: Int].self) == ["a": 1, "b": 2])
    }
}
