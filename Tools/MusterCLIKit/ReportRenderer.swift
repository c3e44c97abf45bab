import Foundation
import MusterDomain

/// Renders `GET /v1/executions/{id}/report` as text. Pure.
public enum ReportRenderer {
    /// The report as lines of text.
    public static func text(_ report: JSONValue) -> String {
        func seconds(_ value: JSONValue?) -> String {
            guard let number = value?.number else { return "-" }
            return String(format: "%.1f s", number)
        }
        var lines = [
            "\(report["type"]?.string ?? "") of \(report["planName"]?.string ?? "") — \(report["status"]?.string ?? "")",
            "execution \(report["executionId"]?.string ?? ""), started by \(report["initiatedBy"]?.string ?? "")",
            "duration \(seconds(report["durationSeconds"])), last server launched after \(seconds(report["secondsToLastLaunch"]))",
        ]
        if let target = report["rtoTargetMinutes"]?.number {
            let met: String
            switch report["rtoMet"] {
            case .bool(true)?: met = "met"
            case .bool(false)?: met = "MISSED"
            default: met = "not decided"
            }
            lines.append("RTO target \(Int(target)) min: \(met)")
        }
        for wave in report["waves"]?.array ?? [] {
            lines.append("wave \(Int(wave["number"]?.number ?? 0)) \(wave["name"]?.string ?? ""): \(wave["status"]?.string ?? "")"
                + " in \(seconds(wave["durationSeconds"])), \(Int(wave["serversLaunched"]?.number ?? 0)) launched,"
                + " \(Int(wave["serversFailed"]?.number ?? 0)) failed")
            for server in wave["servers"]?.array ?? [] {
                var line = "  \(server["sourceServerId"]?.string ?? "") \(server["status"]?.string ?? "")"
                if let instance = server["recoveryInstanceId"]?.string { line += " → \(instance)" }
                if server["secondsToLaunch"]?.number != nil { line += " after \(seconds(server["secondsToLaunch"]))" }
                if let reason = server["failureReason"]?.string { line += ": \(TextRule.visible(reason))" }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }
}
