import Foundation
import MusterHTTP

/// Temporary credentials from `sts:AssumeRole`, signed with a base provider's
/// credentials and an external id. Cached until `refreshMargin` (5 minutes)
/// before they expire; concurrent callers share one STS call.
public actor AssumeRoleCredentialsProvider: AWSCredentialsProvider {
    private let base: any AWSCredentialsProvider
    private let roleARN: String
    private let externalID: String?
    private let sessionName: String
    private let signer: SigV4Signer
    private let endpoint: String
    private let httpClient: HTTPClient
    private let durationSeconds: Int
    private let refreshMargin: Duration
    private let timeout: Duration
    private let now: @Sendable () -> Date
    private var cached: AWSCredentials?
    private var inFlight: Task<AWSCredentials, any Error>?

    /// - Parameters:
    ///   - base: credentials allowed to assume the role.
    ///   - roleARN: the role to assume.
    ///   - externalID: the external id the role's trust policy requires, if any.
    ///   - sessionName: appears in CloudTrail as the session (2–64 of `[\w+=,.@-]`).
    ///   - region: signs for STS in this region and picks its regional endpoint.
    ///   - stsEndpoint: overrides `https://sts.{region}.amazonaws.com` (tests, VPC endpoints).
    ///   - durationSeconds: requested lifetime (900 s up to the role's maximum).
    ///   - refreshMargin: refresh this long before expiry.
    ///   - timeout: limit for one STS call.
    ///   - now: the clock (tests pass their own).
    public init(
        base: any AWSCredentialsProvider, roleARN: String, externalID: String?, sessionName: String,
        region: String, stsEndpoint: String? = nil, httpClient: HTTPClient, durationSeconds: Int = 3600,
        refreshMargin: Duration = .seconds(300), timeout: Duration = .seconds(10),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.base = base
        self.roleARN = roleARN
        self.externalID = externalID
        self.sessionName = sessionName
        self.signer = SigV4Signer(service: "sts", region: region)
        self.endpoint = stsEndpoint ?? "https://sts.\(region).amazonaws.com"
        self.httpClient = httpClient
        self.durationSeconds = durationSeconds
        self.refreshMargin = refreshMargin
        self.timeout = timeout
        self.now = now
    }

    /// Cached credentials, or fresh ones from STS when none are cached or the
    /// cached ones are within the refresh margin of expiring. If that refresh
    /// fails while the cached ones are still valid, those are returned.
    public func credentials() async throws -> AWSCredentials {
        if let cached, !cached.expires(within: refreshMargin, of: now()) { return cached }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await self.assumeRole() }
        inFlight = task
        defer { inFlight = nil }
        do {
            let fresh = try await task.value
            cached = fresh
            return fresh
        } catch {
            // An early refresh that fails (STS throttling, a blip) must not
            // fail callers while the cached credentials still work.
            if let cached, !cached.expires(within: .seconds(30), of: now()) { return cached }
            throw error
        }
    }

    /// The form body of `AssumeRole` (Query protocol, version 2011-06-15),
    /// percent-encoded as SigV4 encodes (the tests compare it with botocore's serializer).
    public static func form(roleARN: String, sessionName: String, durationSeconds: Int, externalID: String?) -> String {
        var parameters = [
            ("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("DurationSeconds", String(durationSeconds)),
        ]
        if let externalID { parameters.append(("ExternalId", externalID)) }
        func encode(_ text: String) -> String { SigV4Canonical.uriEncode(Array(text.utf8), keepSlash: false) }
        return parameters.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    /// One STS call: form-encoded Query-protocol POST, SigV4 with service `sts`.
    private nonisolated func assumeRole() async throws -> AWSCredentials {
        let body = Self.form(
            roleARN: roleARN, sessionName: sessionName, durationSeconds: durationSeconds, externalID: externalID)
        let request = HTTPRequest(
            method: "POST", url: endpoint.hasSuffix("/") ? endpoint : endpoint + "/",
            headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                      HTTPHeader("Accept", "text/xml")],
            body: Array(body.utf8), timeout: timeout)
        let signed = signer.sign(request, credentials: try await base.credentials(), date: now())
        let response: HTTPResponse
        do {
            response = try await httpClient.execute(signed)
        } catch let error as HTTPClientError {
            throw STSError(kind: .transport(error), roleARN: roleARN)
        }
        guard response.status == 200 else {
            guard let serviceError = AssumeRoleResponse.serviceError(from: response.body) else {
                throw STSError(kind: .invalidResponse("not an STS ErrorResponse document"), roleARN: roleARN,
                               statusCode: response.status)
            }
            throw STSError(kind: .service(code: serviceError.code, message: serviceError.message), roleARN: roleARN,
                           statusCode: response.status, requestID: serviceError.requestID)
        }
        do {
            return try AssumeRoleResponse.credentials(from: response.body)
        } catch {
            throw STSError(kind: .invalidResponse(error.reason), roleARN: roleARN, statusCode: response.status)
        }
    }
}
