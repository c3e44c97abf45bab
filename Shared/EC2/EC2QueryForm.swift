/// An EC2 Query-protocol request body: `Action`, `Version` and the
/// operation's parameters, flattened the way botocore's `ec2` serializer does
/// (`Name.1`, `Name.1.Member`), form-encoded.
public struct EC2QueryForm: Sendable, Equatable {
    /// The API version of every EC2 request (botocore `ec2` 2016-11-15).
    public static let apiVersion = "2016-11-15"

    /// Parameters in the order they were added.
    public private(set) var parameters: [(String, String)]

    /// A form for `action`.
    public init(action: String) {
        parameters = [("Action", action), ("Version", Self.apiVersion)]
    }

    /// Adds `name=value` when `value` is non-nil.
    public mutating func add(_ name: String, _ value: String?) {
        if let value { parameters.append((name, value)) }
    }

    /// Adds `name.1=…`, `name.2=…` for the values.
    public mutating func add(list name: String, _ values: [String]) {
        for (index, value) in values.enumerated() { parameters.append(("\(name).\(index + 1)", value)) }
    }

    /// The value of `name`, if set.
    public func value(_ name: String) -> String? { parameters.first { $0.0 == name }?.1 }

    /// `application/x-www-form-urlencoded` body (RFC 3986 unreserved characters kept).
    public var encoded: String {
        parameters.map { "\(Self.percentEncode($0.0))=\(Self.percentEncode($0.1))" }.joined(separator: "&")
    }

    /// Parses a form body (drs-sim's side).
    public static func decode(_ body: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecode(String(parts[0]))
            result[name] = parts.count > 1 ? percentDecode(String(parts[1])) : ""
        }
        return result
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    public static func percentEncode(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                output += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return output
    }

    /// Decodes `%XX` and `+` (a space in form bodies).
    public static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Equal when the same parameters were added in the same order.
    public static func == (lhs: EC2QueryForm, rhs: EC2QueryForm) -> Bool {
        lhs.parameters.elementsEqual(rhs.parameters) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
