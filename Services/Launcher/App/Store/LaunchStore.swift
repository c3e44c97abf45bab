import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// The SQL of launch chunks, leases and endpoint ownership. Every function
/// taking a connection runs on the caller's transaction; the others open
/// their own short one. No DRS call is ever made while one of these
/// transactions is open.
struct LaunchStore: Sendable {
    let schema: String
    let outbox: Outbox
    let topics: Topics

    init(schema: String, topics: Topics) {
        self.schema = schema
        self.outbox = Outbox(schema: schema)
        self.topics = topics
    }

    static func json<T: Encodable>(_ value: T) throws -> PostgresJSON {
        PostgresJSON(String(decoding: try EventCoding.encoder.encode(value), as: UTF8.self))
    }

    /// The launcher's record of `payload`: on its contract's topic under the launcher's names, keyed by the contract.
    func message(_ payload: some EventContract) throws -> OutboxMessage {
        try OutboxMessage(payload, source: EventSource.launcher, topics: topics)
    }

    // MARK: Consumer side (inside the inbox transaction)

    /// Records the chunks of a launch group or cleanup; a replay of the same
    /// (kind, group, attempt) is ignored.
    func enqueue<Request: Encodable>(
        kind: ChunkRequest.Kind, launchGroup: LaunchGroupID, attempt: Int, chunks: [[String]], request: Request,
        on connection: PostgresConnection
    ) async throws {
        let requestJSON = try Self.json(request)
        // The consumer span's position: the chunk's StartRecovery continues the trace.
        let trace = StoredTrace.current
        for (index, items) in chunks.enumerated() {
            try await connection.query(
                """
                INSERT INTO \(schema).launch_chunks
                    (kind, launch_group, execution_id, account_id, region, attempt, chunk, chunk_count, items, request, state,
                     traceparent, tracestate)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'QUEUED', $11, $12)
                ON CONFLICT (kind, launch_group, attempt, chunk) DO NOTHING
                """,
                [kind.rawValue, launchGroup.description, launchGroup.executionID.rawValue, launchGroup.endpoint.accountID,
                 launchGroup.endpoint.region, attempt, index, chunks.count, try Self.json(items), requestJSON,
                 trace?.traceparent, trace?.tracestate])
        }
    }

    /// The next attempt number of `group`'s cleanup (TERMINATE chunks): 1, then one more per request.
    func nextTerminateAttempt(of group: LaunchGroupID, on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            SELECT coalesce(max(attempt), 0) + 1 AS next FROM \(schema).launch_chunks
            WHERE kind = 'TERMINATE' AND launch_group = $1
            """, [group.description]).rows[0].decode(Int.self, "next")
    }

    /// Records a poll to serve.
    func enqueuePoll(_ poll: JobPoll, on connection: PostgresConnection) async throws {
        try await connection.query(
            "INSERT INTO \(schema).poll_requests (account_id, region, job_ids, is_final, requested_at) VALUES ($1, $2, $3, $4, $5)",
            [poll.endpoint.accountID, poll.endpoint.region, try Self.json(poll.jobIDs), poll.isFinal, poll.requestedAt])
    }

    /// This instance consumed a record for `endpoint` from `partition` of the
    /// co-partitioned inputs: it owns the endpoint, and the endpoint lives on that partition.
    func claim(_ endpoint: Endpoint, partition: Int32, instance: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO \(schema).endpoints (account_id, region, owner, claimed_at, partition) VALUES ($1, $2, $3, now(), $4)
            ON CONFLICT (account_id, region) DO UPDATE SET owner = EXCLUDED.owner, claimed_at = now(),
                partition = EXCLUDED.partition
            """, [endpoint.accountID, endpoint.region, instance, Int(partition)])
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

    /// The endpoints recorded on `partitions`; they become `instance`'s (the
    /// Kafka group assigned those partitions to it).
    func adopt(partitions: Set<Int32>, instance: String, pool: PostgresPool) async throws -> [Endpoint] {
        guard !partitions.isEmpty else { return [] }
        return try await pool.query(
            """
            UPDATE \(schema).endpoints SET owner = $1, claimed_at = now()
            WHERE partition = ANY(string_to_array($2, ',')::int[])
            RETURNING account_id, region
            """, [instance, partitions.sorted().map(String.init).joined(separator: ",")]
        ).rows.map(Self.endpoint)
    }

