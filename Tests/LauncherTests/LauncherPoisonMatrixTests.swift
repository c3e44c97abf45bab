import Foundation
import LauncherApp
import MusterDomain
import MusterEvents
import MusterMessaging
import TestSupport
import Testing

/// `launcher.inputs` and `launcher.accounts` × every poison class (issue 11,
/// docs/consumers.md "The poison-record matrix"): one launcher against
/// drs-sim for all rows; each poison on partition 0, valid records after it
/// on partition 0 and 1.
@Suite("Launcher poison-record matrix")
struct LauncherPoisonMatrixTests {
    typealias H = LauncherHarness
    typealias Cell = PoisonCell<H>

    static func wave(_ harness: H, _ execution: String, server: Int, _ adjust: (inout LaunchGroupRequested) -> Void = { _ in }) throws -> PoisonRecord {
        var request = harness.launchGroupRequested(execution, servers: [H.sid(server)])
        adjust(&request)
        return PoisonRecord(try CloudEvent(source: "/test", type: EventType.launchGroupRequested, payload: request), key: H.endpoint.key)
    }

    /// An inputs row: the poison and two later waves, each on its own source server (one DRS job per server).
    static func inputs(
        _ kind: PoisonClass, _ outcome: PoisonOutcome, execution: String, servers: Int,
        prepare: @escaping @Sendable (H) async throws -> Void = { _ in },
        poison: @escaping @Sendable (H) throws -> PoisonRecord,
        removeCause: @escaping @Sendable (H) async throws -> Void = { _ in }
    ) -> Cell {
        Cell("launcher.inputs", kind, outcome, topic: { $0.topics.launchRequests }, prepare: prepare,
             poison: { try poison($0) },
             later: { h in [try wave(h, "\(execution)-same", server: servers + 1), try wave(h, "\(execution)-other", server: servers + 2)] },
             laterHandled: { h in
                 let jobs = await h.counters().jobsByLaunchGroup
                 return jobs.keys.contains { $0.hasPrefix(ExecutionID.named("\(execution)-same").rawValue) } && jobs.keys.contains { $0.hasPrefix(ExecutionID.named("\(execution)-other").rawValue) }
             },
             removeCause: removeCause,
             effects: { h in
                 await h.counters().jobsByLaunchGroup.filter { $0.key.hasPrefix(ExecutionID.named("\(execution)-poison").rawValue) }.values.reduce(0, +)
             })
    }

    static func registration(_ accountID: String, name: String) throws -> PoisonRecord {
        let account = AccountRegistration(accountID: accountID, name: name, regions: ["us-east-1"], credentials: .keyPair(name: "X"))
        return PoisonRecord(try CloudEvent(source: "/test", type: EventType.accountRegistered, payload: account), key: accountID)
    }

    /// Accounts registered with `name` (0 or 1: the account id is the key).
    static func registered(_ h: H, _ accountID: String, name: String) async throws -> Int {
        try await h.pool.query(
            "SELECT count(*) AS n FROM \(h.schema).accounts WHERE account_id = $1 AND registration->>'name' = $2",
            [accountID, name]).rows[0].decode(Int.self, "n")
    }

    /// An accounts row: later records are two new accounts, one on each partition.
    static func accounts(
        _ kind: PoisonClass, _ outcome: PoisonOutcome, accounts prefix: String,
        prepare: @escaping @Sendable (H) async throws -> Void = { _ in },
        poison: @escaping @Sendable (H) throws -> PoisonRecord,
        effects: @escaping @Sendable (H) async throws -> Int
    ) -> Cell {
        Cell("launcher.accounts", kind, outcome, topic: { $0.topics.accounts }, prepare: prepare,
             poison: { try poison($0) },
             later: { _ in [try registration("\(prefix)01", name: "same"), try registration("\(prefix)02", name: "other")] },
             laterHandled: { h in
                 let same = try await registered(h, "\(prefix)01", name: "same")
                 let other = try await registered(h, "\(prefix)02", name: "other")
                 return same == 1 && other == 1
             },
             effects: effects)
    }

