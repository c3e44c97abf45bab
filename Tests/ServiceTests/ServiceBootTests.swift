import Foundation
import MusterHTTP
import TestSupport
import Testing

/// Each of the five executables boots through the shared bootstrap (every
/// service inside one `ServiceGroup`, which ends the process when any
/// service returns), answers `/health/ready` and `/metrics`, keeps running,
/// and exits cleanly on SIGTERM.
@Suite("Service executables", .serialized)  // concurrent boots race for free ports
struct ServiceBootTests {
    static let services = ["planner", "launcher", "poller", "notifier", "drs-sim"]

    @Test(arguments: services)
    func bootsServesHealthAndMetricsAndStopsOnSIGTERM(_ name: String) async throws {
        // Inventory disabled: once a returning Inventory service stopped the whole launcher.
        let process = try ServiceProcess(
            name: name, environment: name == "launcher" ? ["MUSTER_LAUNCHER_INVENTORY_INTERVAL": "0"] : [:])
        let client = HTTPClient(logger: TestEnvironment.logger)
        let base = "http://127.0.0.1:\(process.port)"

        let ready = await eventually(every: .milliseconds(200)) {
            guard process.isRunning else { return true }
            let response = try? await client.execute(HTTPRequest(url: "\(base)/health/ready", timeout: .seconds(5)))
            return response?.status == 200
        }
        #expect(ready && process.isRunning, "\(name) became ready; log:\n\(process.log)")

        // The launcher's default thread cache (0, not glibc's 7) is a glibc tunable: the process
        // started itself again with it, under the same process id; the others run as started.
        let started = process.startEnvironment
        if name == "launcher" {
            #expect(started["GLIBC_TUNABLES"]?.hasSuffix("glibc.malloc.tcache_count=0") == true)
            #expect(started["MUSTER_MALLOC_REEXECUTED"] == "1")
        } else {
            #expect(started["MUSTER_MALLOC_REEXECUTED"] == nil)
        }

        let live = try await client.execute(HTTPRequest(url: "\(base)/health/live"))
        #expect(live.status == 200)
        let metrics = try await client.execute(HTTPRequest(url: "\(base)/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
        // No service of the group returned early.
        try await Task.sleep(for: .seconds(2))
        #expect(process.isRunning, "\(name) still runs after start-up; log:\n\(process.log)")

        let stopping = ContinuousClock.now
        let status = await process.stop()
        let took = ContinuousClock.now - stopping
        print("[figure] \(name) exited \(took) after SIGTERM")
        #expect(status == 0, "\(name) exits 0 on SIGTERM; log:\n\(process.log)")
        #expect(took < .seconds(4), "\(name) exits promptly on SIGTERM (goal 2 s, slack for a loaded machine): \(took); log:\n\(process.log)")
        await client.shutdown()
    }

    @Test(arguments: ["planner", "launcher", "poller", "notifier"])
    func deadLetterEndpointsNeedTheOpsAdminToken(_ name: String) async throws {
        let token = "ops-admin-token-for-tests-0001"
        let process = try ServiceProcess(name: name, environment: ["MUSTER_OPS_ADMIN_TOKEN": token])
        let client = HTTPClient(logger: TestEnvironment.logger)
        let url = "http://127.0.0.1:\(process.port)/admin/dead-letters"
        let up = await eventually(every: .milliseconds(200)) {
            guard process.isRunning else { return true }
            return (try? await client.execute(HTTPRequest(url: url, timeout: .seconds(5))))?.status == 401
        }
        #expect(up && process.isRunning, "\(name) refuses a request without the token; log:\n\(process.log)")
        let wrong = try await client.execute(HTTPRequest(url: url, headers: [.init(name: "Authorization", value: "Bearer nope")]))
        #expect(wrong.status == 401)
        let listed = try await client.execute(HTTPRequest(url: url, headers: [.init(name: "Authorization", value: "Bearer \(token)")]))
        #expect(listed.status == 200)
        #expect(String(decoding: listed.body, as: UTF8.self).contains(#""items":[]"#))
        let bad = try await client.execute(HTTPRequest(
            url: url + "?status=weird", headers: [.init(name: "Authorization", value: "Bearer \(token)")]))
        #expect(bad.status == 422)
        #expect(!process.log.contains(token), "the token is never logged")
        #expect(await process.stop() == 0)
        await client.shutdown()
    }

    @Test func aMissingSettingIsNamedAtStartUp() async throws {
        let process = try ServiceProcess(name: "poller", environment: ["MUSTER_DATABASE_URL": ""])
        let exited = await eventually { !process.isRunning }
        #expect(exited)
        // The pipe's reader may still hold the last lines when the process has just exited.
        #expect(await eventually { process.log.contains("MUSTER_DATABASE_URL") },
                "the error names the setting: \(process.log)")
        #expect(await process.stop() == 1)
    }
}
