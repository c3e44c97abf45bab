import Foundation
import MusterDRS

/// drs-sim's recovery-snapshot history (issue 13), a pure function of the
/// server and the simulated time, so every answer agrees without stored
/// state: DRS's retention of every 10 minutes for the last hour, hourly for a
/// day and daily for a week, never before the server was added.
enum SnapshotHistory {
    /// One point-in-time snapshot.
    struct Snapshot: Equatable {
        var id: String
        var time: Date
    }

    /// The server's snapshots at `now`, newest first.
    static func snapshots(serverID: String, addedAt: Date?, now: Date) -> [Snapshot] {
        let t = now.timeIntervalSince1970
        var times = Set<Int64>()
        let tenMinutes = Int64((t / 600).rounded(.down)) * 600
        for k in 0..<6 { times.insert(tenMinutes - Int64(k) * 600) }
        let hour = Int64((t / 3600).rounded(.down)) * 3600
        for k in 1..<24 { times.insert(hour - Int64(k) * 3600) }
        let day = Int64((t / 86400).rounded(.down)) * 86400
        for k in 1..<8 { times.insert(day - Int64(k) * 86400) }
        let floor = addedAt.map { Int64($0.timeIntervalSince1970.rounded(.up)) } ?? Int64.min
        return times.filter { $0 >= floor && Double($0) <= t }.sorted(by: >).map {
            Snapshot(id: id(serverID: serverID, seconds: $0), time: Date(timeIntervalSince1970: TimeInterval($0)))
        }
    }

    /// A stable `pit-` id (17 hex digits) for the server's snapshot at `seconds`.
    static func id(serverID: String, seconds: Int64) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(serverID)@\(seconds)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "pit-0" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension DRSSimulation {
    /// `DescribeRecoverySnapshots`: one server's snapshots, filtered by time, ASC or DESC (default ASC), paginated.
    public mutating func describeRecoverySnapshots(
        _ request: DescribeRecoverySnapshotsRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> DescribeRecoverySnapshotsResponse {
        try handle(.describeRecoverySnapshots, accountID: accountID, region: region, realNow: realNow) { sim, key, now throws(DRSSimError) in
            try Validation.sourceServerID.check(request.sourceServerID, field: "sourceServerID")
            guard let server = try sim.estate(key).servers[request.sourceServerID] else {
                throw .notFound(
                    "Source server \(request.sourceServerID) not found in account \(key.accountID), region \(key.region).",
                    resourceID: request.sourceServerID, resourceType: "SOURCE_SERVER")
            }
            let from = try request.filters?.fromDateTime.map { d throws(DRSSimError) in
                try Validation.dateTime(d, field: "filters.fromDateTime") }
            let to = try request.filters?.toDateTime.map { d throws(DRSSimError) in
                try Validation.dateTime(d, field: "filters.toDateTime") }
            var snapshots = sim.snapshots(of: server, now: now).filter { (snapshot: SnapshotHistory.Snapshot) -> Bool in
                if let from, snapshot.time < from { return false }
                if let to, snapshot.time > to { return false }
                return true
            }
            if request.order != .desc { snapshots.reverse() }
            let items = snapshots.map {
                let time = DRSDateTime.string(from: $0.time)
                return RecoverySnapshot(
                    snapshotID: $0.id, sourceServerID: server.id, expectedTimestamp: time, timestamp: time,
                    ebsSnapshots: ["snap-" + $0.id.dropFirst(4)])
            }
            let page = try Pagination.page(
                items, maxResults: request.maxResults, nextToken: request.nextToken,
                scope: "DescribeRecoverySnapshots.\(server.id)")
            return DescribeRecoverySnapshotsResponse(items: page.items, nextToken: page.nextToken)
        }
    }

    /// A server's snapshots at `now`, newest first. A server that stopped
    /// replicating (not CONTINUOUS) took none since.
    func snapshots(of server: SimSourceServer, now: Date) -> [SnapshotHistory.Snapshot] {
        let until = server.replicationState == .continuous ? now : Self.replicatedThrough(server, now: now)
        return SnapshotHistory.snapshots(
            serverID: server.id,
            addedAt: nil, now: until)  // seeded servers have replicated for longer than the retention
    }
}
