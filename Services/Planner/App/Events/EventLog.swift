import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres

/// The planner's durable per-team log of public execution events (DESIGN §12
/// "Event stream"): each event gets the next number of its team's sequence,
/// in the transaction that also puts it in the outbox. The outbox may be
/// pruned after publishing; this log is what `GET /v1/events/stream` serves.
///
/// Why a counter row per team and not a `BIGSERIAL`: a serial number is taken
/// at insert time but becomes visible at commit, so a reader could see 6
/// before 5 commits and, resuming after 6, miss 5. Taking the number by
/// updating the team's counter row locks it until commit, so within a team
/// commit order is sequence order and `seq > lastSeen` never skips a row.
struct EventLog: Sendable {
    let schema: String

    static let migration = Migration(version: 150, name: "event_log", sql: """
        CREATE TABLE event_sequences (
            team_id    UUID PRIMARY KEY,
            last_seq   BIGINT NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
        );
        CREATE TABLE event_log (
            team_id      UUID NOT NULL,
            seq          BIGINT NOT NULL,
            event_id     UUID NOT NULL UNIQUE,
            type         TEXT NOT NULL,
            source       TEXT NOT NULL,
            execution_id UUID NOT NULL,
            plan_id      UUID NOT NULL,
            event_time   TIMESTAMPTZ NOT NULL,
            data         TEXT NOT NULL,
            recorded_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (team_id, seq)
        );
        CREATE INDEX event_log_execution ON event_log (team_id, execution_id, seq);
        CREATE INDEX event_log_plan ON event_log (team_id, plan_id, seq);
        """)

    /// One logged event as the stream serves it.
    struct Entry: Sendable, Equatable {
        var seq: Int64
        var event: CloudEvent
    }

    /// Appends `events` (all `execution.events.v1` CloudEvents carrying an
    /// `ExecutionEvent`) on `connection`, inside the caller's transaction.
    func append(_ events: [CloudEvent], on connection: PostgresConnection) async throws {
        let decoded = try events.map { ($0, try $0.decode(ExecutionEvent.self)) }
        let byTeam = Dictionary(grouping: decoded, by: { $0.1.teamID })
        for teamID in byTeam.keys.sorted() {  // a fixed order, so two writers never lock counters crosswise
            guard let batch = byTeam[teamID] else { continue }
            let count = Int64(batch.count)
            let last = try await connection.query(
                """
                INSERT INTO \(schema).event_sequences AS s (team_id, last_seq) VALUES ($1, $2)
                ON CONFLICT (team_id) DO UPDATE SET last_seq = s.last_seq + $2, updated_at = clock_timestamp()
                RETURNING last_seq
                """, [teamID, count]).rows[0].decode(Int64.self, "last_seq")
            var seq = last - count
            for (event, payload) in batch {
                seq += 1
                try await connection.query(
                    """
                    INSERT INTO \(schema).event_log
                        (team_id, seq, event_id, type, source, execution_id, plan_id, event_time, data)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    """,
                    [teamID, seq, event.id, event.type, event.source, payload.executionID,
                     payload.planID, event.time, String(decoding: event.data, as: UTF8.self)])
            }
        }
    }

    /// Up to `limit` events of `team` after `after` that match `filter`, oldest first.
    func read(team: TeamID, after: Int64, filter: EventFilter, limit: Int, on connection: PostgresConnection)
        async throws -> [Entry]
    {
        let rows = try await connection.query(
            """
            SELECT seq, event_id, type, source, execution_id, event_time, data FROM \(schema).event_log
            WHERE team_id = $1 AND seq > $2 AND ($3::uuid IS NULL OR execution_id = $3)
              AND ($4::uuid IS NULL OR plan_id = $4)
              AND ($5::jsonb IS NULL OR type IN (SELECT jsonb_array_elements_text($5::jsonb)))
            ORDER BY seq LIMIT $6
            """,
            [team, after, filter.executionID, filter.planID,
             filter.types.isEmpty ? nil : try PostgresJSON(encoding: filter.types.map(\.rawValue).sorted()),
             limit]).rows
        return try rows.map { row in
            Entry(seq: try row.decode(Int64.self, "seq"), event: CloudEvent(
                id: try row.decode(UUID.self, "event_id"), source: try row.decode(String.self, "source"),
                type: try row.decode(String.self, "type"), time: try row.decode(Date.self, "event_time"),
                subject: try row.decode(UUID.self, "execution_id").uuidString.lowercased(),
                data: Array(try row.decode(String.self, "data").utf8)))
        }
    }

    /// The last sequence number of each of `teams` that has logged anything.
    func heads(_ teams: [TeamID], on connection: PostgresConnection) async throws -> [TeamID: Int64] {
        guard !teams.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT team_id, last_seq FROM \(schema).event_sequences
            WHERE team_id IN (SELECT (jsonb_array_elements_text($1::jsonb))::uuid)
            """, [try PostgresJSON(encoding: teams.map(\.rawValue))]).rows
        var heads: [TeamID: Int64] = [:]
        for row in rows { heads[try row.decode(TeamID.self, "team_id")] = try row.decode(Int64.self, "last_seq") }
        return heads
    }
}

/// Which events a stream client wants: all of its team's, or those of one
/// execution, one plan, some types.
struct EventFilter: Sendable, Equatable {
    var executionID: UUID?
    var planID: PlanID?
    var types: Set<ExecutionEventType> = []
}
