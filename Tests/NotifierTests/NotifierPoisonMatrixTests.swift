import Foundation
import MusterAPI
import MusterDomain
import MusterEvents
import MusterMessaging
import TestSupport
import Testing

/// `notifier.tokens`, `notifier.executions` and `notifier.callouts` × every poison class (issue
/// 11, docs/consumers.md "The poison-record matrix"): one notifier, one team
/// subscribed to one webhook receiver for all rows; each poison on partition
/// 0, valid records after it on partition 0 and 1, seen through the API
/// (tokens) and the webhook receiver (execution events).
@Suite("Notifier poison-record matrix", .serialized)
struct NotifierPoisonMatrixTests {
    /// The shared notifier, its team and receiver (`@unchecked`: the test app is a class of `let`s of
    /// Sendable parts that does not declare it).
    struct App: @unchecked Sendable {
        let notifier: NotifierTestApp
        let team: NotifierTestApp.Team
        let receiver: Receiver
        /// The team's subscription (it signs the callouts).
        let subscription: String

        /// Whether `token` authenticates at the API.
        func accepts(_ token: String) async throws -> Bool {
            try await notifier.call("GET", "/v1/subscriptions", token: token).status == 200
        }

        /// Webhook requests that carried event `id` (and its body as published).
        func delivered(_ event: CloudEvent) -> Int {
            receiver.requests.filter {
                $0.header("X-Muster-Event-Id") == event.id.uuidString.lowercased() && $0.body == event.data
            }.count
        }

        func tokenRows(_ tokenID: String) async throws -> Int {
            try await notifier.pool.query(
                "SELECT count(*) AS n FROM \(notifier.schema).tokens WHERE token_id = $1", [tokenID]).rows[0].decode(Int.self, "n")
        }
    }

    typealias Cell = PoisonCell<App>

    /// A token fixed by the row (the cells are static): `mst_` and 72 characters.
    static func token(_ n: Int) -> String {
        let id = String(format: "00000000-0000-4000-8000-%012d", n)
        return "mst_" + id + id
    }

    static func issued(_ app: App, tokenID: String, token: String, subject: String = "s", role: String = "viewer") throws -> PoisonRecord {
        let issued = TokenIssued(tokenID: tokenID, teamID: app.team.id, subject: subject, role: role,
                                 tokenSHA256: BearerToken.digestHex(token), issuedAt: Date())
        return PoisonRecord(try CloudEvent(source: EventSource.planner, type: EventType.tokenIssued, subject: app.team.id.rawValue,
                                           payload: issued), key: app.team.id.rawValue)
    }

    static func tokens(
        _ kind: PoisonClass, _ outcome: PoisonOutcome, row: Int,
        prepare: @escaping @Sendable (App) async throws -> Void = { _ in },
        poison: @escaping @Sendable (App) throws -> PoisonRecord,
        removeCause: @escaping @Sendable (App) async throws -> Void = { _ in },
        effects: @escaping @Sendable (App) async throws -> Int
    ) -> Cell {
        let same = token(row * 10 + 1), other = token(row * 10 + 2)
        return Cell("notifier.tokens", kind, outcome, topic: { $0.notifier.topics.teams }, prepare: prepare,
                    poison: { try poison($0) },
                    later: { app in [try issued(app, tokenID: "t-\(row)-same", token: same),
                                     try issued(app, tokenID: "t-\(row)-other", token: other)] },
                    laterHandled: { app in
                        let first = try await app.accepts(same), second = try await app.accepts(other)
                        return first && second
                    },
                    removeCause: removeCause, effects: effects)
    }

    /// An execution event as the planner publishes it for the execution named `label`; `extra` fields are
    /// added to its body. `wireExecution` replaces the execution id on the wire (key, subject, body): a typed
    /// id cannot hold what a poison record needs.
    static func executionEvent(_ app: App, execution label: String, id: UUID = UUID(), extra: String = "",
                               wireExecution: String? = nil) throws -> PoisonRecord {
        let typed = ExecutionID.named(label), execution = wireExecution ?? typed.rawValue
        let payload = ExecutionEvent(
            type: .executionStarted, executionID: typed, executionType: .drill, executionStatus: .running,
            planID: .named("plan-1"), planName: "Three tier", teamID: app.team.id, initiatedBy: "alice", occurredAt: Date())
        var data = Array(try EventCoding.encoder.encode(payload))
        if let wireExecution {
            let text = String(decoding: data, as: UTF8.self).replacingOccurrences(
                of: "\"\(typed)\"", with: String(decoding: try EventCoding.encoder.encode(wireExecution), as: UTF8.self))
            data = Array(text.utf8)
        }
        if !extra.isEmpty, data.last == UInt8(ascii: "}") { data = Array(data.dropLast()) + Array(",\(extra)}".utf8) }
        return PoisonRecord(CloudEvent(id: id, source: EventSource.planner, type: ExecutionEventType.executionStarted.rawValue,
                                       subject: execution, data: data), key: execution)
    }

