@testable import LauncherApp
import MusterMessaging
import MusterService
import Testing

/// An idle launcher looks at an endpoint every `MUSTER_LAUNCHER_SCHEDULER_INTERVAL` (5 s by default,
/// docs/benchmarks.md "Idle stack"); failures are still retried within half a second and the
/// heartbeat still beats several times per stale-after period.
@Suite("Launcher loop timings (pure)")
struct LoopTimingsTests {
    @Test func productionDefaultsSleepLongButRetryAndBeatOften() throws {
        let configuration = try LauncherConfiguration(reader: EnvironmentSettings(environment: [:]))
        #expect(configuration.schedulerInterval == .seconds(5))
        let endpoint = configuration.endpointLoopTiming
        #expect(endpoint.idle == .seconds(5))
        #expect(endpoint.sleep(after: .idle) == .seconds(5))
        #expect(endpoint.sleep(after: .after(.seconds(2))) == .seconds(2), "a due time inside the interval is kept")
        #expect(endpoint.sleep(after: .after(.seconds(60))) == .seconds(5))
        #expect(endpoint.retry == Backoff(base: .milliseconds(100), cap: .milliseconds(500)))
        let instance = configuration.instanceLoopTiming
        #expect(instance.idle == .seconds(5), "six heartbeats per 30 s stale-after, not one per 20 s")
        #expect(instance.idle * 6 <= configuration.instanceStaleAfter)
    }

    @Test func shortIntervalsOfTestsAndTheDevStackAreUnchanged() throws {
        let dev = try LauncherConfiguration(reader: EnvironmentSettings(environment: ["MUSTER_LAUNCHER_SCHEDULER_INTERVAL": "200ms"]))
        #expect(dev.endpointLoopTiming == LoopTiming(idle: .milliseconds(200), retry: Backoff(base: .milliseconds(100), cap: .milliseconds(200))))
        #expect(dev.instanceLoopTiming.idle == .milliseconds(800))
        var harness = LauncherConfiguration()
        harness.schedulerInterval = .milliseconds(100)
        #expect(harness.endpointLoopTiming == LoopTiming(idle: .milliseconds(100), retry: Backoff(base: .milliseconds(100), cap: .milliseconds(100))))
        #expect(harness.instanceLoopTiming.idle == .milliseconds(800))
        harness.instanceStaleAfter = .seconds(1)
        #expect(harness.instanceLoopTiming.idle == .milliseconds(800), "short intervals keep their heartbeat")
        var long = LauncherConfiguration()
        long.schedulerInterval = .seconds(30)
        long.instanceStaleAfter = .seconds(60)
        #expect(long.instanceLoopTiming.idle == .seconds(10), "the stale-after bounds the heartbeat of a long interval")
    }
}
