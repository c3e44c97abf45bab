import Foundation
import Logging
import MusterEvents
import MusterHTTP
import MusterKafka
import MusterMessaging
import MusterPostgres
import PlannerApp
import ServiceLifecycle
import TestSupport

/// An isolated planner for one test: `PlannerService` started through
/// ``ServiceUnderTest`` (as its process runs it: API, console and ops routes
/// over HTTP on a free port, outbox relay, retention) on its own schema and
/// topics on the shared PostgreSQL and broker, with (optionally) its
/// consumers. Its step-deadline and drill-scheduler loops are left out: the
/// tests that need them drive them by hand over ``api``.
final class PlannerTestApp: TestApp {
    static let adminToken = "admin-" + String(repeating: "x", count: 40)
    let schema: String
    let topics: Topics
    /// The test's own pool (seeding, queries); the service runs on its own.
    let pool: PostgresPool
    /// The test's own producer, publishing what the launcher and notifier would.
    let producer: KafkaProducer
    let http: HTTPClient
    let baseURL: String
    let validator: SchemaValidator
    /// The API the service's routes serve (the loops a test drives by hand work through it).
    var api: PlannerAPI { service.parts.api }
    let outcomes = Locked<[ConsumeOutcome]>([])
    /// What the service logged (for ``ParkingProbe``).
    let consumerLog = LogCapture()
    /// The consumers (with `consumers: true`), for replaying what they parked.
    var consumers: [EventConsumer] { service.consumers }
    /// The planner as its process builds it (`PlannerService.makeServices` in `ServiceContext.services`).
    private let service: ServiceUnderTest<PlannerService>

    init(consumers: Bool = false, limits: PlannerLimits = PlannerLimits(), stream: EventStreamSettings? = nil,
         oidc: OIDCSettings? = nil, configure: (inout PlannerConfiguration) -> Void = { _ in }) async throws
    {
        schema = TestEnvironment.uniqueName("planner")
        let suffix = schema.dropFirst("planner_".count)
        topics = Topics(prefix: "\(suffix).")
        var configuration = PlannerConfiguration(schema: schema, topics: topics, adminToken: Self.adminToken, limits: limits)
        if let stream { configuration.stream = stream }
        configuration.oidc = oidc
        configure(&configuration)
        var relay = OutboxRelay.Configuration()
        relay.idleInterval = .milliseconds(50)
        var eventConsumer = EventConsumer.Configuration()
        eventConsumer.retry = Backoff(base: .milliseconds(10), cap: .milliseconds(100))
        validator = try SchemaValidator(url: RepositoryFile.url("Services/Planner/App/API/openapi.json"))
        let pool = try TestEnvironment.pool(size: 4)
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        } catch {
            await pool.close()
            throw error
        }
        let http = HTTPClient(logger: TestEnvironment.logger)
        (self.pool, self.producer, self.http) = (pool, producer, http)
        let outcomes = self.outcomes
        do {
            service = try await ServiceUnderTest.start(
                PlannerService.self, schema: schema, configuration: configuration,
                topics: [topics.launchRequests, topics.instancesTerminate, topics.accounts, topics.executionEvents,
                         topics.jobStatus, topics.inventory, topics.teams, topics.hookRequests, topics.callouts,
                         topics.calloutResults],
                relay: relay, eventConsumer: eventConsumer, logger: consumerLog.logger,
                running: { parts in consumers ? parts.consumers : [] },
                onOutcome: { outcome, _ in outcomes.withLock { $0.append(outcome) } })
        } catch {
            await http.shutdown()
            await producer.shutdown(timeout: .seconds(5))
            await pool.close()
            throw error
        }
        baseURL = service.baseURL
    }

    /// Runs `body` with a fresh app and always tears it down.
    static func with(consumers: Bool = false, limits: PlannerLimits = PlannerLimits(), stream: EventStreamSettings? = nil,
                     oidc: OIDCSettings? = nil, configure: (inout PlannerConfiguration) -> Void = { _ in },
                     _ body: (PlannerTestApp) async throws -> Void) async throws {
        try await PlannerTestApp(consumers: consumers, limits: limits, stream: stream, oidc: oidc, configure: configure)
            .use(body)
    }

    func tearDown() async {
        await service.stop()
        await http.shutdown()
        await producer.shutdown(timeout: .seconds(5))
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }

    // MARK: HTTP

    /// Sends a request; every documented response is checked against the OpenAPI document.
    func call(_ method: String, _ path: String, token: String?, json: Any? = nil, raw: [UInt8]? = nil,
              validate: Bool = true) async throws -> JSONReply {
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let token { headers.append(HTTPHeader("Authorization", "Bearer \(token)")) }
        let body = try raw ?? json.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response = try await http.execute(HTTPRequest(method: method, url: baseURL + path, headers: headers, body: body))
        if validate {
            let problems = validator.validateResponse(method: method, path: path, status: response.status, body: response.body)
            if !problems.isEmpty {
                throw OpenAPIMismatch(problems: problems, body: String(decoding: response.body, as: UTF8.self))
            }
        }
        return JSONReply(status: response.status, body: response.body)
    }

    struct OpenAPIMismatch: Error, CustomStringConvertible {
        var problems: [String]
        var body: String
        var description: String { "response does not match openapi.json: \(problems.joined(separator: "; ")) — body: \(body)" }
    }

    // MARK: Seeding

    /// A team with one token per role; returns the team id and tokens.
    func team(_ name: String = TestEnvironment.uniqueName("team")) async throws -> TeamTokens {
        let team = try await call("POST", "/v1/teams", token: Self.adminToken, json: ["name": name])
        let id = team["id"] as! String
        var tokens: [String: String] = [:]
        for role in ["viewer", "operator", "admin"] {
            let reply = try await call("POST", "/v1/teams/\(id)/tokens", token: Self.adminToken,
                                       json: ["name": role, "subject": "\(role)@\(name)", "role": role])
            tokens[role] = reply["token"] as? String
        }
        return TeamTokens(id: id, viewer: tokens["viewer"]!, operator: tokens["operator"]!, admin: tokens["admin"]!)
    }

    struct TeamTokens {
        var id: String, viewer: String, `operator`: String, admin: String
    }

    /// Registers an account through the API and seeds inventory rows for it.
    func account(_ team: TeamTokens, awsAccountID: String, region: String = "us-east-1",
                 servers: [(String, [String: String])]) async throws {
        let reply = try await call("POST", "/v1/accounts", token: team.admin, json: [
            "awsAccountId": awsAccountID, "name": "acct", "regions": [region],
            "credentials": ["type": "ASSUME_ROLE", "roleArn": "arn:aws:iam::\(awsAccountID):role/Muster"],
        ])
        precondition(reply.status == 201, "account: \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        for (id, tags) in servers {
            try await pool.query(
                """
                INSERT INTO \(schema).source_servers (account_id, region, server_id, hostname, replication_state, tags, observed_at)
                VALUES ($1, $2, $3, $4, 'CONTINUOUS', $5, now())
                """, [awsAccountID, region, id, "host-\(id)", try PostgresJSON(encoding: tags)])
        }
    }

    /// A random 12-digit account id.
    static func awsAccountID() -> String { String((0..<12).map { _ in "0123456789".randomElement()! }) }
}
