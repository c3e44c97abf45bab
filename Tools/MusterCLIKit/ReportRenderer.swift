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
            lines.append("RTO target \(Int(target)) min: \(verdict(report["rtoMet"], otherwise: "not decided"))")
        }
        let rpoTarget = report["rpoTargetMinutes"]?.number.map { $0 * 60 }
        if let target = report["rpoTargetMinutes"]?.number {
            lines.append("RPO target \(Int(target)) min: \(verdict(report["rpoMet"], otherwise: "unknown")), "
                + "worst achieved \(duration(report["worstAchievedRpoSeconds"]))")
        } else if report["worstAchievedRpoSeconds"]?.number != nil {
            lines.append("RPO worst achieved \(duration(report["worstAchievedRpoSeconds"])) (no target)")
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
                if let rpo = recoveryPoint(server, target: rpoTarget) { lines.append("    " + rpo) }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `met`, `MISSED`, or `otherwise` while the report cannot tell.
    static func verdict(_ met: JSONValue?, otherwise: String) -> String {
        switch met {
        case .bool(true)?: "met"
        case .bool(false)?: "MISSED"
        default: otherwise
        }
    }

    /// `12 s`, `4 min 5 s`, `2 h 3 min`: an RPO as a person reads it.
    static func duration(_ value: JSONValue?) -> String {
        guard let number = value?.number else { return "unknown" }
        let total = Int(number.rounded())
        if total < 60 { return "\(total) s" }
        if total < 3600 { return "\(total / 60) min" + (total % 60 == 0 ? "" : " \(total % 60) s") }
        return "\(total / 3600) h" + (total % 3600 / 60 == 0 ? "" : " \(total % 3600 / 60) min")
    }

    /// A server's recovery point and RPO, against the plan's target (seconds).
    static func recoveryPoint(_ server: JSONValue, target: Double?) -> String? {
        let basis = server["recoveryPointBasis"]?.string
        guard basis != nil || server["achievedRpoSeconds"]?.number != nil else {
            return target == nil ? nil : "recovery point unknown (the inventory reports no lag or snapshot time)"
        }
        var text = "recovery point \(server["recoveryPointTime"]?.string ?? "unknown")"
        switch basis {
        case "snapshot": text += " (snapshot \(server["recoverySnapshotId"]?.string ?? "?"))"
        case "replication-lag": text += " (latest, from replication lag)"
        case "last-snapshot": text += " (latest, from the last snapshot)"
        default: break
        }
        text += ", RPO \(duration(server["achievedRpoSeconds"]))"
        if let target, let rpo = server["achievedRpoSeconds"]?.number {
            text += rpo <= target ? " (within target)" : " (OVER target by \(duration(.number(rpo - target))))"
        }
        return text
    }
}
