/// An IPv4 address (dotted quad), for static private IPs of launch profiles.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address as a 32-bit number.
    public var value: UInt32

    /// Parses `a.b.c.d`; nil for anything else (no leading zeros, each part 0…255).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                  part == "0" || !part.hasPrefix("0"), let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    /// The dotted quad.
    public var description: String {
        [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }
}

/// An IPv4 CIDR block such as `10.99.0.0/24`.
public struct IPv4CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The network address.
    public var network: IPv4Address
    /// The prefix length, 0…32.
    public var prefixLength: Int

    /// Parses `a.b.c.d/n`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let length = Int(parts[1]),
              (0...32).contains(length)
        else { return nil }
        self.prefixLength = length
        self.network = IPv4Address(value: address.value & Self.mask(length))
    }

    private static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    /// Whether `address` lies inside the block.
    public func contains(_ address: IPv4Address) -> Bool {
        address.value & Self.mask(prefixLength) == network.value
    }

    /// Whether `address` can be given to an instance: inside the block and not
    /// one of the five addresses AWS reserves in every subnet (network, +1, +2,
    /// +3, broadcast).
    public func isAssignable(_ address: IPv4Address) -> Bool {
        guard contains(address) else { return false }
        let offset = address.value - network.value
        let size: UInt64 = 1 << UInt64(32 - prefixLength)
        return offset > 3 && UInt64(offset) < size - 1
    }

    /// `a.b.c.d/n`.
    public var description: String { "\(network)/\(prefixLength)" }
}

extension IPv4Address {
    /// An address from its 32-bit value.
    public init(value: UInt32) { self.value = value }
}
