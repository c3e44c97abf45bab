import DRSSimApp
import Foundation
import MusterDRS
import Testing

@Suite("drs-sim recovery instances, pagination, determinism")
struct InstancesAndPagingTests {
    @Test("TerminateRecoveryInstances starts a TERMINATE job that removes the instances")
    func terminate() throws {
        var sim = try SimFixture.make()
        _ = try sim.start([1, 2])
        let ids = try sim.instances(at: 1000).compactMap(\.recoveryInstanceID)
        #expect(ids.count == 2)
        let response = try sim.terminateRecoveryInstances(
            TerminateRecoveryInstancesRequest(recoveryInstanceIDs: ids), accountID: SimFixture.account,
            region: SimFixture.region, realNow: SimFixture.at(1000)
        )
        let job = try #require(response.job)
        #expect(job.type == .terminate)
        #expect(job.initiatedBy == .terminateRecoveryInstances)
        #expect(Set(job.participatingServers?.compactMap(\.recoveryInstanceID) ?? []) == Set(ids))
        // While terminating, the servers are held by the TERMINATE job.
        #expect(drsError { () throws(DRSSimError) in try sim.start([1], at: 1001) }?.errorType == "ConflictException")
        #expect(try sim.instances(at: 1010).allSatisfy { $0.ec2InstanceState == .shuttingDown })

        let done = try #require(try sim.job(job.jobID, at: 1200))
        #expect(done.status == .completed)
        #expect(done.participatingServers?.allSatisfy { $0.launchStatus == .terminated } == true)
        #expect(try sim.instances(at: 1200).isEmpty)
        let events = try sim.logEvents(job.jobID, at: 1200)
        #expect(events.first == .jobStart && events.last == .jobEnd)
        #expect(events.filter { $0 == .cleanupEnd }.count == 2)
        #expect(sim.counters.recoveryInstancesTerminated == 2)

        let gone = try #require(drsError { () throws(DRSSimError) in
            try sim.terminateRecoveryInstances(
                TerminateRecoveryInstancesRequest(recoveryInstanceIDs: [ids[0]]), accountID: SimFixture.account,
                region: SimFixture.region, realNow: SimFixture.at(1200)
            )
        })
        #expect(gone.errorType == "ResourceNotFoundException")
    }

    @Test("DescribeSourceServers, DescribeJobs and DescribeJobLogItems page with maxResults/nextToken")
    func pagination() throws {
        var sim = try SimFixture.make()
        var ids: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try sim.describeSourceServers(
                DescribeSourceServersRequest(maxResults: 2, nextToken: token), accountID: SimFixture.account,
                region: SimFixture.region, realNow: SimFixture.t0
            )
            ids += page.items?.compactMap(\.sourceServerID) ?? []
            token = page.nextToken
            pages += 1
        } while token != nil
        #expect(pages == 3)
        #expect(ids == (1...5).map(SimFixture.sid))

        let jobs = try (1...3).map { n throws(DRSSimError) in try sim.start([n]).jobID }
        let first = try sim.describeJobs(
            DescribeJobsRequest(maxResults: 2), accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.t0
        )
        #expect(first.items?.map(\.jobID) == [jobs[2], jobs[1]], "newest first")
        let second = try sim.describeJobs(
            DescribeJobsRequest(maxResults: 2, nextToken: first.nextToken), accountID: SimFixture.account,
            region: SimFixture.region, realNow: SimFixture.t0
        )
        #expect(second.items?.map(\.jobID) == [jobs[0]])
        #expect(second.nextToken == nil)

        let logs = try sim.describeJobLogItems(
            DescribeJobLogItemsRequest(jobID: jobs[0], maxResults: 3), accountID: SimFixture.account,
            region: SimFixture.region, realNow: SimFixture.at(1000)
        )
        #expect(logs.items?.count == 3)
        #expect(logs.nextToken != nil)

        let crossed = try #require(drsError { () throws(DRSSimError) in
            try sim.describeJobs(
                DescribeJobsRequest(nextToken: logs.nextToken), accountID: SimFixture.account, region: SimFixture.region,
                realNow: SimFixture.t0
            )
        })
        #expect(crossed.decode(ValidationException.self)?.fieldList?.first?.name == "nextToken")
        let zero = try #require(drsError { () throws(DRSSimError) in
            try sim.describeJobs(DescribeJobsRequest(maxResults: 0), accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.t0)
        })
        #expect(zero.errorType == "ValidationException")
    }

    @Test("DescribeJobs filters by job ids and creation dates")
    func jobFilters() throws {
        var sim = try SimFixture.make()
        let a = try sim.start([1], at: 0).jobID
        let b = try sim.start([2], at: 100).jobID
        let byID = try sim.describeJobs(
            DescribeJobsRequest(filters: DescribeJobsRequestFilters(jobIDs: [b, "drsjob-0000000000000000z"])),
            accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(100)
        )
        #expect(byID.items?.map(\.jobID) == [b])
        let byDate = try sim.describeJobs(
            DescribeJobsRequest(filters: DescribeJobsRequestFilters(fromDate: DRSDateTime.string(from: SimFixture.at(50)))),
            accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(100)
        )
        #expect(byDate.items?.map(\.jobID) == [b])
        _ = a
        let badDate = try #require(drsError { () throws(DRSSimError) in
            try sim.describeJobs(
                DescribeJobsRequest(filters: DescribeJobsRequestFilters(toDate: "last tuesday")),
                accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(100)
            )
        })
        #expect(badDate.decode(ValidationException.self)?.fieldList?.first?.name == "filters.toDate")
    }

    @Test("same seed, same calls: same ids, timelines and answers; another seed: other ids")
    func determinism() throws {
        func run(seed: UInt64) throws -> (jobs: [String], logs: [String], instances: [String]) {
            var sim = try SimFixture.make(
                servers: SimFixture.servers(3) + [SeedSourceServer(sourceServerID: SimFixture.sid(9), replicationState: "STALLED")],
                seed: seed, jitter: 0.2
            )
            _ = try sim.seed(
                SeedDocument(accounts: [
                    SeedAccount(
                        accountID: SimFixture.account,
                        regions: [SimFixture.region: SeedRegion(generatedServers: SeedServerGenerator(count: 3))]
                    ),
                ]),
                realNow: SimFixture.t0
            )
            let first = try sim.start([1, 2, 9], drill: false).jobID
            let second = try sim.start([3], at: 10).jobID
            let logs = try sim.describeJobLogItems(
                DescribeJobLogItemsRequest(jobID: first), accountID: SimFixture.account, region: SimFixture.region,
                realNow: SimFixture.at(2000)
            ).items ?? []
            let servers = try sim.describeSourceServers(
                DescribeSourceServersRequest(), accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(2000)
            ).items ?? []
            return (
                [first, second] + servers.compactMap(\.sourceServerID),
                logs.map { "\($0.logDateTime ?? "") \($0.event?.rawValue ?? "") \($0.eventData?.sourceServerID ?? "")" },
                try sim.instances(at: 2000).compactMap(\.recoveryInstanceID)
            )
        }
        let a = try run(seed: 5)
        let b = try run(seed: 5)
        let c = try run(seed: 6)
        #expect(a.jobs == b.jobs)
        #expect(a.logs == b.logs)
        #expect(a.instances == b.instances)
        #expect(a.jobs != c.jobs)
        #expect(a.logs.count > 10)
        #expect(a.jobs.count == 2 + 4 + 3)
    }
}
