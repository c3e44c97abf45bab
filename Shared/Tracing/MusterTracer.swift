import Instrumentation
import Synchronization
import Tracing

/// What a finished span hands its exporter: everything OTLP needs, nothing live.
public struct FinishedSpan: Sendable {
    /// The span's own position (trace id, span id, flags).
    public var position: TraceParent
    /// The parent span's id within the same trace, if any.
    public var parentSpanID: String?
    /// The operation name.
    public var name: String
    /// Server, client, producer, consumer or internal.
    public var kind: SpanKind
    /// Start and end, nanoseconds since the Unix epoch.
    public var startNanos: UInt64
    /// End, nanoseconds since the Unix epoch.
    public var endNanos: UInt64
    /// Attributes (secret-named keys were refused when set).
    public var attributes: [(key: String, value: SpanAttribute)]
    /// Events (errors recorded become `exception` events).
    public var events: [(name: String, nanos: UInt64, attributes: [(key: String, value: SpanAttribute)])]
    /// The status, if one was set.
    public var status: SpanStatus?
    /// Spans of other traces this one serves (e.g. one DescribeJobs for the jobs of several drills).
    public var links: [TraceParent] = []
}

/// Muster's tracer: W3C Trace Context propagation (`traceparent`,
/// `tracestate`) and spans handed, when they end, to an exporter that never
/// blocks the caller (``OTLPHTTPExporter``). Sampling follows the parent: a
/// trace sampled upstream is recorded, one that is not is only propagated;
/// a new trace is always sampled (tracing is off unless an endpoint is set).
public struct MusterTracer: Tracer {
    public typealias Span = MusterSpan

    private let exporter: OTLPHTTPExporter

    /// A tracer exporting through `exporter`.
    public init(exporter: OTLPHTTPExporter) {
        self.exporter = exporter
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> MusterSpan {
        var context = context()
        let parent = context.traceParent
        let position = TraceParent(
            traceID: parent?.traceID ?? TraceIDs.trace(), spanID: TraceIDs.span(), flags: parent?.flags ?? 1,
            traceState: parent?.traceState)
        context.traceParent = position
        return MusterSpan(
            name: operationName, context: context, position: position, parentSpanID: parent?.spanID, kind: kind,
            startNanos: instant().nanosecondsSinceEpoch, exporter: position.isSampled ? exporter : nil)
    }

    public func forceFlush() {
        let exporter = self.exporter
        Task { await exporter.flush() }
    }

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier),
              let position = TraceParent(header: header, traceState: extractor.extract(key: "tracestate", from: carrier))
        else { return }
        context.traceParent = position
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let position = context.traceParent else { return }
        injector.inject(position.header, forKey: "traceparent", into: &carrier)
        if let state = position.traceState { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }
}

/// A span of ``MusterTracer``. Attributes whose key names a secret (token,
/// secret, password, authorization, credential) are refused, the same rule
/// as the JSON logs'.
public final class MusterSpan: Tracing.Span {
    public let context: InstrumentationContext
    private let position: TraceParent
    private let parentSpanID: String?
    private let kind: SpanKind
    private let startNanos: UInt64
    private let exporter: OTLPHTTPExporter?
    private let state: Mutex<State>

    private struct State {
        var name: String
        var attributes = SpanAttributes()
        var events: [(name: String, nanos: UInt64, attributes: [(key: String, value: SpanAttribute)])] = []
        var status: SpanStatus?
        var links: [TraceParent] = []
        var ended = false
    }

    init(name: String, context: InstrumentationContext, position: TraceParent, parentSpanID: String?, kind: SpanKind,
         startNanos: UInt64, exporter: OTLPHTTPExporter?) {
        self.context = context
        self.position = position
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanos = startNanos
        self.exporter = exporter
        state = Mutex(State(name: name))
    }

    public var isRecording: Bool { exporter != nil && !state.withLock { $0.ended } }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { if !$0.ended { $0.name = newValue } } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set {
            guard exporter != nil else { return }
            var allowed = SpanAttributes()
            newValue.forEach { key, value in if !SpanSecrets.isSecret(key) { allowed.set(key, value: value) } }
            state.withLock { if !$0.ended { $0.attributes = allowed } }
        }
    }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { if !$0.ended { $0.status = status } }
    }

    public func addEvent(_ event: SpanEvent) {
        guard exporter != nil else { return }
        let attributes = SpanSecrets.pairs(event.attributes)
        state.withLock {
            if !$0.ended { $0.events.append((event.name, event.nanosecondsSinceEpoch, attributes)) }
        }
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        guard exporter != nil else { return }
        // The type and a bounded description: Muster's errors never carry secrets (STYLE), and this caps the size.
        var pairs = SpanSecrets.pairs(attributes)
        pairs.append(("exception.type", .string(String(describing: type(of: error)))))
        pairs.append(("exception.message", .string(String("\(error)".prefix(500)))))
        let nanos = instant().nanosecondsSinceEpoch
        state.withLock { if !$0.ended { $0.events.append(("exception", nanos, pairs)) } }
    }

    public func addLink(_ link: SpanLink) {
        guard exporter != nil, let linked = link.context.traceParent else { return }
        state.withLock { if !$0.ended { $0.links.append(linked) } }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let finished, let exporter else { return }
        exporter.enqueue(FinishedSpan(
            position: position, parentSpanID: parentSpanID, name: finished.name, kind: kind, startNanos: startNanos,
            endNanos: max(startNanos, instant().nanosecondsSinceEpoch), attributes: SpanSecrets.pairs(finished.attributes),
            events: finished.events, status: finished.status, links: finished.links))
    }
}

/// The secret rule of span attributes (the JSON logs' rule).
enum SpanSecrets {
    static func isSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        return ["secret", "token", "password", "authorization", "credential"].contains { lower.contains($0) }
    }

    static func pairs(_ attributes: SpanAttributes) -> [(key: String, value: SpanAttribute)] {
        var pairs: [(key: String, value: SpanAttribute)] = []
        attributes.forEach { key, value in if !isSecret(key) { pairs.append((key, value)) } }
        return pairs.sorted { $0.key < $1.key }
    }
}
