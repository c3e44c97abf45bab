import DRSSimApp
import Foundation
import MusterDRS
import Testing

@Suite("drs-sim rate limit and injected faults")
struct FaultAndLimitTests {
    @Test("requests over the per-account rate answer ThrottlingException with Retry-After")
    func throttling() throws {
        var sim = try SimFixture.make(rateLimit: DRSSimRateLimit(requestsPerSecond: 1, burst: 2))
        _ = try sim.job("drsjob-00000000000000000", at: 0)
        _ = try sim.job("drsjob-00000000000000000", at: 0)
        let error = try #require(drsError { () throws(DRSSimError) in try sim.job("drsjob-00000000000000000", at: 0) })
        #expect(error.errorType == "ThrottlingException")
        #expect(error.httpStatus == 429)
        #expect(error.retryAfterSeconds == 1)
        #expect(error.decode(ThrottlingException.self)?.quotaCode != nil)
        let wire = DRSSimResponse(error: error)
        #expect(wire.headers["Retry-After"] == "1")
        #expect(wire.headers["x-amzn-ErrorType"] == "ThrottlingException")
        #expect(sim.counters.throttles == 1)
        // A second later a token is back.
        #expect(drsError { () throws(DRSSimError) in try sim.job("drsjob-00000000000000000", at: 1) } == nil)
    }

    @Test("launchFailure: the server's next launch fails at LAUNCH_START, later ones succeed")
    func launchFailure() throws {
        var sim = try SimFixture.make()
        _ = try sim.addFault(DRSSimFault(type: .launchFailure, sourceServerID: SimFixture.sid(1)), realNow: SimFixture.t0)
        let job = try sim.start([1, 2])
        let done = try #require(try sim.job(job.jobID, at: 1000))
        #expect(done.status == .completed)
        #expect(done.participatingServers?.first { $0.sourceServerID == SimFixture.sid(1) }?.launchStatus == .failed)
        #expect(done.participatingServers?.first { $0.sourceServerID == SimFixture.sid(2) }?.launchStatus == .launched)
        let events = try sim.logEvents(job.jobID, at: 1000)
        #expect(events.contains(.launchFailed))
        #expect(events.filter { $0 == .launchStart }.count == 2)
        #expect(try sim.instances(at: 1000).map(\.sourceServerID) == [SimFixture.sid(2)])
        #expect(sim.activeFaults.isEmpty)

        let again = try sim.start([1], at: 1000)
        #expect(try sim.job(again.jobID, at: 2000)?.participatingServers?.first?.launchStatus == .launched)
    }

    @Test("internalErrors: 500s at the given rate for the given count, then normal answers")
    func internalErrors() throws {
        var sim = try SimFixture.make()
        _ = try sim.addFault(
            DRSSimFault(type: .internalErrors, count: 2, rate: 1, operations: ["DescribeJobs"]), realNow: SimFixture.t0
        )
        for _ in 0..<2 {
            let error = try #require(drsError { () throws(DRSSimError) in try sim.job("drsjob-00000000000000000", at: 0) })
            #expect(error.errorType == "InternalServerException")
            #expect(error.httpStatus == 500)
        }
        #expect(drsError { () throws(DRSSimError) in try sim.start([1]) } == nil)
        #expect(drsError { () throws(DRSSimError) in try sim.job("drsjob-00000000000000000", at: 0) } == nil)
        #expect(sim.counters.injectedInternalErrors == 2)
    }

    @Test("internalErrors at rate 0.5 fails about half the requests, the same ones for the same seed")
    func internalErrorRate() throws {
        func failures(seed: UInt64) throws -> [Bool] {
            var sim = try SimFixture.make(seed: seed)
            _ = try sim.addFault(DRSSimFault(type: .internalErrors, rate: 0.5), realNow: SimFixture.t0)
            return (0..<200).map { _ in drsError { () throws(DRSSimError) in try sim.instances(at: 0) } != nil }
        }
        let first = try failures(seed: 11)
        #expect(first == (try failures(seed: 11)))
        let count = first.filter { $0 }.count
        #expect((70...130).contains(count))
    }

    @Test("latency faults are reported per operation for the HTTP layer to apply")
    func latency() throws {
        var sim = try SimFixture.make()
        _ = try sim.addFault(DRSSimFault(type: .latency, operations: ["StartRecovery"], milliseconds: 250), realNow: SimFixture.t0)
        #expect(sim.injectedLatencyMilliseconds(operation: "StartRecovery", accountID: SimFixture.account, region: SimFixture.region) == 250)
        #expect(sim.injectedLatencyMilliseconds(operation: "DescribeJobs", accountID: SimFixture.account, region: SimFixture.region) == 0)
    }

    @Test("stall: a job holds at conversion (forever, or for the given wall-clock seconds)")
    func stall() throws {
        var sim = try SimFixture.make()
        _ = try sim.addFault(DRSSimFault(type: .stall, sourceServerID: SimFixture.sid(1)), realNow: SimFixture.t0)
        _ = try sim.addFault(DRSSimFault(type: .stall, sourceServerID: SimFixture.sid(2), seconds: 100), realNow: SimFixture.t0)
        let forever = try sim.start([1])
        let delayed = try sim.start([2])
        let normal = try sim.start([3])
        // Simulated time only moves forward, so look in time order.
        #expect(try sim.job(normal.jobID, at: 1000)?.status == .completed)
        #expect(try sim.job(delayed.jobID, at: 1000)?.status == .started)
        #expect(try sim.job(delayed.jobID, at: 1100)?.status == .completed)
        #expect(try sim.job(forever.jobID, at: 100_000)?.status == .pending)
        #expect(try sim.logEvents(forever.jobID, at: 100_000).last == .snapshotEnd)
        // The stalled job still holds its server.
        #expect(drsError { () throws(DRSSimError) in try sim.start([1], at: 100_000) }?.errorType == "ConflictException")
    }

    @Test("foreignJob: a job started outside the client holds servers for N seconds")
    func foreignJob() throws {
        var sim = try SimFixture.make(timeScale: 10)
        let (_, job) = try sim.addFault(
            DRSSimFault(
                type: .foreignJob, accountID: SimFixture.account, region: SimFixture.region,
                sourceServerIDs: [SimFixture.sid(1)], seconds: 3
            ),
            realNow: SimFixture.t0
        )
        let foreign = try #require(job)
        #expect(foreign.tags?["drs-sim:foreign"] == "true")
        #expect(drsError { () throws(DRSSimError) in try sim.start([1], at: 2.5) }?.errorType == "ConflictException")
        #expect(try sim.job(foreign.jobID, at: 3.1)?.status == .completed)
        #expect(drsError { () throws(DRSSimError) in try sim.start([1], at: 3.1) } == nil)
        #expect(sim.counters.foreignJobsStarted == 1)
        #expect(sim.counters.jobsStarted == 1)
    }

    @Test("bad faults are refused with a message saying what is missing")
    func badFaults() throws {
        var sim = try SimFixture.make()
        #expect(throws: DRSSimAdminError.self) { try sim.addFault(DRSSimFault(type: .launchFailure), realNow: SimFixture.t0) }
        #expect(throws: DRSSimAdminError.self) {
            try sim.addFault(DRSSimFault(type: .internalErrors, rate: 2), realNow: SimFixture.t0)
        }
        #expect(throws: DRSSimAdminError.self) {
            try sim.addFault(DRSSimFault(type: .foreignJob, accountID: SimFixture.account), realNow: SimFixture.t0)
        }
    }
}
