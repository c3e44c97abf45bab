/// A subscription's signing secret. Stored as given (it must be usable for
/// signing, so it cannot be hashed), returned by the API only once, at
/// creation; its descriptions are redacted so it cannot reach a log line by
/// interpolation.
public struct WebhookSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret text. Read it only to sign or to answer the creating request.
    public let value: String

    /// The documented length bounds of a caller-provided secret.
    public static let allowedLength = 16...256

    /// Wraps `value`.
    public init(_ value: String) { self.value = value }

    /// A fresh secret: `whsec_` and 32 random bytes in hex.
    public static func generate() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return WebhookSecret("whsec_" + bytes.map { hex($0) }.joined())
    }

    /// `<redacted>`.
    public var description: String { "<redacted>" }
    /// `<redacted>`.
    public var debugDescription: String { "<redacted>" }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
