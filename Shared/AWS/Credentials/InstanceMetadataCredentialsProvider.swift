import Foundation
import MusterHTTP

/// EC2 instance profiles through IMDSv2: `PUT /latest/api/token` (with
/// `X-aws-ec2-metadata-token-ttl-seconds`) for a session token, then, with
/// that token in `X-aws-ec2-metadata-token`, `GET
/// /latest/meta-data/iam/security-credentials/` for the role name and `GET
/// …/security-credentials/<role>` for the credentials document. IMDSv1 (no
/// token) is never used. Refreshes 5 minutes before expiry.
public struct InstanceMetadataCredentialsProvider: AWSCredentialsProvider {
    /// The provider's name in errors and logs.
    public static let name = "instance-metadata"
    /// IMDS's default address (`AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides it).
    public static let defaultEndpoint = "http://169.254.169.254"
    private let cache: RefreshingCredentialsProvider
    /// The IMDS endpoint.
    public let endpoint: String

    /// - Parameters:
    ///   - endpoint: IMDS (`AWS_EC2_METADATA_SERVICE_ENDPOINT`, default `http://169.254.169.254`).
    ///   - tokenTTLSeconds: lifetime asked for each session token (1–21600).
    public init(
        endpoint: String = defaultEndpoint, httpClient: HTTPClient, tokenTTLSeconds: Int = 21600,
        refreshMargin: Duration = .seconds(300), timeout: Duration = .seconds(2),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.endpoint = base
        cache = RefreshingCredentialsProvider(refreshMargin: refreshMargin, now: now) {
            try await Self.fetch(base: base, httpClient: httpClient, ttl: tokenTTLSeconds, timeout: timeout)
        }
    }

    /// Current credentials (cached, refreshed before expiry).
    public func credentials() async throws -> AWSCredentials {
        try await cache.credentials()
    }

    /// How many credential fetches were made.
    public var fetches: Int { get async { await cache.fetches } }

    private static func fetch(base: String, httpClient: HTTPClient, ttl: Int, timeout: Duration) async throws
        -> AWSCredentials
    {
        func call(_ method: String, _ path: String, _ headers: [HTTPHeader]) async throws -> HTTPResponse {
            do {
                return try await httpClient.execute(HTTPRequest(
                    method: method, url: base + path, headers: headers, connectTimeout: timeout, timeout: timeout))
            } catch let error as HTTPClientError {
                throw CredentialsProviderError(
                    provider: name, reason: "\(error.description) (is this an EC2 instance with IMDS enabled?)",
                    isRetryable: true)
            }
        }
        let tokenResponse = try await call(
            "PUT", "/latest/api/token", [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", String(ttl))])
        guard tokenResponse.status == 200, !tokenResponse.body.isEmpty else {
            throw CredentialsProviderError(
                provider: name,
                reason: "IMDSv2 token request answered HTTP \(tokenResponse.status)"
                    + (tokenResponse.status == 403 ? "; IMDS may be disabled for this instance" : ""),
                isRetryable: tokenResponse.status >= 500)
        }
        let token = HTTPHeader("X-aws-ec2-metadata-token", String(decoding: tokenResponse.body, as: UTF8.self))
        let listing = try await call("GET", "/latest/meta-data/iam/security-credentials/", [token])
        let role = String(decoding: listing.body, as: UTF8.self).split(whereSeparator: \.isNewline).first
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard listing.status == 200, !role.isEmpty else {
            throw CredentialsProviderError(
                provider: name,
                reason: listing.status == 404 || role.isEmpty
                    ? "the instance has no IAM instance profile; attach one with the Muster launcher role"
                    : "role listing answered HTTP \(listing.status)",
                isRetryable: listing.status >= 500)
        }
        let encoded = role.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? role
        let document = try await call("GET", "/latest/meta-data/iam/security-credentials/\(encoded)", [token])
        guard document.status == 200 else {
            throw CredentialsProviderError(
                provider: name, reason: "credentials of role \(role) answered HTTP \(document.status)",
                isRetryable: document.status >= 500)
        }
        return try CredentialsDocument.credentials(from: document.body, provider: name)
    }
}
