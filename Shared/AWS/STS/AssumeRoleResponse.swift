import Foundation

/// Reads STS Query-protocol responses: `AssumeRoleResponse` (or
/// `AssumeRoleWithWebIdentityResponse`) on success, `ErrorResponse` otherwise.
enum AssumeRoleResponse {
    /// An STS error document's fields.
    struct ServiceError: Equatable {
        var code: String
        var message: String
        var requestID: String?
    }

    /// Why a 200 response holds no usable credentials.
    struct Unusable: Error, Equatable { var reason: String }

    /// The temporary credentials in an `AssumeRoleResponse`.
    static func credentials(from body: [UInt8], result name: String = "AssumeRoleResult") throws(Unusable) -> AWSCredentials {
        let xml = Substring(String(decoding: body, as: UTF8.self))
        guard let result = XMLText.element(name, in: xml),
            let credentials = XMLText.element("Credentials", in: result)
        else {
            throw Unusable(reason: "no \(name)/Credentials element")
        }
        guard let keyID = XMLText.text("AccessKeyId", in: credentials), !keyID.isEmpty,
            let secret = XMLText.text("SecretAccessKey", in: credentials), !secret.isEmpty,
            let token = XMLText.text("SessionToken", in: credentials), !token.isEmpty
        else {
            throw Unusable(reason: "Credentials lacks AccessKeyId, SecretAccessKey or SessionToken")
        }
        guard let expirationText = XMLText.text("Expiration", in: credentials),
            let expiration = parseTimestamp(expirationText)
        else {
            throw Unusable(reason: "Credentials has no valid ISO 8601 Expiration")
        }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    /// The fields of an `ErrorResponse`, if `body` is one.
    static func serviceError(from body: [UInt8]) -> ServiceError? {
        let xml = Substring(String(decoding: body, as: UTF8.self))
        guard let error = XMLText.element("Error", in: xml), let code = XMLText.text("Code", in: error) else {
            return nil
        }
        return ServiceError(
            code: code, message: XMLText.text("Message", in: error) ?? "",
            requestID: XMLText.text("RequestId", in: xml))
    }

    /// `2024-01-15T11:30:00Z`, with or without fractional seconds.
    static func parseTimestamp(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }
}
