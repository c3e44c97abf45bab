import Foundation

/// An access key pair, optionally temporary (session token + expiration).
/// Its descriptions never show the secret or the token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The access key id (`AKIA…` or `ASIA…`); not secret.
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary credentials.
    public var sessionToken: String?
    /// When temporary credentials stop working.
    public var expiration: Date?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// The access key id and expiration; secret and token redacted.
    public var description: String {
        var text = "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        if let expiration { text += ", expiration: \(expiration)" }
        return text + ")"
    }

    /// Same as ``description``: debug output must not leak secrets either.
    public var debugDescription: String { description }

    /// Whether the credentials expire before `now + margin`.
    public func expires(within margin: Duration, of now: Date) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= Double(margin.components.seconds)
    }
}

/// Supplies credentials, fetching or refreshing them as needed.
public protocol AWSCredentialsProvider: Sendable {
    /// Current, unexpired credentials.
    func credentials() async throws -> AWSCredentials
}

/// Always returns the same credentials (tests, long-lived keys from a file).
public struct StaticCredentialsProvider: AWSCredentialsProvider {
    private let value: AWSCredentials

    /// Wraps fixed credentials.
    public init(_ credentials: AWSCredentials) {
        self.value = credentials
    }

    /// The credentials given at creation.
    public func credentials() async throws -> AWSCredentials { value }
}

/// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional
/// `AWS_SESSION_TOKEN`, each optionally prefixed (e.g. `ACCOUNT1_AWS_ACCESS_KEY_ID`
/// for prefix `ACCOUNT1_`), so one process can hold several key pairs.
public struct EnvironmentCredentialsProvider: AWSCredentialsProvider {
    private let prefix: String
    private let environment: [String: String]

    /// - Parameters:
    ///   - prefix: prepended to each variable name.
    ///   - environment: where to read from; the process environment by default.
    public init(prefix: String = "", environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.prefix = prefix
        self.environment = environment
    }

    /// The credentials, or ``AWSCredentialsError/missingEnvironmentVariable(_:)``.
    public func credentials() async throws -> AWSCredentials {
        func value(_ name: String) -> String? {
            environment[prefix + name].flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let keyID = value("AWS_ACCESS_KEY_ID") else {
            throw AWSCredentialsError.missingEnvironmentVariable(prefix + "AWS_ACCESS_KEY_ID")
        }
        guard let secret = value("AWS_SECRET_ACCESS_KEY") else {
            throw AWSCredentialsError.missingEnvironmentVariable(prefix + "AWS_SECRET_ACCESS_KEY")
        }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
    }
}

/// Credentials could not be obtained from local configuration.
public enum AWSCredentialsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A required environment variable is unset or empty.
    case missingEnvironmentVariable(String)

    /// What is missing and how to provide it.
    public var description: String {
        switch self {
        case .missingEnvironmentVariable(let name):
            return "environment variable \(name) is not set; export it (and its AWS_SECRET_ACCESS_KEY partner) or configure another credentials source"
        }
    }
}