    static func executions(
        _ kind: PoisonClass, _ outcome: PoisonOutcome, row: Int,
        prepare: @escaping @Sendable (App) async throws -> Void = { _ in },
        poison: @escaping @Sendable (App) throws -> PoisonRecord,
        effects: @escaping @Sendable (App) async throws -> Int
    ) -> Cell {
        let same = UUID(), other = UUID()
        return Cell("notifier.executions", kind, outcome, topic: { $0.notifier.topics.executionEvents }, prepare: prepare,
                    poison: { try poison($0) },
                    later: { app in [try executionEvent(app, execution: "ex-\(row)-same", id: same),
                                     try executionEvent(app, execution: "ex-\(row)-other", id: other)] },
                    laterHandled: { app in
                        let ids = Set(app.receiver.requests.compactMap { $0.header("X-Muster-Event-Id") })
                        return ids.isSuperset(of: [same.uuidString.lowercased(), other.uuidString.lowercased()])
                    },
                    effects: effects)
    }

    /// A callout request as the planner publishes it, to `<receiver>/c/<name>`.
    static func callout(_ app: App, _ name: String, step: String = "tell", waveNumber: Int = 1, id: UUID = UUID()) throws -> PoisonRecord {
        let execution = ExecutionID.random()
        let body = CalloutBody(
            executionID: execution, executionType: "DRILL", initiatedBy: "alice", planID: .random(),
            planName: "Three tier", teamID: app.team.id, waveNumber: waveNumber, waveName: "db", stepName: step, phase: "AFTER",
            deadline: Date().addingTimeInterval(600),
            callbackURL: "https://muster.example/v1/callbacks/" + String(repeating: "x", count: 43))
        return PoisonRecord(try CloudEvent(id: id, source: EventSource.planner, type: EventType.calloutRequested,
                                           subject: execution.rawValue,
                                           payload: CalloutRequested(url: app.receiver.server.baseURL + "/c/\(name)",
                                                                     subscriptionID: app.subscription, body: body)),
                            key: execution.rawValue)
    }

    /// Callout POSTs that reached `/c/<name>`.
    static func called(_ app: App, _ name: String) -> [TestHTTPServer.Request] {
        app.receiver.requests.filter { $0.path == "/c/\(name)" }
    }

    static func callouts(
        _ kind: PoisonClass, _ outcome: PoisonOutcome, row: String,
        prepare: @escaping @Sendable (App) async throws -> Void = { _ in },
        poison: @escaping @Sendable (App) throws -> PoisonRecord,
        effects: (@Sendable (App) async throws -> Int)? = nil
    ) -> Cell {
        Cell("notifier.callouts", kind, outcome, topic: { $0.notifier.topics.callouts }, prepare: prepare,
             poison: { try poison($0) },
             later: { app in [try callout(app, "\(row)-same"), try callout(app, "\(row)-other")] },
             laterHandled: { app in !called(app, "\(row)-same").isEmpty && !called(app, "\(row)-other").isEmpty },
             effects: effects ?? { app in called(app, "\(row)-poison").count })
    }

    /// What a cell's poison record is, kept for its effect check.
    static let duplicate = UUID()
    static let nulEvent = UUID()
    static let hugeNumber = UUID()
    static let calloutDuplicate = UUID()

