import Foundation
import Logging
import MusterAWS
import MusterHTTP
import Synchronization
import TestSupport
import Testing

/// A local STS stand-in: checks the SigV4 signature (service `sts`) and the
/// AssumeRole form, then answers like STS.
final class FakeSTS: Sendable {
    static let base = AWSCredentials(accessKeyID: "AKIDBASE", secretAccessKey: "base-secret-DO-NOT-LEAK")
    static let issuedSecret = "issued-secret-DO-NOT-LEAK"
    static let issuedToken = "issued-token-DO-NOT-LEAK"

    enum Mode: Sendable { case grant(lifetime: TimeInterval), grantOnceThenThrottle(lifetime: TimeInterval), deny, garbage }

    /// What the fake has seen, shared with its handler.
    final class Record: Sendable {
        let issued = Mutex(0)
        let problems = Mutex<[String]>([])
    }

    let server: TestHTTPServer
    private let record = Record()

    init(mode: Mode, expectedExternalID: String = "ext-123") throws {
        let record = self.record
        let verifier = SigV4Verifier { $0 == FakeSTS.base.accessKeyID ? FakeSTS.base.secretAccessKey : nil }
        server = try TestHTTPServer { request in
            func reject(_ problem: String) -> TestHTTPServer.Response {
                record.problems.withLock { $0.append(problem) }
                return .init(status: 400, text: "<ErrorResponse><Error><Code>Test</Code><Message>\(problem)</Message></Error></ErrorResponse>")
            }
            let verification = verifier.verify(
                method: request.method, path: request.path, query: request.query,
                headers: request.headers.map { HTTPHeader($0.name, $0.value) }, body: request.body, now: Date())
            guard case .valid(_, "us-west-2", "sts") = verification else { return reject("signature: \(verification)") }
            let form = Dictionary(uniqueKeysWithValues: String(decoding: request.body, as: UTF8.self)
                .split(separator: "&").map { pair -> (String, String) in
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                    return (parts[0], parts.count > 1 ? parts[1] : "")
                })
            guard request.method == "POST", request.path == "/",
                request.header("Content-Type")?.hasPrefix("application/x-www-form-urlencoded") == true,
                form["Action"] == "AssumeRole", form["Version"] == "2011-06-15",
                form["RoleArn"] == "arn:aws:iam::123456789012:role/muster-drs",
                form["RoleSessionName"] == "muster-test", form["ExternalId"] == expectedExternalID,
                form["DurationSeconds"] == "900"
            else { return reject("form: \(form)") }
            switch mode {
            case .deny:
                return .init(status: 403, text: """
                    <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                      <Error><Type>Sender</Type><Code>AccessDenied</Code>
                        <Message>User: arn:aws:iam::111111111111:user/launcher is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/muster-drs</Message>
                      </Error>
                      <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
                    </ErrorResponse>
                    """)
            case .grantOnceThenThrottle where record.issued.withLock({ $0 }) > 0:
                return .init(status: 400, text: """
                    <ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>
                    """)
            case .garbage:
                return .init(status: 200, text: "<html>\(FakeSTS.issuedSecret)</html>")
            case .grant(let lifetime), .grantOnceThenThrottle(let lifetime):
                let number = record.issued.withLock { count -> Int in
                    count += 1
                    return count
                }
                let expiration = Date().addingTimeInterval(lifetime).formatted(.iso8601)
                return .init(status: 200, text: """
                    <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                      <AssumeRoleResult>
                        <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/muster-drs/muster-test</Arn>
                          <AssumedRoleId>AROA3XFRBF535PLBIFPI4:muster-test</AssumedRoleId></AssumedRoleUser>
                        <Credentials>
                          <AccessKeyId>ASIATEST\(number)</AccessKeyId>
                          <SecretAccessKey>\(FakeSTS.issuedSecret)</SecretAccessKey>
                          <SessionToken>\(FakeSTS.issuedToken)&amp;\(number)</SessionToken>
                          <Expiration>\(expiration)</Expiration>
                        </Credentials>
                      </AssumeRoleResult>
                      <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
                    </AssumeRoleResponse>
                    """, delay: .milliseconds(50))
            }
        }
    }

    var problemsSeen: [String] { record.problems.withLock { $0 } }
    var issuedCount: Int { record.issued.withLock { $0 } }
}

