import Foundation
import MusterEvents
import MusterHTTP
@testable import MusterTracing
import TestSupport
import Testing
import Tracing

/// W3C trace context, the tracing settings and the OTLP/HTTP JSON exporter
/// (pure parts, then the exporter against a real HTTP receiver).
@Suite("Tracing")
struct TracingTests {
    @Test func parsesAndWritesTraceparentPerW3C() throws {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let position = try #require(TraceParent(header: header, traceState: "congo=t61rcWkgMzE"))
        #expect(position.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(position.spanID == "00f067aa0ba902b7")
        #expect(position.isSampled)
        #expect(position.traceState == "congo=t61rcWkgMzE")
        #expect(position.header == header)
        #expect(TraceParent(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.isSampled == false)
        // A later version may append fields; version 00 may not.
        #expect(TraceParent(header: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra") != nil)
        for invalid in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 with more fields
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // no flags
            "", "garbage",
        ] {
            #expect(TraceParent(header: invalid) == nil, "\(invalid)")
        }
        // A tracestate over 512 bytes is dropped, the position kept.
        #expect(TraceParent(header: header, traceState: String(repeating: "a", count: 513))?.traceState == nil)
    }

    @Test func freshIDsAreWellFormedAndDistinct() {
        let traces = Set((0..<200).map { _ in TraceIDs.trace() })
        let spans = Set((0..<200).map { _ in TraceIDs.span() })
        #expect(traces.count == 200 && spans.count == 200)
        for id in traces { #expect(TraceParent(header: "00-\(id)-00f067aa0ba902b7-01") != nil) }
        for id in spans { #expect(TraceParent(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-\(id)-01") != nil) }
    }

    @Test func tracingIsOffUnlessAnEndpointIsSet() throws {
        #expect(try TracingConfiguration.exporter(environment: [:], serviceName: "planner") == nil)
        let muster = try #require(try TracingConfiguration.exporter(
            environment: ["MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
                          "OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318"],
            serviceName: "planner"))
        #expect(muster.endpoint == "http://collector:4318/v1/traces")
        #expect(muster.serviceName == "planner")
        let standard = try #require(try TracingConfiguration.exporter(
            environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example:4318", "OTEL_SERVICE_NAME": "muster-planner",
                          "OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=abc%3D1,tenant=t1"],
            serviceName: "planner"))
        #expect(standard.endpoint == "https://otel.example:4318/v1/traces")
        #expect(standard.serviceName == "muster-planner")
        #expect(standard.scheduleDelay == .milliseconds(250))
        #expect(standard.headers == [HTTPHeader("x-api-key", "abc=1"), HTTPHeader("tenant", "t1")])
        let full = try TracingConfiguration.exporter(
            environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/custom/traces",
                          "OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318"], serviceName: "poller")
        #expect(full?.endpoint == "http://c:4318/custom/traces")
        #expect(try TracingConfiguration.exporter(
            environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"],
            serviceName: "poller") == nil)
        #expect(try TracingConfiguration.exporter(
            environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"],
            serviceName: "poller") == nil)
    }

    @Test func invalidTracingSettingsNameTheVariableAndNeverTheSecret() throws {
        #expect(throws: TracingConfiguration.Invalid(key: "OTEL_EXPORTER_OTLP_ENDPOINT", rule: "must be an http:// or https:// URL")) {
            try TracingConfiguration.exporter(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://c"], serviceName: "x")
        }
        #expect(throws: TracingConfiguration.Invalid(
            key: "MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT", rule: "must not carry credentials (use OTEL_EXPORTER_OTLP_HEADERS)"))
        {
            try TracingConfiguration.exporter(
                environment: ["MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:hunter2@c:4318"], serviceName: "x")
        }
        do {
            _ = try TracingConfiguration.exporter(
                environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_HEADERS": "hunter2"],
                serviceName: "x")
            Issue.record("a header without '=' was accepted")
        } catch {
            #expect("\(error)".contains("OTEL_EXPORTER_OTLP_HEADERS"))
            #expect(!"\(error)".contains("hunter2"))
        }
        #expect(throws: TracingConfiguration.Invalid.self) {
            try TracingConfiguration.exporter(
                environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_BSP_MAX_QUEUE_SIZE": "0"], serviceName: "x")
        }
    }

    @Test func encodesOTLPJSONWithHexIdsAndNanosecondStrings() throws {
        let span = FinishedSpan(
            position: TraceParent(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7", traceState: "a=b"),
            parentSpanID: "1111111111111111", name: "consume wave.started", kind: .consumer,
            startNanos: 1_790_000_000_000_000_001, endNanos: 1_790_000_000_500_000_000,
            attributes: [("messaging.kafka.offset", .int64(42)), ("messaging.system", .string("kafka"))],
            events: [], status: SpanStatus(code: .error, message: "parked"))
        let body = OTLPJSON.encode([span], serviceName: "launcher")
        let parsed = try #require(TraceReceiver.parse(body))
        try #require(parsed.count == 1)
        let received = parsed[0]
        #expect(received.service == "launcher")
        #expect(received.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(received.spanID == "00f067aa0ba902b7")
        #expect(received.parentSpanID == "1111111111111111")
        #expect(received.kind == 5)
        #expect(received.start == 1_790_000_000_000_000_001)
        #expect(received.attributes["messaging.kafka.offset"] == "42")
        #expect(received.attributes["messaging.system"] == "kafka")
        // The fields the receiver does not model, read raw.
        let root = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let resourceSpans: [[String: Any]] = try #require(root["resourceSpans"] as? [[String: Any]])
        let scopeSpans: [[String: Any]] = try #require(resourceSpans.first?["scopeSpans"] as? [[String: Any]])
        let spans: [[String: Any]] = try #require(scopeSpans.first?["spans"] as? [[String: Any]])
        let encoded: [String: Any] = try #require(spans.first)
        let traceState = encoded["traceState"] as? String
        let end = encoded["endTimeUnixNano"] as? String
        let status: [String: Any] = try #require(encoded["status"] as? [String: Any])
        let code = status["code"] as? Int
        let message = status["message"] as? String
        #expect(traceState == "a=b")
        #expect(end == "1790000000500000000")
        #expect(code == 2)
        #expect(message == "parked")
    }

    @Test func cloudEventsCarryTraceContextAsExtensionHeaders() throws {
        var event = CloudEvent(source: "/muster/planner", type: "wave.started", data: Array("{}".utf8))
        #expect(!event.headers.contains { $0.name == "traceparent" || $0.name == "tracestate" })
        event.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        event.tracestate = "congo=t61rcWkgMzE"
        let headers = Dictionary(uniqueKeysWithValues: event.headers.map { ($0.name, $0.value) })
        #expect(headers["traceparent"] == event.traceparent)
        #expect(headers["tracestate"] == "congo=t61rcWkgMzE")
        let parsed = try CloudEvent(header: { headers[$0] }, value: event.data)
        #expect(parsed.traceparent == event.traceparent)
        #expect(parsed.tracestate == event.tracestate)
        // The trace context is carried, not compared; an implausible value is dropped, never a reason to park.
        var untraced = parsed
        untraced.traceparent = nil
        #expect(untraced == parsed)
        var bad = headers
        bad["traceparent"] = "00-\u{7}bad"
        let lenient = try CloudEvent(header: { bad[$0] }, value: event.data)
        #expect(lenient.traceparent == nil && lenient.tracestate == nil)
    }
}

