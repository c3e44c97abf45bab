import ArgumentParser
import Foundation
import Logging
import MusterCLIKit
import MusterHTTP

/// `muster`: the operator's command line for the Muster API.
@main
struct Muster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muster",
        abstract: "Plan, run and watch AWS DRS drills and recoveries with Muster.",
        discussion: """
            The API endpoint and token come from --endpoint/--token, else MUSTER_API/MUSTER_TOKEN, \
            else the file written by `muster config`.
            """,
        subcommands: [
            ConfigCommand.self, ApplyCommand.self, ListCommand.self, ShowCommand.self, StartCommand.self,
            WatchCommand.self, PauseCommand.self, ResumeCommand.self, CancelCommand.self, CleanupCommand.self,
            ReportCommand.self, CheckCommand.self, ComplianceCommand.self, HistoryCommand.self, TeamCommand.self,
            DeadLetterCommand.self,
        ])
}

/// Where to reach the API, shared by every command that calls it.
struct Connection: ParsableArguments {
    @Option(help: "Planner API base URL (default: MUSTER_API or the config file).")
    var endpoint: String?

    @Option(help: "Bearer token (default: MUSTER_TOKEN or the config file). Prefer the environment: arguments are visible to other users.")
    var token: String?

    /// An API client, or an error saying how to configure one.
    func client() throws -> (APIClient, HTTPClient) {
        let stored = CLIConfig.load()
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = endpoint ?? environment["MUSTER_API"] ?? stored.endpoint else {
            throw CLIError.notConfigured("no endpoint: pass --endpoint, set MUSTER_API, or run `muster config --endpoint URL`")
        }
        guard let token = token ?? environment["MUSTER_TOKEN"] ?? stored.token else {
            throw CLIError.notConfigured("no token: set MUSTER_TOKEN or run `muster config --token …`")
        }
        var logger = Logger(label: "muster")
        logger.logLevel = .critical
        let http = HTTPClient(logger: logger)
        return (APIClient(endpoint: endpoint, token: token, http: http), http)
    }

    /// Runs `body` with a client, shutting the HTTP client down after.
    func with<T>(_ body: (APIClient) async throws -> T) async throws -> T {
        let (api, http) = try client()
        do {
            let result = try await body(api)
            await http.shutdown()
            return result
        } catch {
            await http.shutdown()
            throw error
        }
    }
}

/// Prints JSON pretty.
func printJSON(_ value: JSONValue) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
