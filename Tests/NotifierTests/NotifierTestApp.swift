import Foundation
import Logging
import MusterAPI
import MusterDomain
import MusterEvents
import MusterHTTP
import MusterKafka
import MusterMessaging
import MusterPostgres
@testable import NotifierApp
import ServiceLifecycle
import TestSupport

/// An isolated notifier for one test: its own schema, topics and consumer
/// groups on the shared PostgreSQL and broker, the API over HTTP on a free
/// port, the consumers and the dispatcher running with short intervals.
final class NotifierTestApp: TestApp {
    let schema: String
    let topics: Topics
    let pool: PostgresPool
    let producer: KafkaProducer
    let http: HTTPClient
    /// Every log line of the app (all levels), for asserting what never appears in them.
    let logs = LogCapture(level: .trace)
    let outcomes = Locked<[ConsumeOutcome]>([])
    /// The consumer loops (`notifier.executions`, `notifier.tokens`), for replaying what they parked.
    let consumers: [EventConsumer]
    let baseURL: String
    /// The notifier as its process runs it (`NotifierService.makeServices` in `ServiceContext.services`).
    private let service: ServiceUnderTest<NotifierService>

    /// Short retry schedule: 20 ms doubling to 200 ms, dead after `retryWindow`.
    init(retryWindow: Duration = .seconds(30), deliveryTimeout: Duration = .seconds(5)) async throws {
        schema = TestEnvironment.uniqueName("notifier")
        let suffix = schema.dropFirst("notifier_".count)
        topics = Topics(prefix: "\(suffix).")
        pool = try TestEnvironment.pool(size: 8)
        try await Migrator.migrate(
            schema: schema, migrations: MessagingSchema.migrations(schema: schema) + NotifierService.migrations,
            pool: pool, logger: TestEnvironment.logger)
        let kafka = try TestEnvironment.kafka()
        try await KafkaAdmin.createTopics(
            [(name: topics.executionEvents, partitions: 2), (name: topics.teams, partitions: 2),
             (name: topics.callouts, partitions: 2), (name: topics.calloutResults, partitions: 2)],
            configuration: kafka, timeout: .seconds(10))
        producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
        http = HTTPClient(logger: TestEnvironment.logger)

        let configuration = NotifierConfiguration(
            schema: schema, topics: topics, allowHTTP: true,
            retry: RetryPolicy(backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(200)), window: retryWindow),
            deliveryTimeout: deliveryTimeout, connectTimeout: .seconds(1), maxInFlight: 16, maxInFlightPerSubscription: 4,
            // A poll interval longer than any test (issue 18: idle means idle): every delivery, retry
            // and lease must be picked up through a wake-up or the dispatcher's own next-due sleep.
            pollInterval: .seconds(600), gaugeInterval: .milliseconds(200))
        var eventConfiguration = EventConsumer.Configuration()
        eventConfiguration.retry = Backoff(base: .milliseconds(10), cap: .milliseconds(100))
        let outcomes = self.outcomes
        let logger = logs.logger
        service = try await ServiceUnderTest.start(
            NotifierService.self, schema: schema, configuration: configuration, eventConsumer: eventConfiguration,
            logger: logger, onOutcome: { outcome, _ in outcomes.withLock { $0.append(outcome) } })
        consumers = service.consumers
        baseURL = service.baseURL
    }

    /// Runs `body` with a fresh app and always tears it down.
    static func with(retryWindow: Duration = .seconds(30), deliveryTimeout: Duration = .seconds(5),
                     _ body: (NotifierTestApp) async throws -> Void) async throws {
        try await NotifierTestApp(retryWindow: retryWindow, deliveryTimeout: deliveryTimeout).use(body)
    }

    func tearDown() async {
        await service.stop()
        await http.shutdown()
        await producer.shutdown(timeout: .seconds(5))
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }

    // MARK: Tokens

    struct Team {
        var id: TeamID
        var viewer: String
        var `operator`: String
        var admin: String
    }

    /// Publishes `token.issued` for a new token; returns the token.
    func issueToken(team: TeamID, role: String, tokenID: String = UUID().uuidString) async throws -> String {
        let token = "mst_" + UUID().uuidString.lowercased() + UUID().uuidString.lowercased()
        let issued = TokenIssued(tokenID: tokenID, teamID: team, subject: "\(role)@\(team)", role: role,
                                 tokenSHA256: BearerToken.digestHex(token), issuedAt: Date())
        try await publish(topic: topics.teams, key: team.rawValue, CloudEvent(
            source: EventSource.planner, type: EventType.tokenIssued, subject: team.rawValue, payload: issued))
        return token
    }

    /// A team with one token per role, each usable once this returns.
    func team() async throws -> Team {
        let id = TeamID.random()
        let team = Team(id: id, viewer: try await issueToken(team: id, role: "viewer"),
                        operator: try await issueToken(team: id, role: "operator"),
                        admin: try await issueToken(team: id, role: "admin"))
        for token in [team.viewer, team.operator, team.admin] {
            let usable = try await eventually { try await call("GET", "/v1/subscriptions", token: token).status == 200 }
            // A failure of this test, never a crash of every other test in the process.
            guard usable else { throw TokenNeverUsable(role: token == team.admin ? "admin" : "viewer/operator") }
        }
        return team
    }

    // MARK: Events

    func publish(topic: String, key: String, _ event: CloudEvent) async throws {
        _ = try await producer.send(event.kafkaRecord(topic: topic, key: key))
    }

    /// An execution event as the planner publishes it (key = execution id) for the execution named
    /// `execution` (``ExecutionID/named(_:)``).
    @discardableResult
    func publishExecutionEvent(team: TeamID, execution label: String, type: ExecutionEventType,
                               id: UUID = UUID()) async throws -> CloudEvent {
        let execution = ExecutionID.named(label).rawValue
        let payload = ExecutionEvent(
            type: type, executionID: .named(label), executionType: .drill, executionStatus: .running, planID: .named("plan-1"),
            planName: "Three tier", teamID: team, initiatedBy: "alice", occurredAt: Date())
        let event = try CloudEvent(id: id, source: EventSource.planner, type: type.rawValue, subject: execution,
                                   payload: payload)
        try await publish(topic: topics.executionEvents, key: execution, event)
        return event
    }

    // MARK: HTTP

    func call(_ method: String, _ path: String, token: String?, json: Any? = nil, raw: [UInt8]? = nil) async throws
        -> JSONReply
    {
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let token { headers.append(HTTPHeader("Authorization", "Bearer \(token)")) }
        let body = try raw ?? json.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response = try await http.execute(HTTPRequest(method: method, url: baseURL + path, headers: headers, body: body))
        return JSONReply(status: response.status, body: response.body)
    }

    /// Creates a subscription; returns its id.
    func subscribe(_ team: Team, url: String, eventTypes: [String] = ["*"], secret: String? = nil) async throws -> String {
        var body: [String: Any] = ["url": url, "eventTypes": eventTypes]
        if let secret { body["secret"] = secret }
        let reply = try await call("POST", "/v1/subscriptions", token: team.operator, json: body)
        precondition(reply.status == 201, "subscribe: \(reply.status) \(reply.text)")
        return reply["id"] as! String
    }

    /// The subscription's delivery log (newest first).
    func deliveries(_ team: Team, _ subscription: String) async throws -> [[String: Any]] {
        try await call("GET", "/v1/subscriptions/\(subscription)/deliveries?limit=100", token: team.viewer).items
    }

    /// Rows in the deliveries table (all subscriptions).
    func deliveryRowCount() async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM \(schema).deliveries").rows[0].decode(Int.self, "n")
    }
}