/// The exporter against a real HTTP receiver (TestHTTPServer over loopback).
@Suite("OTLP/HTTP exporter", .serialized)
struct OTLPExporterTests {
    static func span(_ name: String) -> FinishedSpan {
        FinishedSpan(
            position: TraceParent(traceID: TraceIDs.trace(), spanID: TraceIDs.span()), parentSpanID: nil, name: name,
            kind: .internal, startNanos: 1, endNanos: 2, attributes: [], events: [], status: nil)
    }

    @Test func aFullQueueDropsAndCountsInsteadOfWaiting() async throws {
        let receiver = try TraceReceiver()
        var configuration = OTLPHTTPExporter.Configuration(endpoint: receiver.endpoint, serviceName: "test")
        configuration.maxQueue = 3
        configuration.batchSize = 2
        let exporter = OTLPHTTPExporter(configuration: configuration, logger: TestEnvironment.logger)
        for index in 0..<5 { exporter.enqueue(Self.span("s\(index)")) }
        #expect(exporter.queuedCount == 3)
        #expect(exporter.droppedCount == 2)
        await exporter.flush()
        #expect(exporter.exportedCount == 3)
        #expect(receiver.requests == 2, "batches of at most 2")
        #expect(Set(receiver.spans.map(\.name)) == ["s0", "s1", "s2"])
        receiver.stop()
    }

    @Test func aFailingReceiverIsCountedAndTheBatchDropped() async throws {
        let refusing = try TestHTTPServer { _ in .init(status: 503, text: "overloaded") }
        let exporter = OTLPHTTPExporter(
            configuration: .init(endpoint: refusing.baseURL + "/v1/traces", serviceName: "test"), logger: TestEnvironment.logger)
        exporter.enqueue(Self.span("lost"))
        await exporter.flush()
        #expect(exporter.failedExports == 1)
        #expect(exporter.exportedCount == 0 && exporter.queuedCount == 0)
        refusing.stop()
        let closed = OTLPHTTPExporter(
            configuration: .init(endpoint: "http://127.0.0.1:\(try TestHTTPServer.closedPort())/v1/traces", serviceName: "t"),
            logger: TestEnvironment.logger)
        closed.enqueue(Self.span("lost"))
        await closed.flush()
        #expect(closed.failedExports == 1)
    }

    @Test func runSendsWhatArrivesAndDrainsOnShutdown() async throws {
        let receiver = try TraceReceiver()
        var configuration = OTLPHTTPExporter.Configuration(endpoint: receiver.endpoint, serviceName: "test")
        configuration.scheduleDelay = .milliseconds(20)
        let exporter = OTLPHTTPExporter(configuration: configuration, logger: TestEnvironment.logger)
        let running = Task { try await exporter.run() }
        exporter.enqueue(Self.span("first"))
        #expect(await eventually { receiver.spans.count == 1 }, "sent without a flush")
        // A long delay: only the shutdown's drain can send this one.
        exporter.enqueue(Self.span("second"))
        running.cancel()
        try await running.value
        #expect(receiver.spans.map(\.name).sorted() == ["first", "second"],
                "failed \(exporter.failedExports), dropped \(exporter.droppedCount), queued \(exporter.queuedCount)")
        receiver.stop()
    }
}
