import Foundation
import MusterDRS
import MusterDomain
import MusterEvents

/// Chooses the snapshot each server of a chunk launches from (issue 13
/// "Recovery points") with DescribeRecoverySnapshots: `before: T` → the
/// newest at or before T, explicit ids → checked to exist; `latest` → none
/// (DRS launches from the latest state). A server without one refuses the
/// chunk before anything is changed or launched.
struct RecoveryPoints: Sendable {
    let context: LauncherContext

    /// The choice per server, or nil for `latest`.
    func resolve(_ row: ChunkRow, request: LaunchGroupRequested) async throws -> [RecoverySnapshotUsed]? {
        guard let point = request.recoveryPoint, !point.isLatest else { return nil }
        var used: [RecoverySnapshotUsed] = []
        var problems: [String] = []
        for server in row.servers {
            if let wanted = point.snapshots?[server.rawValue] {
                let all = try await snapshots(server, endpoint: row.endpoint, toDate: nil)
                if let found = all.first(where: { $0.snapshotID == wanted }) {
                    used.append(RecoverySnapshotUsed(
                        sourceServerID: server, snapshotID: wanted,
                        snapshotTime: DRSDateTime.date(from: found.timestamp ?? found.expectedTimestamp)))
                } else {
                    problems.append("\(server): recovery snapshot \(wanted) does not exist (DescribeRecoverySnapshots)")
                }
            } else if let before = point.before {
                let candidates = try await snapshots(server, endpoint: row.endpoint, toDate: before)
                if let newest = RecoveryPointRules.newest(candidates, atOrBefore: before) {
                    used.append(RecoverySnapshotUsed(sourceServerID: server, snapshotID: newest.id, snapshotTime: newest.time))
                } else {
                    problems.append("\(server): no recovery snapshot at or before \(EventCoding.formatTime(before))")
                }
            } else {
                used.append(RecoverySnapshotUsed(sourceServerID: server, snapshotID: nil, snapshotTime: nil))
            }
        }
        if !problems.isEmpty { throw LaunchRefused(code: "NoRecoverySnapshot", problems: problems) }
        return used
    }

    private func snapshots(_ server: SourceServerID, endpoint: Endpoint, toDate: Date?) async throws -> [RecoverySnapshot] {
        guard let toDate else {
            return try await context.gate.callAll(endpoint, "DescribeRecoverySnapshots", items: \.items, nextToken: \.nextToken) {
                try await $0.describeRecoverySnapshots(DescribeRecoverySnapshotsRequest(
                    sourceServerID: server.rawValue, order: .desc, maxResults: 1000, nextToken: $1))
            }
        }
        // Newest first, up to T: the first item is the one (one call per server).
        let filters = DescribeRecoverySnapshotsRequestFilters(toDateTime: DRSDateTime.string(from: toDate))
        return try await context.gate.call(endpoint, "DescribeRecoverySnapshots") {
            try await $0.describeRecoverySnapshots(DescribeRecoverySnapshotsRequest(
                sourceServerID: server.rawValue, filters: filters, order: .desc, maxResults: 1))
        }.items ?? []
    }
}
