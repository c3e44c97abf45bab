import Tracing

/// A trace position kept in a row (`traceparent`, `tracestate` columns) so
/// work a service does later, in its own loop, continues the trace of the
/// request or event that created the row: a launch chunk, an SSM step, a
/// tracked job, a webhook delivery (docs/observability.md "How the context
/// travels"). Nil everywhere while tracing is off: the no-op instrument
/// writes no `traceparent`, so nothing is stored and no span is started.
public struct StoredTrace: Sendable, Hashable {
    /// The W3C `traceparent` of the span the row was written in.
    public var traceparent: String
    /// Its `tracestate`, if any.
    public var tracestate: String?

    /// A stored position; nil when there is none (a row written outside any trace).
    public init?(traceparent: String?, tracestate: String?) {
        guard let traceparent, !traceparent.isEmpty else { return nil }
        self.traceparent = traceparent
        self.tracestate = tracestate
    }

    /// The calling task's current span, as the installed instrument writes it
    /// (nil outside a span, and always nil while tracing is off).
    public static var current: StoredTrace? {
        Outbox.currentTraceContext().flatMap { StoredTrace(traceparent: $0.traceparent, tracestate: $0.tracestate) }
    }

    /// The trace id part of `traceparent` (what links are told apart by).
    var traceID: Substring {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count > 1 ? parts[1] : Substring(traceparent)
    }

    /// The position as the parent of a new span.
    public var context: ServiceContext {
        var context = ServiceContext.topLevel
        var carrier = ["traceparent": traceparent]
        carrier["tracestate"] = tracestate
        InstrumentationSystem.instrument.extract(carrier, into: &context, using: DictionaryTraceCarrier())
        return context
    }

    /// Runs `body` inside a span `name` that continues `parent` (the row's
    /// stored position), with a link to each of `links` (other traces the
    /// same work serves, e.g. the jobs of one DescribeJobs); rows the body
    /// writes to the outbox and HTTP calls it makes become its children, and
    /// its log lines carry the trace id. Without a parent or links, `body`
    /// just runs (no span: the work belongs to no trace, as before).
    public static func withSpan<T>(
        _ name: String, parent: StoredTrace?, links: [StoredTrace] = [], ofKind kind: SpanKind = .internal,
        attributes: [String: String] = [:], isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async rethrows -> T {
        guard parent != nil || !links.isEmpty else { return try await body() }
        // One link per other trace (jobs of the parent's own drill need none).
        var seen: Set<Substring> = parent.map { [$0.traceID] } ?? []
        let others = links.filter { seen.insert($0.traceID).inserted }.prefix(128)
        return try await Tracing.withSpan(name, context: parent?.context ?? .topLevel, ofKind: kind) { span in
            span.updateAttributes { spanAttributes in
                for (key, value) in attributes { spanAttributes.set(key, value: .string(value)) }
            }
            for link in others { span.addLink(SpanLink(context: link.context, attributes: [:])) }
            return try await body()  // an error is recorded on the span by `withSpan`
        }
    }
}
