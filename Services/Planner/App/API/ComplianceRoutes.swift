import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterEvents
import MusterPostgres

// Compliance: per plan, the last successful drill against the targets and
// the drill-frequency policy; the execution history as CSV or JSON.
extension PlannerAPI {
    struct ComplianceView: Encodable { var generatedAt: Date; var items: [ComplianceEntry] }

    /// One row of the history export: the execution with its report's figures.
    struct HistoryRow: Encodable {
        var id: ExecutionID, planId: PlanID, planName: String, type: ExecutionType, status: ExecutionStatus
        var initiatedBy: String, createdAt: Date, endedAt: Date?, durationSeconds: Double?
        var secondsToLastLaunch: Double?, rtoTargetMinutes: Int?, rtoMet: Bool?
        var rpoTargetMinutes: Int?, worstAchievedRpoSeconds: Double?, rpoMet: Bool?
        var servers: Int, serversLaunched: Int
    }

    /// The JSON export: when it was taken and the rows (one document, not paged).
    struct HistoryExport: Encodable { var exportedAt: Date; var items: [HistoryRow] }

    /// Most executions one export carries.
    static let maxHistoryExport = 10_000

    func addComplianceRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.get("compliance") { request, _ in try await compliance(request) }
    }

    func compliance(_ request: Request) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        let now = Date()
        let records = try await pool.withConnection {
            try await ComplianceStore(schema: schema).plans(team: team, on: $0)
        }
        let items = records.map { record in
            ComplianceRules.entry(
                planID: record.id, planName: record.plan.name,
                rtoTargetMinutes: record.plan.rtoTargetMinutes, rpoTargetMinutes: record.plan.rpoTargetMinutes,
                drillFrequencyDays: record.plan.drillFrequencyDays, planCreatedAt: record.createdAt,
                lastDrill: record.lastDrill.map(Self.lastDrill), now: now)
        }
        return try JSONResponse.make(.ok, ComplianceView(generatedAt: now, items: items))
    }

    static func lastDrill(_ state: ExecutionState) -> ComplianceEntry.LastDrill {
        let report = ExecutionViews.report(state)
        return ComplianceEntry.LastDrill(
            executionId: state.id, endedAt: state.endedAt ?? state.createdAt,
            secondsToLastLaunch: report.secondsToLastLaunch, rtoMet: report.rtoMet,
            worstAchievedRpoSeconds: report.worstAchievedRpoSeconds, rpoMet: report.rpoMet)
    }

    /// `GET /v1/executions?format=csv|json`: the whole filtered history (newest first, capped), not paged.
    func exportHistory(format: String, team: TeamID, filter: ComplianceStore.HistoryFilter) async throws -> Response {
        let states = try await pool.withConnection {
            try await ComplianceStore(schema: schema).history(team: team, filter: filter, limit: Self.maxHistoryExport, on: $0)
        }
        let rows = states.map { state in
            let report = ExecutionViews.report(state)
            return HistoryRow(
                id: state.id, planId: state.planID, planName: state.planName, type: state.type, status: state.status,
                initiatedBy: state.initiatedBy, createdAt: state.createdAt, endedAt: state.endedAt,
                durationSeconds: report.durationSeconds, secondsToLastLaunch: report.secondsToLastLaunch,
                rtoTargetMinutes: state.rtoTargetMinutes, rtoMet: report.rtoMet, rpoTargetMinutes: state.rpoTargetMinutes,
                worstAchievedRpoSeconds: report.worstAchievedRpoSeconds, rpoMet: report.rpoMet,
                servers: state.servers.count, serversLaunched: state.servers.values.filter(\.succeeded).count)
        }
        if format == "json" { return try JSONResponse.make(.ok, HistoryExport(exportedAt: Date(), items: rows)) }
        let csv = HistoryCSV.render(rows)
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"executions.csv\""],
            body: .init(byteBuffer: ByteBuffer(string: csv)))
    }
}

/// RFC 4180 CSV of the history export. A cell that a spreadsheet would read
/// as a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed with `'`.
enum HistoryCSV {
    static let header = [
        "id", "planId", "planName", "type", "status", "initiatedBy", "createdAt", "endedAt", "durationSeconds",
        "secondsToLastLaunch", "rtoTargetMinutes", "rtoMet", "rpoTargetMinutes", "worstAchievedRpoSeconds", "rpoMet",
        "servers", "serversLaunched",
    ]

    static func render(_ rows: [PlannerAPI.HistoryRow]) -> String {
        var lines = [header.joined(separator: ",")]
        for row in rows {
            let cells: [String?] = [
                row.id.rawValue, row.planId.rawValue, row.planName, row.type.rawValue, row.status.rawValue, row.initiatedBy,
                time(row.createdAt), row.endedAt.map(time), row.durationSeconds.map(number),
                row.secondsToLastLaunch.map(number), row.rtoTargetMinutes.map(String.init), row.rtoMet.map(String.init),
                row.rpoTargetMinutes.map(String.init), row.worstAchievedRpoSeconds.map(number), row.rpoMet.map(String.init),
                String(row.servers), String(row.serversLaunched),
            ]
            lines.append(cells.map { cell($0 ?? "") }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func cell(_ raw: String) -> String {
        var value = raw
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func time(_ date: Date) -> String { EventCoding.formatTime(date) }
    static func number(_ value: Double) -> String { String(format: "%.3f", value) }
}
