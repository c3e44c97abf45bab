import Foundation
import Logging
import MusterHTTP
import MusterKafka
import MusterMessaging
import MusterPostgres
import PlannerApp
import Synchronization

/// The planner's API in-process on a fresh schema of the real PostgreSQL,
/// bound to a free loopback port, and an HTTP client for it: what the
/// benchmarks that time the planner's API (events, readiness) start with.
public struct PlannerBenchRig: Sendable {
    /// The admin token the API was started with.
    public let adminToken: String
    /// The throwaway schema (dropped by `stop`).
    public let schema: String
    /// The database pool.
    public let pool: PostgresPool
    /// `http://127.0.0.1:<port>`.
    public let base: String
    /// The client the benchmark calls the API with.
    public let http: HTTPClient
    private let serverTask: Task<Void, any Error>
    private let background: [Task<Void, any Error>]

    /// Migrates a fresh schema, starts the API, waits until it listens. With `kafka`, the outbox relay and
    /// the planner's consumers run too (their topics must exist), so the planner talks to other services.
    public static func start(
        databaseURL: String, poolSize: Int, logger: Logger, kafka: KafkaConfiguration? = nil,
        configure: (inout PlannerConfiguration) -> Void = { _ in }
    ) async throws -> PlannerBenchRig {
        let adminToken = "bench-admin-" + String(repeating: "x", count: 40)
        let schema = "planner_bench_\(UInt32.random(in: 0...UInt32.max))"
        let pool = PostgresPool(configuration: PostgresConfiguration(url: databaseURL, poolSize: poolSize), logger: logger)
        try await Migrator.migrate(
            schema: schema, migrations: MessagingSchema.migrations(schema: schema) + PlannerService.migrations,
            pool: pool, logger: logger)
        var configuration = PlannerConfiguration(schema: schema, adminToken: adminToken)
        configure(&configuration)
        let port = Mutex<Int?>(nil)
        var background: [Task<Void, any Error>] = []
        var wake: @Sendable () -> Void = {}
        if let kafka {
            let relay = OutboxRelay(schema: schema, pool: pool, producer: try KafkaProducer(configuration: kafka, logger: logger),
                                    logger: logger)
            wake = { relay.wake() }
            background.append(Task { try await relay.run() })
            for consumer in try PlannerService.consumers(
                configuration: configuration, pool: pool, logger: logger,
                makeConsumer: { topics in
                    try KafkaConsumer(configuration: kafka, groupID: "\(schema).planner", topics: topics, logger: logger)
                }, wake: wake)
            {
                background.append(Task { try await consumer.run() })
            }
        }
        let server = PlannerService.apiServer(
            PlannerAPI(configuration: configuration, pool: pool, wake: wake), host: "127.0.0.1", port: 0, logger: logger,
            onListening: { bound in port.withLock { $0 = bound } })
        let serverTask = Task { try await server.run() }
        while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        return PlannerBenchRig(
            adminToken: adminToken, schema: schema, pool: pool, base: "http://127.0.0.1:\(port.withLock { $0 }!)",
            http: HTTPClient(logger: logger), serverTask: serverTask, background: background)
    }

    /// Calls the API with `token`; the JSON answer, or `BenchmarkError` for a non-2xx.
    public func call(_ method: String, _ path: String, token: String, json: [String: Any]? = nil) async throws
        -> [String: Any]
    {
        let body = try json.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response = try await http.execute(HTTPRequest(
            method: method, url: base + path,
            headers: [HTTPHeader("Authorization", "Bearer \(token)"), HTTPHeader("Content-Type", "application/json")],
            body: body))
        guard response.isSuccess else {
            throw BenchmarkError(text: "\(method) \(path): \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        return (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    /// Stops the API and the client, drops the schema.
    public func stop() async {
        serverTask.cancel()
        for task in background { task.cancel() }
        for task in background { _ = try? await task.value }
        await http.shutdown()
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }
}

/// A benchmark step that did not go as planned.
public struct BenchmarkError: Error, CustomStringConvertible {
    /// What happened.
    public var text: String
    /// Creates the error.
    public init(text: String) { self.text = text }
    /// The text.
    public var description: String { text }
}
