import Foundation
import MusterDomain

/// Pure helpers over libpq connection strings (URL or `key=value` form).
enum ConnectionString {
    /// `connection` with every password replaced by `***`, safe for logs and errors.
    /// A string that cannot be parsed is hidden completely rather than risk showing a secret.
    static func redacted(_ connection: String) -> String {
        let trimmed = connection.trimmingWhitespace()
        for scheme in ["postgresql://", "postgres://"] where trimmed.hasPrefix(scheme) {
            return scheme + redactedURLBody(String(trimmed.dropFirst(scheme.count)))
        }
        guard let pairs = keyValuePairs(trimmed) else { return "<unparseable connection string>" }
        return pairs.map { key, value in
            key == "password" ? "password=***" : "\(key)=\(quotedIfNeeded(value))"
        }.joined(separator: " ")
    }

    /// libpq's `connect_timeout` value for `duration`: whole seconds, rounded up, at least 2
    /// (libpq treats smaller values as 2 anyway).
    static func connectTimeoutSeconds(_ duration: Duration) -> String {
        String(max(2, duration.secondsRoundedUp))
    }

    /// Redacts `user:password@` and a `password=` query parameter in the part after the scheme.
    private static func redactedURLBody(_ body: String) -> String {
        var authorityAndPath = body
        var query: String?
        if let questionMark = body.firstIndex(of: "?") {
            authorityAndPath = String(body[..<questionMark])
            query = String(body[body.index(after: questionMark)...])
        }
        if let at = authorityAndPath.lastIndex(of: "@") {
            let userInfo = authorityAndPath[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                authorityAndPath = userInfo[..<colon] + ":***" + authorityAndPath[at...]
            }
        }
        guard let query else { return authorityAndPath }
        let parameters = query.split(separator: "&", omittingEmptySubsequences: false).map { parameter in
            parameter.lowercased().hasPrefix("password=") ? "password=***" : String(parameter)
        }
        return authorityAndPath + "?" + parameters.joined(separator: "&")
    }

    /// Parses `key = value` pairs; values may be single-quoted with backslash escapes.
    /// Returns nil when the string is not well-formed.
    static func keyValuePairs(_ conninfo: String) -> [(key: String, value: String)]? {
        var pairs: [(key: String, value: String)] = []
        var characters = Substring(conninfo)
        func skipSpaces() { characters = characters.drop(while: \.isWhitespace) }
        skipSpaces()
        while !characters.isEmpty {
            let key = characters.prefix { $0 != "=" && !$0.isWhitespace }
            characters = characters.dropFirst(key.count)
            skipSpaces()
            guard !key.isEmpty, characters.first == "=" else { return nil }
            characters = characters.dropFirst()
            skipSpaces()
            var value = ""
            if characters.first == "'" {
                characters = characters.dropFirst()
                var closed = false
                while let character = characters.popFirst() {
                    if character == "\\", let escaped = characters.popFirst() {
                        value.append(escaped)
                    } else if character == "'" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
            } else {
                let plain = characters.prefix { !$0.isWhitespace }
                value = String(plain)
                characters = characters.dropFirst(plain.count)
            }
            pairs.append((String(key), value))
            skipSpaces()
        }
        return pairs
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\\" }) else {
            return value
        }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return "'\(escaped)'"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
