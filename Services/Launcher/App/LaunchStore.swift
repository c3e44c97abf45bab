import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// A stored row that no code path writes (edited by hand?).
struct MalformedRow: Error, CustomStringConvertible {
    var description: String
}

/// One row of `launch_chunks`: a DRS job to start.
struct ChunkRow: Sendable {
    enum Kind: String, Sendable { case launch = "LAUNCH", terminate = "TERMINATE" }

    var id: Int64
    var kind: Kind
    var launchGroup: LaunchGroupID
    var attempt: Int
    var chunk: Int
    var chunkCount: Int
    var items: [String]
    var requestJSON: String
    var state: String
    var queuedReason: JobQueued.Reason?
    var notBefore: Date?
    var backoffReason: JobQueued.Reason?
    var conflicts: Int
    var firstConflictAt: Date?
    var intentAt: Date?
    var submitter: String?
    var submitterAlive: Bool
    var receivedAt: Date

    var endpoint: Endpoint { launchGroup.endpoint }
    var identity: JobTags.Identity { JobTags.Identity(launchGroup: launchGroup.description, chunk: chunk, attempt: attempt) }

    static let columns = """
        c.id, c.kind, c.launch_group, c.attempt, c.chunk, c.chunk_count, c.items::text AS items, c.request::text AS request,
        c.state, c.queued_reason, c.not_before, c.backoff_reason, c.conflicts, c.first_conflict_at, c.intent_at,
        c.submitter, c.received_at
        """

    init(_ row: PostgresRow, submitterAlive: Bool = false) throws {
        id = try row.decode(Int64.self, "id")
        guard let kind = Kind(rawValue: try row.decode(String.self, "kind")),
              let group = LaunchGroupID(try row.decode(String.self, "launch_group"))
        else { throw MalformedRow(description: "launch_chunks row \(id) has an unknown kind or launch group") }
        self.kind = kind
        launchGroup = group
        attempt = try row.decode(Int.self, "attempt")
        chunk = try row.decode(Int.self, "chunk")
        chunkCount = try row.decode(Int.self, "chunk_count")
        items = try JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, "items").utf8))
        requestJSON = try row.decode(String.self, "request")
        state = try row.decode(String.self, "state")
        queuedReason = try row.decode(String?.self, "queued_reason").flatMap(JobQueued.Reason.init(rawValue:))
        notBefore = try row.decode(Date?.self, "not_before")
        backoffReason = try row.decode(String?.self, "backoff_reason").flatMap(JobQueued.Reason.init(rawValue:))
        conflicts = try row.decode(Int.self, "conflicts")
        firstConflictAt = try row.decode(Date?.self, "first_conflict_at")
        intentAt = try row.decode(Date?.self, "intent_at")
        submitter = try row.decode(String?.self, "submitter")
        receivedAt = try row.decode(Date.self, "received_at")
        self.submitterAlive = submitterAlive
    }

    func decodeRequest<T: Decodable>(_ type: T.Type) throws -> T {
        try EventCoding.decoder.decode(T.self, from: Data(requestJSON.utf8))
    }
}

/// The SQL of the launcher. Every function taking a connection runs on the
/// caller's transaction; the others open their own short one. No DRS call is
/// ever made while one of these transactions is open.
struct LaunchStore: Sendable {
    let schema: String
    let outbox: Outbox
    let topics: LauncherTopics

    init(schema: String, topics: LauncherTopics) {
        self.schema = schema
        self.outbox = Outbox(schema: schema)
        self.topics = topics
    }

    static func json<T: Encodable>(_ value: T) throws -> PostgresJSON {
        PostgresJSON(String(decoding: try EventCoding.encoder.encode(value), as: UTF8.self))
    }

    /// A `job.status.v1` event about a launch group, keyed by its execution.
    func jobStatus<Payload: Encodable>(_ type: String, _ group: LaunchGroupID, _ payload: Payload) throws -> OutboxMessage {
        OutboxMessage(topic: topics.jobStatus, key: group.executionID, event: try CloudEvent(
            source: EventSource.launcher, type: type, subject: group.executionID, payload: payload))
    }

    // MARK: Consumer side (inside the inbox transaction)

