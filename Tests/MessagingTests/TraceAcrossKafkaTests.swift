import Foundation
import MusterEvents
import MusterHTTP
import MusterKafka
import MusterMessaging
import MusterPostgres
import MusterTracing
import TestSupport
import Testing
import Tracing

/// The process's tracer, installed once (InstrumentationSystem takes one
/// bootstrap per process), exporting to a real OTLP/HTTP JSON receiver.
/// Other suites running meanwhile export spans too; checks filter by trace id.
enum ProcessTracing {
    struct Rig: Sendable {
        let receiver: TraceReceiver
        let exporter: OTLPHTTPExporter
    }

    static let rig: Rig = {
        let receiver = try! TraceReceiver()
        var configuration = OTLPHTTPExporter.Configuration(endpoint: receiver.endpoint, serviceName: "messaging-tests")
        configuration.scheduleDelay = .milliseconds(100)
        let exporter = TracingSetup.bootstrap(configuration, logger: TestEnvironment.logger)
        Task { try await exporter.run() }
        return Rig(receiver: receiver, exporter: exporter)
    }()
}

/// One trace follows an event from the request that wrote it to the outbox,
/// across two Kafka hops (CloudEvents `traceparent` headers) and an outbound
/// webhook call, against the real PostgreSQL, broker and HTTP over loopback.
@Suite("Trace across Kafka", .serialized)
struct TraceAcrossKafkaTests {
    @Test func oneTraceCoversRequestOutboxTwoKafkaHopsAndTheWebhookInOrder() async throws {
        let rig = ProcessTracing.rig
        let schema = TestEnvironment.uniqueName("trace")
        let pool = try TestEnvironment.pool(size: 6)
        try await Migrator.migrate(schema: schema, migrations: MessagingSchema.migrations(schema: schema), pool: pool,
                                   logger: TestEnvironment.logger)
        let first = try await TestEnvironment.makeTopic("trace-commands")
        let second = try await TestEnvironment.makeTopic("trace-events")
        let producer = try KafkaProducer(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let relay = OutboxRelay(schema: schema, pool: pool, producer: producer, logger: TestEnvironment.logger)
        let outbox = Outbox(schema: schema)
        let webhook = try TestHTTPServer { _ in .init(status: 204) }
        let http = HTTPClient(logger: TestEnvironment.logger)

        // 1. "The API request": a server span writing an event to the outbox.
        let root = try await withSpan("POST /v1/executions", ofKind: .server) { span -> TraceParent in
            try await pool.transaction { transaction in
                try await outbox.enqueue(OutboxMessage(
                    topic: first, key: "exec-1",
                    event: CloudEvent(source: "/muster/planner", type: "launch.requested", data: Array("{}".utf8))),
                    on: transaction)
            }
            return try #require(span.context.traceParent)
        }
        #expect(try await relay.publishBatch() == 1)

        // 2. The first consumer ("launcher") writes the next event and calls out ("DRS"/"webhook"),
        //    with a secret in a header and the query that must reach no span.
        let firstOutcomes = Locked<[ConsumeOutcome]>([])
        let hop1 = EventConsumer(
            name: "hop1", schema: schema,
            consumer: try KafkaConsumer(configuration: try TestEnvironment.kafka(), groupID: TestEnvironment.uniqueName("g"),
                                        topics: [first], logger: TestEnvironment.logger),
            pool: pool, logger: TestEnvironment.logger,
            onOutcome: { outcome, _ in firstOutcomes.withLock { $0.append(outcome) } }
        ) { _, _, transaction in
            try await outbox.enqueue(OutboxMessage(
                topic: second, key: "exec-1",
                event: CloudEvent(source: "/muster/launcher", type: "job.started", data: Array("{}".utf8))),
                on: transaction)
            let response = try await http.execute(HTTPRequest(
                method: "POST", url: webhook.baseURL + "/hook?token=s3cr3t-query",
                headers: [HTTPHeader("Authorization", "Bearer s3cr3t-header")], body: Array("{}".utf8)))
            #expect(response.status == 204)
        }
        let running1 = Task { try await hop1.run() }
        #expect(await eventually { firstOutcomes.value == [.handled] })
        #expect(try await relay.publishBatch() == 1)

        // 3. The second consumer ("poller"/"planner") handles it.
        let secondOutcomes = Locked<[ConsumeOutcome]>([])
        let hop2 = EventConsumer(
            name: "hop2", schema: schema,
            consumer: try KafkaConsumer(configuration: try TestEnvironment.kafka(), groupID: TestEnvironment.uniqueName("g"),
                                        topics: [second], logger: TestEnvironment.logger),
            pool: pool, logger: TestEnvironment.logger,
            onOutcome: { outcome, _ in secondOutcomes.withLock { $0.append(outcome) } }
        ) { _, _, _ in }
        let running2 = Task { try await hop2.run() }
        #expect(await eventually { secondOutcomes.value == [.handled] })
        running1.cancel()
        running2.cancel()
        try await running1.value
        try await running2.value

        await rig.exporter.flush()
        let trace = root.traceID
        #expect(await eventually { rig.receiver.spans.filter { $0.traceID == trace }.count >= 6 })
        let spans = rig.receiver.spans.filter { $0.traceID == trace }
        func one(_ name: String) throws -> ReceivedSpan {
            let matching = spans.filter { $0.name == name }
            try #require(matching.count == 1, "exactly one span named \(name) in \(spans.map(\.name))")
            return matching[0]
        }
        let request = try one("POST /v1/executions")
        let publish1 = try one("publish \(first)")
        let consume1 = try one("consume launch.requested")
        let publish2 = try one("publish \(second)")
        let call = try one("HTTP POST")
        let consume2 = try one("consume job.started")
        #expect(spans.count == 6, "no other span in the trace: \(spans.map(\.name))")

        // Parent/child across the outbox and both Kafka hops, with the OTLP kinds.
        #expect(request.parentSpanID == nil && request.spanID == root.spanID && request.kind == 2)
        #expect(publish1.parentSpanID == request.spanID && publish1.kind == 4)
        #expect(consume1.parentSpanID == publish1.spanID && consume1.kind == 5)
        #expect(publish2.parentSpanID == consume1.spanID && publish2.kind == 4)
        #expect(call.parentSpanID == consume1.spanID && call.kind == 3)
        #expect(consume2.parentSpanID == publish2.spanID && consume2.kind == 5)
        // In order.
        #expect(request.start <= publish1.start && publish1.start <= consume1.start)
        #expect(consume1.start <= publish2.start && publish2.start <= consume2.start)
        #expect(consume1.attributes["messaging.destination.name"] == first)
        #expect(call.attributes["http.response.status_code"] == "204")
        #expect(call.attributes["server.address"] == "127.0.0.1")

        // The webhook saw the client span's position.
        let hook = try #require(webhook.requests.first)
        #expect(hook.header("traceparent") == "00-\(trace)-\(call.spanID)-01")
        // No secret, path or query in any span.
        for span in spans {
            #expect(!span.json.contains("s3cr3t"), "\(span.name): \(span.json)")
            #expect(!span.json.contains("/hook"), "\(span.name): \(span.json)")
        }

        webhook.stop()
        await http.shutdown()
        await producer.shutdown(timeout: .seconds(5))
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }

    @Test func anOutboxRowWrittenOutsideATraceIsPublishedWithoutTraceHeaders() async throws {
        _ = ProcessTracing.rig
        let schema = TestEnvironment.uniqueName("trace")
        let pool = try TestEnvironment.pool(size: 2)
        try await Migrator.migrate(schema: schema, migrations: MessagingSchema.migrations(schema: schema), pool: pool,
                                   logger: TestEnvironment.logger)
        let topic = try await TestEnvironment.makeTopic("trace-none")
        let producer = try KafkaProducer(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let outbox = Outbox(schema: schema)
        try await pool.transaction { transaction in
            try await outbox.enqueue(OutboxMessage(
                topic: topic, key: "k", event: CloudEvent(source: "/muster/test", type: "t", data: Array("{}".utf8))),
                on: transaction)
        }
        let stored = try await pool.query("SELECT traceparent FROM \(schema).outbox")
        #expect(try stored.rows[0].decode(String?.self, "traceparent") == nil)
        #expect(try await OutboxRelay(schema: schema, pool: pool, producer: producer, logger: TestEnvironment.logger)
            .publishBatch() == 1)
        let reader = try KafkaConsumer(configuration: try TestEnvironment.kafka(), groupID: TestEnvironment.uniqueName("g"),
                                       topics: [topic], logger: TestEnvironment.logger)
        var iterator = reader.records.makeAsyncIterator()
        let record = try #require(try await iterator.next())
        #expect(record.header("traceparent") == nil && record.header("ce_type") == "t")
        await reader.close()
        await producer.shutdown(timeout: .seconds(5))
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }

    /// Work a loop does later (issue 18): a span started from a stored position continues
    /// that trace, links each other trace the work serves (once per trace, none for its
    /// own), and the outbox row written inside it names it; without a stored position the
    /// work runs with no span and its row carries no trace.
    @Test func aStoredPositionIsContinuedLaterWithLinksToTheOtherTraces() async throws {
        let rig = ProcessTracing.rig
        let schema = TestEnvironment.uniqueName("trace")
        let pool = try TestEnvironment.pool(size: 2)
        try await Migrator.migrate(schema: schema, migrations: MessagingSchema.migrations(schema: schema), pool: pool,
                                   logger: TestEnvironment.logger)
        let outbox = Outbox(schema: schema)
        #expect(StoredTrace.current == nil)
        // Three positions stored by "consumers": two in one trace (two jobs of one drill), one in another.
        let (first, sibling) = try withSpan("consume job.created") { _ in
            let first = try #require(StoredTrace.current)
            let sibling = try withSpan("StartRecovery") { _ in try #require(StoredTrace.current) }
            return (first, sibling)
        }
        let other = try withSpan("consume job.created") { _ in try #require(StoredTrace.current) }
        let firstPosition = try #require(TraceParent(header: first.traceparent))
        let otherPosition = try #require(TraceParent(header: other.traceparent))
        #expect(firstPosition.traceID != otherPosition.traceID)

        let written = try await StoredTrace.withSpan(
            "DescribeJobs", parent: first, links: [first, sibling, other, other], attributes: ["muster.job_count": "3"]
        ) {
            try await pool.transaction { transaction in
                try await outbox.enqueue(OutboxMessage(
                    topic: "t", key: "k", event: CloudEvent(source: "/muster/test", type: "job.observed", data: Array("{}".utf8))),
                    on: transaction)
            }
            return try #require(StoredTrace.current)
        }
        let untraced = await StoredTrace.withSpan("DescribeJobs", parent: nil) { StoredTrace.current }
        #expect(untraced == nil)
        try await pool.transaction { transaction in
            try await StoredTrace.withSpan("deliver webhook", parent: nil) {
                try await outbox.enqueue(OutboxMessage(
                    topic: "t", key: "k2", event: CloudEvent(source: "/muster/test", type: "t", data: Array("{}".utf8))),
                    on: transaction)
            }
        }

        let rows = try await pool.query("SELECT key, traceparent FROM \(schema).outbox ORDER BY seq").rows
        #expect(try rows.map { try $0.decode(String?.self, "traceparent") } == [written.traceparent, nil])
        let span = try #require(TraceParent(header: written.traceparent))
        #expect(span.traceID == firstPosition.traceID && span.spanID != firstPosition.spanID)

        await rig.exporter.flush()
        #expect(await eventually { rig.receiver.spans.contains { $0.spanID == span.spanID } })
        let received = try #require(rig.receiver.spans.first { $0.spanID == span.spanID })
        #expect(received.name == "DescribeJobs" && received.kind == 1)
        #expect(received.parentSpanID == firstPosition.spanID)
        #expect(received.attributes["muster.job_count"] == "3")
        #expect(received.links == ["\(otherPosition.traceID)-\(otherPosition.spanID)"])
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }
}
