import Foundation
import MusterDRS

/// An error drs-sim answers a DRS request with, ready for the wire.
///
/// Carries what the REST-JSON protocol needs: the HTTP status, the error type for the
/// `x-amzn-ErrorType` header, the JSON body (the model's error shape) and, for throttling and
/// internal errors, the `Retry-After` seconds.
public struct DRSSimError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error type, e.g. `ConflictException`.
    public let errorType: String
    /// The HTTP status.
    public let httpStatus: Int
    /// The human-readable message (also in the body).
    public let message: String
    /// The JSON body.
    public let body: Data
    /// Seconds for the `Retry-After` header, if any.
    public let retryAfterSeconds: Int?

    /// Wraps a model error shape.
    public init<Shape: DRSErrorShape>(_ shape: Shape, message: String, retryAfterSeconds: Int? = nil) {
        self.errorType = Shape.errorType
        self.httpStatus = Shape.httpStatusCode
        self.message = message
        self.body = (try? JSONEncoder.drsSim.encode(shape)) ?? Data()
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// An error outside the DRS model: the SigV4 failures AWS's front door answers with
    /// (`InvalidSignatureException`, `UnrecognizedClientException`, …).
    public init(errorType: String, httpStatus: Int, message: String) {
        self.errorType = errorType
        self.httpStatus = httpStatus
        self.message = message
        self.body = (try? JSONEncoder.drsSim.encode(["message": message])) ?? Data()
        self.retryAfterSeconds = nil
    }

    /// Decodes the body as `shape`, if this error is of that type.
    public func decode<Shape: DRSErrorShape>(_ shape: Shape.Type) -> Shape? {
        guard errorType == Shape.errorType else { return nil }
        return try? JSONDecoder().decode(Shape.self, from: body)
    }

    /// `ErrorType: message`.
    public var description: String { "\(errorType): \(message)" }
}

extension DRSSimError {
    /// `ConflictException` (409) naming the resource in the way.
    public static func conflict(_ message: String, resourceID: String, resourceType: String) -> DRSSimError {
        DRSSimError(
            ConflictException(message: message, code: "CONFLICT", resourceId: resourceID, resourceType: resourceType),
            message: message
        )
    }

    /// `ServiceQuotaExceededException` (402).
    public static func quotaExceeded(_ message: String, quotaCode: String, resourceType: String) -> DRSSimError {
        DRSSimError(
            ServiceQuotaExceededException(
                message: message, code: "SERVICE_QUOTA_EXCEEDED", resourceType: resourceType,
                serviceCode: "drs", quotaCode: quotaCode
            ),
            message: message
        )
    }

    /// `ThrottlingException` (429) with `Retry-After`.
    public static func throttling(retryAfterSeconds: Int) -> DRSSimError {
        let message = "Rate exceeded: too many DRS requests for this account and region. Retry after \(retryAfterSeconds) s."
        return DRSSimError(
            ThrottlingException(
                message: message, serviceCode: "drs", quotaCode: "drs-sim-request-rate",
                retryAfterSeconds: String(retryAfterSeconds)
            ),
            message: message, retryAfterSeconds: retryAfterSeconds
        )
    }

    /// `ValidationException` (400) naming each offending field.
    public static func validation(
        _ message: String, reason: ValidationExceptionReason = .fieldValidationFailed,
        fields: [ValidationExceptionField] = []
    ) -> DRSSimError {
        DRSSimError(
            ValidationException(
                message: message, code: "VALIDATION_EXCEPTION", reason: reason,
                fieldList: fields.isEmpty ? nil : fields
            ),
            message: message
        )
    }

    /// `ValidationException` for one field.
    public static func invalidField(_ name: String, _ message: String) -> DRSSimError {
        validation(
            "Invalid value for \(name): \(message)",
            fields: [ValidationExceptionField(name: name, message: message)]
        )
    }

    /// `ResourceNotFoundException` (404).
    public static func notFound(_ message: String, resourceID: String, resourceType: String) -> DRSSimError {
        DRSSimError(
            ResourceNotFoundException(
                message: message, code: "RESOURCE_NOT_FOUND", resourceId: resourceID, resourceType: resourceType
            ),
            message: message
        )
    }

    /// `InternalServerException` (500), e.g. an injected fault.
    public static func internalError(_ message: String, retryAfterSeconds: Int? = nil) -> DRSSimError {
        DRSSimError(
            InternalServerException(
                message: message, retryAfterSeconds: retryAfterSeconds.map { Int64($0) }
            ),
            message: message, retryAfterSeconds: retryAfterSeconds
        )
    }

    /// `UninitializedAccountException` (400): DRS is not set up for this account and region.
    public static func uninitialized(accountID: String, region: String) -> DRSSimError {
        let message = "Account \(accountID) is not initialized for DRS in \(region). "
            + "Seed an estate for it (seed file or POST /admin/seed) before calling DRS there."
        return DRSSimError(
            UninitializedAccountException(message: message, code: "UNINITIALIZED_ACCOUNT"),
            message: message
        )
    }
}

extension JSONEncoder {
    /// The encoder drs-sim answers with: stable key order, so output is deterministic.
    static var drsSim: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
