import Foundation
import MusterEvents
import MusterHTTP
import MusterTracing
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
        let request = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let resourceSpans = try #require(request["resourceSpans"] as? [[String: Any]])
        let resource = try #require(resourceSpans.first?["resource"] as? [String: Any])
        let resourceAttributes = try #require(resource["attributes"] as? [[String: Any]])
        #expect(resourceAttributes.first?["key"] as? String == "service.name")
        #expect((resourceAttributes.first?["value"] as? [String: Any])?["stringValue"] as? String == "launcher")
        let scopeSpans = try #require(resourceSpans.first?["scopeSpans"] as? [[String: Any]])
        let encoded = try #require((scopeSpans.first?["spans"] as? [[String: Any]])?.first)
        #expect(encoded["traceId"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(encoded["spanId"] as? String == "00f067aa0ba902b7")
        #expect(encoded["parentSpanId"] as? String == "1111111111111111")
        #expect(encoded["traceState"] as? String == "a=b")
        #expect(encoded["kind"] as? Int == 5)
        #expect(encoded["startTimeUnixNano"] as? String == "1790000000000000001")
        #expect(encoded["endTimeUnixNano"] as? String == "1790000000500000000")
        let status = try #require(encoded["status"] as? [String: Any])
        #expect(status["code"] as? Int == 2)
        #expect(status["message"] as? String == "parked")
        let attributes = try #require(encoded["attributes"] as? [[String: Any]])
        let offset = try #require(attributes.first { $0["key"] as? String == "messaging.kafka.offset" })
        #expect((offset["value"] as? [String: Any])?["intValue"] as? String == "42")
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
        #expect(receiver.spans.map(\.name).sorted() == ["first", "second"])
        receiver.stop()
    }
}

/// A span as an OTLP/HTTP JSON receiver saw it.
struct ReceivedSpan: Sendable {
    var traceID: String
    var spanID: String
    var parentSpanID: String?
    var name: String
    var kind: Int
    var start: UInt64
    var service: String
    /// The span's attributes and events re-serialised, for "no secret anywhere" checks.
    var json: String
    var attributes: [String: String]
}

/// A real OTLP/HTTP JSON receiver: `POST /v1/traces` with `application/json`,
/// parsed per the protobuf-JSON mapping; anything else is answered 400.
final class TraceReceiver: Sendable {
    let server: TestHTTPServer
    private let received = Locked<[ReceivedSpan]>([])
    private let posts = Locked(0)

    init() throws {
        let received = self.received, posts = self.posts
        server = try TestHTTPServer { request in
            guard request.method == "POST", request.path == "/v1/traces",
                  request.header("content-type") == "application/json",
                  let spans = TraceReceiver.parse(request.body)
            else { return .init(status: 400, text: #"{"error":"not an OTLP/HTTP JSON export"}"#) }
            posts.withLock { $0 += 1 }
            received.withLock { $0.append(contentsOf: spans) }
            return .init(status: 200, headers: [.init("Content-Type", "application/json")], text: "{}")
        }
    }

    var endpoint: String { server.baseURL + "/v1/traces" }
    var spans: [ReceivedSpan] { received.value }
    var requests: Int { posts.value }
    func stop() { server.stop() }

    static func parse(_ body: [UInt8]) -> [ReceivedSpan]? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let resourceSpans = root["resourceSpans"] as? [[String: Any]]
        else { return nil }
        var result: [ReceivedSpan] = []
        for resourceSpan in resourceSpans {
            let resourceAttributes = (resourceSpan["resource"] as? [String: Any])?["attributes"] as? [[String: Any]] ?? []
            let service = resourceAttributes.first { $0["key"] as? String == "service.name" }
                .flatMap { ($0["value"] as? [String: Any])?["stringValue"] as? String } ?? ""
            for scope in resourceSpan["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    guard let trace = span["traceId"] as? String, trace.count == 32,
                          let id = span["spanId"] as? String, id.count == 16, let name = span["name"] as? String,
                          let kind = span["kind"] as? Int, let start = (span["startTimeUnixNano"] as? String).flatMap(UInt64.init)
                    else { return nil }
                    var attributes: [String: String] = [:]
                    for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                        guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else { continue }
                        attributes[key] = (value["stringValue"] as? String) ?? (value["intValue"] as? String) ?? "\(value)"
                    }
                    let json = (try? JSONSerialization.data(withJSONObject: [span["attributes"] ?? [], span["events"] ?? []]))
                        .map { String(decoding: $0, as: UTF8.self) } ?? ""
                    result.append(ReceivedSpan(
                        traceID: trace, spanID: id, parentSpanID: span["parentSpanId"] as? String, name: name, kind: kind,
                        start: start, service: service, json: json, attributes: attributes))
                }
            }
        }
        return result
    }
}
