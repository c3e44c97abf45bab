import Foundation
import MusterHTTP
import TestSupport
import Testing

/// Each of the five executables boots through the shared bootstrap (every
/// service inside one `ServiceGroup`, which ends the process when any
/// service returns), answers `/health/ready` and `/metrics`, keeps running,
/// and exits cleanly on SIGTERM.
@Suite("Service executables")
struct ServiceBootTests {
    static let services = ["planner", "launcher", "poller", "notifier", "drs-sim"]

    @Test(arguments: services)
    func bootsServesHealthAndMetricsAndStopsOnSIGTERM(_ name: String) async throws {
        // Inventory disabled: once a returning Inventory service stopped the whole launcher.
        let process = try ServiceProcess(
            name: name, environment: name == "launcher" ? ["MUSTER_LAUNCHER_INVENTORY_INTERVAL": "0"] : [:])
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
        // No service of the group returned early.
        try await Task.sleep(for: .seconds(2))
        #expect(process.isRunning, "\(name) still runs after start-up; log:\n\(process.log)")

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
