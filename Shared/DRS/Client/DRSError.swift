import Foundation
import MusterAWS
import MusterHTTP

/// Everything a DRS call can fail with. Model errors carry the model's shape
/// (message, resource ids, quota codes); `Retry-After` is folded into the
/// throttling and internal-server shapes.
public enum DRSError: Error, CustomStringConvertible, Sendable {
    /// 409: the resource is busy (e.g. a source server already in a job).
    case conflict(ConflictException)
    /// 429: slow down; see ``retryAfterSeconds``.
    case throttling(ThrottlingException)
    /// 402: an account quota (e.g. 20 concurrent jobs) is exhausted.
    case serviceQuotaExceeded(ServiceQuotaExceededException)
    /// 400: the request breaks a model rule; `fieldList` names the fields.
    case validation(ValidationException)
    /// 400: DRS is not initialised in this account and region.
    case uninitializedAccount(UninitializedAccountException)
    /// 403: the credentials lack a DRS permission.
    case accessDenied(AccessDeniedException)
    /// 404: the source server, job or instance does not exist.
    case resourceNotFound(ResourceNotFoundException)
    /// 500: DRS failed; retry with backoff.
    case internalServer(InternalServerException)
    /// An error type outside the model, e.g. the gateway's
    /// `UnrecognizedClientException` or `InvalidSignatureException` (403).
    case unknown(type: String, status: Int, message: String?)
    /// No HTTP answer: connection failure, timeout, TLS.
    case transport(HTTPClientError)
    /// The answer was not the JSON the model describes.
    case decoding(operation: String, reason: String)
    /// Credentials could not be obtained (e.g. `sts:AssumeRole` failed).
    case credentials(any Error)

    /// Whether the same request may succeed later: throttling, DRS-side
    /// faults and transport failures. Conflicts and quota errors need the
    /// situation to change first, which callers handle explicitly.
    public var isRetryable: Bool {
        switch self {
        case .throttling, .internalServer, .transport: return true
        case .unknown(_, let status, _): return status >= 500
        case .credentials(let error): return (error as? STSError)?.isRetryable ?? false
        default: return false
        }
    }

    /// Seconds DRS asked the caller to wait (`Retry-After`), if it said.
    public var retryAfterSeconds: Int? {
        switch self {
        case .throttling(let shape): return shape.retryAfterSeconds.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        case .internalServer(let shape): return shape.retryAfterSeconds.map { Int(clamping: $0) }
        default: return nil
        }
    }

    /// Whether the gateway rejected the request's signature or credentials
    /// (bad or expired keys, clock skew) rather than DRS the request.
    public var isAuthenticationFailure: Bool {
        guard case .unknown(let type, let status, _) = self, status == 403 || status == 400 else { return false }
        return Self.authenticationErrorTypes.contains(type)
    }

    static let authenticationErrorTypes: Set<String> = [
        "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
        "MissingAuthenticationTokenException", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch",
    ]

    /// The error type name as DRS spells it (`ConflictException`, …).
    public var errorType: String {
        switch self {
        case .conflict: return ConflictException.errorType
        case .throttling: return ThrottlingException.errorType
        case .serviceQuotaExceeded: return ServiceQuotaExceededException.errorType
        case .validation: return ValidationException.errorType
        case .uninitializedAccount: return UninitializedAccountException.errorType
        case .accessDenied: return AccessDeniedException.errorType
        case .resourceNotFound: return ResourceNotFoundException.errorType
        case .internalServer: return InternalServerException.errorType
        case .unknown(let type, _, _): return type
        case .transport: return "Transport"
        case .decoding: return "Decoding"
        case .credentials: return "Credentials"
        }
    }

    /// The error type, DRS's message, and what to do about it.
    public var description: String {
        switch self {
        case .conflict(let e):
            return "DRS ConflictException\(Self.resource(e.resourceType, e.resourceId)): \(e.message ?? "conflict"); wait for the resource's current job to finish"
        case .throttling(let e):
            return "DRS ThrottlingException: \(e.message); retry after \(retryAfterSeconds.map { "\($0) s" } ?? "a backoff")"
        case .serviceQuotaExceeded(let e):
            let quota = e.quotaCode.map { " (quota \($0))" } ?? ""
            return "DRS ServiceQuotaExceededException\(quota): \(e.message ?? "quota exceeded"); wait for running jobs to finish or raise the quota"
        case .validation(let e):
            let fields = (e.fieldList ?? []).compactMap { field in field.name.map { "\($0): \(field.message ?? "invalid")" } }
            let detail = fields.isEmpty ? "" : " [" + fields.joined(separator: "; ") + "]"
            return "DRS ValidationException (\(e.reason?.rawValue ?? "unknown reason")): \(e.message ?? "invalid request")\(detail)"
        case .uninitializedAccount(let e):
            return "DRS UninitializedAccountException: \(e.message ?? "account not initialised"); initialise Elastic Disaster Recovery in this account and region"
        case .accessDenied(let e):
            return "DRS AccessDeniedException: \(e.message ?? "access denied"); grant the role the missing drs: permission"
        case .resourceNotFound(let e):
            return "DRS ResourceNotFoundException\(Self.resource(e.resourceType, e.resourceId)): \(e.message ?? "not found")"
        case .internalServer(let e):
            return "DRS InternalServerException: \(e.message); retry with backoff"
        case .unknown(let type, let status, let message):
            let hint = isAuthenticationFailure ? "; check the access key, secret, session token and clock" : ""
            return "DRS error \(type) (HTTP \(status)): \(message ?? "no message")\(hint)"
        case .transport(let error):
            return "DRS unreachable: \(error)"
        case .decoding(let operation, let reason):
            return "DRS \(operation) answered with unexpected JSON: \(reason)"
        case .credentials(let error):
            return "no AWS credentials for DRS: \(error)"
        }
    }

    private static func resource(_ type: String?, _ id: String?) -> String {
        switch (type, id) {
        case (let type?, let id?): return " on \(type) \(id)"
        case (nil, let id?): return " on \(id)"
        default: return ""
        }
    }
}
