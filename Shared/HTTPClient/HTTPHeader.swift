/// One HTTP header field. Names compare case-insensitively wherever the
/// client looks them up; the original spelling is kept on the wire.
public struct HTTPHeader: Sendable, Hashable, CustomStringConvertible {
    /// The field name, e.g. `Content-Type`.
    public var name: String
    /// The field value, without surrounding whitespace.
    public var value: String

    /// Creates a header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Creates a header field: `HTTPHeader("Accept", "application/json")`.
    public init(_ name: String, _ value: String) {
        self.init(name: name, value: value)
    }

    /// `Name: value`, with the values of credential-bearing headers redacted.
    public var description: String {
        HTTPHeader.isSensitive(name) ? "\(name): <redacted>" : "\(name): \(value)"
    }

    /// Whether a header carries credentials and must never be logged.
    static func isSensitive(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "authorization" || lower == "proxy-authorization" || lower == "cookie"
            || lower == "x-amz-security-token" || lower.contains("signature")
    }
}

extension Array where Element == HTTPHeader {
    /// The first value of the header called `name` (case-insensitive), if any.
    public func first(named name: String) -> String? {
        first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every value of the header called `name` (case-insensitive), in order.
    public func values(named name: String) -> [String] {
        filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }
}

extension String {
    /// ASCII case-insensitive comparison, the rule for HTTP field names.
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let lhs = utf8, rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).allSatisfy { asciiLower($0) == asciiLower($1) }
    }
}

@inline(__always)
private func asciiLower(_ byte: UInt8) -> UInt8 {
    (byte >= 65 && byte <= 90) ? byte + 32 : byte
}
