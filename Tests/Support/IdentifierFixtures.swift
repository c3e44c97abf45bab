import Foundation
import MusterDomain

extension UUIDIdentifier {
    /// The same id for the same label in every run (two FNV-1a hashes of it),
    /// so a test can name its executions (`.named("ex-crash")`) and find them
    /// again in rows, keys and launch groups.
    public static func named(_ label: String) -> Self {
        func fnv(_ seed: UInt64) -> [UInt8] {
            var hash = seed
            for byte in label.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x100_0000_01b3
            }
            return withUnsafeBytes(of: hash.bigEndian) { Array($0) }
        }
        var b = fnv(0xcbf2_9ce4_8422_2325) + fnv(0x8422_2325_cbf2_9ce4)
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        return Self(UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                                b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])))
    }
}
