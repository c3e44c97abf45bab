import Foundation
import MusterEvents

/// The body of `POST /v1/accounts` and `PUT /v1/accounts/{id}`.
struct AccountInput: Decodable, Sendable {
    /// How the launcher gets credentials: a reference, never a secret.
    struct Credentials: Codable, Sendable, Equatable {
        enum Kind: String, Codable, Sendable { case assumeRole = "ASSUME_ROLE", keyPair = "KEY_PAIR" }
        var type: Kind
        var roleArn: String?
        var externalId: String?
        var keyPairName: String?
        /// Only decoded to refuse it: secrets never enter the planner.
        var secretAccessKey: String?
    }

    var awsAccountId: String
    var name: String
    var regions: [String]
    var credentials: Credentials
}

/// Account rules, pure.
enum AccountValidator {
    static func validate(_ input: AccountInput, limits: PlannerLimits) throws -> (name: String, regions: [String], CredentialsReference) {
        guard input.awsAccountId.count == 12, input.awsAccountId.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ValidationFailure(field: "awsAccountId", rule: "format", message: "must be the 12-digit AWS account id")
        }
        let name = try FieldRules.name(input.name, field: "name", limits: limits)
        guard !input.regions.isEmpty else {
            throw ValidationFailure(field: "regions", rule: "minItems", message: "list at least one region")
        }
        guard input.regions.count <= 40 else {
            throw ValidationFailure(field: "regions", rule: "maxItems", message: "at most 40 regions")
        }
        var seen = Set<String>()
        for (index, region) in input.regions.enumerated() {
            try checkRegion(region, field: "regions[\(index)]")
            guard seen.insert(region).inserted else {
                throw ValidationFailure(field: "regions[\(index)]", rule: "unique", message: "\(region) is listed twice")
            }
        }
        return (name, input.regions, try credentials(input.credentials))
    }

    static func checkRegion(_ region: String, field: String) throws {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        let valid = parts.count >= 3 && region.count <= 32
            && parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
            && parts.last.map { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } } == true
        guard valid else {
            throw ValidationFailure(field: field, rule: "format", message: "must be an AWS region such as us-east-1")
        }
    }

    static func credentials(_ input: AccountInput.Credentials) throws -> CredentialsReference {
        if input.secretAccessKey != nil {
            throw ValidationFailure(
                field: "credentials.secretAccessKey", rule: "forbidden",
                message: "never send secrets to the planner; give the launcher the key pair and reference it by keyPairName")
        }
        switch input.type {
        case .assumeRole:
            guard let arn = input.roleArn, arn.hasPrefix("arn:aws"), arn.contains(":role/"), arn.unicodeScalars.count <= 2048 else {
                throw ValidationFailure(field: "credentials.roleArn", rule: "format",
                                        message: "ASSUME_ROLE needs roleArn like arn:aws:iam::123456789012:role/Name")
            }
            if let external = input.externalId, external.isEmpty || external.unicodeScalars.count > 1224 {
                throw ValidationFailure(field: "credentials.externalId", rule: "length",
                                        message: "must be 1 to 1224 characters")
            }
            return .assumeRole(roleARN: arn, externalID: input.externalId)
        case .keyPair:
            guard let name = input.keyPairName, !name.isEmpty, name.unicodeScalars.count <= 128 else {
                throw ValidationFailure(field: "credentials.keyPairName", rule: "required",
                                        message: "KEY_PAIR needs keyPairName: the name the launcher holds the keys under")
            }
            return .keyPair(name: name)
        }
    }
}