    /// Records the chunks of a launch group or cleanup; a replay of the same
    /// (kind, group, attempt) is ignored.
    func enqueue<Request: Encodable>(
        kind: ChunkRow.Kind, launchGroup: LaunchGroupID, attempt: Int, chunks: [[String]], request: Request,
        on connection: PostgresConnection
    ) async throws {
        let requestJSON = try Self.json(request)
        for (index, items) in chunks.enumerated() {
            try await connection.query(
                """
                INSERT INTO \(schema).launch_chunks
                    (kind, launch_group, execution_id, account_id, region, attempt, chunk, chunk_count, items, request, state)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'QUEUED')
                ON CONFLICT (kind, launch_group, attempt, chunk) DO NOTHING
                """,
                [kind.rawValue, launchGroup.description, launchGroup.executionID, launchGroup.endpoint.accountID,
                 launchGroup.endpoint.region, attempt, index, chunks.count, try Self.json(items), requestJSON])
        }
    }

    /// Records a poll to serve.
    func enqueuePoll(_ poll: JobPoll, on connection: PostgresConnection) async throws {
        try await connection.query(
            "INSERT INTO \(schema).poll_requests (account_id, region, job_ids, is_final, requested_at) VALUES ($1, $2, $3, $4, $5)",
            [poll.endpoint.accountID, poll.endpoint.region, try Self.json(poll.jobIDs), poll.isFinal, poll.requestedAt])
    }

