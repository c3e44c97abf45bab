import Foundation

/// The body of `POST /v1/protection-groups` and `PUT /v1/protection-groups/{id}`:
/// exactly one of explicit server ids or a tag selector.
struct GroupInput: Decodable, Sendable {
    var name: String
    var region: String
    var sourceServerIds: [String]?
    var tagSelector: [String: String]?
}

/// How a protection group picks its servers.
enum GroupSelection: Codable, Sendable, Equatable {
    case servers([String])
    case tags([String: String])
}

/// Protection group rules that need no database, pure.
enum GroupValidator {
    static func validate(_ input: GroupInput, limits: PlannerLimits) throws -> (name: String, region: String, GroupSelection) {
        let name = try FieldRules.name(input.name, field: "name", limits: limits)
        try AccountValidator.checkRegion(input.region, field: "region")
        switch (input.sourceServerIds, input.tagSelector) {
        case (let ids?, nil):
            guard !ids.isEmpty else {
                throw ValidationFailure(field: "sourceServerIds", rule: "minItems", message: "list at least one server")
            }
            guard ids.count <= limits.maxServersPerGroup else {
                throw ValidationFailure(field: "sourceServerIds", rule: "maxItems",
                                        message: "a protection group holds at most \(limits.maxServersPerGroup) servers")
            }
            var seen = Set<String>()
            for (index, id) in ids.enumerated() {
                guard id.hasPrefix("s-"), id.count <= 64, id.dropFirst(2).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
                      id.count > 2 else {
                    throw ValidationFailure(field: "sourceServerIds[\(index)]", rule: "format",
                                            message: "must be a DRS source server id such as s-1234567890abcdef0")
                }
                guard seen.insert(id).inserted else {
                    throw ValidationFailure(field: "sourceServerIds[\(index)]", rule: "unique", message: "\(id) is listed twice")
                }
            }
            return (name, input.region, .servers(ids))
        case (nil, let tags?):
            guard !tags.isEmpty, tags.count <= 10 else {
                throw ValidationFailure(field: "tagSelector", rule: "size", message: "give 1 to 10 tags to match")
            }
            for (key, value) in tags where key.isEmpty || key.unicodeScalars.count > 128 || value.unicodeScalars.count > 256 {
                throw ValidationFailure(field: "tagSelector.\(key)", rule: "length",
                                        message: "tag keys are 1-128 characters, values at most 256")
            }
            return (name, input.region, .tags(tags))
        default:
            throw ValidationFailure(field: "sourceServerIds", rule: "exclusive",
                                    message: "give exactly one of sourceServerIds or tagSelector")
        }
    }
}
