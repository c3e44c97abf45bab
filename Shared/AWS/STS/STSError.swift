import MusterHTTP

/// `sts:AssumeRole` failed. Descriptions name the role and STS's error code
/// and message, never a key, token or response body.
public struct STSError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// STS answered with an error document (e.g. `AccessDenied`, `Throttling`).
        case service(code: String, message: String)
        /// STS answered something that is not a usable AssumeRole response.
        case invalidResponse(String)
        /// The request never got an answer.
        case transport(HTTPClientError)
    }

    /// What went wrong.
    public var kind: Kind
    /// The role being assumed (an ARN is not a secret).
    public var roleARN: String
    /// The HTTP status, when STS answered.
    public var statusCode: Int?
    /// STS's request id, for AWS support.
    public var requestID: String?

    /// Creates an error.
    public init(kind: Kind, roleARN: String, statusCode: Int? = nil, requestID: String? = nil) {
        self.kind = kind
        self.roleARN = roleARN
        self.statusCode = statusCode
        self.requestID = requestID
    }

    /// Whether trying again later may succeed (throttling, STS-side faults, network).
    public var isRetryable: Bool {
        switch kind {
        case .transport: return true
        case .service(let code, _):
            return code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded"
                || (statusCode ?? 0) >= 500
        case .invalidResponse: return (statusCode ?? 0) >= 500
        }
    }

    /// What failed and what to check.
    public var description: String {
        let context = "sts:AssumeRole of \(roleARN) failed"
        let request = requestID.map { " (request id \($0))" } ?? ""
        switch kind {
        case .service(let code, let message):
            let hint = code == "AccessDenied"
                ? "; check the role's trust policy allows the base principal and that the external id matches" : ""
            return "\(context): \(code): \(message)\(request)\(hint)"
        case .invalidResponse(let reason):
            return "\(context): unexpected response (HTTP \(statusCode.map(String.init) ?? "?")): \(reason)\(request)"
        case .transport(let error):
            return "\(context): \(error)"
        }
    }
}
