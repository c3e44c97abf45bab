import MusterHTTP

/// Why an EC2 call failed.
public enum EC2Error: Error, Sendable, CustomStringConvertible {
    /// EC2 answered with an error (`<Response><Errors><Error><Code>`).
    case service(code: String, message: String, status: Int, requestID: String?)
    /// The request never got a complete answer (connect, timeout, reset).
    case transport(HTTPClientError)
    /// No credentials could be had for the account.
    case credentials(any Error)
    /// The answer could not be read.
    case decoding(operation: String, reason: String)

    /// The EC2 error code, or a Muster one for local failures.
    public var code: String {
        switch self {
        case .service(let code, _, _, _): code
        case .transport: "Transport"
        case .credentials: "Credentials"
        case .decoding: "Decoding"
        }
    }

    /// Throttling (`RequestLimitExceeded`), 5xx and transport failures: repeating an idempotent call may succeed.
    public var isRetryable: Bool {
        switch self {
        case .service(let code, _, let status, _):
            status >= 500 || ["RequestLimitExceeded", "Throttling", "ThrottlingException", "ServiceUnavailable",
                              "InternalError", "Unavailable"].contains(code)
        case .transport: true
        case .credentials, .decoding: false
        }
    }

    /// EC2 asked the caller to slow down (`RequestLimitExceeded` and its kin).
    public var isThrottling: Bool {
        if case .service(let code, _, _, _) = self {
            return ["RequestLimitExceeded", "Throttling", "ThrottlingException"].contains(code)
        }
        return false
    }

    /// A 4xx refusal other than throttling: the request is wrong and repeating it cannot help.
    public var isDefinite: Bool {
        if case .service(_, _, let status, _) = self { return status < 500 && !isRetryable }
        return false
    }

    /// What went wrong (never includes credentials).
    public var description: String {
        switch self {
        case .service(let code, let message, let status, let requestID):
            "EC2 \(code) (HTTP \(status)): \(message)\(requestID.map { " [request \($0)]" } ?? "")"
        case .transport(let error): "EC2 transport failure: \(error)"
        case .credentials(let error): "no AWS credentials for the EC2 call: \(error)"
        case .decoding(let operation, let reason): "EC2 \(operation) answer could not be read: \(reason)"
        }
    }

    /// Reads an EC2 error document.
    static func from(status: Int, body: [UInt8]) -> EC2Error {
        let xml = XMLNode.parse(body)
        let error = xml?.first("Error")
        return .service(
            code: error?.string("Code") ?? "HTTP\(status)",
            message: error?.string("Message") ?? String(decoding: body.prefix(200), as: UTF8.self),
            status: status, requestID: xml?.string("RequestID") ?? xml?.string("RequestId"))
    }
}
