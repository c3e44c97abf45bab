import DRSSimApp
import Foundation
import MusterAWS
import MusterDRS
import MusterHTTP
import Synchronization
import Testing

/// A wall clock tests move by hand.
final class ManualClock: Sendable {
    private let state: Mutex<Date>
    init(_ start: Date) { state = Mutex(start) }
    var now: Date { state.withLock { $0 } }
    func advance(_ seconds: Double) { state.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

@Suite("drs-sim engine: SigV4 authentication, admin API, configuration")
struct EngineAndAdminTests {
    static let body = Array(#"{"maxResults":10}"#.utf8)

    func signed(secret: String = "secret", key: String = "AKIDTEST", at date: Date, region: String = SimFixture.region)
        -> HTTPRequest
    {
        let request = HTTPRequest(
            method: "POST", url: "http://127.0.0.1:8089/DescribeJobs",
            headers: [HTTPHeader("Content-Type", "application/json")], body: Self.body
        )
        return SigV4Signer(service: "drs", region: region)
            .sign(request, credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret), date: date)
    }

    func authenticate(_ engine: DRSSimEngine, _ request: HTTPRequest) async -> Result<EstateKey, DRSSimError> {
        await engine.authenticate(method: "POST", path: "/DescribeJobs", query: "", headers: request.headers, body: request.body)
    }

    @Test("a correctly signed request authenticates as the key's account in the scope's region")
    func validSignature() async throws {
        let clock = ManualClock(SimFixture.t0)
        let engine = try DRSSimEngine(configuration: SimFixture.configuration()) { clock.now }
        let result = await authenticate(engine, signed(at: clock.now))
        #expect(try result.get() == EstateKey(accountID: SimFixture.account, region: SimFixture.region))
    }

    @Test("unknown key, wrong secret, skewed date and no signature get AWS's 403 answers")
    func badSignatures() async throws {
        let clock = ManualClock(SimFixture.t0)
        let engine = try DRSSimEngine(configuration: SimFixture.configuration()) { clock.now }
        func failure(_ result: Result<EstateKey, DRSSimError>) -> DRSSimError? {
            if case .failure(let error) = result { return error }
            return nil
        }
        let unknown = try #require(failure(await authenticate(engine, signed(key: "AKIDNOBODY", at: clock.now))))
        #expect(unknown.errorType == "UnrecognizedClientException")
        #expect(unknown.httpStatus == 403)

        let wrong = try #require(failure(await authenticate(engine, signed(secret: "not-it", at: clock.now))))
        #expect(wrong.errorType == "InvalidSignatureException")
        #expect(wrong.message.contains("does not match"))

        let skewed = try #require(failure(await authenticate(engine, signed(at: clock.now.addingTimeInterval(-900)))))
        #expect(skewed.errorType == "InvalidSignatureException")
        #expect(skewed.message.hasPrefix("Signature expired:"))

        let missing = try #require(failure(
            await engine.authenticate(method: "POST", path: "/DescribeJobs", query: "", headers: [], body: Self.body)
        ))
        #expect(missing.errorType == "MissingAuthenticationTokenException")

        let counters = await engine.withSimulation { sim, _ in sim.counters }
        #expect(counters.authFailures == 4)
    }

