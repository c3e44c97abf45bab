import Foundation
import MusterHTTP

/// Signs requests with AWS Signature Version 4 (header form).
///
/// Every header present on the request is signed except hop-by-hop ones and
/// `User-Agent`, so set headers such as `Content-Type` before signing and do
/// not change them afterwards.
public struct SigV4Signer: Sendable {
    /// The signing name, e.g. `drs` or `sts`.
    public let service: String
    /// The region in the credential scope, e.g. `us-east-1`.
    public let region: String
    /// Whether to add `X-Amz-Content-SHA256` (required by S3, harmless elsewhere).
    public let includeContentSHA256: Bool

    /// Creates a signer for one service in one region.
    public init(service: String, region: String, includeContentSHA256: Bool = false) {
        self.service = service
        self.region = region
        self.includeContentSHA256 = includeContentSHA256
    }

    /// Returns the request with `X-Amz-Date`, `X-Amz-Security-Token` (for
    /// temporary credentials), `X-Amz-Content-SHA256` (if enabled), `Host`
    /// and `Authorization` added; any earlier values of these are replaced.
    public func sign(_ request: HTTPRequest, credentials: AWSCredentials, date: Date) -> HTTPRequest {
        var signed = request
        let payloadHash = SigV4Canonical.hexSHA256(request.body)
        let amzDate = AMZDate.format(date)
        let url = SigV4URL(request.url)
        var replaced: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token"]
        if includeContentSHA256 { replaced.insert("x-amz-content-sha256") }
        signed.headers.removeAll { replaced.contains($0.name.lowercased()) }
        if signed.header("Host") == nil, let url {
            signed.headers.append(HTTPHeader("Host", url.hostHeader))
        }
        signed.headers.append(HTTPHeader("X-Amz-Date", amzDate))
        if let token = credentials.sessionToken {
            signed.headers.append(HTTPHeader("X-Amz-Security-Token", token))
        }
        if includeContentSHA256 {
            signed.headers.append(HTTPHeader("X-Amz-Content-SHA256", payloadHash))
        }

        let signedNames = SigV4Canonical.signableHeaderNames(signed.headers)
        let canonicalRequest = SigV4Canonical.canonicalRequest(
            method: request.method, rawPath: url?.path ?? "/", rawQuery: url?.query ?? "",
            headers: signed.headers, signedHeaderNames: signedNames, payloadHash: payloadHash)
        let day = AMZDate.day(amzDate)
        let scope = SigV4Canonical.credentialScope(day: day, region: region, service: service)
        let signature = SigV4Canonical.signature(
            secret: credentials.secretAccessKey, day: day, region: region, service: service,
            stringToSign: SigV4Canonical.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonicalRequest))
        signed.headers.append(HTTPHeader(
            "Authorization",
            "\(SigV4Canonical.algorithm) Credential=\(credentials.accessKeyID)/\(scope), "
                + "SignedHeaders=\(signedNames.joined(separator: ";")), Signature=\(signature)"))
        return signed
    }
}
