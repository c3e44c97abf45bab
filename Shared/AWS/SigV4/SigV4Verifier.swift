import Foundation
import MusterDomain
import MusterHTTP

/// The outcome of checking a request's SigV4 signature.
public enum SigV4Verification: Sendable, Equatable {
    /// The signature matches; the credential scope names region and service.
    case valid(accessKeyID: String, region: String, service: String)
    /// The request has no `Authorization` header.
    case missingAuthentication
    /// The `Authorization` or `X-Amz-Date` header cannot be understood; says why.
    case malformed(String)
    /// The access key is not one the server knows.
    case unknownAccessKey
    /// The recomputed signature differs (wrong secret, or the request was altered).
    case signatureMismatch
    /// The signature is genuine but its date is too far from the server's clock.
    case expired(requestDate: Date, serverDate: Date)
}

/// Server-side SigV4 verification (drs-sim uses it): parses `Authorization`,
/// looks up the secret by access key and recomputes the signature over the
/// request exactly as received.
public struct SigV4Verifier: Sendable {
    private let maxSkew: Duration
    private let secretForAccessKey: @Sendable (String) -> String?

    /// - Parameters:
    ///   - maxSkew: how far the request's `X-Amz-Date` may be from `now` (AWS allows 5 minutes).
    ///   - secretForAccessKey: the secret for an access key id, or nil if unknown.
    public init(maxSkew: Duration = .seconds(300), secretForAccessKey: @escaping @Sendable (String) -> String?) {
        self.maxSkew = maxSkew
        self.secretForAccessKey = secretForAccessKey
    }

    /// Verifies a request.
    /// - Parameters:
    ///   - path: the raw (still percent-encoded) request path.
    ///   - query: the raw query string without `?`.
    ///   - headers: the received headers (names in any case).
    public func verify(
        method: String, path: String, query: String, headers: [HTTPHeader], body: [UInt8], now: Date
    ) -> SigV4Verification {
        guard let authorization = headers.first(named: "Authorization") else { return .missingAuthentication }
        let parsed: SigV4Authorization
        switch SigV4Authorization.parse(authorization) {
        case .success(let value): parsed = value
        case .failure(let problem): return .malformed(problem.message)
        }
        guard let amzDate = headers.first(named: "X-Amz-Date"), let requestDate = AMZDate.parse(amzDate) else {
            return .malformed("X-Amz-Date header missing or not in yyyyMMdd'T'HHmmss'Z' form")
        }
        guard AMZDate.day(amzDate) == parsed.day else {
            return .malformed("credential scope date \(parsed.day) does not match X-Amz-Date \(amzDate)")
        }
        for required in ["host", "x-amz-date"] where !parsed.signedHeaders.contains(required) {
            return .malformed("SignedHeaders must include \(required)")
        }
        for name in parsed.signedHeaders where headers.first(named: name) == nil {
            return .malformed("signed header \(name) is not present in the request")
        }
        guard let secret = secretForAccessKey(parsed.accessKeyID) else { return .unknownAccessKey }

        let bodyHash = SigV4Canonical.hexSHA256(body)
        var payloadHash = bodyHash
        if let declared = headers.first(named: "X-Amz-Content-SHA256") {
            guard declared == "UNSIGNED-PAYLOAD" || declared == bodyHash else { return .signatureMismatch }
            payloadHash = declared
        }
        let canonicalRequest = SigV4Canonical.canonicalRequest(
            method: method, rawPath: path, rawQuery: query, headers: headers,
            signedHeaderNames: parsed.signedHeaders, payloadHash: payloadHash)
        let scope = SigV4Canonical.credentialScope(day: parsed.day, region: parsed.region, service: parsed.service)
        let expected = SigV4Canonical.signature(
            secret: secret, day: parsed.day, region: parsed.region, service: parsed.service,
            stringToSign: SigV4Canonical.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonicalRequest))
        guard constantTimeEquals(expected, parsed.signature) else { return .signatureMismatch }

        let skew = abs(now.timeIntervalSince(requestDate))
        if skew > maxSkew.seconds {
            return .expired(requestDate: requestDate, serverDate: now)
        }
        return .valid(accessKeyID: parsed.accessKeyID, region: parsed.region, service: parsed.service)
    }

    private func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct SigV4Authorization: Equatable {
    struct Problem: Error, Equatable { var message: String }

    var accessKeyID: String
    var day: String
    var region: String
    var service: String
    var signedHeaders: [String]
    var signature: String

    static func parse(_ header: String) -> Result<SigV4Authorization, Problem> {
        let prefix = SigV4Canonical.algorithm + " "
        guard header.hasPrefix(prefix) else {
            return .failure(Problem(message: "Authorization must start with \(SigV4Canonical.algorithm)"))
        }
        var fields: [String: String] = [:]
        for part in header.dropFirst(prefix.count).split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "=") else {
                return .failure(Problem(message: "Authorization component '\(trimmed.prefix(40))' has no '='"))
            }
            fields[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            return .failure(Problem(message: "Authorization needs Credential, SignedHeaders and Signature"))
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty, scope[1].count == 8 else {
            return .failure(Problem(message: "Credential must be <key>/<yyyyMMdd>/<region>/<service>/aws4_request"))
        }
        let names = signedHeaders.split(separator: ";").map(String.init)
        guard !names.isEmpty, names == names.map({ $0.lowercased() }).sorted() else {
            return .failure(Problem(message: "SignedHeaders must be lowercase names sorted and separated by ';'"))
        }
        guard signature.count == 64, signature.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            return .failure(Problem(message: "Signature must be 64 lowercase hex digits"))
        }
        return .success(SigV4Authorization(
            accessKeyID: scope[0], day: scope[1], region: scope[2], service: scope[3],
            signedHeaders: names, signature: signature))
    }
}
