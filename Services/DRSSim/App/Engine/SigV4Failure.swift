import Foundation
import MusterAWS

/// The answers AWS's front door gives requests whose SigV4 authentication fails. They are not
/// in the DRS model (the gateway answers before DRS sees the request), so they are spelled out
/// here with AWS's status (403) and messages.
enum SigV4Failure {
    static let missing = DRSSimError(
        errorType: "MissingAuthenticationTokenException", httpStatus: 403, message: "Missing Authentication Token"
    )

    static let unknownKey = DRSSimError(
        errorType: "UnrecognizedClientException", httpStatus: 403,
        message: "The security token included in the request is invalid."
    )

    static let mismatch = DRSSimError(
        errorType: "InvalidSignatureException", httpStatus: 403,
        message: "The request signature we calculated does not match the signature you provided. "
            + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )

    /// Maps a verification outcome to the access key and region, or the error AWS answers.
    static func map(_ outcome: SigV4Verification, maxSkew: TimeInterval) -> Result<(String, String), DRSSimError> {
        switch outcome {
        case .valid(let accessKeyID, let region, let service):
            // drs-sim serves DRS, EC2's launch-template subset (issue 13) and SSM Automation (issue 16).
            guard service == "drs" || service == "ec2" || service == "ssm" else {
                return .failure(DRSSimError(
                    errorType: "InvalidSignatureException", httpStatus: 403,
                    message: "Credential should be scoped to correct service: 'drs' (or 'ec2', 'ssm'). "
                ))
            }
            return .success((accessKeyID, region))
        case .missingAuthentication:
            return .failure(missing)
        case .malformed(let why):
            return .failure(DRSSimError(errorType: "IncompleteSignatureException", httpStatus: 403, message: why))
        case .unknownAccessKey:
            return .failure(unknownKey)
        case .signatureMismatch:
            return .failure(mismatch)
        case .expired(let requestDate, let serverDate):
            return .failure(DRSSimError(
                errorType: "InvalidSignatureException", httpStatus: 403,
                message: expiredMessage(requestDate: requestDate, serverDate: serverDate, maxSkew: maxSkew)
            ))
        }
    }

    /// AWS's wording, e.g. `Signature expired: 20240101T000000Z is now earlier than
    /// 20240101T000500Z (20240101T001000Z - 5 min.)`.
    static func expiredMessage(requestDate: Date, serverDate: Date, maxSkew: TimeInterval) -> String {
        let minutes = Int(maxSkew / 60)
        if requestDate < serverDate {
            return "Signature expired: \(amz(requestDate)) is now earlier than \(amz(serverDate.addingTimeInterval(-maxSkew))) "
                + "(\(amz(serverDate)) - \(minutes) min.)"
        }
        return "Signature not yet current: \(amz(requestDate)) is still later than \(amz(serverDate.addingTimeInterval(maxSkew))) "
            + "(\(amz(serverDate)) + \(minutes) min.)"
    }

    private static func amz(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0,
            c.second ?? 0
        )
    }
}
