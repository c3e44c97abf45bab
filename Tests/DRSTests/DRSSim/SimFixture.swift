import DRSSimApp
import Foundation
import MusterDRS

/// Builds simulations for the drs-sim core tests: one account in us-east-1, no jitter unless
/// asked, wall clock starting at `t0`.
enum SimFixture {
    static let account = "111122223333"
    static let region = "us-east-1"
    static let t0 = Date(timeIntervalSince1970: 1_714_564_800)

    /// `s-` and 17 digits.
    static func sid(_ n: Int) -> String { "s-" + String(format: "%017d", n) }

    static func servers(_ count: Int, state: String? = nil, group: String? = nil) -> [SeedSourceServer] {
        (1...count).map {
            SeedSourceServer(
                sourceServerID: sid($0), hostname: "host-\($0)", tags: group.map { ["muster:launchGroup": $0] },
                replicationState: state
            )
        }
    }

    static func configuration(
        servers: [SeedSourceServer] = servers(5), seed: UInt64 = 7, timeScale: Double = 1, jitter: Double = 0,
        quotas: DRSSimQuotas = DRSSimQuotas(), rateLimit: DRSSimRateLimit = DRSSimRateLimit(requestsPerSecond: 1000, burst: 1000)
    ) -> DRSSimConfiguration {
        DRSSimConfiguration(
            credentials: ["AKIDTEST": DRSSimCredential(secretAccessKey: "secret", accountID: account)],
            seed: seed, timeScale: timeScale, epoch: t0, quotas: quotas, rateLimit: rateLimit,
            timing: JobTimingProfile(jitter: jitter),
            seedDocument: SeedDocument(accounts: [
                SeedAccount(accountID: account, regions: [region: SeedRegion(sourceServers: servers)]),
            ])
        )
    }

    static func make(
        servers: [SeedSourceServer] = servers(5), seed: UInt64 = 7, timeScale: Double = 1, jitter: Double = 0,
        quotas: DRSSimQuotas = DRSSimQuotas(), rateLimit: DRSSimRateLimit = DRSSimRateLimit(requestsPerSecond: 1000, burst: 1000)
    ) throws -> DRSSimulation {
        try DRSSimulation(
            configuration: configuration(
                servers: servers, seed: seed, timeScale: timeScale, jitter: jitter, quotas: quotas, rateLimit: rateLimit
            ),
            realStart: t0
        )
    }

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }
}

extension DRSSimulation {
    /// Starts a job on servers `numbers` at `seconds` after t0.
    mutating func start(
        _ numbers: [Int], drill: Bool = true, tags: [String: String]? = nil, at seconds: Double = 0
    ) throws(DRSSimError) -> Job {
        let request = StartRecoveryRequest(
            sourceServers: numbers.map { StartRecoveryRequestSourceServer(sourceServerID: SimFixture.sid($0)) },
            isDrill: drill, tags: tags
        )
        let response = try startRecovery(request, accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(seconds))
        guard let job = response.job else { throw DRSSimError.internalError("no job in answer") }
        return job
    }

    /// The job `id` as DescribeJobs shows it at `seconds`.
    mutating func job(_ id: String, at seconds: Double) throws(DRSSimError) -> Job? {
        try describeJobs(
            DescribeJobsRequest(filters: DescribeJobsRequestFilters(jobIDs: [id])),
            accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(seconds)
        ).items?.first
    }

    /// The job's log events at `seconds`.
    mutating func logEvents(_ id: String, at seconds: Double) throws(DRSSimError) -> [JobLogEvent] {
        try describeJobLogItems(
            DescribeJobLogItemsRequest(jobID: id), accountID: SimFixture.account, region: SimFixture.region,
            realNow: SimFixture.at(seconds)
        ).items?.compactMap(\.event) ?? []
    }

    /// Recovery instances at `seconds`.
    mutating func instances(at seconds: Double) throws(DRSSimError) -> [RecoveryInstance] {
        try describeRecoveryInstances(
            DescribeRecoveryInstancesRequest(), accountID: SimFixture.account, region: SimFixture.region,
            realNow: SimFixture.at(seconds)
        ).items ?? []
    }
}

/// Runs `body`, returning the `DRSSimError` it throws (nil if none).
func drsError<T>(_ body: () throws(DRSSimError) -> T) -> DRSSimError? {
    do throws(DRSSimError) {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
