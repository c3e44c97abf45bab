import Foundation
import Logging
import MusterMessaging
import ServiceLifecycle

/// Runs the drill scheduler and the readiness monitor every `interval` until graceful shutdown.
/// Its description is its name only: service lifecycle logs each service's description, and the
/// default one would dump the API's configuration, admin token included.
struct SchedulerService: Service, CustomStringConvertible {
    var description: String { "planner.scheduler" }

    let scheduler: DrillScheduler
    let monitor: ReadinessMonitor
    let interval: Duration
    let logger: Logger

    /// One pass of each per `interval` until graceful shutdown; a failing one is logged and tried
    /// again at the next pass without holding up the other.
    func run() async throws {
        let loop = WorkLoop(name: "planner.scheduler", timing: LoopTiming(idle: interval), logger: logger)
        try await loop.run {
            do {
                try await scheduler.tick()
            } catch {
                logger.warning("drill scheduler pass failed; will try again", metadata: ["error": "\(error)"])
            }
            do {
                try await monitor.tick()
            } catch {
                logger.warning("readiness re-evaluation failed; will try again", metadata: ["error": "\(error)"])
            }
            return .idle
        }
    }
}
