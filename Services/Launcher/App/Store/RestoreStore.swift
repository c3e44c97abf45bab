import Foundation
import MusterDRS
import MusterDomain
import MusterEvents
import MusterPostgres

/// The SQL of launch-setting restores (issue 13): a row per server is
/// written before anything is changed, marked applied after, due when the
/// job is past launch (or the chunk gave up or was requeued), closed when
/// the settings are back.
struct RestoreStore: Sendable {
    let schema: String

    /// An open restore.
    struct Row: Sendable {
        var id: Int64
        var version: Int
        var endpoint: Endpoint
        var sourceServerID: SourceServerID
        var chunkID: Int64
        var launchTemplateID: String?
        var previousVersion: Int64?
        var appliedVersion: Int64?
        var previous: LaunchConfiguration
        var keep: Bool
        var state: String
    }

    /// What to record for one server before its settings are changed.
    struct Recorded: Sendable {
        var sourceServerID: SourceServerID
        var launchTemplateID: String?
        var previousVersion: Int64?
        var previous: LaunchConfiguration
        var keep: Bool
    }

    private static let columns = """
        id, version, account_id, region, source_server_id, chunk_id, launch_template_id, previous_version, applied_version,
        previous_configuration::text AS previous_configuration, keep, state
        """

    /// Records what `chunk` is about to change, in one transaction, and returns
    /// the open rows. A server with an open row (an earlier attempt, not yet
    /// restored) keeps the settings recorded first; the row moves to `chunk`.
    func record(_ servers: [Recorded], chunk: Int64, endpoint: Endpoint, pool: PostgresPool) async throws -> [SourceServerID: Row] {
        let s = schema
        return try await pool.transaction { connection in
            var rows: [SourceServerID: Row] = [:]
            for server in servers {
                let result = try await connection.query(
                    """
                    INSERT INTO \(s).launch_restores
                        (account_id, region, source_server_id, chunk_id, launch_template_id, previous_version,
                         previous_configuration, keep, state)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'RECORDED')
                    ON CONFLICT (account_id, region, source_server_id) WHERE closed_at IS NULL
                    DO UPDATE SET chunk_id = EXCLUDED.chunk_id, keep = EXCLUDED.keep, state = 'RECORDED', due_at = NULL,
                        launch_template_id = coalesce(\(s).launch_restores.launch_template_id, EXCLUDED.launch_template_id),
                        previous_version = coalesce(\(s).launch_restores.previous_version, EXCLUDED.previous_version),
                        version = \(s).launch_restores.version + 1
                    RETURNING \(Self.columns)
                    """,
                    [endpoint.accountID, endpoint.region, server.sourceServerID, chunk, server.launchTemplateID,
                     server.previousVersion, try PostgresJSON(encoding: server.previous), server.keep])
                let row = try Self.row(result.rows[0])
                rows[row.sourceServerID] = row
            }
            return rows
        }
    }

    /// The change of `row` is made: the template version Muster created, if any.
    func applied(_ id: Int64, appliedVersion: Int64?, pool: PostgresPool) async throws {
        try await pool.query(
            """
            UPDATE \(schema).launch_restores SET state = 'APPLIED', applied_version = coalesce($2, applied_version),
                version = version + 1
            WHERE id = $1 AND closed_at IS NULL AND state = 'RECORDED'
            """, [id, appliedVersion])
    }

    /// Marks the open restores of a chunk due (it gave up, was requeued, or its job is over); on the caller's transaction.
    @discardableResult
    func dueForChunk(_ chunk: Int64, on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            UPDATE \(schema).launch_restores SET state = 'DUE', due_at = now(), version = version + 1
            WHERE chunk_id = $1 AND closed_at IS NULL AND state <> 'DUE'
            """, [chunk]).affectedRows
    }

    /// Marks the open restores of `servers` of `job` due (DRS launched them); on the caller's transaction.
    @discardableResult
    func dueForJob(_ jobID: JobID, servers: [SourceServerID], on connection: PostgresConnection) async throws -> Int {
        guard !servers.isEmpty else { return 0 }
        return try await connection.query(
            """
            UPDATE \(schema).launch_restores r SET state = 'DUE', due_at = now(), version = r.version + 1
            FROM \(schema).jobs j
            WHERE j.job_id = $1 AND r.chunk_id = j.chunk_id AND r.closed_at IS NULL AND r.state <> 'DUE'
              AND r.source_server_id IN (SELECT jsonb_array_elements_text($2))
            """, [jobID, try LaunchStore.json(servers)]).affectedRows
    }

    /// Open restores of `endpoint` that are due.
    func due(_ endpoint: Endpoint, limit: Int = 200, pool: PostgresPool) async throws -> [Row] {
        try await pool.query(
            """
            SELECT \(Self.columns) FROM \(schema).launch_restores
            WHERE account_id = $1 AND region = $2 AND closed_at IS NULL AND state = 'DUE' ORDER BY id LIMIT $3
            """, [endpoint.accountID, endpoint.region, limit]).rows.map(Self.row)
    }

    /// Closes `row` (RESTORED or KEPT) unless it moved on since it was read.
    @discardableResult
    func close(_ row: Row, as state: String, pool: PostgresPool) async throws -> Bool {
        try await pool.query(
            """
            UPDATE \(schema).launch_restores SET state = $3, closed_at = now(), version = version + 1
            WHERE id = $1 AND version = $2 AND closed_at IS NULL
            """, [row.id, row.version, state]).affectedRows == 1
    }

    /// Counts a failed restore attempt (it stays due).
    func failed(_ row: Row, error: String, pool: PostgresPool) async throws {
        try await pool.query(
            "UPDATE \(schema).launch_restores SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
            [row.id, String(error.prefix(1000))])
    }

    private static func row(_ row: PostgresRow) throws -> Row {
        Row(
            id: try row.decode(Int64.self, "id"), version: try row.decode(Int.self, "version"),
            endpoint: Endpoint(accountID: try row.decode(String.self, "account_id"), region: try row.decode(String.self, "region")),
            sourceServerID: try row.decode(SourceServerID.self, "source_server_id"), chunkID: try row.decode(Int64.self, "chunk_id"),
            launchTemplateID: try row.decode(String?.self, "launch_template_id"),
            previousVersion: try row.decode(Int64?.self, "previous_version"),
            appliedVersion: try row.decode(Int64?.self, "applied_version"),
            previous: try JSONDecoder().decode(
                LaunchConfiguration.self, from: Data(try row.decode(String.self, "previous_configuration").utf8)),
            keep: try row.decode(Bool.self, "keep"), state: try row.decode(String.self, "state"))
    }
}
