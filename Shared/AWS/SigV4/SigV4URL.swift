/// The parts of an absolute URL that SigV4 signs, split without any
/// normalisation or decoding (signing must see exactly what is sent).
struct SigV4URL: Equatable {
    var scheme: String
    /// Lowercased host; IPv6 literals keep their brackets.
    var host: String
    var port: Int?
    /// The raw path (`/` when absent).
    var path: String
    /// The raw query without `?` (empty when absent).
    var query: String

    /// Splits `url`; nil when it is not `scheme://authority[/path][?query][#fragment]`.
    init?(_ url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = url[schemeEnd.upperBound...]
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let hostPart: Substring
        var portPart: Substring?
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            hostPart = authority[...close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
        }
        guard !hostPart.isEmpty else { return nil }
        host = hostPart.lowercased()
        if let portPart, !portPart.isEmpty {
            guard let number = Int(portPart), (0...65535).contains(number) else { return nil }
            port = number
        } else {
            port = nil
        }
        let pathAndQuery = rest[authorityEnd...]
        if let question = pathAndQuery.firstIndex(of: "?") {
            path = String(pathAndQuery[..<question])
            query = String(pathAndQuery[pathAndQuery.index(after: question)...])
        } else {
            path = String(pathAndQuery)
            query = ""
        }
        if path.isEmpty { path = "/" }
    }

    /// The `Host` header value: lowercase host, port only when not the scheme's default.
    var hostHeader: String {
        guard let port, port != (scheme == "https" ? 443 : scheme == "http" ? 80 : -1) else { return host }
        return "\(host):\(port)"
    }
}