    @Test("the engine runs operations on wall-clock time scaled by the time scale")
    func engineClock() async throws {
        let clock = ManualClock(SimFixture.t0)
        let engine = try DRSSimEngine(configuration: SimFixture.configuration(timeScale: 600)) { clock.now }
        let key = EstateKey(accountID: SimFixture.account, region: SimFixture.region)
        let start = await engine.perform(
            operation: "StartRecovery",
            body: Data(#"{"sourceServers":[{"sourceServerID":"\#(SimFixture.sid(1))"}],"isDrill":true}"#.utf8), key: key
        )
        #expect(start.status == 202)
        let jobID = try #require(try JSONDecoder().decode(StartRecoveryResponse.self, from: start.body).job?.jobID)
        clock.advance(2)
        let described = await engine.perform(
            operation: "DescribeJobs", body: Data(#"{"filters":{"jobIDs":["\#(jobID)"]}}"#.utf8), key: key
        )
        let job = try JSONDecoder().decode(DescribeJobsResponse.self, from: described.body).items?.first
        #expect(job?.status == .completed)
    }

    @Test("admin API: faults, time scale, counters, reset; errors say what is wrong")
    func adminAPI() async throws {
        let clock = ManualClock(SimFixture.t0)
        let engine = try DRSSimEngine(configuration: SimFixture.configuration()) { clock.now }
        let admin = AdminAPI(engine: engine, token: "t0ken")

        let denied = await admin.respond(method: "GET", path: "/admin/counters", authorization: nil, body: Data())
        #expect(denied.status == 401)

        func call(_ method: String, _ path: String, _ json: String = "") async -> AdminAPI.Reply {
            await admin.respond(method: method, path: path, authorization: "Bearer t0ken", body: Data(json.utf8))
        }
        let added = await call("POST", "/admin/faults", #"{"type":"launchFailure","sourceServerID":"\#(SimFixture.sid(1))"}"#)
        #expect(added.status == 201)
        let listed = await call("GET", "/admin/faults")
        let faults = try JSONDecoder().decode([ActiveFault].self, from: listed.body)
        #expect(faults.map(\.fault.type) == [.launchFailure])
        #expect(await call("DELETE", "/admin/faults/\(faults[0].id)").status == 200)
        #expect(await call("DELETE", "/admin/faults/fault-99").status == 404)

        let bad = await call("POST", "/admin/faults", #"{"type":"latency"}"#)
        #expect(bad.status == 400)
        #expect(String(decoding: bad.body, as: UTF8.self).contains("milliseconds"))

        #expect(await call("PUT", "/admin/time-scale", #"{"timeScale":600}"#).status == 200)
        #expect(await engine.withSimulation { sim, _ in sim.clock.timeScale } == 600)
        #expect(await call("PUT", "/admin/time-scale", #"{"timeScale":-1}"#).status == 400)

        let seeded = await call(
            "POST", "/admin/seed",
            #"{"accounts":[{"accountID":"222233334444","credentials":[{"accessKeyID":"AKID2","secretAccessKey":"s2"}],"regions":{"eu-west-1":{"generatedServers":{"count":3}}}}]}"#
        )
        #expect(seeded.status == 200)
        let state = try JSONDecoder().decode(DRSSimStatus.self, from: seeded.body)
        #expect(state.estates.contains { $0.accountID == "222233334444" && $0.region == "eu-west-1" && $0.sourceServers == 3 })
        #expect(await engine.withSimulation { sim, _ in sim.credential(forAccessKey: "AKID2")?.accountID } == "222233334444")

        _ = await engine.perform(
            operation: "StartRecovery",
            body: Data(#"{"sourceServers":[{"sourceServerID":"\#(SimFixture.sid(1))"}],"tags":{"muster:launchGroup":"web"}}"#.utf8),
            key: EstateKey(accountID: SimFixture.account, region: SimFixture.region)
        )
        let counters = try JSONDecoder().decode(DRSSimCounters.self, from: (await call("GET", "/admin/counters")).body)
        #expect(counters.jobsByLaunchGroup == ["web": 1])
        #expect(counters.calls["StartRecovery"]?[SimFixture.account] == 1)

        let reset = await call("POST", "/admin/reset")
        #expect(reset.status == 200)
        let afterReset = try JSONDecoder().decode(DRSSimStatus.self, from: reset.body)
        #expect(afterReset.estates.count == 1)
        #expect(afterReset.timeScale == 1)
        #expect(await engine.withSimulation { sim, _ in sim.counters } == DRSSimCounters())
        // A second reset restores the same start-up state (seed estates and keys included).
        let again = try JSONDecoder().decode(DRSSimStatus.self, from: (await call("POST", "/admin/reset")).body)
        #expect(again.estates == afterReset.estates)
        #expect(await engine.withSimulation { sim, _ in sim.credential(forAccessKey: "AKIDTEST")?.accountID } == SimFixture.account)
        #expect(await call("GET", "/admin/nothing").status == 404)
    }

    @Test("configuration from environment and command line; bad values name the variable")
    func configuration() throws {
        let config = try DRSSimConfiguration.load(
            environment: [
                "DRS_SIM_PORT": "9000", "DRS_SIM_TIME_SCALE": "600",
                "DRS_SIM_CREDENTIALS": "AKID1:sec1, AKID2:sec2:222233334444", "DRS_SIM_RANDOM_SEED": "99",
                "DRS_SIM_MAX_CONCURRENT_JOBS": "5", "DRS_SIM_RATE_LIMIT": "3",
            ],
            arguments: ["--port", "9100", "--time-scale=60"]
        )
        #expect(config.port == 9100)
        #expect(config.timeScale == 60)
        #expect(config.seed == 99)
        #expect(config.quotas.maxConcurrentJobs == 5)
        #expect(config.rateLimit.requestsPerSecond == 3)
        #expect(config.credentials["AKID1"]?.accountID == "123456789012")
        #expect(config.credentials["AKID2"]?.accountID == "222233334444")
        #expect(!"\(config.credentials)".contains("sec1"))

        #expect(throws: DRSSimConfigurationError.self) { try DRSSimConfiguration(environment: ["DRS_SIM_PORT": "http"]) }
        #expect(throws: DRSSimConfigurationError.self) { try DRSSimConfiguration(environment: ["DRS_SIM_CREDENTIALS": "AKIDONLY"]) }
        #expect(throws: DRSSimConfigurationError.self) { try DRSSimConfiguration(environment: ["DRS_SIM_SEED_FILE": "/nonexistent.json"]) }
        do {
            _ = try DRSSimConfiguration(environment: ["DRS_SIM_CREDENTIALS": "AKIDX:topsecret:12"])
            Issue.record("expected a bad account to be refused")
        } catch {
            #expect(error.message.contains("AKIDX"))
            #expect(!error.message.contains("topsecret"))
        }
    }

    @Test("the seed file format in the README decodes")
    func seedFile() throws {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services/DRSSim/seed.example.json")
        let document = try DRSSimConfiguration.loadSeed(path: url.path)
        #expect(!document.accounts.isEmpty)
        _ = try DRSSimulation(configuration: DRSSimConfiguration(seedDocument: document), realStart: SimFixture.t0)
    }
}
