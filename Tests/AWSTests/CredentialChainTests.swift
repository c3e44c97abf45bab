import Foundation
import Logging
import MusterAWS
import MusterHTTP
import Synchronization
import TestSupport
import Testing

/// Each provider of the default chain against a local endpoint speaking its
/// real wire format (STS Query XML, the container JSON endpoint, IMDSv2).
@Suite("Default credential chain providers against local endpoints")
struct CredentialChainTests {
    static let issuedSecret = "chain-issued-secret-DO-NOT-LEAK"
    static let issuedToken = "chain-issued-token-DO-NOT-LEAK"

    static func client() -> HTTPClient {
        var logger = Logger(label: "credential-chain-tests")
        logger.logLevel = .warning
        return HTTPClient(logger: logger)
    }

    static func tempFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "muster-token-\(UUID().uuidString)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func form(_ body: [UInt8]) -> [String: String] {
        Dictionary(String(decoding: body, as: UTF8.self).split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { a, _ in a })
    }

    static func credentialsJSON(_ n: Int, lifetime: TimeInterval, extra: String = "") -> String {
        """
        {\(extra)"AccessKeyId":"ASIACHAIN\(n)","SecretAccessKey":"\(issuedSecret)","Token":"\(issuedToken)\(n)",\
        "Expiration":"\(Date().addingTimeInterval(lifetime).formatted(.iso8601))","RoleArn":"arn:aws:iam::111122223333:role/muster"}
        """
    }

    // MARK: Web identity (IRSA)

    /// A local STS answering AssumeRoleWithWebIdentity; records each form.
    final class FakeWebIdentitySTS: Sendable {
        final class Record: Sendable {
            let forms = Mutex<[[String: String]]>([])
            let unsigned = Mutex(true)
        }
        let server: TestHTTPServer
        let record = Record()
        var forms: [[String: String]] { record.forms.withLock { $0 } }
        var unsigned: Bool { record.unsigned.withLock { $0 } }

        init(lifetime: TimeInterval, deny: Bool = false) throws {
            let record = self.record
            let forms = record, unsigned = record
            server = try TestHTTPServer { request in
                let form = CredentialChainTests.form(request.body)
                let number = forms.forms.withLock { list -> Int in
                    list.append(form)
                    return list.count
                }
                if request.header("Authorization") != nil { unsigned.unsigned.withLock { $0 = false } }
                guard request.method == "POST", request.path == "/",
                      request.header("Content-Type")?.hasPrefix("application/x-www-form-urlencoded") == true
                else { return .init(status: 400, text: "<ErrorResponse><Error><Code>Bad</Code></Error></ErrorResponse>") }
                if deny {
                    return .init(status: 400, text: """
                        <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
                        <Code>InvalidIdentityToken</Code><Message>No OpenIDConnect provider found in your account for https://oidc.eks.example</Message>
                        </Error><RequestId>3a1b-web</RequestId></ErrorResponse>
                        """)
                }
                return .init(status: 200, text: """
                    <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                      <AssumeRoleWithWebIdentityResult>
                        <SubjectFromWebIdentityToken>system:serviceaccount:muster:launcher</SubjectFromWebIdentityToken>
                        <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/muster/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
                        <Credentials>
                          <AccessKeyId>ASIAWEB\(number)</AccessKeyId>
                          <SecretAccessKey>\(CredentialChainTests.issuedSecret)</SecretAccessKey>
                          <SessionToken>\(CredentialChainTests.issuedToken)</SessionToken>
                          <Expiration>\(Date().addingTimeInterval(lifetime).formatted(.iso8601))</Expiration>
                        </Credentials>
                        <Provider>arn:aws:iam::111122223333:oidc-provider/oidc.eks.example</Provider>
                        <Audience>sts.amazonaws.com</Audience>
                      </AssumeRoleWithWebIdentityResult>
                      <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>
                    </AssumeRoleWithWebIdentityResponse>
                    """)
            }
        }
    }

    @Test func webIdentityExchangesTheTokenFileAndCachesTheResult() async throws {
        let sts = try FakeWebIdentitySTS(lifetime: 3600)
        let tokenFile = try Self.tempFile("eyJhbGciOiJSUzI1NiJ9.first-token\n")
        let client = Self.client()
        let provider = WebIdentityCredentialsProvider(
            roleARN: "arn:aws:iam::111122223333:role/muster-launcher", tokenFile: tokenFile, sessionName: "muster-pod",
            stsEndpoint: sts.server.baseURL, httpClient: client)
        let first = try await provider.credentials()
        #expect(first.accessKeyID == "ASIAWEB1")
        #expect(first.secretAccessKey == Self.issuedSecret && first.sessionToken == Self.issuedToken)
        #expect(abs((first.expiration ?? .distantPast).timeIntervalSinceNow - 3600) < 60)
        #expect(try await provider.credentials() == first, "cached")
        let form = try #require(sts.forms.first)
        #expect(form == ["Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                         "RoleArn": "arn:aws:iam::111122223333:role/muster-launcher", "RoleSessionName": "muster-pod",
                         "WebIdentityToken": "eyJhbGciOiJSUzI1NiJ9.first-token"])
        #expect(sts.unsigned, "AssumeRoleWithWebIdentity is not SigV4-signed")
        #expect(!first.description.contains(Self.issuedSecret))
        await client.shutdown()
        sts.server.stop()
    }

    @Test func webIdentityRefreshesBeforeExpiryWithTheRotatedToken() async throws {
        let sts = try FakeWebIdentitySTS(lifetime: 200)  // inside the 5-minute margin
        let tokenFile = try Self.tempFile("token-one")
        let client = Self.client()
        let provider = WebIdentityCredentialsProvider(
            roleARN: "arn:aws:iam::111122223333:role/muster-launcher", tokenFile: tokenFile, sessionName: nil,
            stsEndpoint: sts.server.baseURL, httpClient: client)
        #expect(try await provider.credentials().accessKeyID == "ASIAWEB1")
        try "token-two".write(toFile: tokenFile, atomically: true, encoding: .utf8)  // the kubelet rotated it
        #expect(try await provider.credentials().accessKeyID == "ASIAWEB2")
        let forms = sts.forms
        #expect(forms.map { $0["WebIdentityToken"] } == ["token-one", "token-two"])
        #expect(forms[0]["RoleSessionName"]?.hasPrefix("muster-") == true)
        await client.shutdown()
        sts.server.stop()
    }

    @Test func webIdentityErrorsNameTheRoleAndNeverTheToken() async throws {
        let sts = try FakeWebIdentitySTS(lifetime: 3600, deny: true)
        let tokenFile = try Self.tempFile("secret-oidc-token-DO-NOT-LEAK")
        let client = Self.client()
        let provider = WebIdentityCredentialsProvider(
            roleARN: "arn:aws:iam::111122223333:role/muster-launcher", tokenFile: tokenFile, sessionName: "s",
            stsEndpoint: sts.server.baseURL, httpClient: client)
        do {
            _ = try await provider.credentials()
            Issue.record("expected InvalidIdentityToken")
        } catch let error as STSError {
            guard case .service(let code, _) = error.kind else { Issue.record("\(error)"); return }
            #expect(code == "InvalidIdentityToken")
            #expect(error.description.contains("role/muster-launcher"))
            #expect(!error.description.contains("secret-oidc-token"))
        }
        let missing = WebIdentityCredentialsProvider(
            roleARN: "arn:aws:iam::111122223333:role/x", tokenFile: "/nonexistent/token", sessionName: "s",
            stsEndpoint: sts.server.baseURL, httpClient: client)
        await #expect(throws: CredentialsProviderError.self) { try await missing.credentials() }
        await client.shutdown()
        sts.server.stop()
    }

    /// The forms Muster sends (AssumeRoleWithWebIdentity, AssumeRole) equal
    /// what botocore's own Query serializer makes of the same parameters from
    /// STS's official model.
    @Test func stsFormsMatchBotocoresSTSModel() throws {
        guard let venv = ProcessInfo.processInfo.environment["MUSTER_VENV"] else {
            Issue.record("MUSTER_VENV is not set: run through scripts/test.sh (botocore lives in its venv)")
            return
        }
        let webIdentity = WebIdentityCredentialsProvider.form(
            roleARN: "arn:aws:iam::111122223333:role/muster launcher+x", sessionName: "muster-pod=1",
            token: "eyJ.a/b+c=", durationSeconds: 900)
        let assumeRole = AssumeRoleCredentialsProvider.form(
            roleARN: "arn:aws:iam::111122223333:role/muster-drs", sessionName: "muster-launcher", durationSeconds: 3600,
            externalID: "ext/1+2=3 ")
        let script = """
            import json, sys, urllib.parse, botocore.session
            from botocore.serialize import create_serializer
            model = botocore.session.get_session().get_service_model('sts')
            assert model.metadata['protocol'] == 'query' and model.metadata['apiVersion'] == '2011-06-15'
            cases = [
                ('AssumeRoleWithWebIdentity', sys.argv[1], {
                    'RoleArn': 'arn:aws:iam::111122223333:role/muster launcher+x', 'RoleSessionName': 'muster-pod=1',
                    'WebIdentityToken': 'eyJ.a/b+c=', 'DurationSeconds': 900}),
                ('AssumeRole', sys.argv[2], {
                    'RoleArn': 'arn:aws:iam::111122223333:role/muster-drs', 'RoleSessionName': 'muster-launcher',
                    'DurationSeconds': 3600, 'ExternalId': 'ext/1+2=3 '}),
            ]
            for name, sent, params in cases:
                op = model.operation_model(name)
                assert op.http['method'] == 'POST' and op.http['requestUri'] == '/'
                body = create_serializer('query').serialize_to_request(params, op)['body']
                ours = dict(urllib.parse.parse_qsl(sent, keep_blank_values=True))
                theirs = {k: str(v) for k, v in body.items()}
                assert ours == theirs, (name, ours, theirs)
                assert set(op.input_shape.required_members) <= set(ours), name
                out = op.output_shape.members['Credentials'].members
                assert set(out) >= {'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'}
            # Web identity is unsigned: the token is the proof.
            assert model.operation_model('AssumeRoleWithWebIdentity').auth_type == 'none'
            print('ok')
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: venv + "/bin/python")
        process.arguments = ["-c", script, webIdentity, assumeRole]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0 && output.contains("ok"), "\(output)")
    }

    // MARK: Container (ECS task role, EKS Pod Identity)

    final class FakeContainerEndpoint: Sendable {
        final class Record: Sendable { let authorizations = Mutex<[String?]>([]) }
        let server: TestHTTPServer
        let record = Record()
        var authorizations: [String?] { record.authorizations.withLock { $0 } }

        init(lifetime: TimeInterval, expectedToken: @escaping @Sendable () -> String) throws {
            let record = self.record
            server = try TestHTTPServer { request in
                let count = record.authorizations.withLock { list -> Int in
                    list.append(request.header("Authorization"))
                    return list.count
                }
                guard request.method == "GET", request.path == "/v1/credentials" else { return .init(status: 404, text: "") }
                guard request.header("Authorization") == expectedToken() else {
                    return .init(status: 401, text: #"{"Message":"invalid token"}"#)
                }
                return .init(status: 200, text: CredentialChainTests.credentialsJSON(count, lifetime: lifetime))
            }
        }
    }

    @Test func containerEndpointSendsTheRotatedTokenFileAndRefreshes() async throws {
        let tokenFile = try Self.tempFile("pod-identity-token-1")
        let endpoint = try FakeContainerEndpoint(lifetime: 120) {
            (try? String(contentsOfFile: tokenFile, encoding: .utf8)) ?? ""
        }
        let client = Self.client()
        let url = endpoint.server.baseURL + "/v1/credentials"
        let (provider, source) = try DefaultCredentialsChain.provider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-a-file-is-given"],
            httpClient: client)
        #expect(source == .container(url: url, authorization: .file(tokenFile)))
        let first = try await provider.credentials()
        #expect(first.accessKeyID == "ASIACHAIN1" && first.sessionToken == Self.issuedToken + "1")
        try "pod-identity-token-2".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let second = try await provider.credentials()  // 120 s left: inside the refresh margin
        #expect(second.accessKeyID == "ASIACHAIN2")
        #expect(endpoint.authorizations == ["pod-identity-token-1", "pod-identity-token-2"])
        await client.shutdown()
        endpoint.server.stop()
    }

    @Test func containerEndpointFailuresAreTypedAndPlainHTTPHostsAreChecked() async throws {
        let endpoint = try FakeContainerEndpoint(lifetime: 3600) { "right" }
        let client = Self.client()
        let provider = try ContainerCredentialsProvider(
            url: endpoint.server.baseURL + "/v1/credentials", authorization: .token("wrong"), httpClient: client)
        do {
            _ = try await provider.credentials()
            Issue.record("expected 401")
        } catch let error as CredentialsProviderError {
            #expect(error.provider == "container" && error.description.contains("401") && !error.isRetryable)
        }
        #expect(throws: CredentialsProviderError.self) {
            try ContainerCredentialsProvider(url: "http://example.com/creds", authorization: .none, httpClient: client)
        }
        for allowed in ["http://169.254.170.2/v2/credentials/x", "http://169.254.170.23/v1/credentials",
                        "http://[fd00:ec2::23]/v1/credentials", "http://localhost:8080/c", "https://creds.example.com/x"] {
            #expect((try? ContainerCredentialsProvider(url: allowed, authorization: .none, httpClient: client)) != nil, "\(allowed)")
        }
        await client.shutdown()
        endpoint.server.stop()
    }

    // MARK: EC2 instance metadata (IMDSv2)

    final class FakeIMDS: Sendable {
        final class Record: Sendable { let log = Mutex<[String]>([]) }
        let server: TestHTTPServer
        let record = Record()
        var calls: [String] { record.log.withLock { $0 } }

        init(lifetime: TimeInterval, profile: Bool = true) throws {
            let record = self.record
            server = try TestHTTPServer { request in
                record.log.withLock { $0.append("\(request.method) \(request.path)") }
                if request.method == "PUT", request.path == "/latest/api/token" {
                    guard let ttl = request.header("X-aws-ec2-metadata-token-ttl-seconds"), Int(ttl) != nil else {
                        return .init(status: 400, text: "")
                    }
                    return .init(status: 200, text: "imds-session-token-\(record.log.withLock { $0.count })")
                }
                // IMDSv2 enforced: nothing without a session token.
                guard request.header("X-aws-ec2-metadata-token")?.hasPrefix("imds-session-token-") == true else {
                    return .init(status: 401, text: "")
                }
                switch request.path {
                case "/latest/meta-data/iam/security-credentials/":
                    return profile ? .init(status: 200, text: "muster-launcher-role\n") : .init(status: 404, text: "")
                case "/latest/meta-data/iam/security-credentials/muster-launcher-role":
                    let n = record.log.withLock { $0.filter { $0.hasSuffix("muster-launcher-role") }.count }
                    return .init(status: 200, text: CredentialChainTests.credentialsJSON(
                        n, lifetime: lifetime, extra: #""Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","#))
                default:
                    return .init(status: 404, text: "")
                }
            }
        }
    }

    @Test func instanceMetadataUsesIMDSv2TokensAndRefreshes() async throws {
        let imds = try FakeIMDS(lifetime: 100)
        let client = Self.client()
        let (provider, source) = try DefaultCredentialsChain.provider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.server.baseURL], httpClient: client)
        #expect(source == .instanceMetadata(endpoint: imds.server.baseURL))
        #expect(try await provider.credentials().accessKeyID == "ASIACHAIN1")
        #expect(try await provider.credentials().accessKeyID == "ASIACHAIN2", "100 s left: refreshed")
        let calls = imds.calls
        #expect(calls == Array(repeating: ["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                                           "GET /latest/meta-data/iam/security-credentials/muster-launcher-role"],
                               count: 2).flatMap { $0 })
        await client.shutdown()
        imds.server.stop()
    }

    @Test func instanceMetadataWithoutAProfileSaysWhatToAttach() async throws {
        let imds = try FakeIMDS(lifetime: 3600, profile: false)
        let client = Self.client()
        let provider = InstanceMetadataCredentialsProvider(endpoint: imds.server.baseURL, httpClient: client)
        do {
            _ = try await provider.credentials()
            Issue.record("expected no instance profile")
        } catch let error as CredentialsProviderError {
            #expect(error.description.contains("instance profile"))
        }
        await client.shutdown()
        imds.server.stop()
    }

    // MARK: The chain

    @Test func theChainPicksTheFirstConfiguredSourceInTheSDKsOrder() {
        let all = [
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s",
            "AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/token",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t",
        ]
        var env = all
        #expect(DefaultCredentialsChain.source(environment: env) == .environment)
        env["AWS_SECRET_ACCESS_KEY"] = nil
        #expect(DefaultCredentialsChain.source(environment: env)
                == .webIdentity(roleARN: "arn:aws:iam::1:role/r", tokenFile: "/var/run/secrets/token", sessionName: nil))
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = nil
        #expect(DefaultCredentialsChain.source(environment: env)
                == .container(url: "http://169.254.170.2/v2/credentials/abc", authorization: .token("t")), "relative wins")
        env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = nil
        #expect(DefaultCredentialsChain.source(environment: env)
                == .container(url: "http://169.254.170.23/v1/credentials", authorization: .token("t")))
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = nil
        #expect(DefaultCredentialsChain.source(environment: env) == .instanceMetadata(endpoint: "http://169.254.169.254"))
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        #expect(DefaultCredentialsChain.source(environment: env) == .none)
        #expect(throws: CredentialsProviderError.self) {
            try DefaultCredentialsChain.provider(environment: env, httpClient: Self.client())
        }
        #expect(DefaultCredentialsChain.stsEndpoint(environment: ["AWS_REGION": "cn-north-1"])
                == "https://sts.cn-north-1.amazonaws.com.cn")
        #expect(DefaultCredentialsChain.stsEndpoint(environment: ["AWS_DEFAULT_REGION": "eu-west-1", "AWS_USE_FIPS_ENDPOINT": "true"])
                == "https://sts-fips.eu-west-1.amazonaws.com")
        let withToken = DefaultCredentialsChain.source(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1/c", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok-SECRET",
        ])
        #expect(!withToken.description.contains("tok-SECRET"), "the source's description holds no token")
    }

    /// The launcher's per-account AssumeRole on top of a base found by the
    /// chain (here the container endpoint): STS sees a signature made with
    /// the container's credentials.
    @Test func assumeRoleSignsWithTheChainsBaseCredentials() async throws {
        let base = try TestHTTPServer { _ in
            .init(status: 200, text: """
                {"AccessKeyId":"\(FakeSTS.base.accessKeyID)","SecretAccessKey":"\(FakeSTS.base.secretAccessKey)",\
                "Token":"base-session","Expiration":"\(Date().addingTimeInterval(3600).formatted(.iso8601))"}
                """)
        }
        let sts = try FakeSTS(mode: .grant(lifetime: 3600))
        let client = Self.client()
        let (provider, _) = try DefaultCredentialsChain.provider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": base.baseURL + "/v1/credentials"], httpClient: client)
        let assumed = AssumeRoleCredentialsProvider(
            base: provider, roleARN: "arn:aws:iam::123456789012:role/muster-drs", externalID: "ext-123",
            sessionName: "muster-test", region: "us-west-2", stsEndpoint: sts.server.baseURL, httpClient: client,
            durationSeconds: 900)
        #expect(try await assumed.credentials().accessKeyID == "ASIATEST1")
        #expect(sts.problemsSeen.isEmpty, "\(sts.problemsSeen)")
        await client.shutdown()
        sts.server.stop()
        base.stop()
    }
}

