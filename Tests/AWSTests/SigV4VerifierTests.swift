import Foundation
@testable import MusterAWS
import MusterHTTP
import Testing

@Suite("SigV4Verifier")
struct SigV4VerifierTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDVERIFY", secretAccessKey: "verify-secret/Key+1")
    static let now = Date(timeIntervalSince1970: 1_705_314_600)
    let verifier = SigV4Verifier { $0 == SigV4VerifierTests.credentials.accessKeyID ? SigV4VerifierTests.credentials.secretAccessKey : nil }
    let signer = SigV4Signer(service: "drs", region: "us-east-1")

    func signedRequest(date: Date = now, credentials: AWSCredentials = credentials) -> HTTPRequest {
        signer.sign(
            HTTPRequest(method: "POST", url: "http://127.0.0.1:8443/StartRecovery?dry=true",
                        headers: [HTTPHeader("Content-Type", "application/json")],
                        body: Array(#"{"sourceServers":[{"sourceServerID":"s-1"}]}"#.utf8)),
            credentials: credentials, date: date)
    }

    func verify(_ request: HTTPRequest, body: [UInt8]? = nil, at now: Date = now) -> SigV4Verification {
        verifier.verify(method: request.method, path: "/StartRecovery", query: "dry=true",
                        headers: request.headers, body: body ?? request.body, now: now)
    }

    @Test("A request signed with the right secret is valid and names its scope")
    func valid() {
        #expect(verify(signedRequest()) == .valid(accessKeyID: "AKIDVERIFY", region: "us-east-1", service: "drs"))
    }

    @Test("Header names arrive lowercased (as servers normalise them) and still verify")
    func lowercasedHeaders() {
        var request = signedRequest()
        request.headers = request.headers.map { HTTPHeader($0.name.lowercased(), $0.value) }
        #expect(verify(request) == .valid(accessKeyID: "AKIDVERIFY", region: "us-east-1", service: "drs"))
    }

    @Test("A tampered body is a signature mismatch")
    func tamperedBody() {
        #expect(verify(signedRequest(), body: Array(#"{"sourceServers":[{"sourceServerID":"s-2"}]}"#.utf8)) == .signatureMismatch)
    }

    @Test("A tampered signed header is a signature mismatch")
    func tamperedHeader() {
        var request = signedRequest()
        request.headers = request.headers.map { $0.name == "Content-Type" ? HTTPHeader($0.name, "text/plain") : $0 }
        #expect(verify(request) == .signatureMismatch)
    }

    @Test("A wrong secret is a signature mismatch")
    func wrongSecret() {
        let forged = AWSCredentials(accessKeyID: "AKIDVERIFY", secretAccessKey: "guessed")
        #expect(verify(signedRequest(credentials: forged)) == .signatureMismatch)
    }

    @Test("An unknown access key is reported as such")
    func unknownKey() {
        let stranger = AWSCredentials(accessKeyID: "AKIDSTRANGER", secretAccessKey: "whatever")
        #expect(verify(signedRequest(credentials: stranger)) == .unknownAccessKey)
    }

    @Test("A genuine signature dated outside the allowed skew is expired", arguments: [-600.0, 600.0])
    func skewed(offset: TimeInterval) {
        let requestDate = Self.now.addingTimeInterval(offset)
        #expect(verify(signedRequest(date: requestDate)) == .expired(requestDate: requestDate, serverDate: Self.now))
        // Within five minutes it is still fine.
        #expect(verify(signedRequest(date: Self.now.addingTimeInterval(offset / 3))) ==
                .valid(accessKeyID: "AKIDVERIFY", region: "us-east-1", service: "drs"))
    }

    @Test("No Authorization header is missing authentication")
    func missingHeader() {
        var request = signedRequest()
        request.headers.removeAll { $0.name == "Authorization" }
        #expect(verify(request) == .missingAuthentication)
    }

    @Test("Malformed Authorization or X-Amz-Date headers are reported as malformed", arguments: [
        ("Authorization", "Basic dXNlcjpwYXNz"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20240115/us-east-1/drs/aws4_request, Signature=00"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20240115/us-east-1/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + String(repeating: "a", count: 64)),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20240115/us-east-1/drs/aws4_request, SignedHeaders=x-amz-date, Signature=" + String(repeating: "a", count: 64)),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20240116/us-east-1/drs/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + String(repeating: "a", count: 64)),
        ("X-Amz-Date", "2024-01-15T10:30:00Z"),
    ])
    func malformed(header: String, value: String) {
        var request = signedRequest()
        request.headers = request.headers.map { $0.name == header ? HTTPHeader(header, value) : $0 }
        guard case .malformed(let reason) = verify(request) else {
            Issue.record("expected .malformed for \(header): \(value)")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test("A signed header the request lacks is malformed, not a crash")
    func signedHeaderMissing() {
        var request = signedRequest()
        request.headers.removeAll { $0.name == "Content-Type" }
        guard case .malformed(let reason) = verify(request) else {
            Issue.record("expected .malformed")
            return
        }
        #expect(reason.contains("content-type"))
    }
}

@Suite("SigV4 building blocks")
struct SigV4BuildingBlockTests {
    @Test("AMZDate formats and parses UTC timestamps", arguments: [
        (0.0, "19700101T000000Z"), (951_782_400.0, "20000229T000000Z"), (1_705_314_600.0, "20240115T103000Z"),
        (4_102_444_799.0, "20991231T235959Z"), (-86_400.0, "19691231T000000Z"),
    ])
    func amzDate(seconds: Double, text: String) {
        #expect(AMZDate.format(Date(timeIntervalSince1970: seconds)) == text)
        #expect(AMZDate.parse(text) == Date(timeIntervalSince1970: seconds))
    }

    @Test("AMZDate rejects other forms", arguments: ["2024-01-15T10:30:00Z", "20240115T103000", "20241315T103000Z", "2024011XT103000Z", ""])
    func amzDateRejects(text: String) {
        #expect(AMZDate.parse(text) == nil)
    }

    @Test("SigV4URL splits URLs without decoding")
    func urlSplit() throws {
        let url = try #require(SigV4URL("https://user:pw@DRS.Example.com:443/a%20b/c?x=1&y=%2F#frag"))
        #expect(url.host == "drs.example.com")
        #expect(url.port == 443)
        #expect(url.path == "/a%20b/c")
        #expect(url.query == "x=1&y=%2F")
        #expect(url.hostHeader == "drs.example.com")
        #expect(SigV4URL("http://127.0.0.1:8080")?.hostHeader == "127.0.0.1:8080")
        #expect(SigV4URL("http://127.0.0.1:8080")?.path == "/")
        #expect(SigV4URL("http://[::1]:9000/x")?.hostHeader == "[::1]:9000")
        #expect(SigV4URL("not a url") == nil)
        #expect(SigV4URL("http://host:99999/") == nil)
    }

    @Test("Query canonicalisation decodes, re-encodes and sorts")
    func canonicalQuery() {
        #expect(SigV4Canonical.canonicalQuery("b=2&a=%7e&a=1&c") == "a=1&a=~&b=2&c=")
        #expect(SigV4Canonical.canonicalQuery("k=a+b&s=%2f") == "k=a%2Bb&s=%2F")
    }
}
