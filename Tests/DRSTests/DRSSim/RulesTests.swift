import DRSSimApp
import Foundation
import MusterDRS
import Testing

@Suite("drs-sim rules: conflicts, quotas, validation, not found")
struct RulesTests {
    @Test("one active job per source server: ConflictException naming the server, until the job completes")
    func conflict() throws {
        var sim = try SimFixture.make()
        let job = try sim.start([1, 2])
        let error = try #require(drsError { () throws(DRSSimError) in try sim.start([3, 2], at: 5) })
        #expect(error.errorType == "ConflictException")
        #expect(error.httpStatus == 409)
        let shape = try #require(error.decode(ConflictException.self))
        #expect(shape.resourceId == SimFixture.sid(2))
        #expect(shape.resourceType == "SOURCE_SERVER")
        #expect(shape.message?.contains(job.jobID) == true)
        #expect(sim.counters.conflicts == 1)
        #expect(sim.counters.errors["StartRecovery"]?["ConflictException"] == 1)
        // Server 3 was not started by the refused request.
        #expect(try sim.start([3], at: 6).status == .pending)
        // After the first job completes, server 2 is free again.
        #expect(try sim.start([2], at: 1000).status == .pending)
    }

    @Test("concurrent jobs quota: ServiceQuotaExceededException with a quota code")
    func concurrentJobs() throws {
        var sim = try SimFixture.make(quotas: DRSSimQuotas(maxConcurrentJobs: 2))
        _ = try sim.start([1])
        _ = try sim.start([2])
        let error = try #require(drsError { () throws(DRSSimError) in try sim.start([3]) })
        #expect(error.errorType == "ServiceQuotaExceededException")
        #expect(error.httpStatus == 402)
        let shape = try #require(error.decode(ServiceQuotaExceededException.self))
        #expect(shape.quotaCode == "drs-sim-max-concurrent-jobs")
        #expect(shape.serviceCode == "drs")
        #expect(sim.counters.maxConcurrentJobs == 2)
        #expect(try sim.start([3], at: 1000).status == .pending)
    }

    @Test("servers in all active jobs and servers per job quotas")
    func serverQuotas() throws {
        var sim = try SimFixture.make(quotas: DRSSimQuotas(maxServersInActiveJobs: 3, maxServersPerJob: 2))
        let perJob = try #require(drsError { () throws(DRSSimError) in try sim.start([1, 2, 3]) })
        #expect(perJob.decode(ServiceQuotaExceededException.self)?.quotaCode == "drs-sim-max-servers-per-job")
        _ = try sim.start([1, 2])
        let total = try #require(drsError { () throws(DRSSimError) in try sim.start([3, 4]) })
        #expect(total.decode(ServiceQuotaExceededException.self)?.quotaCode == "drs-sim-max-servers-in-active-jobs")
        #expect(try sim.start([3]).status == .pending)
        #expect(sim.counters.quotaExceeded == 2)
    }

