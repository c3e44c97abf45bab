import Foundation
import MusterHTTP

/// IRSA and any OIDC federation: reads the token file Kubernetes projects
/// into the pod (`AWS_WEB_IDENTITY_TOKEN_FILE`) and exchanges it with STS
/// `AssumeRoleWithWebIdentity` for `AWS_ROLE_ARN`'s temporary credentials.
/// That call is not signed: the token is the proof. The file is read again
/// on every refresh (the kubelet rotates it). Refreshes 5 minutes before expiry.
public struct WebIdentityCredentialsProvider: AWSCredentialsProvider {
    /// The provider's name in errors and logs.
    public static let name = "web-identity"
    private let cache: RefreshingCredentialsProvider
    /// The role assumed (not a secret).
    public let roleARN: String

    /// - Parameters:
    ///   - roleARN: `AWS_ROLE_ARN`.
    ///   - tokenFile: `AWS_WEB_IDENTITY_TOKEN_FILE`.
    ///   - sessionName: `AWS_ROLE_SESSION_NAME`, else `muster-<timestamp>`.
    ///   - stsEndpoint: STS's endpoint (the regional one from `AWSEndpoints`, or an override).
    ///   - durationSeconds: requested lifetime, if not the role's default.
    public init(
        roleARN: String, tokenFile: String, sessionName: String?, stsEndpoint: String, httpClient: HTTPClient,
        durationSeconds: Int? = nil, refreshMargin: Duration = .seconds(300), timeout: Duration = .seconds(10),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.roleARN = roleARN
        let session = sessionName.flatMap { $0.isEmpty ? nil : $0 }
            ?? "muster-\(Int(now().timeIntervalSince1970))"
        cache = RefreshingCredentialsProvider(refreshMargin: refreshMargin, now: now) {
            try await Self.assume(
                roleARN: roleARN, tokenFile: tokenFile, sessionName: session, endpoint: stsEndpoint,
                httpClient: httpClient, durationSeconds: durationSeconds, timeout: timeout)
        }
    }

    /// Current credentials (cached, refreshed before expiry).
    public func credentials() async throws -> AWSCredentials {
        try await cache.credentials()
    }

    /// How many STS calls were made.
    public var fetches: Int { get async { await cache.fetches } }

    /// The form body of `AssumeRoleWithWebIdentity` (Query protocol, version
    /// 2011-06-15), percent-encoded as SigV4 encodes (the tests compare it
    /// with botocore's serializer).
    public static func form(roleARN: String, sessionName: String, token: String, durationSeconds: Int?) -> String {
        var parameters = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token),
        ]
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        return parameters.map {
            "\(SigV4Canonical.uriEncode(Array($0.0.utf8), keepSlash: false))=\(SigV4Canonical.uriEncode(Array($0.1.utf8), keepSlash: false))"
        }.joined(separator: "&")
    }

    private static func assume(
        roleARN: String, tokenFile: String, sessionName: String, endpoint: String, httpClient: HTTPClient,
        durationSeconds: Int?, timeout: Duration
    ) async throws -> AWSCredentials {
        let token: String
        do {
            token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw CredentialsProviderError(
                provider: name,
                reason: "cannot read AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile); check the projected service-account token volume")
        }
        guard !token.isEmpty else {
            throw CredentialsProviderError(provider: name, reason: "AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile) is empty")
        }
        let body = form(roleARN: roleARN, sessionName: sessionName, token: token, durationSeconds: durationSeconds)
        let request = HTTPRequest(
            method: "POST", url: endpoint.hasSuffix("/") ? endpoint : endpoint + "/",
            headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                      HTTPHeader("Accept", "text/xml")],
            body: Array(body.utf8), timeout: timeout)
        let response: HTTPResponse
        do {
            response = try await httpClient.execute(request)
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
            return try AssumeRoleResponse.credentials(from: response.body, result: "AssumeRoleWithWebIdentityResult")
        } catch {
            throw STSError(kind: .invalidResponse(error.reason), roleARN: roleARN, statusCode: response.status)
        }
    }
}
