import DRSSimApp
import Foundation
import Logging
import MusterAWS
import MusterDRS
import MusterHTTP
import Testing

/// drs-sim running in-process on a random port, with a DRSClient and HTTP client pointed at it.
struct SimEndpoint {
    static let accountID = "111122223333"
    static let credentials = AWSCredentials(accessKeyID: "AKIDCLIENT", secretAccessKey: "client-secret")

    static func sid(_ n: Int) -> String { "s-" + String(format: "%017d", n) }

    /// Starts drs-sim with five source servers, runs `body`, stops everything.
    static func with(
        credentials: AWSCredentials = credentials, timeScale: Double = 1, behaviour: DRSSimBehaviour = .init(),
        _ body: (DRSClient) async throws -> Void
    ) async throws {
        var logger = Logger(label: "drs-client-sim-tests")
        logger.logLevel = .warning
        var configuration = DRSSimConfiguration(
            port: 0, credentials: [Self.credentials.accessKeyID: DRSSimCredential(
                secretAccessKey: Self.credentials.secretAccessKey, accountID: accountID)],
            timeScale: timeScale,
            seedDocument: SeedDocument(accounts: [
                SeedAccount(accountID: accountID, regions: ["us-east-1": SeedRegion(sourceServers: (1...5).map {
                    SeedSourceServer(sourceServerID: sid($0), hostname: "host-\($0)")
                })]),
            ]))
        configuration.behaviour = behaviour
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let server = try DRSSimServer(configuration: configuration, logger: logger, onServerRunning: { port in
            portSink.yield(port)
        })
        let serving = Task { try await server.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            Issue.record("drs-sim did not start")
            return
        }
        let http = HTTPClient(logger: logger)
        let client = DRSClient(region: "us-east-1", endpoint: "http://127.0.0.1:\(port)",
                               credentials: StaticCredentialsProvider(credentials), httpClient: http, logger: logger)
        do {
            try await body(client)
        } catch {
            Issue.record("unexpected error: \(error)")
        }
        await http.shutdown()
        serving.cancel()
        _ = try? await serving.value
    }
}

@Suite("DRSClient against drs-sim over HTTP")
struct DRSClientSimTests {
    @Test("Source servers page, a drill starts, shows up in DescribeJobs and its log, and a second job conflicts")
    func drillRoundTrip() async throws {
        try await SimEndpoint.with { client in
            let servers = try await client.describeAllSourceServers(pageSize: 2)
            #expect(servers.compactMap(\.sourceServerID) == (1...5).map(SimEndpoint.sid))

            let started = try await client.startRecovery(StartRecoveryRequest(
                sourceServers: [.init(sourceServerID: SimEndpoint.sid(1)), .init(sourceServerID: SimEndpoint.sid(2))],
                isDrill: true, tags: ["muster:execution": "ex-sim"]))
            let job = try #require(started.job)
            #expect(job.initiatedBy == .startDrill)
            #expect(Set(job.participatingServers?.compactMap(\.sourceServerID) ?? []) == [SimEndpoint.sid(1), SimEndpoint.sid(2)])

            let described = try await client.describeAllJobs(filters: DescribeJobsRequestFilters(jobIDs: [job.jobID]))
            #expect(described.map(\.jobID) == [job.jobID])
            _ = try await client.describeAllJobLogItems(jobID: job.jobID)

            await #expect {
                try await client.startRecovery(StartRecoveryRequest(sourceServers: [.init(sourceServerID: SimEndpoint.sid(1))], isDrill: true))
            } throws: { error in
                guard let error = error as? DRSError, case .conflict = error else { return false }
                return !error.isRetryable
            }
        }
    }

    @Test("Launch configuration reads back; an unknown server is ResourceNotFound")
    func launchConfiguration() async throws {
        try await SimEndpoint.with { client in
            let configuration = try await client.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: SimEndpoint.sid(3)))
            #expect(configuration.sourceServerID == SimEndpoint.sid(3))
            await #expect {
                try await client.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: SimEndpoint.sid(99)))
            } throws: { error in
                guard case .resourceNotFound = error as? DRSError else { return false }
                return true
            }
        }
    }

    @Test("drs-sim rejects a wrong secret as an authentication failure")
    func wrongSecret() async throws {
        let wrong = AWSCredentials(accessKeyID: SimEndpoint.credentials.accessKeyID, secretAccessKey: "guess")
        try await SimEndpoint.with(credentials: wrong) { client in
            await #expect {
                try await client.describeSourceServers(DescribeSourceServersRequest())
            } throws: { error in
                (error as? DRSError)?.isAuthenticationFailure == true
            }
        }
    }
}
