import Foundation
import MusterEvents
import MusterMessaging
@testable import PollerApp
import TestSupport
import Testing

/// `poller.status` × every poison class (issue 11, docs/consumers.md "The
/// poison-record matrix"): one poller for all rows; the poison on partition 0,
/// valid `job.created` records after it on partition 0 and 1, seen polled on
/// the poll topic.
@Suite("Poller poison-record matrix")
struct PollerPoisonMatrixTests {
    typealias App = PollerMatrixApp
    typealias Cell = PoisonCell<App>

    /// The running poller and a reader of everything it polls.
    struct PollerMatrixApp: Sendable {
        let poller: PollerBrokerTests.Running
        let polls: KafkaTopicWatch

        var schema: String { poller.fixture.schema }

        /// Job ids the poller asked the launcher to poll so far.
        func polled() throws -> Set<String> {
            Set(try polls.records.flatMap { try CloudEvent(record: $0).decode(JobPoll.self).jobIDs.map(\.rawValue) })
        }

        /// 1 when `job` is tracked (one row) and polled, 0 when neither.
        func tracked(_ job: String) async throws -> Int {
            let rows = try await poller.fixture.pool.query(
                "SELECT count(*) AS n FROM \(schema).jobs WHERE job_id = $1", [job]).rows[0].decode(Int.self, "n")
            return try polled().contains(job) ? rows : 0
        }

        static func created(_ job: String, timeoutSeconds: Int = 3600, chunk: Int = 0) throws -> PoisonRecord {
            var created = PollerFixture.created(job: job, timeoutSeconds: timeoutSeconds)
            created.chunk = chunk
            let event = try CloudEvent(source: EventSource.launcher, type: EventType.jobCreated, payload: created)
            return PoisonRecord(event, key: "exec-1")
        }
    }

    static func cell(
        _ kind: PoisonClass, _ outcome: PoisonOutcome, job: String, prepare: @escaping @Sendable (App) async throws -> Void = { _ in },
        poison: @escaping @Sendable (App) throws -> PoisonRecord, removeCause: @escaping @Sendable (App) async throws -> Void = { _ in },
        effects: (@Sendable (App) async throws -> Int)? = nil
    ) -> Cell {
        let same = "drsjob-\(job)-same", other = "drsjob-\(job)-other"
        return Cell(
            "poller.status", kind, outcome, topic: { $0.poller.fixture.configuration.topics.jobStatus }, prepare: prepare,
            poison: { try poison($0) },
            later: { _ in [try App.created(same), try App.created(other)] },
            laterHandled: { app in try app.polled().isSuperset(of: [same, other]) },
            removeCause: removeCause,
            effects: effects ?? { try await $0.tracked("drsjob-\(job)") })
    }

    static let cells: [Cell] = [
        // Every id is an identifier: a control character makes the event unprocessable (ConsumedText).
        cell(.nul, .parked(.malformed, error: "jobId must not contain control characters", replay: .refused), job: "nul",
             poison: { _ in try App.created("drsjob-nul\u{0}") }),
        // jobs.job_id is the primary key: a second job.created for a tracked job (another ce_id, another
        // chunk) is ON CONFLICT DO NOTHING by design: the job stays tracked once, as first created.
        cell(.uniqueClash, .handled, job: "dup",
             prepare: { app in
                 _ = try await app.poller.producer.send(try App.created("drsjob-dup").event.kafkaRecord(
                     topic: app.poller.fixture.configuration.topics.jobStatus, key: "exec-1"))
                 _ = try await eventually { try app.polled().contains("drsjob-dup") }
             },
             poison: { _ in try App.created("drsjob-dup", chunk: 7) },
             effects: { app in
                 let chunks = try await app.poller.fixture.pool.query(
                     "SELECT chunk FROM \(app.schema).jobs WHERE job_id = 'drsjob-dup'").rows.map { try $0.decode(Int.self, "chunk") }
                 let tracked = try await app.tracked("drsjob-dup")
                 return chunks == [0] ? tracked : -1
             }),
        // timeout_seconds is an INTEGER: 10^10 is out of its range (22003). The fix a deployment would
        // ship, a wider column, removes the cause; the replay then tracks and polls the job once.
        cell(.outOfRange, .parked(.deterministic, error: "22003", replay: .afterFix), job: "range",
             poison: { _ in try App.created("drsjob-range", timeoutSeconds: 10_000_000_000) },
             removeCause: { app in
                 try await app.poller.fixture.pool.query(
                     "ALTER TABLE \(app.schema).jobs ALTER COLUMN timeout_seconds TYPE BIGINT")
             }),
    ]

    @Test("poller.status: NUL, unique clash and out-of-range records are parked (or handled by design) while later jobs on the same and another partition are polled; a replay after the fix handles one once")
    func matrix() async throws {
        let log = LogCapture()
        let poller = try await PollerBrokerTests().start(logger: log.logger)
        let polls = try KafkaTopicWatch(topic: poller.fixture.configuration.topics.jobPoll)
        let matrix = PoisonMatrix(
            app: App(poller: poller, polls: polls), pool: poller.fixture.pool, schema: poller.fixture.schema, log: log,
            producer: poller.producer, consumers: poller.consumers)
        #expect(Set(Self.cells.map(\.kind)) == Set(PoisonClass.allCases), "every class has a row")
        for cell in Self.cells {
            try await matrix.check(cell)
        }
        await polls.stop()
        await poller.stop()
    }
}