/// A webhook receiver: a real HTTP server whose answer per request is scripted.
final class Receiver: Sendable {
    let server: TestHTTPServer
    private let script: Locked<@Sendable (TestHTTPServer.Request, Int) -> TestHTTPServer.Response>
    private let count = Locked(0)

    init(_ answer: @escaping @Sendable (TestHTTPServer.Request, Int) -> TestHTTPServer.Response = { _, _ in .init() }) throws {
        let script = Locked<@Sendable (TestHTTPServer.Request, Int) -> TestHTTPServer.Response>(answer)
        let count = self.count
        self.script = script
        server = try TestHTTPServer { request in
            let index = count.withLock { value -> Int in
                value += 1
                return value
            }
            return script.value(request, index)
        }
    }

    /// Replaces the script (e.g. a failing endpoint recovers).
    func answer(_ answer: @escaping @Sendable (TestHTTPServer.Request, Int) -> TestHTTPServer.Response) {
        script.withLock { $0 = answer }
    }

    var url: String { server.baseURL + "/hook" }
    var requests: [TestHTTPServer.Request] { server.requests }

    deinit { server.stop() }
}

/// A token issued on `teams.v1` that the notifier never accepted within the wait.
struct TokenNeverUsable: Error, CustomStringConvertible {
    var role: String
    var description: String { "a \(role) token from the teams topic never became usable" }
}
