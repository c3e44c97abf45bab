import Hummingbird
import Tracing

/// Wraps a service's router so each request is a server span (continuing a
/// `traceparent` the caller sent). The span is named by method and path
/// *shape*: literal segments are kept and every other one (ids, one-time
/// callback tokens) becomes `{}`, so no identifier or secret of the URL
/// reaches a span; query strings and headers are never recorded.
struct TracedResponder<Context: RequestContext>: HTTPResponder {
    let next: RouterResponder<Context>

    @Sendable func respond(to request: Request, context: Context) async throws -> Response {
        var parent = InstrumentationContext.topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPFieldsTraceExtractor())
        let method = request.method.rawValue
        let route = RouteShape.of(request.uri.path)
        return try await withSpan("\(method) \(route)", context: parent, ofKind: .server) { span in
            span.updateAttributes { attributes in
                attributes.set("http.request.method", value: .string(method))
                attributes.set("http.route", value: .string(route))
            }
            do {
                let response = try await next.respond(to: request, context: context)
                span.updateAttributes { $0.set("http.response.status_code", value: .int64(Int64(response.status.code))) }
                if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
                return response
            } catch let error as any HTTPResponseError {
                span.updateAttributes { $0.set("http.response.status_code", value: .int64(Int64(error.status.code))) }
                throw error
            }
        }
    }
}

/// Reads `traceparent`/`tracestate` from request headers.
struct HTTPFieldsTraceExtractor: Extractor {
    func extract(key: String, from fields: HTTPFields) -> String? {
        fields.first { $0.name.canonicalName == key }?.value
    }
}

/// The shape of a request path, safe to record.
enum RouteShape {
    /// `/v1/executions/7f0…/waves` → `/v1/executions/{}/waves`: a segment is
    /// kept only when it is 1–24 lowercase letters, digits after the first
    /// letter, `-` or `_` and holds at most two digits (route literals such
    /// as `v1`, `dead-letters`); anything else is replaced.
    static func of(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard !segment.isEmpty else { return "" }
            let literal = segment.count <= 24 && segment.first!.isLowercase && segment.first!.isASCII
                && segment.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
                && segment.filter(\.isNumber).count <= 2
            return literal ? String(segment) : "{}"
        }
        let shape = segments.joined(separator: "/")
        return shape.isEmpty ? "/" : shape
    }
}
