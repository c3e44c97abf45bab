extension TextRule {
    /// The JSON path (`waves[2].name`, `tagSelector.env`) of the first string
    /// — value or object key — of the JSON text `bytes` that holds a lone
    /// UTF-16 surrogate escape, or nil when there is none (or the text is not
    /// JSON: the parser says so then).
    ///
    /// JSON's grammar allows `"\ud800"`, but it is no Unicode text: a high
    /// surrogate escape (`\ud800`–`\udbff`) not followed by a low one
    /// (`\udc00`–`\udfff`), or a low one not preceded by a high one, names no
    /// character. Parsers differ on it (refuse the whole body, or replace it
    /// with U+FFFD and so store something the client never sent), so the APIs
    /// refuse it before parsing, naming the field: a 422, rule `unicode`.
    public static func loneSurrogatePath(inJSON bytes: [UInt8]) -> String? {
        var scanner = SurrogateScanner(bytes: bytes)
        return scanner.run()
    }
}

/// One pass over JSON text, tracking the path of the string being read.
private struct SurrogateScanner {
    enum Frame {
        /// An object: the key of the member being read (nil before the first), and whether a key comes next.
        case object(key: String?, expectingKey: Bool)
        /// An array: the index of the element being read.
        case array(index: Int)
    }

    let bytes: [UInt8]
    var position = 0
    var frames: [Frame] = []

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func run() -> String? {
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "{"): frames.append(.object(key: nil, expectingKey: true))
            case UInt8(ascii: "["): frames.append(.array(index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard !frames.isEmpty else { return nil }
                frames.removeLast()
            case UInt8(ascii: ","):
                switch frames.last {
                case .array(let index): frames[frames.count - 1] = .array(index: index + 1)
                case .object(let key, _): frames[frames.count - 1] = .object(key: key, expectingKey: true)
                case nil: return nil
                }
            case UInt8(ascii: "\""):
                guard let (text, lone) = readString() else { return nil }
                if case .object(_, true) = frames.last {
                    frames[frames.count - 1] = .object(key: text, expectingKey: false)
                    if lone { return path() }
                } else if lone {
                    return path()
                }
            default: continue  // `:`, whitespace, numbers, literals
            }
        }
        return nil
    }

    /// The path of the value being read, spelled like `JSONBody.path`.
    func path() -> String {
        var result = ""
        for frame in frames {
            switch frame {
            case .array(let index): result += "[\(index)]"
            case .object(let key?, _): result += result.isEmpty ? key : ".\(key)"
            case .object(nil, _): continue
            }
        }
        return result
    }

    /// Reads a string after its opening quote: its text (a lone surrogate
    /// as U+FFFD, so a key can be named) and whether it held one; nil when
    /// the text ends inside it.
    mutating func readString() -> (String, Bool)? {
        var text: [UInt8] = []
        var lone = false
        var pendingHigh: UInt16?
        func endPendingHigh() {
            if pendingHigh != nil { lone = true; text += [0xEF, 0xBF, 0xBD] }
            pendingHigh = nil
        }
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                endPendingHigh()
                return (String(decoding: text, as: UTF8.self), lone)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { return nil }
                let escape = bytes[position]
                position += 1
                guard escape == UInt8(ascii: "u") else {
                    endPendingHigh()
                    text.append(escape)  // close enough to name a key: \n, \", \\ …
                    continue
                }
                guard position + 4 <= bytes.count,
                      let unit = UInt16(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
                else { return nil }
                position += 4
                switch unit {
                case 0xD800...0xDBFF:
                    endPendingHigh()
                    pendingHigh = unit
                case 0xDC00...0xDFFF:
                    if let high = pendingHigh {
                        pendingHigh = nil
                        let value = 0x10000 + (UInt32(high - 0xD800) << 10) + UInt32(unit - 0xDC00)
                        text += Array(String(Character(Unicode.Scalar(value)!)).utf8)
                    } else {
                        lone = true
                        text += [0xEF, 0xBF, 0xBD]
                    }
                default:
                    endPendingHigh()
                    text += Array(String(Unicode.Scalar(unit).map(Character.init) ?? "\u{FFFD}").utf8)
                }
            default:
                endPendingHigh()
                text.append(byte)
            }
        }
        return nil
    }
}
