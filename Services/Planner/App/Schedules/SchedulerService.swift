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

    func run() async throws {
        let stop = StopSignal()
        await withTaskCancellationOrGracefulShutdownHandler {
            while !stop.isSet {
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
                await stop.sleep(for: interval)
            }
        } onCancelOrGracefulShutdown: {
            stop.set()
        }
    }
}
