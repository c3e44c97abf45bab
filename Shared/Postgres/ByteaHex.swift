/// Pure decoding of PostgreSQL's `bytea` hex output (`\x00ff…`), the session default we set.
enum ByteaHex {
    /// The bytes of `text`, or nil when it is not `\x` followed by an even number of hex digits.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count >= 2, utf8.count % 2 == 0,
            utf8.first == UInt8(ascii: "\\"), utf8.dropFirst().first == UInt8(ascii: "x")
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var high: UInt8?
        for character in utf8.dropFirst(2) {
            guard let nibble = nibble(character) else { return nil }
            if let pending = high {
                bytes.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
