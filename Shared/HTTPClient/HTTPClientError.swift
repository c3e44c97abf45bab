/// Why ``HTTPClient/execute(_:)`` produced no response. URLs in these errors
/// have their query string and user info removed: they may carry secrets.
public enum HTTPClientError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The transfer exceeded its connect or total timeout.
    case timedOut(url: String)
    /// No connection could be made (refused, unreachable, name not resolved).
    case connectFailed(url: String, reason: String)
    /// Any other libcurl failure (TLS, protocol, reset connection, …).
    case transport(url: String, code: Int, reason: String)
    /// The client was shut down before or during the request.
    case shutDown
    /// The request cannot be sent as built; the message names the field.
    case invalidRequest(String)

    /// A message saying what failed and what to check.
    public var description: String {
        switch self {
        case .timedOut(let url):
            return "HTTP request to \(url) timed out; the server is slow or unreachable — raise the timeout or check the endpoint"
        case .connectFailed(let url, let reason):
            return "could not connect to \(url): \(reason); check the endpoint's host and port and that the server is up"
        case .transport(let url, let code, let reason):
            return "HTTP transfer to \(url) failed (libcurl error \(code)): \(reason)"
        case .shutDown:
            return "the HTTP client has been shut down; no further requests can be made with it"
        case .invalidRequest(let message):
            return "invalid HTTP request: \(message)"
        }
    }

    /// `url` without query, fragment or user info: `https://host:443/path`.
    public static func redact(_ url: String) -> String {
        var rest = Substring(url)
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            rest = rest[..<cut]
        }
        // Drop `user:password@` from the authority.
        if let schemeEnd = rest.range(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = rest[authorityStart...].firstIndex(of: "/") ?? rest.endIndex
            if let at = rest[authorityStart..<authorityEnd].lastIndex(of: "@") {
                rest = rest[..<authorityStart] + rest[rest.index(after: at)...]
            }
        }
        return String(rest)
    }
}