@Suite("AssumeRoleCredentialsProvider against a local STS")
struct AssumeRoleTests {
    func withProvider(
        _ mode: FakeSTS.Mode, externalID: String? = "ext-123", endpoint: ((FakeSTS) -> String)? = nil,
        _ body: (AssumeRoleCredentialsProvider, FakeSTS) async throws -> Void
    ) async throws {
        let sts = try FakeSTS(mode: mode)
        var logger = Logger(label: "assume-role-tests")
        logger.logLevel = .warning
        let client = HTTPClient(logger: logger)
        let provider = AssumeRoleCredentialsProvider(
            base: StaticCredentialsProvider(FakeSTS.base), roleARN: "arn:aws:iam::123456789012:role/muster-drs",
            externalID: externalID, sessionName: "muster-test", region: "us-west-2",
            stsEndpoint: endpoint?(sts) ?? sts.server.baseURL, httpClient: client, durationSeconds: 900)
        do {
            try await body(provider, sts)
        } catch {
            Issue.record("unexpected error: \(error)")
        }
        await client.shutdown()
        sts.server.stop()
    }

    @Test("Returns STS's temporary credentials and caches them")
    func cached() async throws {
        try await withProvider(.grant(lifetime: 3600)) { provider, sts in
            let first = try await provider.credentials()
            #expect(first.accessKeyID == "ASIATEST1")
            #expect(first.secretAccessKey == FakeSTS.issuedSecret)
            #expect(first.sessionToken == FakeSTS.issuedToken + "&1")
            #expect(abs((first.expiration ?? .distantPast).timeIntervalSinceNow - 3600) < 60)
            let second = try await provider.credentials()
            #expect(second == first)
            #expect(sts.issuedCount == 1)
            #expect(sts.problemsSeen.isEmpty)
        }
    }

    @Test("Concurrent callers share one STS call")
    func coalesced() async throws {
        try await withProvider(.grant(lifetime: 3600)) { provider, sts in
            let keys = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await provider.credentials().accessKeyID } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(keys == ["ASIATEST1"])
            #expect(sts.issuedCount == 1)
            #expect(sts.server.requests.count == 1)
        }
    }

    @Test("Credentials within 5 minutes of expiry are refreshed")
    func refreshesNearExpiry() async throws {
        try await withProvider(.grant(lifetime: 240)) { provider, sts in
            let first = try await provider.credentials()
            let second = try await provider.credentials()
            #expect(first.accessKeyID == "ASIATEST1")
            #expect(second.accessKeyID == "ASIATEST2")
            #expect(sts.issuedCount == 2)
        }
    }

    @Test("A failed early refresh falls back to the still-valid cached credentials")
    func refreshFailureKeepsCache() async throws {
        try await withProvider(.grantOnceThenThrottle(lifetime: 240)) { provider, sts in
            let first = try await provider.credentials()
            let second = try await provider.credentials()
            #expect(second == first)
            #expect(sts.server.requests.count == 2, "the refresh was attempted")
        }
    }

    @Test("An STS error becomes a typed error that names the role but no secret")
    func denied() async throws {
        try await withProvider(.deny) { provider, _ in
            do {
                _ = try await provider.credentials()
                Issue.record("expected AccessDenied")
            } catch let error as STSError {
                #expect(error.kind == .service(code: "AccessDenied", message: "User: arn:aws:iam::111111111111:user/launcher is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/muster-drs"))
                #expect(error.statusCode == 403)
                #expect(error.requestID == "c6104cbe-af31-11e0-8154-cbc7ccf896c7")
                #expect(!error.isRetryable)
                #expect(error.description.contains("arn:aws:iam::123456789012:role/muster-drs"))
                #expect(error.description.contains("external id"))
                #expect(!error.description.contains(FakeSTS.base.secretAccessKey))
            }
        }
    }

    @Test("A missing external id is rejected by the role's trust check")
    func externalIDRequired() async throws {
        try await withProvider(.grant(lifetime: 3600), externalID: nil) { provider, sts in
            await #expect(throws: STSError.self) { try await provider.credentials() }
            #expect(sts.problemsSeen.count == 1)
            #expect(sts.problemsSeen.first?.hasPrefix("form:") == true)
        }
    }

    @Test("An unusable 200 response is invalidResponse and its body is not echoed")
    func garbage() async throws {
        try await withProvider(.garbage) { provider, _ in
            do {
                _ = try await provider.credentials()
                Issue.record("expected invalidResponse")
            } catch let error as STSError {
                guard case .invalidResponse = error.kind else {
                    Issue.record("expected invalidResponse, got \(error)")
                    return
                }
                #expect(!error.description.contains(FakeSTS.issuedSecret))
            }
        }
    }

    @Test("An unreachable endpoint is a retryable transport error")
    func unreachable() async throws {
        let port = try TestHTTPServer.closedPort()
        try await withProvider(.grant(lifetime: 3600), endpoint: { _ in "http://127.0.0.1:\(port)" }) { provider, _ in
            do {
                _ = try await provider.credentials()
                Issue.record("expected a transport error")
            } catch let error as STSError {
                guard case .transport(.connectFailed) = error.kind else {
                    Issue.record("expected connectFailed, got \(error)")
                    return
                }
                #expect(error.isRetryable)
                #expect(!error.description.contains(FakeSTS.base.secretAccessKey))
            }
        }
    }
}
