import ArgumentParser
import Foundation
import MusterCLIKit

struct TeamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "team", abstract: "Teams and their tokens (admin).",
        subcommands: [Create.self, Token.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a team (bootstrap admin token); prints its id.")
        @OptionGroup var connection: Connection
        @Argument var name: String
        func run() async throws {
            let team: JSONValue = try await connection.with {
                try await $0.send("POST", "/v1/teams", body: .object(["name": .string(name)]))
            }
            print(team["id"]?.string ?? "")
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token for a team; prints the token (shown once).")
        @OptionGroup var connection: Connection
        @Argument(help: "The team id.") var team: String
        @Option(help: "The person or system it is for.") var subject: String
        @Option(help: "viewer, operator or admin.") var role: String = "operator"
        @Option(help: "A label for the token.") var name: String = "cli"
        func run() async throws {
            let token: JSONValue = try await connection.with {
                try await $0.send("POST", "/v1/teams/\(team)/tokens", body: .object([
                    "name": .string(name), "subject": .string(subject), "role": .string(role),
                ]))
            }
            print(token["token"]?.string ?? "")
        }
    }
}
