import Foundation
import Logging
import MusterMessaging
import ServiceLifecycle

/// Runs the drill scheduler and the readiness monitor every `interval` until graceful shutdown.
struct SchedulerService: Service {
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
