import Foundation

/// A JSON value written by hand for log lines and the ops endpoints' small
/// bodies, keys sorted by their Unicode scalars.
///
/// `JSONSerialization` with `.sortedKeys` sorts with an `en_US_POSIX`
/// collator: the first log line of a process loads ICU's collation root and
/// locale data (≈ 1 MB resident per process, docs/launcher.md "Memory"),
/// and every line pays a locale-aware compare per key. Log keys and the ops
/// bodies are ASCII, where both orders agree.
public indirect enum JSONLine: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONLine])
    case object([String: JSONLine])

    /// `value` as JSON: strings, integers, floating point, booleans, arrays and
    /// `[String: …]` dictionaries of those, nil or `Optional.none` as `null`;
    /// anything else as its description (a string).
    public init(any value: Any?) {
        guard let value else { self = .null; return }
        switch value {
        case let line as JSONLine: self = line
        case is NSNull: self = .null
        case let string as String: self = .string(string)
        case let bool as Bool: self = .bool(bool)
        case let int as Int: self = .int(int)
        case let int as any BinaryInteger: self = Int(exactly: int).map(JSONLine.int) ?? .string("\(int)")
        case let double as Double: self = .double(double)
        case let float as any BinaryFloatingPoint: self = .double(Double(float))
        case let array as [Any?]: self = .array(array.map { JSONLine(any: $0) })
        case let array as [Any]: self = .array(array.map { JSONLine(any: $0) })
        case let object as [String: Any?]: self = .object(object.mapValues { JSONLine(any: $0) })
        case let object as [String: Any]: self = .object(object.mapValues { JSONLine(any: $0) })
        default:
            // An Optional wrapped in Any: unwrap it, or null.
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                self = mirror.children.first.map { JSONLine(any: $0.value) } ?? .null
            } else {
                self = .string(String(describing: value))
            }
        }
    }

    /// The UTF-8 text, without a trailing newline.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    /// The text as a String.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    func write(to out: inout [UInt8]) {
        switch self {
        case .string(let string): Self.writeString(string, to: &out)
        case .int(let int): out.append(contentsOf: String(int).utf8)
        case .double(let double):
            // JSON has no NaN or infinity.
            if double.isFinite { out.append(contentsOf: "\(double)".utf8) } else { out.append(contentsOf: "null".utf8) }
        case .bool(let bool): out.append(contentsOf: (bool ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let array):
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted(by: Self.scalarOrder).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                object[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Orders by Unicode scalar values (never a locale's collation).
    static func scalarOrder(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    }

    static func writeString(_ string: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20, 0x7F:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)  // UTF-8 passes through unchanged (valid JSON)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
