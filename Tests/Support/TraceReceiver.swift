import Foundation

/// A span as an OTLP/HTTP JSON receiver saw it.
public struct ReceivedSpan: Sendable {
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String?
    public var name: String
    public var kind: Int
    public var start: UInt64
    public var service: String
    /// The span's attributes and events re-serialised, for "no secret anywhere" checks.
    public var json: String
    public var attributes: [String: String]
    /// The span's links, each `<traceId>-<spanId>`.
    public var links: [String] = []
}

/// A real OTLP/HTTP JSON receiver: `POST /v1/traces` with `application/json`,
/// parsed per the protobuf-JSON mapping; anything else is answered 400.
public final class TraceReceiver: Sendable {
    /// The HTTP server (its `baseURL` is an OTLP base endpoint).
    public let server: TestHTTPServer
    private let received = Locked<[ReceivedSpan]>([])
    private let posts = Locked(0)

    /// Starts listening on a free loopback port.
    public init() throws {
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

    /// The traces URL.
    public var endpoint: String { server.baseURL + "/v1/traces" }
    /// Every span received so far.
    public var spans: [ReceivedSpan] { received.value }
    /// Export requests accepted.
    public var requests: Int { posts.value }
    /// Stops the server.
    public func stop() { server.stop() }

    /// The spans of one export body, or nil when it is not OTLP/HTTP JSON.
    public static func parse(_ body: [UInt8]) -> [ReceivedSpan]? {
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
                        start: start, service: service, json: json, attributes: attributes,
                        links: (span["links"] as? [[String: Any]] ?? []).map {
                            "\($0["traceId"] as? String ?? "")-\($0["spanId"] as? String ?? "")"
                        }))
                }
            }
        }
        return result
    }
}
