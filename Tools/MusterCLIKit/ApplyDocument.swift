import Foundation
import Yams

/// A file of desired state for `muster apply`: accounts, protection groups
/// and plans by name, in YAML or JSON. Plans name their waves' protection
/// groups (`protectionGroups: [Database]`) instead of ids; `dependsOn`
/// names waves.
public struct ApplyDocument: Equatable, Sendable {
    /// `accounts:` entries (API `AccountInput` bodies).
    public var accounts: [[String: JSONValue]]
    /// `protectionGroups:` entries (API `ProtectionGroupInput` bodies).
    public var protectionGroups: [[String: JSONValue]]
    /// `plans:` entries (API `PlanInput` bodies, waves naming groups).
    public var plans: [[String: JSONValue]]

    /// Parses YAML (a superset of JSON).
    public init(text: String) throws {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw CLIError.invalidFile("not YAML or JSON: \(error)")
        }
        guard case .object(let root) = try JSONValue(any: loaded) else {
            throw CLIError.invalidFile("the top level must be a mapping with accounts, protectionGroups and/or plans")
        }
        let known: Set<String> = ["accounts", "protectionGroups", "plans"]
        if let unknown = root.keys.first(where: { !known.contains($0) }) {
            throw CLIError.invalidFile("unknown top-level key '\(unknown)'; expected accounts, protectionGroups, plans")
        }
        func entries(_ key: String) throws -> [[String: JSONValue]] {
            guard let value = root[key] else { return [] }
            guard let array = value.array else { throw CLIError.invalidFile("\(key) must be a list") }
            return try array.enumerated().map { index, entry in
                guard let object = entry.object, object["name"]?.string?.isEmpty == false else {
                    throw CLIError.invalidFile("\(key)[\(index)] must be a mapping with a name")
                }
                return object
            }
        }
        accounts = try entries("accounts")
        protectionGroups = try entries("protectionGroups")
        plans = try entries("plans")
    }

    /// The API body of `plan`, its waves' group names replaced by the ids in
    /// `groupIDs` (keys lowercased names). Throws naming an unknown group.
    public static func planBody(_ plan: [String: JSONValue], groupIDs: [String: String]) throws -> JSONValue {
        var body = plan
        guard let waves = plan["waves"]?.array else {
            throw CLIError.invalidFile("plan \(plan["name"]?.string ?? "?") needs waves")
        }
        body["waves"] = .array(try waves.map { wave in
            guard var object = wave.object else { throw CLIError.invalidFile("a wave must be a mapping") }
            if let names = object.removeValue(forKey: "protectionGroups") {
                let ids = try (names.array ?? []).map { name -> JSONValue in
                    guard let text = name.string, let id = groupIDs[text.lowercased()] else {
                        throw CLIError.notFound("protection group '\(name.string ?? "?")' in wave \(object["name"]?.string ?? "?")")
                    }
                    return .string(id)
                }
                object["protectionGroupIds"] = .array(ids)
            }
            return .object(object)
        })
        // Per-group profile overrides name their groups too (`protectionGroups: {Database: {drillProfile: …}}`).
        if let overrides = plan["protectionGroups"] {
            guard let object = overrides.object else {
                throw CLIError.invalidFile("protectionGroups of plan \(plan["name"]?.string ?? "?") must be a mapping of group names")
            }
            var byID: [String: JSONValue] = [:]
            for (name, value) in object {
                guard let id = groupIDs[name.lowercased()] ?? (UUID(uuidString: name) != nil ? name : nil) else {
                    throw CLIError.notFound("protection group '\(name)' in protectionGroups of plan \(plan["name"]?.string ?? "?")")
                }
                byID[id] = value
            }
            body["protectionGroups"] = .object(byID)
        }
        return .object(body)
    }
}