    /// This instance consumed a record for `endpoint`: it owns the endpoint now.
    func claim(_ endpoint: Endpoint, instance: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO \(schema).endpoints (account_id, region, owner, claimed_at) VALUES ($1, $2, $3, now())
            ON CONFLICT (account_id, region) DO UPDATE SET owner = EXCLUDED.owner, claimed_at = now()
            """, [endpoint.accountID, endpoint.region, instance])
    }

    /// Stores or deletes an account registration from `accounts.v1`.
    func storeAccount(_ registration: AccountRegistration?, accountID: String, on connection: PostgresConnection) async throws {
        if let registration {
            try await connection.query(
                """
                INSERT INTO \(schema).accounts (account_id, registration) VALUES ($1, $2)
                ON CONFLICT (account_id) DO UPDATE SET registration = EXCLUDED.registration, updated_at = now()
                """, [accountID, try Self.json(registration)])
        } else {
            try await connection.query("DELETE FROM \(schema).accounts WHERE account_id = $1", [accountID])
        }
    }

    /// Accounts registered through `accounts.v1`.
    func accounts(pool: PostgresPool) async throws -> [AccountRegistration] {
        try await pool.query("SELECT registration::text AS r FROM \(schema).accounts").rows.map {
            try EventCoding.decoder.decode(AccountRegistration.self, from: Data(try $0.decode(String.self, "r").utf8))
        }
    }

    // MARK: Ownership

    /// Heartbeats `instance`, registers `known` endpoints, adopts endpoints
    /// whose owner is dead (or none), and returns the endpoints it owns.
    func heartbeat(instance: String, staleAfter: Duration, known: [Endpoint], pool: PostgresPool) async throws -> [Endpoint] {
        let stale = LauncherConfiguration.seconds(staleAfter)
        return try await pool.transaction { connection in
            try await connection.query(
                """
                INSERT INTO \(schema).instances (instance_id, heartbeat_at) VALUES ($1, now())
                ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now()
                """, [instance])
            for endpoint in known {
                try await connection.query(
                    "INSERT INTO \(schema).endpoints (account_id, region) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [endpoint.accountID, endpoint.region])
            }
            try await connection.query(
                """
                UPDATE \(schema).endpoints e SET owner = $1, claimed_at = now()
                WHERE e.owner IS DISTINCT FROM $1 AND NOT EXISTS (
                    SELECT 1 FROM \(schema).instances i
                    WHERE i.instance_id = e.owner AND i.heartbeat_at > now() - make_interval(secs => $2))
                """, [instance, stale])
            return try await connection.query(
                "SELECT account_id, region FROM \(schema).endpoints WHERE owner = $1 ORDER BY account_id, region", [instance]
            ).rows.map { Endpoint(accountID: try $0.decode(String.self, "account_id"), region: try $0.decode(String.self, "region")) }
        }
    }

    /// Marks `instance` as gone so its endpoints are adopted at once (graceful stop).
    func retire(instance: String, pool: PostgresPool) async throws {
        try await pool.query("DELETE FROM \(schema).instances WHERE instance_id = $1", [instance])
    }

    // MARK: Scheduler reads

    /// Open chunks (QUEUED, SUBMITTING) of `endpoint` in arrival order, with
    /// whether their submitter's heartbeat is fresh.
    func openChunks(_ endpoint: Endpoint, staleAfter: Duration, pool: PostgresPool) async throws -> [ChunkRow] {
        let stale = LauncherConfiguration.seconds(staleAfter)
        return try await pool.query(
            """
            SELECT \(ChunkRow.columns), EXISTS (
                SELECT 1 FROM \(schema).instances i
                WHERE i.instance_id = c.submitter AND i.heartbeat_at > now() - make_interval(secs => $3)) AS alive
            FROM \(schema).launch_chunks c
            WHERE c.account_id = $1 AND c.region = $2 AND c.state IN ('QUEUED', 'SUBMITTING')
            ORDER BY c.id
            """, [endpoint.accountID, endpoint.region, stale]
        ).rows.map { try ChunkRow($0, submitterAlive: try $0.decode(Bool.self, "alive")) }
    }

    /// Leased servers, and Muster's active jobs and their servers, on `endpoint`.
    func occupancy(_ endpoint: Endpoint, pool: PostgresPool) async throws -> (leased: Set<String>, jobs: Int, servers: Int) {
        let binds: [any PostgresBindable] = [endpoint.accountID, endpoint.region]
        let leased = try await pool.query(
            "SELECT source_server_id FROM \(schema).server_leases WHERE account_id = $1 AND region = $2", binds
        ).rows.map { try $0.decode(String.self, "source_server_id") }
        let row = try await pool.query(
            """
            SELECT (SELECT count(*) FROM \(schema).jobs WHERE account_id = $1 AND region = $2 AND completed_at IS NULL)
                 + (SELECT count(*) FROM \(schema).launch_chunks WHERE account_id = $1 AND region = $2 AND state = 'SUBMITTING') AS jobs,
                   (SELECT coalesce(sum(server_count), 0) FROM \(schema).jobs
                        WHERE account_id = $1 AND region = $2 AND completed_at IS NULL)
                 + (SELECT coalesce(sum(jsonb_array_length(items)), 0) FROM \(schema).launch_chunks
                        WHERE account_id = $1 AND region = $2 AND state = 'SUBMITTING') AS servers
            """, binds).rows[0]
        return (Set(leased), try row.decode(Int.self, "jobs"), try row.decode(Int.self, "servers"))
    }

    // MARK: Scheduler transitions

    /// Takes the chunk's leases and writes its launch intent (SUBMITTING), in
    /// one transaction; false when a lease is taken or the chunk moved on.
    func beginSubmission(_ chunk: ChunkRow, instance: String, pool: PostgresPool) async throws -> Bool {
        do {
            return try await pool.transaction { connection in
                let updated = try await connection.query(
                    """
                    UPDATE \(schema).launch_chunks
                    SET state = 'SUBMITTING', intent_at = now(), submitter = $2, submissions = submissions + 1
                    WHERE id = $1 AND state = 'QUEUED'
                    """, [chunk.id, instance])
                guard updated.affectedRows == 1 else { return false }
                if chunk.kind == .launch {
                    for server in chunk.items {
                        try await connection.query(
                            """
                            INSERT INTO \(schema).server_leases (account_id, region, source_server_id, chunk_id)
                            VALUES ($1, $2, $3, $4)
                            """, [chunk.endpoint.accountID, chunk.endpoint.region, server, chunk.id])
                    }
                }
                return true
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            return false
        }
    }

    /// The job exists: store its id, point the leases at it, track it and owe `job.created`.
    func recordJob(_ chunk: ChunkRow, job created: JobCreated, leaseServers: [String], pool: PostgresPool) async throws {
        try await pool.transaction { connection in
            try await connection.query(
                "UPDATE \(schema).launch_chunks SET state = 'SUBMITTED', job_id = $2, started_at = now() WHERE id = $1",
                [chunk.id, created.jobID])
            if chunk.kind == .launch {
                try await connection.query(
                    "UPDATE \(schema).server_leases SET job_id = $2 WHERE chunk_id = $1", [chunk.id, created.jobID])
            } else {
                // A TERMINATE job holds its servers in DRS too.
                for server in leaseServers {
                    try await connection.query(
                        """
                        INSERT INTO \(schema).server_leases (account_id, region, source_server_id, chunk_id, job_id)
                        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
                        """, [chunk.endpoint.accountID, chunk.endpoint.region, server, chunk.id, created.jobID])
                }
            }
            try await connection.query(
                """
                INSERT INTO \(schema).jobs (job_id, chunk_id, account_id, region, launch_group, chunk, job_type, server_count)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (job_id) DO NOTHING
                """,
                [created.jobID, chunk.id, chunk.endpoint.accountID, chunk.endpoint.region, chunk.launchGroup.description,
                 chunk.chunk, created.jobType.rawValue, chunk.items.count])
            try await outbox.enqueue(jobStatus(EventType.jobCreated, chunk.launchGroup, created), on: connection)
        }
    }

    /// No job was created: release the leases and queue the chunk again,
    /// not before `notBefore`; owes `job.queued` when the reason changed
    /// (nil: no event, e.g. after a reconciliation found no job).
    func requeue(
        _ chunk: ChunkRow, reason: JobQueued.Reason?, notBefore: Date?, conflicts: Int? = nil, firstConflictAt: Date? = nil,
        blocking: [String] = [], pool: PostgresPool
    ) async throws {
        try await pool.transaction { connection in
            try await connection.query("DELETE FROM \(schema).server_leases WHERE chunk_id = $1 AND job_id IS NULL", [chunk.id])
            try await connection.query(
                """
                UPDATE \(schema).launch_chunks
                SET state = 'QUEUED', not_before = $2, backoff_reason = $3, conflicts = coalesce($4, conflicts),
                    first_conflict_at = coalesce($5, first_conflict_at), submitter = NULL
                WHERE id = $1
                """, [chunk.id, notBefore, notBefore == nil ? nil : reason?.rawValue, conflicts, firstConflictAt])
            if let reason { try await markQueued(chunk, reason: reason, blocking: blocking, on: connection) }
        }
    }

    /// Owes `job.queued` if the chunk's recorded wait reason differs.
    func markQueued(_ chunk: ChunkRow, reason: JobQueued.Reason, blocking: [String], on connection: PostgresConnection) async throws {
        let changed = try await connection.query(
            """
            UPDATE \(schema).launch_chunks SET queued_reason = $2
            WHERE id = $1 AND queued_reason IS DISTINCT FROM $2
            """, [chunk.id, reason.rawValue])
        guard changed.affectedRows == 1 else { return }
        let payload = JobQueued(
            launchGroup: chunk.launchGroup, sourceServerIDs: chunk.items, reason: reason,
            blockingServerIDs: Array(blocking.prefix(200)), queuedAt: Date())
        try await outbox.enqueue(jobStatus(EventType.jobQueued, chunk.launchGroup, payload), on: connection)
    }

    /// The chunk cannot be launched: release its leases and owe `job.launch-failed`.
    func fail(_ chunk: ChunkRow, code: String, reason: String, pool: PostgresPool) async throws {
        try await pool.transaction { connection in
            try await connection.query("DELETE FROM \(schema).server_leases WHERE chunk_id = $1 AND job_id IS NULL", [chunk.id])
            let updated = try await connection.query(
                "UPDATE \(schema).launch_chunks SET state = 'FAILED' WHERE id = $1 AND state IN ('QUEUED', 'SUBMITTING')",
                [chunk.id])
            guard updated.affectedRows == 1 else { return }
            let payload = JobLaunchFailed(
                launchGroup: chunk.launchGroup, chunk: chunk.chunk, chunkCount: chunk.chunkCount,
                sourceServerIDs: chunk.items, errorCode: code, reason: reason)
            try await outbox.enqueue(jobStatus(EventType.jobLaunchFailed, chunk.launchGroup, payload), on: connection)
        }
    }
}
