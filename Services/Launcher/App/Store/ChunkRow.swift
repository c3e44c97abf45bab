import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// A stored row that no code path writes (edited by hand?).
struct MalformedRow: Error, CustomStringConvertible {
    var description: String
}

/// What a chunk asks DRS for, decoded once when its row is read.
enum ChunkRequest: Sendable {
    /// StartRecovery for the chunk's source servers.
    case launch(LaunchGroupRequested)
    /// TerminateRecoveryInstances for the chunk's recovery instances (drill cleanup).
    case terminate(InstancesTerminate)

    /// The `kind` column.
    var kind: Kind {
        switch self {
        case .launch: .launch
        case .terminate: .terminate
        }
    }

    /// LAUNCH or TERMINATE.
    enum Kind: String, Sendable { case launch = "LAUNCH", terminate = "TERMINATE" }

    static func decode(kind: Kind, json: String) throws -> ChunkRequest {
        let data = Data(json.utf8)
        switch kind {
        case .launch: return .launch(try EventCoding.decoder.decode(LaunchGroupRequested.self, from: data))
        case .terminate: return .terminate(try EventCoding.decoder.decode(InstancesTerminate.self, from: data))
        }
    }
}

/// One row of `launch_chunks`: a DRS job to start, with its lifecycle status.
struct ChunkRow: Sendable {
    var id: Int64
    var launchGroup: LaunchGroupID
    var attempt: Int
    var chunk: Int
    var chunkCount: Int
    var items: [String]
    var request: ChunkRequest
    var status: ChunkStatus
    var submitter: String?
    var receivedAt: Date
    /// The snapshot each server launches from, once chosen (issue 13).
    var recoverySnapshots: [RecoverySnapshotUsed]?
    /// The trace of the consumer span that queued the chunk (nil while tracing is off).
    var trace: StoredTrace?

    var kind: ChunkRequest.Kind { request.kind }
    /// The items as the source servers events report: a LAUNCH chunk's
    /// servers (a TERMINATE chunk's items are recovery instances, reported in
    /// the same member as before).
    var servers: [SourceServerID] { items.map(SourceServerID.init(rawValue:)) }
    var endpoint: Endpoint { launchGroup.endpoint }
    var identity: JobTags.Identity { JobTags.Identity(launchGroup: launchGroup.description, chunk: chunk, attempt: attempt) }

    static let columns = """
        c.id, c.kind, c.launch_group, c.attempt, c.chunk, c.chunk_count, c.items::text AS items, c.request::text AS request,
        c.state, c.queued_reason, c.not_before, c.backoff_reason, c.conflicts, c.first_conflict_at, c.intent_at,
        c.sent_at, c.job_id, c.submitter, c.received_at, c.recovery_snapshots::text AS recovery_snapshots,
        c.traceparent, c.tracestate
        """

    init(_ row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        guard let kind = ChunkRequest.Kind(rawValue: try row.decode(String.self, "kind")),
              let group = LaunchGroupID(try row.decode(String.self, "launch_group")),
              let state = ChunkState(rawValue: try row.decode(String.self, "state"))
        else { throw MalformedRow(description: "launch_chunks row \(id) has an unknown kind, launch group or state") }
        launchGroup = group
        attempt = try row.decode(Int.self, "attempt")
        chunk = try row.decode(Int.self, "chunk")
        chunkCount = try row.decode(Int.self, "chunk_count")
        items = try JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, "items").utf8))
        request = try ChunkRequest.decode(kind: kind, json: try row.decode(String.self, "request"))
        status = ChunkStatus(
            state: state,
            queuedReason: try row.decode(String?.self, "queued_reason").flatMap(JobQueued.Reason.init(rawValue:)),
            notBefore: try row.decode(Date?.self, "not_before"),
            backoffReason: try row.decode(String?.self, "backoff_reason").flatMap(JobQueued.Reason.init(rawValue:)),
            conflicts: try row.decode(Int.self, "conflicts"),
            firstConflictAt: try row.decode(Date?.self, "first_conflict_at"),
            intentAt: try row.decode(Date?.self, "intent_at"),
            sentAt: try row.decode(Date?.self, "sent_at"),
            jobID: try row.decode(JobID?.self, "job_id"))
        submitter = try row.decode(String?.self, "submitter")
        receivedAt = try row.decode(Date.self, "received_at")
        recoverySnapshots = try row.decode(String?.self, "recovery_snapshots").map {
            try EventCoding.decoder.decode([RecoverySnapshotUsed].self, from: Data($0.utf8))
        }
        trace = StoredTrace(traceparent: try row.decode(String?.self, "traceparent"),
                            tracestate: try row.decode(String?.self, "tracestate"))
    }
}
