import ArgumentParser
import Foundation
import MusterCLIKit

/// `muster dead-letters`: the planner's parked records (docs/consumers.md),
/// through its ops endpoints. The token is the planner's MUSTER_OPS_ADMIN_TOKEN.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List, replay and discard records the planner's consumers parked (token: the planner's MUSTER_OPS_ADMIN_TOKEN).",
        subcommands: [List.self, Replay.self, Discard.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List parked records, newest first, as JSON.")
        @OptionGroup var connection: Connection
        @Option(help: "parked, replayed, discarded or all.") var status: String = "parked"
        @Option(help: "Only this consumer (e.g. planner.inventory).") var consumer: String?
        @Option(help: "At most this many (1-1000).") var limit: Int = 100
        func run() async throws {
            var query = ["status": status, "limit": String(limit)]
            if let consumer { query["consumer"] = consumer }
            let page: JSONValue = try await connection.with { try await $0.get("/admin/dead-letters", query: query) }
            try printJSON(page)
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay one parked record by id, or every parked one with --all, after fixing the cause.")
        @OptionGroup var connection: Connection
        @Argument(help: "The dead letter id.") var id: Int?
        @Flag(help: "Replay every parked record.") var all = false
        func validate() throws {
            guard (id == nil) != !all else { throw ValidationError("give a dead letter id or --all, not both") }
        }
        func run() async throws {
            let path = all ? "/admin/dead-letters/replay" : "/admin/dead-letters/\(id!)/replay"
            let result: JSONValue = try await connection.with { try await $0.send("POST", path, body: .object([:])) }
            try printJSON(result)
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up a parked record by id: it is kept, listed as discarded, and never replayed.")
        @OptionGroup var connection: Connection
        @Argument(help: "The dead letter id.") var id: Int
        func run() async throws {
            let result: JSONValue = try await connection.with {
                try await $0.send("POST", "/admin/dead-letters/\(id)/discard", body: .object([:]))
            }
            try printJSON(result)
        }
    }
}
