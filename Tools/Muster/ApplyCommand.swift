import ArgumentParser
import Foundation
import MusterCLIKit

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create or update accounts, protection groups and plans from a YAML or JSON file (matched by name).")

    @OptionGroup var connection: Connection
    @Option(name: .shortAndLong, help: "The file to apply.") var file: String

    func run() async throws {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw CLIError.invalidFile("cannot read \(file): \(error.localizedDescription)")
        }
        let document = try ApplyDocument(text: text)
        try await connection.with { api in
            let accountKey = "awsAccountId"
            try await upsert(api, path: "/v1/accounts", kind: "account", entries: document.accounts) { entry in
                entry[accountKey]?.string ?? entry["name"]?.string ?? ""
            } keyOfExisting: { $0[accountKey]?.string ?? "" }
            let groups = try await upsert(
                api, path: "/v1/protection-groups", kind: "protection group",
                entries: document.protectionGroups.map(JSONValue.object))
            var groupIDs = groups
            for existing in try await api.all("/v1/protection-groups") {
                if let name = existing["name"]?.string, let id = existing["id"]?.string { groupIDs[name.lowercased()] = id }
            }
            let plans = try document.plans.map { try ApplyDocument.planBody($0, groupIDs: groupIDs) }
            try await upsert(api, path: "/v1/plans", kind: "plan", entries: plans)
        }
    }

    /// Creates or updates each entry by name; returns lowercased name → id.
    @discardableResult
    private func upsert(
        _ api: APIClient, path: String, kind: String, entries: [JSONValue],
        key: (JSONValue) -> String = { $0["name"]?.string ?? "" },
        keyOfExisting: (JSONValue) -> String = { $0["name"]?.string ?? "" }
    ) async throws -> [String: String] {
        guard !entries.isEmpty else { return [:] }
        var existing: [String: String] = [:]
        for item in try await api.all(path) {
            if let id = item["id"]?.string { existing[keyOfExisting(item).lowercased()] = id }
        }
        var ids: [String: String] = [:]
        for entry in entries {
            let name = key(entry)
            let result: JSONValue
            if let id = existing[name.lowercased()] {
                result = try await api.send("PUT", "\(path)/\(id)", body: entry)
                print("updated \(kind) \(name)")
            } else {
                result = try await api.send("POST", path, body: entry)
                print("created \(kind) \(name)")
            }
            if let id = result["id"]?.string, let entryName = entry["name"]?.string { ids[entryName.lowercased()] = id }
        }
        return ids
    }

    private func upsert(
        _ api: APIClient, path: String, kind: String, entries: [[String: JSONValue]],
        key: @escaping ([String: JSONValue]) -> String, keyOfExisting: @escaping (JSONValue) -> String
    ) async throws {
        try await upsert(api, path: path, kind: kind, entries: entries.map(JSONValue.object),
                         key: { key($0.object ?? [:]) }, keyOfExisting: keyOfExisting)
    }
}
