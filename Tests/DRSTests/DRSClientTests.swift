import Foundation
import Logging
import MusterAWS
import MusterDRS
import MusterHTTP
import TestSupport
import Testing

@Suite("DRSClient against a stub DRS endpoint over HTTP")
struct DRSClientTests {
    func withClient(
        credentials: any AWSCredentialsProvider = StaticCredentialsProvider(StubDRS.credentials),
        endpoint: ((TestHTTPServer) -> String)? = nil, timeout: Duration = .seconds(5),
        _ body: (DRSClient, TestHTTPServer) async throws -> Void
    ) async throws {
        let server = try StubDRS.start()
        var logger = Logger(label: "drs-client-tests")
        logger.logLevel = .warning
        let http = HTTPClient(logger: logger)
        let client = DRSClient(region: "us-east-1", endpoint: endpoint?(server) ?? server.baseURL + "/",
                               credentials: credentials, httpClient: http, logger: logger, timeout: timeout)
        do {
            try await body(client, server)
        } catch {
            Issue.record("unexpected error: \(error)")
        }
        await http.shutdown()
        server.stop()
    }

    @Test("StartRecovery posts signed JSON to /StartRecovery and decodes the 202 job")
    func startRecovery() async throws {
        try await withClient { client, server in
            let response = try await client.startRecovery(StartRecoveryRequest(
                sourceServers: [StartRecoveryRequestSourceServer(sourceServerID: StubDRS.sourceServerIDs[0]),
                                StartRecoveryRequestSourceServer(sourceServerID: StubDRS.sourceServerIDs[1])],
                isDrill: true, tags: ["muster:execution": "ex-1"]))
            let job = try #require(response.job)
            #expect(job.jobID == "drsjob-1234567890abcdef0")
            #expect(job.status == .pending)
            #expect(job.initiatedBy == .startDrill)
            #expect(job.participatingServers?.map(\.sourceServerID) == [StubDRS.sourceServerIDs[0], StubDRS.sourceServerIDs[1]])
            #expect(job.participatingServers?.first?.launchStatus == .pending)
            let sent = try #require(server.requests.last)
            #expect(sent.path == "/StartRecovery")
            #expect(sent.header("X-Amz-Security-Token") == "stub-token")
            #expect(sent.header("Authorization")?.contains("/us-east-1/drs/aws4_request") == true)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any])
            #expect(json["isDrill"] as? Bool == true)
            #expect(json["tags"] as? [String: String] == ["muster:execution": "ex-1"])
        }
    }

    @Test("Conflict, throttling (with Retry-After) and quota errors arrive typed")
    func typedErrors() async throws {
        try await withClient { client, _ in
            func start(_ id: String) async -> DRSError? {
                do {
                    _ = try await client.startRecovery(StartRecoveryRequest(sourceServers: [.init(sourceServerID: id)]))
                    return nil
                } catch {
                    return error as? DRSError
                }
            }
            guard case .conflict(let conflict)? = await start("s-conflict00000000") else {
                Issue.record("expected conflict")
                return
            }
            #expect(conflict.resourceId == "s-conflict00000000")
            let throttled = await start("s-throttle00000000")
            guard case .throttling(let shape)? = throttled else {
                Issue.record("expected throttling")
                return
            }
            #expect(shape.message == "Rate exceeded")
            #expect(throttled?.retryAfterSeconds == 12)
            #expect(throttled?.isRetryable == true)
            let quota = await start("s-quota00000000000")
            guard case .serviceQuotaExceeded(let quotaShape)? = quota else {
                Issue.record("expected quota, got \(String(describing: quota))")
                return
            }
            #expect(quotaShape.quotaCode == "L-CONCURRENT-JOBS")
            #expect(quota?.isRetryable == false)
        }
    }