    static let cells: [Cell] = [
        // A plan name is a name: a control character makes the event unprocessable (ConsumedText).
        inputs(.nul, .parked(.malformed, error: "planName must not contain control characters", replay: .refused),
               execution: "ex-nul", servers: 0,
               poison: { h in try wave(h, "ex-nul-poison", server: 1) { $0.planName = "plan\u{0}name" } }),
        // launch_chunks is UNIQUE (kind, launch group, attempt, chunk): the same launch-group.requested again (a new
        // ce_id: the planner re-sent it) is ON CONFLICT DO NOTHING by design, never a second DRS job.
        inputs(.uniqueClash, .handled, execution: "ex-dup", servers: 3,
               prepare: { h in
                   let first = try wave(h, "ex-dup-poison", server: 3)
                   _ = try await h.producer.send(first.event.kafkaRecord(topic: h.topics.launchRequests, key: first.key))
                   _ = await eventually { await h.counters().jobsByLaunchGroup.keys.contains { $0.hasPrefix(ExecutionID.named("ex-dup-poison").rawValue) } }
               },
               poison: { h in try wave(h, "ex-dup-poison", server: 3) }),
        // launch_chunks.attempt is an INTEGER: 3·10⁹ is out of its range (22003). A wider column (the fix
        // a deployment would ship) removes the cause; the replay then launches the wave, once.
        inputs(.outOfRange, .parked(.deterministic, error: "22003", replay: .afterFix), execution: "ex-range", servers: 6,
               poison: { h in try wave(h, "ex-range-poison", server: 6) { $0.attempt = 3_000_000_000 } },
               removeCause: { h in
                   try await h.pool.query("ALTER TABLE \(h.schema).launch_chunks ALTER COLUMN attempt TYPE BIGINT")
               }),
        // An account name is a name: refused, parked; it is in the record itself, so a replay fails again.
        accounts(.nul, .parked(.malformed, error: "name must not contain control characters", replay: .refused),
                 accounts: "4444000001",
                 poison: { _ in try registration("444400000000", name: "bad\u{0}") },
                 effects: { h in try await h.pool.query(
                     "SELECT count(*) AS n FROM \(h.schema).accounts WHERE account_id = '444400000000'").rows[0].decode(Int.self, "n") }),
        // accounts.account_id is the primary key, and a registration is an upsert: registering an account
        // again updates it (account.updated has the same effect) — never a clash.
        accounts(.uniqueClash, .handled, accounts: "4444000002",
                 prepare: { h in
                     let first = try registration("444400000200", name: "first")
                     _ = try await h.producer.send(first.event.kafkaRecord(topic: h.topics.accounts, key: first.key))
                     _ = try await eventually { try await registered(h, "444400000200", name: "first") == 1 }
                 },
                 poison: { _ in try registration("444400000200", name: "second") },
                 effects: { h in try await registered(h, "444400000200", name: "second") }),
        // No number of an account event reaches PostgreSQL (registrations and readiness requests are
        // JSONB); the range the launcher enforces is a readiness request's size: one naming more than
        // `maxServers` source servers is refused (UnprocessableEvent) and parked, never answered.
        accounts(.outOfRange, .parked(.malformed, error: "at most \(ReadinessCheckRequested.maxServers) servers", replay: .refused),
                 accounts: "4444000003",
                 poison: { _ in
                     let request = ReadinessCheckRequested(
                         planID: .named("plan-range"), evaluationID: "eval-range", accountID: H.accountID,
                         regions: [.init(region: H.region, sourceServerIDs: (0...ReadinessCheckRequested.maxServers).map { SourceServerID(rawValue: H.sid($0)) },
                                         peakServers: 1, peakJobs: 1)],
                         quotas: .init(concurrentJobs: 20, serversInActiveJobs: 500), requestedAt: Date())
                     return PoisonRecord(try CloudEvent(source: "/test", type: EventType.readinessCheckRequested, payload: request),
                                         key: H.accountID)
                 },
                 effects: { h in
                     let requests = try await h.pool.query(
                         "SELECT count(*) AS n FROM \(h.schema).readiness_requests WHERE evaluation_id = 'eval-range'").rows[0].decode(Int.self, "n")
                     let answers = try await h.pool.query(
                         "SELECT count(*) AS n FROM \(h.schema).outbox WHERE type = $1 AND subject = 'plan-range'",
                         [EventType.readinessChecked]).rows[0].decode(Int.self, "n")
                     return requests + answers
                 }),
    ]

    @Test("launcher.inputs and launcher.accounts: NUL, unique clash and out-of-range records are parked (or handled by design) while later records on the same and another partition are handled; a replay after the fix handles one once")
    func matrix() async throws {
        try await H.with(servers: 12) { harness in
            try await harness.startLauncher(harness.configuration())
            let matrix = PoisonMatrix(app: harness, pool: harness.pool, schema: harness.schema, log: harness.log,
                                      producer: harness.producer, consumers: harness.consumers)
            for consumer in ["launcher.inputs", "launcher.accounts"] {
                #expect(Set(Self.cells.filter { $0.consumer == consumer }.map(\.kind)) == Set(PoisonClass.allCases))
            }
            for cell in Self.cells {
                try await matrix.check(cell)
            }
        }
    }
}
