import Foundation
import MusterPostgres
import TestSupport
import Testing

@Suite("Binding and decoding against PostgreSQL")
struct RoundTripTests {
    @Test("every bindable type round-trips through a table, NULLs included")
    func table() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.query(
                """
                CREATE TABLE \(schema).all_types (
                    id integer PRIMARY KEY, t text, i8 bigint, i4 integer, b boolean, f8 double precision,
                    u uuid, ts timestamptz, by bytea, j jsonb)
                """)
            let uuid = UUID()
            let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
            let bytes: [UInt8] = [0, 1, 0, 255, 0, 0]
            try await pool.query(
                "INSERT INTO \(schema).all_types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                [Int32(1), "héllo 🌍 日本語", Int.max, Int32.min, true, Double.pi, uuid, date, bytes,
                    PostgresJSON(#"{"k": [1, "two"]}"#)])
            let inserted = try await pool.query(
                "INSERT INTO \(schema).all_types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                [Int32(2), String?.none, Int?.none, Int32?.none, Bool?.none, Double?.none, UUID?.none, Date?.none,
                    [UInt8]?.none, PostgresJSON?.none])
            #expect(inserted.affectedRows == 1)

            let rows = try await pool.query("SELECT * FROM \(schema).all_types ORDER BY id").rows
            #expect(rows.count == 2)
            let full = rows[0]
            #expect(try full.decode(String.self, "t") == "héllo 🌍 日本語")
            #expect(try full.decode(Int.self, "i8") == Int.max)
            #expect(try full.decode(Int32.self, "i4") == Int32.min)
            #expect(try full.decode(Bool.self, "b") == true)
            #expect(try full.decode(Double.self, "f8") == Double.pi)
            #expect(try full.decode(UUID.self, "u") == uuid)
            #expect(abs(try full.decode(Date.self, "ts").timeIntervalSince(date)) < 1e-6)
            #expect(try full.decode([UInt8].self, "by") == bytes)
            #expect(try full.decode(PostgresJSON.self, "j").decode(Payload.self) == Payload(k: [.int(1), .text("two")]))

            let empty = rows[1]
            for column in ["t", "i8", "i4", "b", "f8", "u", "ts", "by", "j"] {
                #expect(empty.isNull(column), "\(column)")
            }
            #expect(try empty.decode(String?.self, "t") == nil)
            #expect(try empty.decode(Int?.self, "i8") == nil)
            #expect(try empty.decode(Date?.self, "ts") == nil)
            #expect(try empty.decode([UInt8]?.self, "by") == nil)
            #expect(throws: PostgresError.self) { try empty.decode(Int.self, "i8") }
        }
    }

    @Test("strings keep every character", arguments: [
        "", "plain", "héllo wörld", "emoji 🌍👩‍👩‍👧", "日本語テキスト", "tab\tnew\nline\r",
        "quotes ' \" and \\ backslash", "$1 placeholder-looking", "\u{7F}\u{1}",
    ])
    func strings(_ value: String) async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        let row = try await pool.query("SELECT $1 AS v, octet_length($1) AS n", [value]).rows[0]
        #expect(try row.decode(String.self, "v") == value)
        #expect(try row.decode(Int.self, "n") == value.utf8.count)
    }

    @Test("numbers, booleans and UUIDs keep their values and types")
    func scalars() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        for value in [Int.min, -1, 0, Int.max] {
            let row = try await pool.query("SELECT $1 AS v, pg_typeof($1)::text AS t", [value]).rows[0]
            #expect(try row.decode(Int.self, "v") == value)
            #expect(try row.decode(String.self, "t") == "bigint")
        }
        for value in [Int32.min, 0, Int32.max] {
            let row = try await pool.query("SELECT $1 AS v, pg_typeof($1)::text AS t", [value]).rows[0]
            #expect(try row.decode(Int32.self, "v") == value)
            #expect(try row.decode(String.self, "t") == "integer")
        }
        for value in [Int64.min, Int64.max] {
            #expect(try await pool.query("SELECT $1", [value]).rows[0].decode(Int64.self, at: 0) == value)
        }
        for value in [true, false] {
            #expect(try await pool.query("SELECT $1", [value]).rows[0].decode(Bool.self, at: 0) == value)
        }
        for value in [Double.pi, -0.1, 1e300, -2.5e-300, Double.greatestFiniteMagnitude, .infinity, -.infinity] {
            #expect(try await pool.query("SELECT $1", [value]).rows[0].decode(Double.self, at: 0) == value)
        }
        #expect(try await pool.query("SELECT $1", [Double.nan]).rows[0].decode(Double.self, at: 0).isNaN)
        let uuid = UUID()
        let row = try await pool.query("SELECT $1 AS v, $1::text AS t", [uuid]).rows[0]
        #expect(try row.decode(UUID.self, "v") == uuid)
        #expect(try row.decode(String.self, "t") == uuid.uuidString.lowercased())
    }

    @Test("bytea keeps zero bytes and every byte value")
    func bytea() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        for value: [UInt8] in [[], [0], [0, 0, 1, 0], Array(0...255)] {
            let row = try await pool.query("SELECT $1 AS v, length($1) AS n", [value]).rows[0]
            #expect(try row.decode([UInt8].self, "v") == value)
            #expect(try row.decode(Int.self, "n") == value.count)
        }
    }

    @Test("dates keep sub-second precision and mean the same instant to the server")
    func dates() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        for seconds in [1_700_000_000.123456, 1_700_000_000.5, -1_234_567.654321, 0, 4_102_444_800.000001] {
            let date = Date(timeIntervalSince1970: seconds)
            let row = try await pool.query(
                "SELECT $1 AS v, extract(epoch FROM $1)::float8 AS epoch", [date]).rows[0]
            #expect(abs(try row.decode(Date.self, "v").timeIntervalSince(date)) < 1e-6, "\(seconds)")
            #expect(abs(try row.decode(Double.self, "epoch") - seconds) < 1e-6, "\(seconds)")
        }
        let now = try await pool.query("SELECT now()").rows[0].decode(Date.self, at: 0)
        #expect(abs(now.timeIntervalSinceNow) < 60)
        let offset = try await pool.query("SELECT '2024-01-01 00:00:00+05:30'::timestamptz").rows[0]
        #expect(try offset.decode(Date.self, at: 0) == Date(timeIntervalSince1970: 1_704_047_400))
    }

    @Test("text with a NUL character is refused with advice, not truncated")
    func nulCharacter() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT $1", ["a\u{0}b"]) }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("bytea") == true)
        #expect(try await pool.query("SELECT 1").rows.count == 1)
    }

    @Test("SQL-injection-looking strings stay data")
    func injection() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.query("CREATE TABLE \(schema).people (name text NOT NULL)")
            let payloads = [
                "Robert'); DROP TABLE \(schema).people;--", "' OR '1'='1", "\\'; SELECT pg_sleep(5); --", "$1",
            ]
            for payload in payloads {
                try await pool.query("INSERT INTO \(schema).people (name) VALUES ($1)", [payload])
            }
            let names = try await pool.query("SELECT name FROM \(schema).people ORDER BY name").rows
                .map { try $0.decode(String.self, "name") }
            #expect(names == payloads.sorted())
            let matches = try await pool.query("SELECT count(*) FROM \(schema).people WHERE name = $1", ["' OR '1'='1"])
            #expect(try matches.rows[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test("unique violations are recognisable by SQLSTATE")
    func uniqueViolation() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.query("CREATE TABLE \(schema).keys (k text PRIMARY KEY)")
            try await pool.query("INSERT INTO \(schema).keys VALUES ($1)", ["a"])
            let error = await #expect(throws: PostgresError.self) {
                try await pool.query("INSERT INTO \(schema).keys VALUES ($1)", ["a"])
            }
            #expect(error?.sqlState == "23505")
            #expect(error?.isUniqueViolation == true)
            #expect(error?.constraint == "keys_pkey")
            #expect(error?.kind == .server)
            // The connection stays usable after a server error.
            #expect(try await pool.query("SELECT count(*) FROM \(schema).keys").rows[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test("scripts run several statements; affectedRows counts changed rows")
    func scripts() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.withConnection { connection in
                try await connection.execute(
                    script: """
                        CREATE TABLE \(schema).n (v integer);
                        INSERT INTO \(schema).n SELECT generate_series(1, 5);
                        """)
                let updated = try await connection.query("UPDATE \(schema).n SET v = v + 1 WHERE v > $1", [2])
                #expect(updated.affectedRows == 3)
                let error = await #expect(throws: PostgresError.self) {
                    try await connection.execute(script: "SELECT 1; SELECT * FROM \(schema).nope; SELECT 2")
                }
                #expect(error?.sqlState == "42P01")
            }
        }
    }

    struct Payload: Codable, Equatable {
        enum Item: Codable, Equatable {
            case int(Int), text(String)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let value = try? container.decode(Int.self) { self = .int(value) } else {
                    self = .text(try container.decode(String.self))
                }
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .int(let value): try container.encode(value)
                case .text(let value): try container.encode(value)
                }
            }
        }
        var k: [Item]
    }
}
