import Foundation
import Logging
import Synchronization
import Testing

@testable import MusterKafka

/// The launcher's SIGSEGV (issue 10): a closure stored directly as a `Mutex` value was rewrapped in two
/// reabstraction thunks on every read, so the delivery handler ran two frames deeper per delivery report until
/// calling it overflowed the producer poll thread's stack. These tests count the frames the handler runs at — no
/// broker, no timing: after 3,000 reports it must run exactly as deep as after the first.
@Suite("librdkafka callback handlers")
struct RDKafkaEventsTests {
    /// The call-stack depths a handler ran at (Foundation reports at most 128 frames: enough to see the growth).
    final class Depths: Sendable {
        private let seen = Mutex<[Int]>([])
        func record() {
            let depth = Thread.callStackReturnAddresses.count
            seen.withLock { $0.append(depth) }
        }
        var all: [Int] { seen.withLock { $0 } }
    }

    static let reports = 3000

    @Test("the delivery handler runs at the same depth after thousands of delivery reports")
    func deliveryHandlerDepthIsConstant() throws {
        let events = RDKafkaEvents(logger: Logger(label: "test"))
        let depths = Depths()
        events.onDelivery { _, _ in depths.record() }
        let report = Result<KafkaDeliveryReport, KafkaError>.success(KafkaDeliveryReport(topic: "t", partition: 0, offset: 1))

        for id in 1...Self.reports { events.delivered(id: UInt(id), report) }

        let all = depths.all
        let first = try #require(all.first)
        try #require(first < 100, "the test runs too deep to measure the handler's depth")
        #expect(all.count == Self.reports)
        #expect(all.last == first, "the handler ran \(first) frames deep at first, \(all.last ?? 0) at the end")
    }

    @Test("the rebalance handler runs at the same depth after thousands of rebalances")
    func rebalanceHandlerDepthIsConstant() throws {
        let events = RDKafkaEvents(logger: Logger(label: "test"))
        let depths = Depths()
        events.onRebalance { _ in depths.record() }

        for index in 1...Self.reports { events.rebalanced(index.isMultiple(of: 2) ? .assigned([]) : .revoked([])) }

        let all = depths.all
        let first = try #require(all.first)
        try #require(first < 100, "the test runs too deep to measure the handler's depth")
        #expect(all.last == first, "the handler ran \(first) frames deep at first, \(all.last ?? 0) at the end")
    }
}
