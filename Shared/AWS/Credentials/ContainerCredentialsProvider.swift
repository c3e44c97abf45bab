import Foundation
import MusterHTTP

/// ECS task roles and EKS Pod Identity: GETs credentials from the container
/// credentials endpoint — `http://169.254.170.2` + `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
/// (ECS), or `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity's
/// `http://169.254.170.23/v1/credentials`) — sending the
/// `Authorization` token from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
/// (read on every refresh; EKS rotates it) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
/// As the SDKs do, a full URI over plain HTTP must name a loopback or
/// container-metadata host. Refreshes 5 minutes before expiry.
public struct ContainerCredentialsProvider: AWSCredentialsProvider {
    /// The provider's name in errors and logs.
    public static let name = "container"
    /// ECS's credentials host for relative URIs.
    public static let ecsHost = "http://169.254.170.2"
    private let cache: RefreshingCredentialsProvider
    /// The endpoint (not secret; no query is ever logged).
    public let url: String

    /// Where the authorization token comes from.
    public enum Authorization: Sendable, Equatable {
        /// No header.
        case none
        /// A fixed token.
        case token(String)
        /// A file read on every fetch.
        case file(String)
    }

    /// - Throws: `CredentialsProviderError` when a plain-HTTP full URI names a host the SDKs refuse.
    public init(
        url: String, authorization: Authorization, httpClient: HTTPClient, refreshMargin: Duration = .seconds(300),
        timeout: Duration = .seconds(5), now: @escaping @Sendable () -> Date = { Date() }
    ) throws(CredentialsProviderError) {
        guard Self.isAllowed(url) else {
            throw CredentialsProviderError(
                provider: Self.name,
                reason: "AWS_CONTAINER_CREDENTIALS_FULL_URI \(HTTPClientError.redact(url)) must be https, or http to a "
                    + "loopback address, 169.254.170.2 or 169.254.170.23")
        }
        self.url = url
        cache = RefreshingCredentialsProvider(refreshMargin: refreshMargin, now: now) {
            try await Self.fetch(url: url, authorization: authorization, httpClient: httpClient, timeout: timeout)
        }
    }

    /// Current credentials (cached, refreshed before expiry).
    public func credentials() async throws -> AWSCredentials {
        try await cache.credentials()
    }

    /// How many fetches were made.
    public var fetches: Int { get async { await cache.fetches } }

    /// https anywhere; http only to loopback or the ECS / EKS Pod Identity hosts.
    static func isAllowed(_ url: String) -> Bool {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { return true }
        guard lower.hasPrefix("http://") else { return false }
        var authority = lower.dropFirst("http://".count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority.prefix { $0 != ":" }
        }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "169.254.170.2"
            || host == "169.254.170.23" || host == "fd00:ec2::23"
    }

    private static func fetch(
        url: String, authorization: Authorization, httpClient: HTTPClient, timeout: Duration
    ) async throws -> AWSCredentials {
        var headers = [HTTPHeader("Accept", "application/json")]
        switch authorization {
        case .none:
            break
        case .token(let token):
            headers.append(HTTPHeader("Authorization", token))
        case .file(let path):
            let token: String
            do {
                token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw CredentialsProviderError(
                    provider: name, reason: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path)")
            }
            headers.append(HTTPHeader("Authorization", token))
        }
        let response: HTTPResponse
        do {
            response = try await httpClient.execute(HTTPRequest(method: "GET", url: url, headers: headers, timeout: timeout))
        } catch let error as HTTPClientError {
            throw CredentialsProviderError(provider: name, reason: error.description, isRetryable: true)
        }
        guard response.status == 200 else {
            throw CredentialsProviderError(
                provider: name,
                reason: "\(HTTPClientError.redact(url)) answered HTTP \(response.status)"
                    + (response.status == 401 || response.status == 403 ? "; check the authorization token" : ""),
                isRetryable: response.status >= 500 || response.status == 429)
        }
        return try CredentialsDocument.credentials(from: response.body, provider: name)
    }
}