    @Test("describeAllSourceServers follows nextToken across pages")
    func pagination() async throws {
        try await withClient { client, server in
            let servers = try await client.describeAllSourceServers(pageSize: 3)
            #expect(servers.compactMap(\.sourceServerID) == StubDRS.sourceServerIDs)
            #expect(servers.first?.dataReplicationInfo?.dataReplicationState == .continuous)
            #expect(server.requests.count == 3)
            let tokens = server.requests.map { request in
                ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any])?["nextToken"] as? String
            }
            #expect(tokens == [nil, "tok-3", "tok-6"])
            var pages = 0
            for try await page in client.sourceServerPages(DescribeSourceServersRequest(maxResults: 5)) {
                pages += 1
                #expect(page.items?.isEmpty == false)
            }
            #expect(pages == 2)
        }
    }

    @Test("Jobs, job logs, launch configurations and termination decode")
    func otherOperations() async throws {
        try await withClient { client, _ in
            let jobs = try await client.describeAllJobs(filters: DescribeJobsRequestFilters(jobIDs: ["drsjob-a", "drsjob-b"]), pageSize: 1)
            #expect(jobs.map(\.jobID) == ["drsjob-a", "drsjob-b"])
            #expect(jobs.first?.participatingServers?.first?.recoveryInstanceID == "i-0123456789abcdef0")
            #expect(jobs.first?.participatingServers?.first?.launchStatus == .launched)
            let log = try await client.describeAllJobLogItems(jobID: "drsjob-1", pageSize: 2)
            #expect(log.compactMap(\.event?.rawValue) == ["JOB_START", "SERVER_SKIPPED", "CLEANUP_START", "CLEANUP_END", "JOB_END"])
            let configuration = try await client.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: StubDRS.sourceServerIDs[2]))
            #expect(configuration.launchDisposition == .started)
            #expect(configuration.licensing?.osByol == false)
            let updated = try await client.updateLaunchConfiguration(UpdateLaunchConfigurationRequest(
                sourceServerID: StubDRS.sourceServerIDs[2], launchDisposition: .stopped, copyTags: true))
            #expect(updated.launchDisposition == .stopped)
            #expect(updated.copyTags == true)
            let termination = try await client.terminateRecoveryInstances(TerminateRecoveryInstancesRequest(recoveryInstanceIDs: ["i-0123456789abcdef0"]))
            #expect(termination.job?.type == .terminate)
        }
    }

    @Test("Not found, validation and access denied errors arrive typed")
    func moreErrors() async throws {
        try await withClient { client, _ in
            await #expect { try await client.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: "s-missing000000000")) } throws: { error in
                guard case .resourceNotFound(let shape) = error as? DRSError else { return false }
                return shape.resourceId == "s-missing000000000"
            }
            await #expect { try await client.describeJobLogItems(DescribeJobLogItemsRequest(jobID: "other")) } throws: { error in
                guard case .validation(let shape) = error as? DRSError else { return false }
                return shape.fieldList?.first?.name == "jobID" && shape.reason == .fieldValidationFailed
            }
            await #expect { try await client.describeRecoveryInstances(DescribeRecoveryInstancesRequest()) } throws: { error in
                guard case .accessDenied(let shape) = error as? DRSError else { return false }
                return shape.message?.contains("drs:DescribeRecoveryInstances") == true
            }
        }
    }

    @Test("Wrong credentials are rejected by the endpoint and flagged as an authentication failure")
    func badSignature() async throws {
        let wrong = AWSCredentials(accessKeyID: "AKIDSTUB", secretAccessKey: "not-the-secret")
        try await withClient(credentials: StaticCredentialsProvider(wrong)) { client, _ in
            do {
                _ = try await client.describeSourceServers(DescribeSourceServersRequest())
                Issue.record("expected a signature error")
            } catch let error as DRSError {
                #expect(error.isAuthenticationFailure)
                #expect(!error.description.contains("not-the-secret"))
            }
        }
    }

    @Test("Credentials, transport, decoding and cancellation failures")
    func failures() async throws {
        try await withClient(credentials: EnvironmentCredentialsProvider(prefix: "NOPE_", environment: [:])) { client, _ in
            await #expect { try await client.describeJobs(DescribeJobsRequest()) } throws: { error in
                guard case .credentials(let underlying) = error as? DRSError else { return false }
                return underlying is AWSCredentialsError
            }
        }
        let port = try TestHTTPServer.closedPort()
        try await withClient(endpoint: { _ in "http://127.0.0.1:\(port)" }) { client, _ in
            await #expect { try await client.describeJobs(DescribeJobsRequest()) } throws: { error in
                guard let error = error as? DRSError, case .transport(.connectFailed) = error else { return false }
                return error.isRetryable
            }
        }
        try await withClient { client, _ in
            await #expect { try await client.startRecovery(StartRecoveryRequest(sourceServers: [.init(sourceServerID: "s-garbage000000000")])) } throws: { error in
                guard case .decoding(let operation, let reason) = error as? DRSError else { return false }
                return operation == "StartRecovery" && reason.contains("job.jobID")
            }
        }
        try await withClient(timeout: .milliseconds(300)) { client, _ in
            await #expect { try await client.startRecovery(StartRecoveryRequest(sourceServers: [.init(sourceServerID: "s-slow000000000000")])) } throws: { error in
                guard case .transport(.timedOut) = error as? DRSError else { return false }
                return true
            }
        }
        try await withClient { client, server in
            let task = Task { try await client.startRecovery(StartRecoveryRequest(sourceServers: [.init(sourceServerID: "s-slow000000000000")])) }
            let deadline = ContinuousClock.now + .seconds(5)
            while server.requests.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
        }
    }
}