    /// Heartbeats `instance`, registers `known` endpoints, adopts those that
    /// no partition places yet (registered accounts without traffic, for
    /// inventory) whose owner is dead, and returns them.
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
                WHERE e.partition IS NULL AND e.owner IS DISTINCT FROM $1 AND NOT EXISTS (
                    SELECT 1 FROM \(schema).instances i
                    WHERE i.instance_id = e.owner AND i.heartbeat_at > now() - make_interval(secs => $2))
                """, [instance, stale])
            return try await connection.query(
                "SELECT account_id, region FROM \(schema).endpoints WHERE owner = $1 ORDER BY account_id, region", [instance]
            ).rows.map(Self.endpoint)
        }
    }

    /// Marks `instance` as gone so its partition-less endpoints are adopted at once (graceful stop).
    func retire(instance: String, pool: PostgresPool) async throws {
        try await pool.query("DELETE FROM \(schema).instances WHERE instance_id = $1", [instance])
    }

    /// Endpoints `instance` owns, with the input partition each lives on (nil: none yet).
    func owned(by instance: String, pool: PostgresPool) async throws -> [(endpoint: Endpoint, partition: Int32?)] {
        try await pool.query(
            "SELECT account_id, region, partition FROM \(schema).endpoints WHERE owner = $1 ORDER BY account_id, region",
            [instance]
        ).rows.map { (try Self.endpoint($0), try $0.decode(Int?.self, "partition").map(Int32.init)) }
    }

    static func endpoint(_ row: PostgresRow) throws -> Endpoint {
        Endpoint(accountID: try row.decode(String.self, "account_id"), region: try row.decode(String.self, "region"))
    }

    // MARK: Chunks

    /// Open chunks (QUEUED, SUBMITTING) of `endpoint` in arrival order, with their row versions.
    func openChunks(_ endpoint: Endpoint, pool: PostgresPool) async throws -> [(row: ChunkRow, version: Int)] {
        try await pool.query(
            """
            SELECT \(ChunkRow.columns), c.version FROM \(schema).launch_chunks c
            WHERE c.account_id = $1 AND c.region = $2 AND c.state IN ('QUEUED', 'SUBMITTING')
            ORDER BY c.id
            """, [endpoint.accountID, endpoint.region]
        ).rows.map { (try ChunkRow($0), try $0.decode(Int.self, "version")) }
    }

    /// Leased servers, and Muster's active jobs and their servers, on `endpoint`.
    func occupancy(_ endpoint: Endpoint, pool: PostgresPool) async throws -> LeaseTable {
        let binds: [any PostgresBindable] = [endpoint.accountID, endpoint.region]
        let leased = try await pool.query(
            "SELECT source_server_id FROM \(schema).server_leases WHERE account_id = $1 AND region = $2", binds
        ).rows.map { try $0.decode(SourceServerID.self, "source_server_id") }
        let row = try await pool.query(
            """
            SELECT (SELECT count(*) FROM \(schema).jobs WHERE account_id = $1 AND region = $2 AND completed_at IS NULL)
                 + (SELECT count(*) FROM \(schema).launch_chunks WHERE account_id = $1 AND region = $2 AND state = 'SUBMITTING') AS jobs,
                   (SELECT coalesce(sum(server_count), 0) FROM \(schema).jobs
                        WHERE account_id = $1 AND region = $2 AND completed_at IS NULL)
                 + (SELECT coalesce(sum(jsonb_array_length(items)), 0) FROM \(schema).launch_chunks
                        WHERE account_id = $1 AND region = $2 AND state = 'SUBMITTING') AS servers
            """, binds).rows[0]
        return LeaseTable(leased: Set(leased), activeJobs: try row.decode(Int.self, "jobs"),
                          serversInActiveJobs: try row.decode(Int.self, "servers"))
    }

    /// Stores the snapshots a chunk's servers launch from, before its request leaves.
    func saveRecoverySnapshots(_ chunkID: Int64, _ snapshots: [RecoverySnapshotUsed], pool: PostgresPool) async throws {
        try await pool.query(
            "UPDATE \(schema).launch_chunks SET recovery_snapshots = $2 WHERE id = $1", [chunkID, try Self.json(snapshots)])
    }

    /// What the store needs besides the transition to carry out its effects.
    struct Facts: Sendable {
        /// `job.created` for `recordJob`.
        var created: JobCreated?
        /// Tells `recordDuplicates` which attempt the tags named.
        var attempt: Int = 1
    }

    /// Persists `transition` of `chunk` (read at `version`) and carries out
    /// its effects, in one transaction. False when the row moved on since it
    /// was read (another actor applied a transition first) or a lease is
    /// taken: nothing was changed.
    func apply(
        _ chunk: ChunkRow, version: Int, transition: (ChunkStatus, [ChunkEffect]), instance: String, facts: Facts = Facts(),
        pool: PostgresPool
    ) async throws -> Bool {
        let (status, effects) = transition
        do {
            return try await pool.transaction { connection in
                let updated = try await connection.query(
                    """
                    UPDATE \(schema).launch_chunks
                    SET state = $3, queued_reason = $4, not_before = $5, backoff_reason = $6, conflicts = $7,
                        first_conflict_at = $8, intent_at = $9, sent_at = $10, job_id = $11,
                        submitter = CASE WHEN $3 = 'SUBMITTING' THEN coalesce(submitter, $12) ELSE NULL END,
                        submissions = submissions + CASE WHEN state = 'QUEUED' AND $3 = 'SUBMITTING' THEN 1 ELSE 0 END,
                        started_at = CASE WHEN $3 = 'SUBMITTED' THEN coalesce(started_at, now()) ELSE started_at END,
                        version = version + 1
                    WHERE id = $1 AND version = $2
                    """,
                    [chunk.id, version, status.state.rawValue, status.queuedReason?.rawValue, status.notBefore,
                     status.backoffReason?.rawValue, status.conflicts, status.firstConflictAt, status.intentAt,
                     status.sentAt, status.jobID, instance])
                guard updated.affectedRows == 1 else { return false }
                for effect in effects {
                    try await perform(effect, chunk: chunk, facts: facts, on: connection)
                }
                return true
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            return false
        }
    }

    private func perform(_ effect: ChunkEffect, chunk: ChunkRow, facts: Facts, on connection: PostgresConnection) async throws {
        let account = chunk.endpoint.accountID, region = chunk.endpoint.region
        switch effect {
        case .takeLeases:
            guard chunk.kind == .launch else { return }
            try await connection.query(
                """
                INSERT INTO \(schema).server_leases (account_id, region, source_server_id, chunk_id)
                SELECT $1, $2, s, $3 FROM jsonb_array_elements_text($4) AS s
                """, [account, region, chunk.id, try Self.json(chunk.items)])
        case .releaseLeases:
            try await connection.query("DELETE FROM \(schema).server_leases WHERE chunk_id = $1 AND job_id IS NULL", [chunk.id])
            // Settings applied for a launch that is not happening now are put back (issue 13).
            try await RestoreStore(schema: schema).dueForChunk(chunk.id, on: connection)
        case .recordJob(let jobID):
            guard let created = facts.created, created.jobID == jobID else {
                throw MalformedRow(description: "recording job \(jobID) of chunk \(chunk.id) without its job.created")
            }
            if chunk.kind == .launch {
                try await connection.query("UPDATE \(schema).server_leases SET job_id = $2 WHERE chunk_id = $1", [chunk.id, jobID])
            } else {
                // A TERMINATE job holds its servers in DRS too.
                try await connection.query(
                    """
                    INSERT INTO \(schema).server_leases (account_id, region, source_server_id, chunk_id, job_id)
                    SELECT $1, $2, s, $3, $4 FROM jsonb_array_elements_text($5) AS s ON CONFLICT DO NOTHING
                    """, [account, region, chunk.id, jobID, try Self.json(created.sourceServerIDs)])
            }
            try await insertJob(jobID, chunk: chunk, type: created.jobType, isDrill: created.isDrill, duplicateOf: nil,
                                on: connection)
            try await outbox.enqueue(message(created), on: connection)
        case .publishQueued(let reason, let blocking):
            let payload = JobQueued(
                launchGroup: chunk.launchGroup, sourceServerIDs: chunk.servers, reason: reason,
                blockingServerIDs: Array(blocking.prefix(200)), queuedAt: Date())
            try await outbox.enqueue(message(payload), on: connection)
        case .publishLaunchFailed(let code, let reason):
            let payload = JobLaunchFailed(
                launchGroup: chunk.launchGroup, chunk: chunk.chunk, chunkCount: chunk.chunkCount,
                sourceServerIDs: chunk.servers, errorCode: code, reason: reason)
            try await outbox.enqueue(message(payload), on: connection)
        case .recordDuplicates(let jobIDs):
            let primary = facts.created?.jobID ?? chunk.status.jobID ?? JobID(rawValue: "")
            for jobID in jobIDs {
                try await insertJob(jobID, chunk: chunk, type: chunk.kind == .launch ? .launch : .terminate,
                                    isDrill: facts.created?.isDrill ?? true, duplicateOf: primary, on: connection)
            }
            let payload = JobDuplicateDetected(
                launchGroup: chunk.launchGroup, chunk: chunk.chunk, attempt: facts.attempt, jobID: primary,
                duplicateJobIDs: jobIDs)
            try await outbox.enqueue(message(payload), on: connection)
        case .wakeAt:
            break
        }
    }

    private func insertJob(
        _ jobID: JobID, chunk: ChunkRow, type: DRSJobType, isDrill: Bool, duplicateOf: JobID?,
        on connection: PostgresConnection
    ) async throws {
        // The job's looks continue the trace of the span that started it (StartRecovery), else the chunk's.
        let trace = StoredTrace.current ?? chunk.trace
        try await connection.query(
            """
            INSERT INTO \(schema).jobs
                (job_id, chunk_id, account_id, region, launch_group, chunk, job_type, server_count, duplicate_of, is_drill,
                 traceparent, tracestate)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (job_id) DO NOTHING
            """,
            [jobID, chunk.id, chunk.endpoint.accountID, chunk.endpoint.region, chunk.launchGroup.description,
             chunk.chunk, type.rawValue, chunk.items.count, duplicateOf, isDrill, trace?.traceparent, trace?.tracestate])
    }
}