    static let cells: [Cell] = [
        // A subject is an identifier: a control character makes the event unprocessable (ConsumedText).
        tokens(.nul, .parked(.malformed, error: "subject must not contain control characters", replay: .refused), row: 1,
               poison: { app in try issued(app, tokenID: "t-nul", token: token(10), subject: "mallory\u{0}") },
               effects: { app in try await app.accepts(token(10)) ? 1 : 0 }),
        // tokens.token_sha256 is UNIQUE: another token id with a digest that exists is refused (23505).
        // Removing the row that holds the digest removes the cause; the replay then stores the token once.
        tokens(.uniqueClash, .parked(.deterministic, error: "23505", replay: .afterFix), row: 2,
               prepare: { app in
                   let first = try issued(app, tokenID: "t-first", token: token(20))
                   _ = try await app.notifier.producer.send(first.event.kafkaRecord(topic: app.notifier.topics.teams, key: first.key))
                   _ = try await eventually { try await app.accepts(token(20)) }
               },
               poison: { app in try issued(app, tokenID: "t-clash", token: token(20), role: "admin") },
               removeCause: { app in
                   try await app.notifier.pool.query("DELETE FROM \(app.notifier.schema).tokens WHERE token_id = 't-first'")
               },
               effects: { app in
                   let rows = try await app.tokenRows("t-clash"), accepted = try await app.accepts(token(20))
                   return accepted ? rows : 0
               }),
        // No number of a token event reaches PostgreSQL; the range the notifier enforces is the role's: a role
        // outside viewer/operator/admin is refused (UnprocessableEvent) and parked, never stored.
        tokens(.outOfRange, .parked(.malformed, error: "unknown role 'superuser'", replay: .refused), row: 3,
               poison: { app in try issued(app, tokenID: "t-role", token: token(30), role: "superuser") },
               effects: { app in try await app.tokenRows("t-role") }),
        // Ids are identifiers: a control character in the execution id makes the event unprocessable.
        executions(.nul, .parked(.malformed, error: "must not contain control characters", replay: .refused),
                   row: 4,
                   poison: { app in try executionEvent(app, execution: "ex-nul", id: nulEvent, wireExecution: "ex-\u{0}") },
                   effects: { app in app.receiver.requests.contains { $0.header("X-Muster-Event-Id") == nulEvent.uuidString.lowercased() } ? 1 : 0 }),
        // deliveries is UNIQUE (subscription, event id): only the same event can clash, and the inbox drops
        // it before (a duplicate by design): delivered once.
        executions(.uniqueClash, .handled, row: 5,
                   prepare: { app in
                       let first = try executionEvent(app, execution: "ex-dup", id: duplicate)
                       _ = try await app.notifier.producer.send(
                           first.event.kafkaRecord(topic: app.notifier.topics.executionEvents, key: first.key))
                       _ = await eventually { app.delivered(first.event) == 1 }
                   },
                   poison: { app in
                       // The same record again: same ce_id, same body (a producer retry, a re-publication).
                       var again = try executionEvent(app, execution: "ex-dup", id: duplicate)
                       again.event.data = try #require(app.receiver.requests.first {
                           $0.header("X-Muster-Event-Id") == duplicate.uuidString.lowercased() }?.body)
                       return again
                   },
                   effects: { app in
                       app.receiver.requests.filter { $0.header("X-Muster-Event-Id") == duplicate.uuidString.lowercased() }.count
                   }),
        // No number of an execution event reaches PostgreSQL (the body is stored as received, BYTEA, and
        // never interpreted): a number beyond every numeric range in the body is delivered, byte for byte.
        executions(.outOfRange, .handled, row: 6,
                   poison: { app in
                       try executionEvent(app, execution: "ex-range", id: hugeNumber,
                                          extra: "\"drillNumber\":1180591620717411303424123456789012345678901234567890e400")
                   },
                   effects: { app in
                       app.receiver.requests.filter {
                           $0.header("X-Muster-Event-Id") == hugeNumber.uuidString.lowercased()
                               && String(decoding: $0.body, as: UTF8.self).contains("1180591620717411303424123456789012345678901234567890e400")
                       }.count
                   }),
        // A step name is a name: a control character makes the request unprocessable (ConsumedText).
        callouts(.nul, .parked(.malformed, error: "stepName must not contain control characters", replay: .refused), row: "nul",
                 poison: { app in try callout(app, "nul-poison", step: "tell\u{0}") }),
        // deliveries is UNIQUE (subscription, event id): only the same request can clash, and the inbox drops
        // it before (a duplicate by design): POSTed once.
        callouts(.uniqueClash, .handled, row: "dup",
                 prepare: { app in
                     let first = try callout(app, "dup-poison", id: calloutDuplicate)
                     _ = try await app.notifier.producer.send(first.event.kafkaRecord(topic: app.notifier.topics.callouts, key: first.key))
                     _ = await eventually { !called(app, "dup-poison").isEmpty }
                 },
                 poison: { app in try callout(app, "dup-poison", id: calloutDuplicate) }),
        // The one value of a callout that reaches a typed column is its deadline (TIMESTAMPTZ; an event's
        // date has a four-digit year); the body is stored as bytes: a wave number beyond INTEGER is POSTed as is.
        callouts(.outOfRange, .handled, row: "range",
                 poison: { app in try callout(app, "range-poison", waveNumber: 3_000_000_000) },
                 effects: { app in
                     called(app, "range-poison").filter { String(decoding: $0.body, as: UTF8.self).contains("3000000000") }.count
                 }),
    ]

    @Test("notifier.tokens, notifier.executions and notifier.callouts: NUL, unique clash and out-of-range records are parked (or handled by design) while later records on the same and another partition are handled; a replay after the fix handles one once")
    func matrix() async throws {
        let receiver = try Receiver()
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { notifier in
            let team = try await notifier.team()
            let subscription = try await notifier.subscribe(team, url: receiver.url)
            let matrix = PoisonMatrix(app: App(notifier: notifier, team: team, receiver: receiver, subscription: subscription),
                                      pool: notifier.pool,
                                      schema: notifier.schema, log: notifier.logs, producer: notifier.producer,
                                      consumers: notifier.consumers)
            for consumer in ["notifier.tokens", "notifier.executions", "notifier.callouts"] {
                #expect(Set(Self.cells.filter { $0.consumer == consumer }.map(\.kind)) == Set(PoisonClass.allCases))
            }
            for cell in Self.cells {
                try await matrix.check(cell)
            }
        }
    }
}
