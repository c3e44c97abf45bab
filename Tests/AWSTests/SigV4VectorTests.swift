import Foundation
import MusterAWS
import MusterHTTP
import Testing

/// One request signed by botocore's SigV4Auth (see Vectors/make_vectors.py).
struct SigV4Vector: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var method: String
    var url: String
    var headers: [[String]]
    var bodyBase64: String
    var service: String
    var region: String
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?
    var date: String
    var includeContentSHA256: Bool
    var expectedAuthorization: String
    var expectedAmzDate: String
    var canonicalRequest: String
    var sentHeaders: [[String]]

    var testDescription: String { name }

    var request: HTTPRequest {
        HTTPRequest(method: method, url: url, headers: headers.map { HTTPHeader($0[0], $0[1]) },
                    body: Array(Data(base64Encoded: bodyBase64) ?? Data()))
    }

    var credentials: AWSCredentials {
        AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
    }

    /// 2024-01-15T10:30:00Z, the date every vector was signed at.
    static let signingDate = Date(timeIntervalSince1970: 1_705_314_600)

    static let all: [SigV4Vector] = {
        struct File: Decodable { var cases: [SigV4Vector] }
        guard let url = Bundle.module.url(forResource: "sigv4", withExtension: "json", subdirectory: "Vectors"),
            let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data)
        else { return [] }
        return file.cases
    }()
}

@Suite("SigV4 signatures match botocore's")
struct SigV4VectorTests {
    @Test("The vectors file loads and covers the agreed cases")
    func vectorsLoad() {
        #expect(SigV4Vector.all.count >= 12)
        #expect(SigV4Vector.all.contains { $0.service == "sts" })
        #expect(SigV4Vector.all.contains { $0.sessionToken != nil })
        #expect(SigV4Vector.all.allSatisfy { $0.date == "20240115T103000Z" })
    }

    @Test("Authorization is byte-equal to botocore's", arguments: SigV4Vector.all)
    func signatureMatches(vector: SigV4Vector) {
        let signer = SigV4Signer(service: vector.service, region: vector.region,
                                 includeContentSHA256: vector.includeContentSHA256)
        let signed = signer.sign(vector.request, credentials: vector.credentials, date: SigV4Vector.signingDate)
        #expect(signed.header("Authorization") == vector.expectedAuthorization,
                "botocore's canonical request was:\n\(vector.canonicalRequest)")
        #expect(signed.header("X-Amz-Date") == vector.expectedAmzDate)
        #expect(signed.header("X-Amz-Security-Token") == vector.sessionToken)
        #expect(signed.headers.values(named: "Authorization").count == 1)
    }

    @Test("The verifier accepts botocore's signatures", arguments: SigV4Vector.all)
    func verifierAcceptsBotocore(vector: SigV4Vector) {
        let verifier = SigV4Verifier { $0 == vector.accessKeyID ? vector.secretAccessKey : nil }
        let (path, query) = splitTarget(vector.url)
        let result = verifier.verify(
            method: vector.method, path: path, query: query,
            headers: vector.sentHeaders.map { HTTPHeader($0[0], $0[1]) },
            body: vector.request.body, now: SigV4Vector.signingDate)
        #expect(result == .valid(accessKeyID: vector.accessKeyID, region: vector.region, service: vector.service))
    }
}

/// Path and query of an absolute URL, as a server would receive them.
func splitTarget(_ url: String) -> (path: String, query: String) {
    let afterScheme = url.range(of: "://").map { url[$0.upperBound...] } ?? Substring(url)
    let target = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
    guard let question = target.firstIndex(of: "?") else { return (String(target), "") }
    return (String(target[..<question]), String(target[target.index(after: question)...]))
}

