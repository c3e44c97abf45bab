import Foundation
import MusterDomain

/// The parts of an execution (`GET /v1/executions/{id}`) the CLI shows.
public struct ExecutionView: Decodable, Sendable, Equatable {
    /// One wave.
    public struct Wave: Decodable, Sendable, Equatable {
        public var number: Int
        public var name: String
        public var status: String
        public var queuedReason: String?
        public var servers: [Server]
    }

    /// One server.
    public struct Server: Decodable, Sendable, Equatable {
        public var sourceServerId: String
        public var status: String
        public var recoveryInstanceId: String?
        public var failureReason: String?
    }

    public var id: String
    public var planName: String
    public var type: String
    public var status: String
    public var waves: [Wave]

    /// True once nothing more will change.
    public var isFinished: Bool {
        ["COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "TIMED_OUT"].contains(status)
    }

    /// The process exit status `muster watch` ends with: 0 completed,
    /// 2 partial, 1 failed, cancelled or timed out.
    public var exitCode: Int32 {
        switch status {
        case "COMPLETED": 0
        case "PARTIAL": 2
        default: 1
        }
    }
}

/// Renders execution progress as text lines: one per wave with a bar, and
/// one per server that is not simply done. Pure.
public enum ProgressRenderer {
    /// A bar of `width` cells, `done` of `total` filled.
    public static func bar(done: Int, total: Int, width: Int = 20) -> String {
        guard total > 0 else { return "[" + String(repeating: " ", count: width) + "]" }
        let filled = min(width, done * width / total)
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
    }

    /// The lines describing `execution`.
    public static func lines(_ execution: ExecutionView) -> [String] {
        var lines = ["\(execution.type) \(execution.planName) \(execution.id): \(execution.status)"]
        for wave in execution.waves {
            let launched = wave.servers.filter { $0.status == "LAUNCHED" }.count
            let failed = wave.servers.filter { $0.status == "FAILED" }.count
            var line = "  wave \(wave.number) \(wave.name.padding(toLength: 14, withPad: " ", startingAt: 0)) "
                + bar(done: launched + failed, total: wave.servers.count)
                + " \(launched)/\(wave.servers.count) launched"
            if failed > 0 { line += ", \(failed) failed" }
            line += "  \(wave.status)"
            if let reason = wave.queuedReason, wave.status == "QUEUED" { line += " (\(reason))" }
            lines.append(line)
            for server in wave.servers where server.status != "LAUNCHED" && server.status != "PENDING" {
                var detail = "      \(server.sourceServerId) \(server.status)"
                if let reason = server.failureReason { detail += ": \(TextRule.visible(reason))" }
                lines.append(detail)
            }
        }
        return lines
    }
}
