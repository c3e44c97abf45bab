/// A small, fast, seedable random number generator (SplitMix64).
///
/// drs-sim must be deterministic given a seed: the same seed and the same sequence of calls
/// yield the same ids, timings and fault decisions. `SystemRandomNumberGenerator` cannot be
/// seeded, so the simulation carries its own.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Starts the sequence for `seed`.
    public init(seed: UInt64) {
        self.state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniformly distributed value in `0..<1`.
    public mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }

    /// `count` lowercase hexadecimal characters, the alphabet of DRS and EC2 ids.
    public mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int(next() % 16)] })
    }

    /// A random UUID-shaped string (8-4-4-4-12 hex), for launch action ids and run ids.
    public mutating func uuid() -> String {
        "\(hex(8))-\(hex(4))-\(hex(4))-\(hex(4))-\(hex(12))"
    }

    /// Multiplies `value` by a factor in `1 ± fraction`, so timelines look organic but repeat
    /// exactly for the same seed.
    public mutating func jitter(_ value: Double, fraction: Double) -> Double {
        guard fraction > 0 else { return value }
        return value * (1 + (unit() * 2 - 1) * fraction)
    }
}

/// Independent random streams, so that (for example) enabling a 500-error fault, which draws
/// from `faults`, does not change the ids or timings later requests get.
public struct SimulationRandomStreams: Sendable {
    /// Ids of jobs, recovery instances, generated servers.
    public var ids: SeededRandom
    /// Jitter of job timelines.
    public var timing: SeededRandom
    /// Fault decisions (error rates).
    public var faults: SeededRandom

    /// Derives the three streams from one seed.
    public init(seed: UInt64) {
        ids = SeededRandom(seed: seed ^ 0x1D5_1D5)
        timing = SeededRandom(seed: seed ^ 0x71_4E5)
        faults = SeededRandom(seed: seed ^ 0xFA_017)
    }
}
