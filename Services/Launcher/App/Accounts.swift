import Foundation
import Logging
import MusterAWS
import MusterDRS
import MusterEC2
import MusterDomain
import MusterEvents
import MusterHTTP
import Synchronization

/// Why the launcher cannot call an endpoint.
public struct AccountError: Error, CustomStringConvertible, Sendable {
    /// A Muster reason code, used as `errorCode` in `job.launch-failed`.
    public var code: String
    /// What is wrong and what to do.
    public var description: String
}

/// The AWS accounts the launcher may call (DESIGN §5 "Accounts"), from
/// configuration and from `accounts.v1`, and one DRS client per (account,
/// region) holding that account's credentials source. Secrets are never
/// held here beyond the providers and never logged.
///
/// An account named by role is assumed with the launcher's *base*
/// credentials: the AWS SDKs' default chain (`DefaultCredentialsChain`):
/// environment keys, web identity (EKS IRSA), the container endpoint (ECS
/// task role, EKS Pod Identity), then EC2 instance metadata. One base
/// provider serves every account, so its cached credentials are shared.
public final class AccountDirectory: Sendable {
    private struct State {
        var registrations: [String: AccountRegistration] = [:]
        var clients: [Endpoint: DRSClient] = [:]
        var base: Result<any AWSCredentialsProvider, CredentialsProviderError>?
        var ec2Clients: [Endpoint: EC2Client] = [:]
        var ssmClients: [Endpoint: SSMClient] = [:]
    }

    private let state = Mutex(State())
    private let configuration: LauncherConfiguration
    private let httpClient: HTTPClient
    private let environment: [String: String]
    private let logger: Logger

    /// A directory seeded with `configuration.accounts`; key pairs and base
    /// credentials are read from `environment`.
    public init(
        configuration: LauncherConfiguration, httpClient: HTTPClient, logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.environment = environment
        self.logger = logger
        for account in configuration.accounts { register(Self.registration(account)) }
    }

    /// The registration an `AccountConfiguration` stands for.
    public static func registration(_ account: AccountConfiguration) -> AccountRegistration {
        let credentials: CredentialsReference = account.roleArn.map { .assumeRole(roleARN: $0, externalID: account.externalId) }
            ?? .keyPair(name: account.keyPair ?? "")
        return AccountRegistration(
            accountID: account.accountId, name: account.name ?? account.accountId, regions: account.regions,
            credentials: credentials)
    }

    /// Adds or replaces an account; its clients are rebuilt on next use.
    public func register(_ registration: AccountRegistration) {
        state.withLock { state in
            state.registrations[registration.accountID] = registration
            state.clients = state.clients.filter { $0.key.accountID != registration.accountID }
            state.ec2Clients = state.ec2Clients.filter { $0.key.accountID != registration.accountID }
            state.ssmClients = state.ssmClients.filter { $0.key.accountID != registration.accountID }
        }
    }

    /// Forgets an account.
    public func remove(accountID: String) {
        state.withLock { state in
            state.registrations[accountID] = nil
            state.clients = state.clients.filter { $0.key.accountID != accountID }
            state.ec2Clients = state.ec2Clients.filter { $0.key.accountID != accountID }
            state.ssmClients = state.ssmClients.filter { $0.key.accountID != accountID }
        }
    }

    /// Every registered (account, region).
    public var endpoints: [Endpoint] {
        state.withLock { state in
            state.registrations.values.flatMap { reg in reg.regions.map { Endpoint(accountID: reg.accountID, region: $0) } }
        }
        .sorted { $0.key < $1.key }
    }

    /// The DRS client of `endpoint`, or an error naming what to register.
    public func client(for endpoint: Endpoint) throws(AccountError) -> DRSClient {
        let result: Result<DRSClient, AccountError> = state.withLock { state in
            if let client = state.clients[endpoint] { return .success(client) }
            guard let registration = state.registrations[endpoint.accountID] else {
                return .failure(AccountError(
                    code: "AccountNotRegistered",
                    description: "account \(endpoint.accountID) is not registered with the launcher: register it "
                        + "through the planner's API (accounts.v1) or MUSTER_LAUNCHER_ACCOUNTS"))
            }
            guard registration.regions.contains(endpoint.region) else {
                return .failure(AccountError(
                    code: "RegionNotRegistered",
                    description: "region \(endpoint.region) is not registered for account \(endpoint.accountID): "
                        + "add it to the account's regions"))
            }
            let credentials: any AWSCredentialsProvider
            switch credentialsProvider(registration, region: endpoint.region, state: &state) {
            case .success(let provider): credentials = provider
            case .failure(let error): return .failure(error)
            }
            let client = DRSClient(
                region: endpoint.region, endpoint: configuration.drsEndpoint(region: endpoint.region),
                credentials: credentials, httpClient: httpClient, logger: logger, timeout: configuration.drsTimeout)
            state.clients[endpoint] = client
            return .success(client)
        }
        return try result.get()
    }

