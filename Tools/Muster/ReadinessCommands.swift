import ArgumentParser
import Foundation
import MusterCLIKit

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Evaluate a plan's readiness: each check ok, warning, unknown or blocking, with the fix.",
        discussion: "Exit status: 0 ok or warning, 3 unknown, 4 blocking (a start is refused without --force).")

    @OptionGroup var connection: Connection
    @Argument(help: "The plan's name or id.") var plan: String
    @Flag(help: "Print the evaluation as JSON.") var json = false

    func run() async throws {
        let evaluation: JSONValue = try await connection.with { api in
            let planID = try await resolve(api, .plans, plan)
            return try await api.send("POST", "/v1/plans/\(planID)/evaluate", body: nil)
        }
        let verdict = evaluation["verdict"]?.string ?? "unknown"
        if json {
            try printJSON(evaluation)
        } else {
            print("verdict: \(verdict)")
            for check in evaluation["checks"]?.array ?? [] {
                let status = check["status"]?.string ?? "?"
                print("\(status.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) \(check["name"]?.string ?? "")"
                      + ": \(check["message"]?.string ?? "")")
                let servers = (check["servers"]?.array ?? []).compactMap(\.string)
                if !servers.isEmpty { print("         servers: \(servers.joined(separator: ", "))") }
                if let fix = check["fix"]?.string { print("         fix: \(fix)") }
            }
        }
        switch verdict {
        case "blocking": throw ExitCode(4)
        case "unknown": throw ExitCode(3)
        default: return
        }
    }
}

struct ComplianceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compliance",
        abstract: "Per plan: the last successful drill, RTO/RPO against the targets, days since, and whether a drill is overdue.",
        discussion: "Exit status: 0, or 5 when a plan is overdue.")

    @OptionGroup var connection: Connection
    @Flag(help: "Print the view as JSON.") var json = false

    func run() async throws {
        let view: JSONValue = try await connection.with { try await $0.get("/v1/compliance") }
        let items = view["items"]?.array ?? []
        if json {
            try printJSON(view)
        } else {
            let rows: [JSONValue] = items.map { item in
                let drill = item["lastSuccessfulDrill"]
                return .object([
                    "plan": item["planName"] ?? .null, "lastDrill": drill?["endedAt"] ?? .null,
                    "daysSince": item["daysSince"] ?? .null, "everyDays": item["drillFrequencyDays"] ?? .null,
                    "overdue": item["overdue"] ?? .null, "rtoMet": drill?["rtoMet"] ?? .null,
                    "rpoMet": drill?["rpoMet"] ?? .null,
                ])
            }
            print(Table.render(rows, columns: ["plan", "lastDrill", "daysSince", "everyDays", "overdue", "rtoMet", "rpoMet"]))
        }
        if items.contains(where: { $0["overdue"] == .bool(true) }) { throw ExitCode(5) }
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Export the execution history (newest first) as CSV or JSON.")

    @OptionGroup var connection: Connection
    @Flag(help: "CSV (RFC 4180) instead of JSON.") var csv = false
    @Option(help: "Only this plan (name or id).") var plan: String?
    @Option(help: "Only DRILL or RECOVERY.") var type: String?
    @Option(help: "Only this status (COMPLETED, FAILED, …).") var status: String?

    func run() async throws {
        let output: String = try await connection.with { api in
            var query = ["format": csv ? "csv" : "json"]
            if let plan { query["planId"] = try await resolve(api, .plans, plan) }
            if let type { query["type"] = type.uppercased() }
            if let status { query["status"] = status.uppercased() }
            return try await api.text("/v1/executions", query: query)
        }
        print(output, terminator: csv ? "" : "\n")
    }
}
