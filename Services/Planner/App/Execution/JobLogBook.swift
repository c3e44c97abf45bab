import Foundation
import MusterEvents

/// The DRS job-log items kept per server (issue 15: the execution page shows
/// them). `job.observed` carries the items the launcher read since its last
/// look; a replayed or reordered event brings some again, so items are
/// deduplicated, kept in time order and bounded (the newest win). Pure.
enum JobLogBook {
    /// The most items kept per server.
    static let limit = 40

    /// `existing` with `new` added: no duplicate (same event, time, server and
    /// error), oldest first, at most `limit`.
    static func merged(_ existing: [JobLogEvent], _ new: [JobLogEvent], limit: Int = limit) -> [JobLogEvent] {
        var seen = Set(existing.map(key))
        var all = existing
        for event in new where seen.insert(key(event)).inserted { all.append(event) }
        all.sort { ($0.time, $0.event) < ($1.time, $1.event) }
        return Array(all.suffix(max(0, limit)))
    }

    private static func key(_ event: JobLogEvent) -> String {
        "\(event.event)|\(event.time.timeIntervalSince1970)|\(event.sourceServerID ?? "")|\(event.rawError ?? "")"
    }
}

extension ExecutionStateMachine {
    /// Keeps `events` of job `jobID` (wave `wave`) with their servers: an item
    /// naming a server goes to that server, a job-wide item (JOB_START,
    /// JOB_END …) to every server of the job in the wave.
    mutating func recordLog(_ events: [JobLogEvent], serverIDs: [String], wave: Int) {
        guard !events.isEmpty else { return }
        for id in serverIDs {
            guard let server = state.servers[id], server.wave == wave else { continue }
            let mine = events.filter { $0.sourceServerID == nil || $0.sourceServerID?.rawValue == id }
            guard !mine.isEmpty else { continue }
            state.servers[id]?.logEvents = JobLogBook.merged(server.logEvents ?? [], mine)
        }
    }
}
