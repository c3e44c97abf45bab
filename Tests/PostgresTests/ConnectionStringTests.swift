import Testing

@testable import MusterPostgres

@Suite("Connection strings and session setup (pure)")
struct ConnectionStringTests {
    @Test("passwords are redacted in URLs", arguments: [
        ("postgresql://svc:s3cr3t@db:5432/muster", "postgresql://svc:***@db:5432/muster"),
        ("postgres://svc:p%40ss@db/muster?sslmode=require", "postgres://svc:***@db/muster?sslmode=require"),
        ("postgresql://svc:a@b@db/muster", "postgresql://svc:***@db/muster"),
        ("postgresql://db/muster?user=svc&password=s3cr3t", "postgresql://db/muster?user=svc&password=***"),
        ("postgresql://postgres@127.0.0.1:55432/muster", "postgresql://postgres@127.0.0.1:55432/muster"),
    ])
    func urls(_ input: String, _ expected: String) {
        #expect(ConnectionString.redacted(input) == expected)
    }

    @Test("passwords are redacted in key=value strings")
    func keyValues() {
        #expect(
            ConnectionString.redacted("host=db user=svc password='a \\'b' dbname='my db'")
                == "host=db user=svc password=*** dbname='my db'")
        #expect(ConnectionString.redacted("host=db password=") == "host=db password=***")
        #expect(ConnectionString.redacted("host=db password='unterminated") == "<unparseable connection string>")
    }

    @Test("configuration description hides the password")
    func description() {
        let configuration = PostgresConfiguration(url: "postgresql://svc:s3cr3t@db/muster")
        #expect(!configuration.description.contains("s3cr3t"))
        #expect(configuration.description.contains("svc:***@db"))
    }

    @Test("connect timeout becomes whole seconds, at least 2")
    func timeout() {
        #expect(ConnectionString.connectTimeoutSeconds(.seconds(5)) == "5")
        #expect(ConnectionString.connectTimeoutSeconds(.milliseconds(5500)) == "6")
        #expect(ConnectionString.connectTimeoutSeconds(.milliseconds(100)) == "2")
    }

    @Test("session setup pins UTC, ISO dates, hex bytea and quotes the search path")
    func session() {
        let sql = SessionSetup.sql(searchPath: ["planner", "we\"ird"])
        #expect(sql.contains("SET TimeZone TO 'UTC'"))
        #expect(sql.contains("SET bytea_output TO 'hex'"))
        #expect(sql.hasSuffix(#"SET search_path TO "planner", "we""ird""#))
        #expect(!SessionSetup.sql(searchPath: []).contains("search_path"))
        var configuration = PostgresConfiguration(url: "postgresql://db/x", connectTimeout: .seconds(3))
        configuration.applicationName = "planner"
        let parameters = SessionSetup.connectParameters(configuration)
        #expect(parameters.map(\.0) == ["fallback_application_name", "dbname", "connect_timeout", "client_encoding",
            "application_name"])
        #expect(parameters[2].1 == "3")
    }

    @Test("schema names and migration lists are validated")
    func migrationPlan() throws {
        try MigrationPlan.validate(schema: "planner_1")
        for bad in ["", "Planner", "1abc", "a-b", "a;drop", String(repeating: "a", count: 64)] {
            #expect(throws: PostgresError.self, "\(bad)") { try MigrationPlan.validate(schema: bad) }
        }
        let a = Migration(version: 2, name: "b", sql: "")
        let b = Migration(version: 1, name: "a", sql: "")
        #expect(try MigrationPlan.ordered([a, b]).map(\.version) == [1, 2])
        #expect(throws: PostgresError.self) { try MigrationPlan.ordered([a, a]) }
        #expect(throws: PostgresError.self) { try MigrationPlan.ordered([Migration(version: 0, name: "z", sql: "")]) }
        #expect(MigrationPlan.pending([b, a], applied: [1]).map(\.version) == [2])
    }
}
