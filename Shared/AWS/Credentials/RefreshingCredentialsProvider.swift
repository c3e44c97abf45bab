import Foundation

/// Caches the credentials a fetch returns and fetches again `refreshMargin`
/// before they expire; concurrent callers share one fetch; an early refresh
/// that fails returns the cached credentials while they remain valid for
/// 30 more seconds. Credentials without an expiration are kept for good.
/// The shared core of the web-identity, container and instance-metadata
/// providers (the AWS SDKs refresh the same way).
public actor RefreshingCredentialsProvider: AWSCredentialsProvider {
    private let fetch: @Sendable () async throws -> AWSCredentials
    private let refreshMargin: Duration
    private let now: @Sendable () -> Date
    private var cached: AWSCredentials?
    private var inFlight: Task<AWSCredentials, any Error>?
    /// How many fetches ran (for tests and metrics).
    public private(set) var fetches = 0

    /// - Parameters:
    ///   - refreshMargin: refresh this long before expiry (SDK default: 5 minutes).
    ///   - now: the clock.
    ///   - fetch: obtains fresh credentials.
    public init(
        refreshMargin: Duration = .seconds(300), now: @escaping @Sendable () -> Date = { Date() },
        fetch: @escaping @Sendable () async throws -> AWSCredentials
    ) {
        self.fetch = fetch
        self.refreshMargin = refreshMargin
        self.now = now
    }

    /// Cached credentials, or fresh ones when none are cached or they are
    /// within the refresh margin of expiring.
    public func credentials() async throws -> AWSCredentials {
        if let cached, !cached.expires(within: refreshMargin, of: now()) { return cached }
        if let inFlight { return try await inFlight.value }
        let fetch = self.fetch
        let task = Task { try await fetch() }
        inFlight = task
        fetches += 1
        defer { inFlight = nil }
        do {
            let fresh = try await task.value
            cached = fresh
            return fresh
        } catch {
            if let cached, !cached.expires(within: .seconds(30), of: now()) { return cached }
            throw error
        }
    }
}

/// A credentials provider of the default chain could not produce
/// credentials. Descriptions name the provider, the endpoint (without query
/// or user info) and the reason — never a key, token or response body.
public struct CredentialsProviderError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The provider: `environment`, `web-identity`, `container`, `instance-metadata`.
    public var provider: String
    /// What went wrong and what to check.
    public var reason: String
    /// Whether trying again later may succeed.
    public var isRetryable: Bool

    /// Creates an error.
    public init(provider: String, reason: String, isRetryable: Bool = false) {
        self.provider = provider
        self.reason = reason
        self.isRetryable = isRetryable
    }

    /// `<provider> credentials: <reason>`.
    public var description: String { "\(provider) credentials: \(reason)" }
}

/// The JSON document the container endpoint and instance metadata serve:
/// `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration` (ISO 8601).
struct CredentialsDocument: Decodable {
    var AccessKeyId: String?
    var SecretAccessKey: String?
    var Token: String?
    var Expiration: String?
    /// Instance metadata only: `Success` when the document holds credentials.
    var Code: String?

    /// The credentials, or why there are none (never echoing a value).
    static func credentials(from body: [UInt8], provider: String) throws(CredentialsProviderError) -> AWSCredentials {
        guard let document = try? JSONDecoder().decode(Self.self, from: Data(body)) else {
            throw CredentialsProviderError(provider: provider, reason: "the answer is not a JSON credentials document")
        }
        if let code = document.Code, code != "Success" {
            throw CredentialsProviderError(provider: provider, reason: "the endpoint answered Code \(code)", isRetryable: true)
        }
        guard let keyID = document.AccessKeyId, !keyID.isEmpty, let secret = document.SecretAccessKey, !secret.isEmpty
        else {
            throw CredentialsProviderError(provider: provider, reason: "the document lacks AccessKeyId or SecretAccessKey")
        }
        var expiration: Date?
        if let text = document.Expiration {
            guard let date = AssumeRoleResponse.parseTimestamp(text) else {
                throw CredentialsProviderError(provider: provider, reason: "Expiration is not an ISO 8601 date-time")
            }
            expiration = date
        }
        return AWSCredentials(
            accessKeyID: keyID, secretAccessKey: secret, sessionToken: document.Token.flatMap { $0.isEmpty ? nil : $0 },
            expiration: expiration)
    }
}
