import Foundation
import Hummingbird
import Metrics
import Prometheus

/// A named readiness probe: true when the dependency answers.
public struct ReadinessCheck: Sendable {
    /// Shown in the `/health/ready` body.
    public var name: String
    /// Runs the probe; must return within a second or two.
    public var probe: @Sendable () async -> Bool

    /// Creates a check.
    public init(name: String, probe: @escaping @Sendable () async -> Bool) {
        self.name = name
        self.probe = probe
    }
}

/// The operational endpoints every Muster process serves (DESIGN §10):
/// `/health/live` (the process runs), `/health/ready` (every dependency
/// answers; 503 naming the failing ones otherwise) and `/metrics`
/// (Prometheus text format). Each evaluation of `/health/ready` also sets
/// `muster_ready{check}` (1 passing, 0 failing), so an alert sees a service
/// that an orchestrator keeps out of rotation.
public enum OpsRoutes {
    /// Adds the three endpoints to `router`.
    public static func add<Context: RequestContext>(
        to router: Router<Context>, registry: PrometheusCollectorRegistry, checks: [ReadinessCheck]
    ) {
        router.get("/health/live") { _, _ in
            jsonResponse(.ok, ["status": "live"])
        }
        router.get("/health/ready") { _, _ in
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for check in checks { group.addTask { (check.name, await check.probe()) } }
                var results: [String: Bool] = [:]
                for await (name, ok) in group { results[name] = ok }
                return results
            }
            for (name, ok) in results { Gauge(label: "muster_ready", dimensions: [("check", name)]).record(ok ? 1 : 0) }
            let ready = results.values.allSatisfy { $0 }
            let body: [String: Any] = [
                "status": ready ? "ready" : "not ready",
                "checks": results.mapValues { $0 ? "ok" : "failing" },
            ]
            return jsonResponse(ready ? .ok : .serviceUnavailable, body)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        // JSONLine, not JSONSerialization: a readiness probe must not load ICU's collation (docs/launcher.md "Memory").
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: JSONLine(any: object).bytes)))
    }
}
