/// The address of one DRS endpoint: an AWS account in one region. Every
/// launcher-bound record is keyed by it (DESIGN §3), so one launcher instance
/// owns each endpoint's request budget.
public struct Endpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 12-digit AWS account id.
    public var accountID: String
    /// The AWS region, e.g. `us-east-1`.
    public var region: String

    /// Creates an endpoint address.
    public init(accountID: String, region: String) {
        self.accountID = accountID
        self.region = region
    }

    /// The Kafka key form `accountId/region`.
    public var key: String { "\(accountID)/\(region)" }

    /// Parses the Kafka key form `accountId/region`; nil when malformed.
    public init?(key: String) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(accountID: String(parts[0]), region: String(parts[1]))
    }

    /// The key form.
    public var description: String { key }
}
