import ArgumentParser
import Foundation
import MusterCLIKit

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a drill or recovery of a plan.")

    enum Kind: String, ExpressibleByArgument, CaseIterable { case drill, recovery }

    @OptionGroup var connection: Connection
    @Argument(help: "The plan's name or id.") var plan: String
    @Option(help: ArgumentHelp(
        "drill (a test launch, cleaned up afterwards) or recovery (the real thing).",
        discussion: "A drill runs in its own network only when the plan's drill profile names a subnet other than "
            + "the recovery one (`drillIsolated` in `muster get plan`); without a drill profile it launches with the "
            + "servers' recovery settings.")) var type: Kind = .drill
    @Option(help: "Recover each server from its newest snapshot at or before this ISO 8601 time (default: latest).")
    var before: String?
    @Option(help: "An explicit recovery snapshot for one server, `s-…=pit-…` (repeatable).") var snapshot: [String] = []
    @Flag(help: "Watch it until it ends (exit status as `muster watch`).") var watch = false
    @Flag(help: "Start even when the plan's readiness is blocking (recorded in the audit trail; see `muster check`).")
    var force = false

    /// `{}` (latest), `{"before": T}` or `{"snapshots": {…}}`.
    func recoveryPoint() throws -> JSONValue {
        if let before {
            guard snapshot.isEmpty else { throw ValidationError("give --before or --snapshot, not both") }
            return .object(["before": .string(before)])
        }
        var snapshots: [String: JSONValue] = [:]
        for pair in snapshot {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--snapshot takes s-…=pit-…, got \(pair)") }
            snapshots[parts[0]] = .string(parts[1])
        }
        return snapshots.isEmpty ? .object([:]) : .object(["snapshots": .object(snapshots)])
    }

    func run() async throws {
        let id: String = try await connection.with { api in
            let planID = try await resolve(api, .plans, plan)
            let accepted: JSONValue = try await api.send(
                "POST", "/v1/executions",
                body: .object(["planId": .string(planID), "type": .string(type.rawValue.uppercased()),
                               "recoveryPoint": try recoveryPoint(), "force": .bool(force)]))
            return accepted["id"]?.string ?? ""
        }
        print("started \(type.rawValue) \(id)")
        if watch {
            var command = WatchCommand()
            command.connection = connection
            command.execution = id
            try await command.run()
        }
    }
}

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Show an execution's per-wave and per-server progress live until it ends.",
        discussion: "Exit status: 0 completed, 2 partial, 1 failed, cancelled or timed out.")

    @OptionGroup var connection: Connection
    @Argument(help: "The execution id.") var execution: String
    @Option(help: "Seconds between refreshes when the event stream is unavailable.") var interval: Double = 1
    @Flag(help: "Poll instead of following the event stream.") var poll = false

    func run() async throws {
        let interactive = isatty(STDOUT_FILENO) == 1
        let final: ExecutionView = try await connection.with { api in
            var screen = WatchScreen(interactive: interactive)
            if !poll, let view = try await followStream(api, &screen) { return view }
            // The stream is unavailable (an older planner, a proxy that buffers): poll.
            while true {
                let view: ExecutionView = try await api.get("/v1/executions/\(execution)")
                screen.show(view)
                if view.isFinished { return view }
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
        }
        if final.exitCode != 0 { throw ExitCode(final.exitCode) }
    }

    /// Redraws on every event of this execution, reconnecting with
    /// `Last-Event-ID` when the stream drops; nil when no stream can be had.
    func followStream(_ api: APIClient, _ screen: inout WatchScreen) async throws -> ExecutionView? {
        var lastEventID: String?
        var failures = 0
        while failures < 3 {
            let stream: EventStreamClient.Connection
            do {
                stream = try api.eventStream(query: ["executionId": execution], lastEventID: lastEventID)
            } catch {
                return nil
            }
            defer { stream.close() }
            do {
                // Draw once the stream is open (its first bytes arrive), so nothing between the read and the subscription is lost.
                var drawn = false
                for try await item in stream.items {
                    if case .message(let message) = item { lastEventID = message.id ?? lastEventID }
                    if case .heartbeat = item, drawn { continue }
                    let view: ExecutionView = try await api.get("/v1/executions/\(execution)")
                    screen.show(view)
                    drawn = true
                    failures = 0
                    if view.isFinished { return view }
                }
                failures += 1
            } catch let failure as EventStreamClient.Failure where failure.status != nil {
                return nil  // answered, but not with a stream: a 404 or 401 is reported by the polling GET
            } catch is EventStreamClient.Failure {
                failures += 1
            }
        }
        return nil
    }
}

/// The terminal view of `muster watch`: redrawn in place on a terminal,
/// appended (separated by `--`) otherwise.
struct WatchScreen {
    let interactive: Bool
    var previous: [String] = []

    mutating func show(_ view: ExecutionView) {
        let lines = ProgressRenderer.lines(view)
        guard lines != previous else { return }
        if interactive && !previous.isEmpty { print("\u{1B}[\(previous.count)A\u{1B}[J", terminator: "") }
        if !interactive && !previous.isEmpty { print("--") }
        print(lines.joined(separator: "\n"))
        fflush(nil)  // all streams: `stdout` itself is a C global Swift 6 cannot touch
        previous = lines
    }
}

/// POST to an execution action endpoint and print the result's status.
func executionAction(_ connection: Connection, _ id: String, _ action: String, body: JSONValue = .object([:])) async throws {
    let result: JSONValue = try await connection.with { try await $0.send("POST", "/v1/executions/\(id)/\(action)", body: body) }
    print("\(action): \(result["status"]?.string ?? "accepted")")
}

struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Stop new waves from starting.")
    @OptionGroup var connection: Connection
    @Argument var execution: String
    func run() async throws { try await executionAction(connection, execution, "pause") }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Let waves start again (also passes a pauseBefore gate).")
    @OptionGroup var connection: Connection
    @Argument var execution: String
    func run() async throws { try await executionAction(connection, execution, "resume") }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Stop the plan: no new waves; optionally terminate drill instances.")
    @OptionGroup var connection: Connection
    @Argument var execution: String
    @Flag(help: "Terminate the drill's recovery instances.") var terminateInstances = false
    func run() async throws {
        try await executionAction(connection, execution, "cancel",
                                  body: .object(["terminateInstances": .bool(terminateInstances)]))
    }
}

struct CleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cleanup", abstract: "Terminate a finished drill's recovery instances.")
    @OptionGroup var connection: Connection
    @Argument var execution: String
    func run() async throws { try await executionAction(connection, execution, "cleanup") }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Per-wave and per-server timings, RTO, recovery points and RPO.")
    @OptionGroup var connection: Connection
    @Argument var execution: String
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        let report: JSONValue = try await connection.with { try await $0.get("/v1/executions/\(execution)/report") }
        if json { return try printJSON(report) }
        print(ReportRenderer.text(report))
    }
}
