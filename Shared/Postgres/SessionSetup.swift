import Foundation

/// Pure: what every connection is opened with, and the SQL that prepares its session so that
/// values decode the same way whatever the server's defaults are.
enum SessionSetup {
    /// libpq keywords in order: the URL first (expanded), then values that override it.
    static func connectParameters(_ configuration: PostgresConfiguration) -> [(String, String)] {
        var parameters = [
            ("fallback_application_name", "muster"),
            ("dbname", configuration.url),
            ("connect_timeout", ConnectionString.connectTimeoutSeconds(configuration.connectTimeout)),
            ("client_encoding", "UTF8"),
        ]
        if let name = configuration.applicationName { parameters.append(("application_name", name)) }
        return parameters
    }

    /// `SET` statements run once per connection: UTC for timestamptz text, ISO dates, hex bytea,
    /// shortest exact floats, and the configured search path.
    static func sql(searchPath: [String]) -> String {
        var statements = [
            "SET TimeZone TO 'UTC'",
            "SET DateStyle TO 'ISO, MDY'",
            "SET bytea_output TO 'hex'",
            "SET extra_float_digits TO 1",
        ]
        if !searchPath.isEmpty {
            statements.append("SET search_path TO " + searchPath.map(quoteIdentifier).joined(separator: ", "))
        }
        return statements.joined(separator: "; ")
    }

    /// `name` as a quoted SQL identifier (`"` doubled), safe whatever it contains.
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
