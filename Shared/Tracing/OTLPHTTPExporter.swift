import Foundation
import Logging
import Metrics
import MusterHTTP
import ServiceLifecycle
import Synchronization
import Tracing

/// Exports finished spans as OTLP/HTTP JSON (`POST …/v1/traces`,
/// `application/json`, the protobuf-JSON mapping: hex ids, nanosecond
/// strings). Ending a span only appends to a bounded queue under a lock; a
/// full queue drops the span and counts it (`muster_trace_spans_dropped_total`),
/// so tracing never blocks or slows the hot path. One task sends batches:
/// it sleeps until a span arrives (no timer while idle), waits up to
/// `scheduleDelay` for more, then posts. A failed export is counted
/// (`muster_trace_export_failures_total`) and its batch dropped: spans are
/// diagnostics, not data. On graceful shutdown it sends what is queued.
public final class OTLPHTTPExporter: Service, Sendable {
    /// Settings; `TracingConfiguration` reads them from the standard `OTEL_*` variables.
    public struct Configuration: Sendable {
        /// The full traces URL, e.g. `http://collector:4318/v1/traces`.
        public var endpoint: String
        /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`); never logged.
        public var headers: [HTTPHeader] = []
        /// `service.name` of the resource.
        public var serviceName: String
        /// Spans held at most; more are dropped and counted.
        public var maxQueue = 2048
        /// Spans per request at most.
        public var batchSize = 512
        /// How long the first queued span waits for company before a batch leaves.
        public var scheduleDelay: Duration = .seconds(5)
        /// The limit of one export request.
        public var timeout: Duration = .seconds(10)

        /// The endpoint without query or user info, for logs.
        public var redactedEndpoint: String { HTTPClientError.redact(endpoint) }

        /// Creates settings with the defaults of the OpenTelemetry batch span processor.
        public init(endpoint: String, serviceName: String) {
            self.endpoint = endpoint
            self.serviceName = serviceName
        }
    }

    private struct State {
        var queue: [FinishedSpan] = []
        var waiter: CheckedContinuation<Void, Never>?
        var stopped = false
        var dropped = 0
        var exported = 0
        var failures = 0
    }

    /// The settings in use.
    public let configuration: Configuration
    private let client: HTTPClient
    private let logger: Logger
    private let state = Mutex(State())
    private let sending = Mutex<Task<Void, Never>?>(nil)
    private let droppedCounter = Counter(label: "muster_trace_spans_dropped_total")
    private let exportedCounter = Counter(label: "muster_trace_spans_exported_total")
    private let failureCounter = Counter(label: "muster_trace_export_failures_total")

    /// An exporter posting to `configuration.endpoint`.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        client = HTTPClient(logger: logger, maxConnectionsPerHost: 2)
        droppedCounter.increment(by: 0)
        failureCounter.increment(by: 0)
    }

    /// Queues a finished span; never waits. A full queue drops it (counted).
    public func enqueue(_ span: FinishedSpan) {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.stopped, state.queue.count < configuration.maxQueue else {
                state.dropped += 1
                return (false, nil)
            }
            state.queue.append(span)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        if !accepted { droppedCounter.increment() }
        waiter?.resume()
    }

    /// Spans dropped because the queue was full (or the exporter stopped).
    public var droppedCount: Int { state.withLock { $0.dropped } }
    /// Spans the receiver accepted.
    public var exportedCount: Int { state.withLock { $0.exported } }
    /// Export requests that failed (transport error or non-2xx).
    public var failedExports: Int { state.withLock { $0.failures } }
    /// Spans waiting to be sent.
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Sends batches until graceful shutdown or cancellation, then sends what is queued and stops.
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            while !state.withLock({ $0.stopped }) {
                await waitForSpans()
                if state.withLock({ $0.stopped }) { break }
                if queuedCount < configuration.batchSize {
                    try? await Task.sleep(for: configuration.scheduleDelay)
                }
                if state.withLock({ $0.stopped }) { break }
                await flush()
            }
        } onCancelOrGracefulShutdown: {
            let waiter = self.state.withLock { state in
                state.stopped = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        // In a task of its own: this one may be cancelled, and a cancelled task's HTTP calls fail at once.
        await Task { await self.flush() }.value
        await client.shutdown()
    }

    /// Sends everything queued now, a batch at a time (tests; shutdown).
    public func flush() async {
        // A cancelled task's requests fail at once: leave the rest queued for the drain that follows.
        while !Task.isCancelled {
            let batch = state.withLock { state -> [FinishedSpan] in
                let batch = Array(state.queue.prefix(configuration.batchSize))
                state.queue.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            await export(batch)
        }
    }

    private func waitForSpans() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.stopped || !state.queue.isEmpty { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func export(_ batch: [FinishedSpan]) async {
        var request = HTTPRequest(
            method: "POST", url: configuration.endpoint,
            headers: configuration.headers + [HTTPHeader("Content-Type", "application/json")],
            body: OTLPJSON.encode(batch, serviceName: configuration.serviceName), timeout: configuration.timeout)
        request.traced = false  // the exporter's own requests would otherwise make spans to export, forever
        do {
            let response = try await client.execute(request)
            guard (200..<300).contains(response.status) else {
                throw ExportError(reason: "the receiver answered \(response.status)")
            }
            state.withLock { $0.exported += batch.count }
            exportedCounter.increment(by: batch.count)
        } catch {
            let failures = state.withLock { state in
                state.failures += 1
                return state.failures
            }
            failureCounter.increment()
            // The first failure and every hundredth: a missing collector must not flood the logs.
            if failures == 1 || failures % 100 == 0 {
                logger.warning("trace export failed; the batch is dropped", metadata: [
                    "endpoint": "\(configuration.redactedEndpoint)", "spans": "\(batch.count)",
                    "failures": "\(failures)", "error": "\(error)",
                ])
            }
        }
    }

    private struct ExportError: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }
}

/// The OTLP/HTTP JSON body of a batch (opentelemetry-proto's JSON mapping).
public enum OTLPJSON {
    /// One `ExportTraceServiceRequest` holding `spans` of service `serviceName`.
    public static func encode(_ spans: [FinishedSpan], serviceName: String) -> [UInt8] {
        let body: [String: Any] = [
            "resourceSpans": [[
                "resource": ["attributes": [attribute("service.name", .string(serviceName))]],
                "scopeSpans": [[
                    "scope": ["name": "muster"],
                    "spans": spans.map(span),
                ]],
            ]],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())
    }

    private static func span(_ span: FinishedSpan) -> [String: Any] {
        var result: [String: Any] = [
            "traceId": span.position.traceID,
            "spanId": span.position.spanID,
            "name": span.name,
            "kind": kind(span.kind),
            "startTimeUnixNano": String(span.startNanos),
            "endTimeUnixNano": String(span.endNanos),
            "attributes": span.attributes.map { attribute($0.key, $0.value) },
            "events": span.events.map { event in
                ["name": event.name, "timeUnixNano": String(event.nanos),
                 "attributes": event.attributes.map { attribute($0.key, $0.value) }] as [String: Any]
            },
        ]
        if let parent = span.parentSpanID { result["parentSpanId"] = parent }
        if !span.links.isEmpty {
            result["links"] = span.links.map { link in
                var encoded: [String: Any] = ["traceId": link.traceID, "spanId": link.spanID]
                if let state = link.traceState { encoded["traceState"] = state }
                return encoded
            }
        }
        if let state = span.position.traceState { result["traceState"] = state }
        if let status = span.status {
            var encoded: [String: Any] = ["code": status.code == .ok ? 1 : 2]
            if let message = status.message { encoded["message"] = String(message.prefix(500)) }
            result["status"] = encoded
        }
        return result
    }

    private static func kind(_ kind: SpanKind) -> Int {
        switch kind {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }

    private static func attribute(_ key: String, _ value: SpanAttribute) -> [String: Any] {
        ["key": key, "value": anyValue(value)]
    }

    private static func anyValue(_ value: SpanAttribute) -> [String: Any] {
        switch value {
        case .int32(let int): ["intValue": String(int)]
        case .int64(let int): ["intValue": String(int)]
        case .double(let double): ["doubleValue": double]
        case .bool(let bool): ["boolValue": bool]
        case .string(let string): ["stringValue": string]
        case .stringArray(let strings): ["arrayValue": ["values": strings.map { ["stringValue": $0] }]]
        case .int64Array(let ints): ["arrayValue": ["values": ints.map { ["intValue": String($0)] }]]
        case .int32Array(let ints): ["arrayValue": ["values": ints.map { ["intValue": String($0)] }]]
        case .stringConvertible(let convertible): ["stringValue": convertible.description]
        default: ["stringValue": "\(value)"]
        }
    }
}