    @Test("StartRecovery takes 1–200 well-formed, distinct server ids")
    func startRecoveryValidation() throws {
        var sim = try SimFixture.make()
        let empty = try #require(drsError { () throws(DRSSimError) in try sim.start([]) })
        #expect(empty.errorType == "ValidationException")
        #expect(empty.decode(ValidationException.self)?.fieldList?.first?.name == "sourceServers")
        let tooMany = try #require(drsError { () throws(DRSSimError) in try sim.start(Array(1...201)) })
        #expect(tooMany.errorType == "ValidationException")
        let duplicate = try #require(drsError { () throws(DRSSimError) in try sim.start([1, 1]) })
        #expect(duplicate.errorType == "ValidationException")
        let badID = try #require(drsError { () throws(DRSSimError) in
            try sim.startRecovery(
                StartRecoveryRequest(sourceServers: [StartRecoveryRequestSourceServer(sourceServerID: "s-!!!!!!!!!!!!!!!!!")]),
                accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.t0
            )
        })
        let shape = try #require(badID.decode(ValidationException.self))
        #expect(shape.reason == .fieldValidationFailed)
        #expect(shape.fieldList?.first?.name == "sourceServers[0].sourceServerID")
        #expect(sim.counters.validationErrors == 4)
    }

    @Test("malformed JSON and missing required fields answer ValidationException over the wire path")
    func wireValidation() throws {
        var sim = try SimFixture.make()
        let missing = sim.perform(
            operation: "StartRecovery", body: Data("{}".utf8), accountID: SimFixture.account, region: SimFixture.region,
            realNow: SimFixture.t0
        )
        #expect(missing.status == 400)
        #expect(missing.headers["x-amzn-ErrorType"] == "ValidationException")
        let missingShape = try JSONDecoder().decode(ValidationException.self, from: missing.body)
        #expect(missingShape.fieldList?.first?.name == "sourceServers")

        let garbage = sim.perform(
            operation: "DescribeJobs", body: Data("{not json".utf8), accountID: SimFixture.account,
            region: SimFixture.region, realNow: SimFixture.t0
        )
        #expect(try JSONDecoder().decode(ValidationException.self, from: garbage.body).reason == .cannotParse)

        let unknown = sim.perform(
            operation: "StartDrill", body: Data("{}".utf8), accountID: SimFixture.account, region: SimFixture.region,
            realNow: SimFixture.t0
        )
        #expect(try JSONDecoder().decode(ValidationException.self, from: unknown.body).reason == .unknownOperation)

        let ok = sim.perform(
            operation: "StartRecovery",
            body: Data(#"{"sourceServers":[{"sourceServerID":"\#(SimFixture.sid(1))"}],"isDrill":true}"#.utf8),
            accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.t0
        )
        #expect(ok.status == 202)
        #expect(try JSONDecoder().decode(StartRecoveryResponse.self, from: ok.body).job?.status == .pending)
        #expect(sim.counters.calls("StartRecovery") == 2)
        #expect(sim.counters.calls("DescribeJobs") == 1)
    }

    @Test("unknown ids answer ResourceNotFoundException; unseeded regions UninitializedAccountException")
    func notFound() throws {
        var sim = try SimFixture.make()
        let server = try #require(drsError { () throws(DRSSimError) in try sim.start([99]) })
        #expect(server.errorType == "ResourceNotFoundException")
        #expect(server.decode(ResourceNotFoundException.self)?.resourceId == SimFixture.sid(99))

        let job = try #require(drsError { () throws(DRSSimError) in try sim.logEvents("drsjob-00000000000000000", at: 0) })
        #expect(job.errorType == "ResourceNotFoundException")

        let config = try #require(drsError { () throws(DRSSimError) in
            try sim.getLaunchConfiguration(
                GetLaunchConfigurationRequest(sourceServerID: SimFixture.sid(42)), accountID: SimFixture.account,
                region: SimFixture.region, realNow: SimFixture.t0
            )
        })
        #expect(config.httpStatus == 404)

        let region = try #require(drsError { () throws(DRSSimError) in
            try sim.describeJobs(DescribeJobsRequest(), accountID: SimFixture.account, region: "eu-west-1", realNow: SimFixture.t0)
        })
        #expect(region.errorType == "UninitializedAccountException")
        #expect(region.httpStatus == 400)
    }

    @Test("launch configuration: get, update, invalid values, conflict while in a job")
    func launchConfiguration() throws {
        var sim = try SimFixture.make()
        let id = SimFixture.sid(1)
        let initial = try sim.getLaunchConfiguration(
            GetLaunchConfigurationRequest(sourceServerID: id), accountID: SimFixture.account, region: SimFixture.region,
            realNow: SimFixture.t0
        )
        #expect(initial.sourceServerID == id)
        #expect(initial.launchDisposition == .started)
        #expect(initial.copyTags == true)

        let updated = try sim.updateLaunchConfiguration(
            UpdateLaunchConfigurationRequest(sourceServerID: id, launchDisposition: .stopped, copyPrivateIp: true),
            accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.t0
        )
        #expect(updated.launchDisposition == .stopped)
        #expect(updated.copyPrivateIp == true)
        #expect(updated.copyTags == true)
        let reread = try sim.getLaunchConfiguration(
            GetLaunchConfigurationRequest(sourceServerID: id), accountID: SimFixture.account, region: SimFixture.region,
            realNow: SimFixture.t0
        )
        #expect(reread == updated)

        let bad = try #require(drsError { () throws(DRSSimError) in
            try sim.updateLaunchConfiguration(
                UpdateLaunchConfigurationRequest(sourceServerID: id, launchDisposition: LaunchDisposition(rawValue: "SIDEWAYS")),
                accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.t0
            )
        })
        #expect(bad.decode(ValidationException.self)?.fieldList?.first?.name == "launchDisposition")

        _ = try sim.start([1])
        let busy = try #require(drsError { () throws(DRSSimError) in
            try sim.updateLaunchConfiguration(
                UpdateLaunchConfigurationRequest(sourceServerID: id, copyTags: false),
                accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(1)
            )
        })
        #expect(busy.errorType == "ConflictException")
    }
}
