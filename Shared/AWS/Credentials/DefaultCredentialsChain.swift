import Foundation
import MusterHTTP

/// The AWS SDKs' default credential chain, minus the shared config/credentials
/// files: the first source whose settings are present wins —
/// 1. environment: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
/// 2. web identity (EKS IRSA): `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`;
/// 3. container (ECS task role, EKS Pod Identity): `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
///    or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`;
/// 4. EC2 instance metadata (IMDSv2), unless `AWS_EC2_METADATA_DISABLED=true`.
///
/// Once a source is chosen its errors are reported, not skipped: falling
/// through to a different identity would act with permissions nobody chose.
/// Per-account `sts:AssumeRole` goes on top of whatever this returns.
public enum DefaultCredentialsChain {
    /// The source chosen from the environment (pure; no I/O).
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// Static keys from the environment.
        case environment
        /// `AssumeRoleWithWebIdentity` with a token file.
        case webIdentity(roleARN: String, tokenFile: String, sessionName: String?)
        /// The container credentials endpoint.
        case container(url: String, authorization: ContainerCredentialsProvider.Authorization)
        /// IMDSv2.
        case instanceMetadata(endpoint: String)
        /// Nothing configured and IMDS disabled.
        case none

        /// The source and its non-secret settings, for the start-up log.
        public var description: String {
            switch self {
            case .environment: "environment (AWS_ACCESS_KEY_ID)"
            case .webIdentity(let role, let file, _): "web identity (role \(role), token file \(file))"
            case .container(let url, _): "container endpoint \(HTTPClientError.redact(url))"
            case .instanceMetadata(let endpoint): "EC2 instance metadata (IMDSv2) at \(endpoint)"
            case .none: "none"
            }
        }
    }

    /// Which source the environment selects, in the SDKs' order.
    public static func source(environment env: [String: String]) -> Source {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        if value("AWS_ACCESS_KEY_ID") != nil, value("AWS_SECRET_ACCESS_KEY") != nil { return .environment }
        if let role = value("AWS_ROLE_ARN"), let file = value("AWS_WEB_IDENTITY_TOKEN_FILE") {
            return .webIdentity(roleARN: role, tokenFile: file, sessionName: value("AWS_ROLE_SESSION_NAME"))
        }
        let authorization: ContainerCredentialsProvider.Authorization =
            value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").map { .file($0) }
            ?? value("AWS_CONTAINER_AUTHORIZATION_TOKEN").map { .token($0) } ?? .none
        if let relative = value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            let path = relative.hasPrefix("/") ? relative : "/" + relative
            return .container(url: ContainerCredentialsProvider.ecsHost + path, authorization: authorization)
        }
        if let full = value("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            return .container(url: full, authorization: authorization)
        }
        if value("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" { return .none }
        return .instanceMetadata(
            endpoint: value("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? InstanceMetadataCredentialsProvider.defaultEndpoint)
    }

    /// The STS endpoint for web identity: `AWS_ENDPOINT_URL_STS`, else the
    /// regional endpoint of `AWS_REGION` / `AWS_DEFAULT_REGION` (FIPS when
    /// `AWS_USE_FIPS_ENDPOINT=true`), else us-east-1's.
    public static func stsEndpoint(environment env: [String: String]) -> String {
        if let url = env["AWS_ENDPOINT_URL_STS"], !url.isEmpty { return url }
        let region = [env["AWS_REGION"], env["AWS_DEFAULT_REGION"]].compactMap { $0 }.first { !$0.isEmpty } ?? "us-east-1"
        return AWSEndpoints.url(service: "sts", region: region, fips: env["AWS_USE_FIPS_ENDPOINT"]?.lowercased() == "true")
    }

    /// The provider for the environment's source, and the source (for the start-up log).
    ///
    /// - Throws: `CredentialsProviderError` when nothing is configured, or a container URI is refused.
    public static func provider(
        environment env: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(CredentialsProviderError) -> (provider: any AWSCredentialsProvider, source: Source) {
        let source = source(environment: env)
        switch source {
        case .environment:
            return (EnvironmentCredentialsProvider(environment: env), source)
        case .webIdentity(let role, let file, let session):
            return (WebIdentityCredentialsProvider(
                roleARN: role, tokenFile: file, sessionName: session, stsEndpoint: stsEndpoint(environment: env),
                httpClient: httpClient, now: now), source)
        case .container(let url, let authorization):
            return (try ContainerCredentialsProvider(url: url, authorization: authorization, httpClient: httpClient, now: now),
                    source)
        case .instanceMetadata(let endpoint):
            return (InstanceMetadataCredentialsProvider(endpoint: endpoint, httpClient: httpClient, now: now), source)
        case .none:
            throw CredentialsProviderError(
                provider: "default chain",
                reason: "no credentials source: set AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (IRSA), "
                    + "AWS_CONTAINER_CREDENTIALS_FULL_URI (Pod Identity/ECS), AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, "
                    + "or run on EC2 with an instance profile (AWS_EC2_METADATA_DISABLED is true)")
        }
    }
}
