/// Collects the header lines libcurl hands over one at a time. A response can
/// carry several header blocks (`100 Continue`, then the real one); only the
/// last block is kept.
struct ResponseHeaderAccumulator: Sendable {
    private(set) var headers: [HTTPHeader] = []

    /// Feeds one raw header line (with or without its CRLF).
    mutating func consume(_ rawLine: some Collection<UInt8>) {
        // Trim CR/LF as bytes: in Swift "\r\n" is one Character, not two.
        var bytes = Array(rawLine)
        while let last = bytes.last, last == 0x0D || last == 0x0A { bytes.removeLast() }
        let line = Substring(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new status line starts a new block
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }  // blank line ends the block
        let name = line[..<colon]
        guard !name.isEmpty, !name.contains(" "), !name.contains("\t") else { return }
        let value = line[line.index(after: colon)...].trimmingHTTPWhitespace()
        headers.append(HTTPHeader(name: String(name), value: String(value)))
    }
}

extension Substring {
    /// Drops leading and trailing spaces and tabs (RFC 9110 OWS).
    func trimmingHTTPWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