    /// The EC2 client of `endpoint` (launch templates, issue 13), with the account's credentials.
    public func ec2Client(for endpoint: Endpoint) throws(AccountError) -> EC2Client {
        try cachedClient(endpoint, \.ec2Clients) { credentials in
            EC2Client(
                region: endpoint.region, endpoint: configuration.ec2Endpoint(region: endpoint.region),
                credentials: credentials, httpClient: httpClient, logger: logger, timeout: configuration.drsTimeout)
        }
    }

    /// The SSM client of `endpoint` (Automation wave hooks, issue 16), with the account's credentials.
    public func ssmClient(for endpoint: Endpoint) throws(AccountError) -> SSMClient {
        try cachedClient(endpoint, \.ssmClients) { credentials in
            SSMClient(
                region: endpoint.region, endpoint: configuration.ssmEndpoint(region: endpoint.region),
                credentials: credentials, httpClient: httpClient, logger: logger, timeout: configuration.drsTimeout)
        }
    }

    /// A non-DRS client of `endpoint` from `cache`, made by `make` with the
    /// account's credentials on first use (after the DRS client's registration checks).
    private func cachedClient<Client: Sendable>(
        _ endpoint: Endpoint, _ cache: WritableKeyPath<State, [Endpoint: Client]>,
        make: (any AWSCredentialsProvider) -> Client
    ) throws(AccountError) -> Client {
        _ = try client(for: endpoint)  // the same registration checks, with their messages
        let result: Result<Client, AccountError> = state.withLock { state in
            if let client = state[keyPath: cache][endpoint] { return .success(client) }
            guard let registration = state.registrations[endpoint.accountID] else {
                return .failure(AccountError(code: "AccountNotRegistered",
                                             description: "account \(endpoint.accountID) was removed meanwhile"))
            }
            switch credentialsProvider(registration, region: endpoint.region, state: &state) {
            case .success(let credentials):
                let client = make(credentials)
                state[keyPath: cache][endpoint] = client
                return .success(client)
            case .failure(let error):
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The base credentials (built once, on first use, from the default chain).
    private func baseCredentials(_ state: inout State) -> Result<any AWSCredentialsProvider, CredentialsProviderError> {
        if let base = state.base { return base }
        let base: Result<any AWSCredentialsProvider, CredentialsProviderError>
        do {
            let (provider, source) = try DefaultCredentialsChain.provider(environment: environment, httpClient: httpClient)
            logger.info("base AWS credentials for role accounts", metadata: ["source": "\(source)"])
            base = .success(provider)
        } catch {
            base = .failure(error)
        }
        state.base = base
        return base
    }

    private func credentialsProvider(
        _ registration: AccountRegistration, region: String, state: inout State
    ) -> Result<any AWSCredentialsProvider, AccountError> {
        switch registration.credentials {
        case .keyPair(let name):
            return .success(EnvironmentCredentialsProvider(prefix: Self.keyPairPrefix(name), environment: environment))
        case .assumeRole(let roleARN, let externalID):
            switch baseCredentials(&state) {
            case .failure(let error):
                return .failure(AccountError(code: "NoBaseCredentials", description: "\(error)"))
            case .success(let base):
                return .success(AssumeRoleCredentialsProvider(
                    base: base, roleARN: roleARN, externalID: externalID, sessionName: "muster-launcher", region: region,
                    stsEndpoint: configuration.stsEndpoint(region: region), httpClient: httpClient))
            }
        }
    }

    /// `MUSTER_KEY_<NAME>_`: the prefix of a named key pair's variables
    /// (`…AWS_ACCESS_KEY_ID`, `…AWS_SECRET_ACCESS_KEY`, `…AWS_SESSION_TOKEN`).
    public static func keyPairPrefix(_ name: String) -> String {
        "MUSTER_KEY_" + name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined() + "_"
    }
}
