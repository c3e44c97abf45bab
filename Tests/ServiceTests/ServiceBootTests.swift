import Foundation
import MusterHTTP
import TestSupport
import Testing

/// Each of the five executables boots through the shared bootstrap, answers
/// `/health/ready` and `/metrics`, and exits cleanly on SIGTERM.
@Suite("Service executables")
struct ServiceBootTests {
    static let services = ["planner", "launcher", "poller", "notifier", "drs-sim"]

    @Test(arguments: services)
    func bootsServesHealthAndMetricsAndStopsOnSIGTERM(_ name: String) async throws {
        let process = try ServiceProcess(name: name)
        let client = HTTPClient(logger: TestEnvironment.logger)
        let base = "http://127.0.0.1:\(process.port)"

        let ready = await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            guard process.isRunning else { return true }
            let response = try? await client.execute(HTTPRequest(url: "\(base)/health/ready", timeout: .seconds(5)))
            return response?.status == 200
        }
        #expect(ready && process.isRunning, "\(name) became ready; log:\n\(process.log)")

        let live = try await client.execute(HTTPRequest(url: "\(base)/health/live"))
        #expect(live.status == 200)
        let metrics = try await client.execute(HTTPRequest(url: "\(base)/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)

        let status = await process.stop()
        #expect(status == 0, "\(name) exits 0 on SIGTERM; log:\n\(process.log)")
        await client.shutdown()
    }

    @Test func aMissingSettingIsNamedAtStartUp() async throws {
        let process = try ServiceProcess(name: "poller", environment: ["MUSTER_DATABASE_URL": ""])
        let exited = await eventually(timeout: .seconds(20)) { !process.isRunning }
        #expect(exited)
        #expect(process.log.contains("MUSTER_DATABASE_URL"), "the error names the setting: \(process.log)")
        #expect(await process.stop() == 1)
    }
}
