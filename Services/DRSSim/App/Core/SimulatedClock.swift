import Foundation

/// Maps wall-clock time to simulated time: `simulated = anchor + (real - realAnchor) × timeScale`.
///
/// Jobs run on simulated time, so a 20-minute drill finishes in two seconds at a time scale of
/// 600. Changing the scale or jumping forward re-anchors the mapping, so simulated time never
/// runs backwards.
public struct SimulatedClock: Sendable, Equatable {
    /// Simulated seconds per wall-clock second.
    public private(set) var timeScale: Double
    private var realAnchor: Date
    private var simulatedAnchor: Date

    /// A clock that reads `start` at wall-clock time `realStart`.
    public init(start: Date, realStart: Date, timeScale: Double) {
        self.timeScale = timeScale
        self.realAnchor = realStart
        self.simulatedAnchor = start
    }

    /// Simulated time at wall-clock time `real`.
    public func now(real: Date) -> Date {
        simulatedAnchor.addingTimeInterval(real.timeIntervalSince(realAnchor) * timeScale)
    }

    /// Changes the scale from wall-clock time `real` on.
    public mutating func setTimeScale(_ scale: Double, real: Date) {
        simulatedAnchor = now(real: real)
        realAnchor = real
        timeScale = scale
    }

    /// Jumps simulated time forward by `seconds` (tests use this to skip waiting).
    public mutating func advance(by seconds: Double, real: Date) {
        simulatedAnchor = now(real: real).addingTimeInterval(max(0, seconds))
        realAnchor = real
    }

    /// Converts a wall-clock duration to simulated seconds at the current scale.
    public func simulatedSeconds(forReal seconds: Double) -> Double {
        seconds * timeScale
    }

    /// Converts a simulated duration to wall-clock seconds at the current scale.
    public func realSeconds(forSimulated seconds: Double) -> Double {
        timeScale > 0 ? seconds / timeScale : .infinity
    }
}
