import Foundation
import MusterDomain

extension UUIDIdentifier {
    /// A fixed id for a fixture: `00000000-0000-4000-8000-0000xxxxxxxx` with `n`
    /// in the last digits (hexadecimal), so a test says `.fixture(1)` and its
    /// rows and logs show `…000000000001`.
    public static func fixture(_ n: UInt32) -> Self {
        let b = withUnsafeBytes(of: n.bigEndian) { Array($0) }
        return Self(UUID(uuid: (0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, b[0], b[1], b[2], b[3])))
    }
}
