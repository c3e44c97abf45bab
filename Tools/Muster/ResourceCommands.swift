import ArgumentParser
import Foundation
import MusterCLIKit

/// The listable resources and their API paths.
enum Resource: String, ExpressibleByArgument, CaseIterable {
    case accounts, servers, groups, plans, executions, teams

    var path: String {
        switch self {
        case .accounts: "/v1/accounts"
        case .servers: "/v1/source-servers"
        case .groups: "/v1/protection-groups"
        case .plans: "/v1/plans"
        case .executions: "/v1/executions"
        case .teams: "/v1/teams"
        }
    }

    /// The columns of the table view.
    var columns: [String] {
        switch self {
        case .accounts: ["id", "awsAccountId", "name", "regions"]
        case .servers: ["sourceServerId", "accountId", "region", "hostname", "replicationState", "protectionGroupName"]
        case .groups: ["id", "name", "region", "servers"]
        case .plans: ["id", "name", "waves", "rtoTargetMinutes"]
        case .executions: ["id", "planName", "type", "status", "initiatedBy", "createdAt"]
        case .teams: ["id", "name", "createdAt"]
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List accounts, servers, groups, plans, executions or teams.")

    @OptionGroup var connection: Connection
    @Argument(help: "What to list: \(Resource.allCases.map(\.rawValue).joined(separator: ", ")).") var resource: Resource
    @Option(help: "Filters as key=value (e.g. status=RUNNING, accountId=…, region=…).") var filter: [String] = []
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        var query: [String: String] = [:]
        for item in filter {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--filter takes key=value, got \(item)") }
            query[parts[0]] = parts[1]
        }
        let items = try await connection.with { try await $0.all(resource.path, query: query) }
        if json { return try printJSON(.array(items)) }
        print(Table.render(items, columns: resource.columns))
    }
}

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one resource as JSON.")

    @OptionGroup var connection: Connection
    @Argument(help: "accounts, groups, plans or executions.") var resource: Resource
    @Argument(help: "Its id (or, for groups and plans, its name).") var idOrName: String

    func run() async throws {
        let value: JSONValue = try await connection.with { api in
            let id = try await resolve(api, resource, idOrName)
            return try await api.get("\(resource.path)/\(id)")
        }
        try printJSON(value)
    }
}

/// An id, or the id of the item named `idOrName` in `resource`.
func resolve(_ api: APIClient, _ resource: Resource, _ idOrName: String) async throws -> String {
    if UUID(uuidString: idOrName) != nil { return idOrName }
    let match = try await api.all(resource.path).first { $0["name"]?.string?.lowercased() == idOrName.lowercased() }
    guard let id = match?["id"]?.string else { throw CLIError.notFound("\(resource.rawValue) named '\(idOrName)'") }
    return id
}

/// Plain-text tables.
enum Table {
    static func render(_ items: [JSONValue], columns: [String]) -> String {
        let rows = items.map { item in columns.map { cell(item[$0]) } }
        let widths = columns.indices.map { index in
            ([columns[index].count] + rows.map { $0[index].count }).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(columns)] + rows.map(line)).joined(separator: "\n")
    }

    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: text
        case .number(let number)?: number.rounded() == number ? String(Int64(number)) : String(number)
        case .bool(let flag)?: String(flag)
        case .array(let array)?: array.first?.object != nil ? "\(array.count)" : array.map { cell($0) }.joined(separator: ",")
        case .object?: "{…}"
        case .null?, nil: "-"
        }
    }
}
