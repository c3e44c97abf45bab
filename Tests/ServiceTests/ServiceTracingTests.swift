import Foundation
import MusterHTTP
import TestSupport
import Testing

/// A service process with tracing on exports its server spans to a real
/// OTLP/HTTP JSON receiver, continuing the caller's `traceparent`, with the
/// path's shape only.
@Suite("Service tracing", .serialized)
struct ServiceTracingTests {
    @Test func aServiceContinuesTheCallersTraceAndExportsItsServerSpans() async throws {
        let receiver = try TraceReceiver()
        let token = "ops-admin-token-for-tests-0001"
        let process = try ServiceProcess(name: "poller", environment: [
            "MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT": receiver.server.baseURL, "OTEL_BSP_SCHEDULE_DELAY": "50",
            "MUSTER_OPS_ADMIN_TOKEN": token,
        ])
        let client = HTTPClient(logger: TestEnvironment.logger)
        let base = "http://127.0.0.1:\(process.port)"
        let up = await eventually(every: .milliseconds(200)) {
            guard process.isRunning else { return true }
            return (try? await client.execute(HTTPRequest(url: "\(base)/health/live", timeout: .seconds(5))))?.status == 200
        }
        #expect(up && process.isRunning, "poller is up; log:\n\(process.log)")

        let trace = "4bf92f3577b34da6a3ce929d0e0e4736", parent = "00f067aa0ba902b7"
        // The test's own client must not put its span in front of the caller's header.
        var live = HTTPRequest(url: "\(base)/health/live", headers: [HTTPHeader("traceparent", "00-\(trace)-\(parent)-01")])
        live.traced = false
        #expect(try await client.execute(live).status == 200)
        var replay = HTTPRequest(
            method: "POST", url: "\(base)/admin/dead-letters/987654321/replay",
            headers: [HTTPHeader("traceparent", "00-\(trace)-\(parent)-01"), HTTPHeader("Authorization", "Bearer \(token)")])
        replay.traced = false
        let replayed = try await client.execute(replay)

        #expect(await eventually { receiver.spans.filter { $0.traceID == trace }.count >= 2 }, "log:\n\(process.log)")
        let spans = receiver.spans.filter { $0.traceID == trace }
        let liveSpan = try #require(spans.first { $0.name == "GET /health/live" }, "\(spans.map(\.name))")
        #expect(liveSpan.parentSpanID == parent && liveSpan.kind == 2 && liveSpan.service == "poller")
        #expect(liveSpan.attributes["http.response.status_code"] == "200")
        let replaySpan = try #require(spans.first { $0.name == "POST /admin/dead-letters/{}/replay" }, "\(spans.map(\.name))")
        #expect(replaySpan.attributes["http.response.status_code"] == "\(replayed.status)")
        for span in spans {
            #expect(!span.json.contains(token) && !span.json.contains("987654321"), "\(span.json)")
        }
        #expect(await process.stop() == 0)
        await client.shutdown()
        receiver.stop()
    }
}
