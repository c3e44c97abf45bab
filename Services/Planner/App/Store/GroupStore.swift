import Foundation
import MusterAPI
import MusterDomain
import MusterPostgres

/// Protection groups and their resolved members. A protocol for the
/// database-free route tests.
protocol GroupStoring: Sendable {
    /// Creates (`existing` false, as `id`) or updates a group of `team`: resolves `selection` against the
    /// team's inventory, records membership, marks readiness stale (update) and writes the audit row.
    func save(id: UUID, existing: Bool, name: String, region: String, selection: GroupSelection, team: TeamID,
              by actor: String) async throws -> PlannerAPI.GroupView
    /// The team's groups by name.
    func groups(of team: TeamID) async throws -> [PlannerAPI.GroupView]
    /// One group of the team, or nil.
    func group(_ id: UUID, of team: TeamID) async throws -> PlannerAPI.GroupView?
    /// Removes a group no plan uses (409 otherwise), with its audit row.
    func remove(_ id: UUID, of team: TeamID, by actor: String) async throws
}

/// ``GroupStoring`` on PostgreSQL.
struct GroupStore: GroupStoring {
    let schema: String
    let pool: PostgresPool
    let limits: PlannerLimits

    var auditLog: AuditStore { AuditStore(schema: schema) }

    func save(id groupID: UUID, existing: Bool, name: String, region: String, selection: GroupSelection, team: TeamID,
              by actor: String) async throws -> PlannerAPI.GroupView {
        try await pool.transaction { connection in
            if existing {
                guard let row = try await connection.query(
                    "SELECT region FROM \(schema).protection_groups WHERE id = $1 AND team_id = $2 FOR UPDATE",
                    [groupID, team]).rows.first else { throw APIError.notFound("protection group") }
                guard try row.decode(String.self, "region") == region else {
                    throw APIError.validation(ValidationFailure(
                        field: "region", rule: "immutable",
                        message: "a protection group's region cannot change; create a new group for another region"))
                }
                try await connection.query(
                    "UPDATE \(schema).protection_groups SET name = $2, selection = $3, updated_at = now() WHERE id = $1",
                    [groupID, name, try PostgresJSON(encoding: selection)])
                try await connection.query(
                    "DELETE FROM \(schema).protection_group_servers WHERE group_id = $1", [groupID])
                try await ReadinessStore(schema: schema).markStale(group: groupID, on: connection)
            } else {
                try await connection.query(
                    """
                    INSERT INTO \(schema).protection_groups (id, team_id, name, region, selection)
                    VALUES ($1, $2, $3, $4, $5)
                    """, [groupID, team, name, region, try PostgresJSON(encoding: selection)])
            }
            let members = try await resolve(selection, team: team, region: region, on: connection)
            try await assign(members, to: groupID, on: connection)
            try await auditLog.record(actor: actor, team: team,
                                      action: existing ? "protection-group.update" : "protection-group.create",
                                      type: "protection-group", id: groupID.uuidString, on: connection)
            guard let view = try await view(groupID, team: team, on: connection) else {
                throw StoreError.vanished("protection group \(groupID.uuidString.lowercased()) after saving it")
            }
            return view
        }
    }

    func groups(of team: TeamID) async throws -> [PlannerAPI.GroupView] {
        try await pool.withConnection { connection in
            let rows = try await connection.query(
                "SELECT id FROM \(schema).protection_groups WHERE team_id = $1 ORDER BY lower(name)", [team]).rows
            var views: [PlannerAPI.GroupView] = []
            for row in rows {
                if let view = try await view(try row.decode(UUID.self, "id"), team: team, on: connection) {
                    views.append(view)
                }
            }
            return views
        }
    }

    func group(_ id: UUID, of team: TeamID) async throws -> PlannerAPI.GroupView? {
        try await pool.withConnection { try await view(id, team: team, on: $0) }
    }

    func remove(_ groupID: UUID, of team: TeamID, by actor: String) async throws {
        try await pool.transaction { connection in
            guard try await !connection.query(
                "SELECT 1 FROM \(schema).protection_groups WHERE id = $1 AND team_id = $2 FOR UPDATE",
                [groupID, team]).rows.isEmpty else { throw APIError.notFound("protection group") }
            let plans = try await connection.query(
                """
                SELECT p.name FROM \(schema).plan_groups pg JOIN \(schema).plans p ON p.id = pg.plan_id
                WHERE pg.group_id = $1 ORDER BY p.name
                """, [groupID]).rows.map { try $0.decode(String.self, "name") }
            guard plans.isEmpty else {
                throw APIError.conflict(rule: "inUse",
                    "recovery plans use this protection group: \(plans.joined(separator: ", ")); remove it from them first")
            }
            try await connection.query("DELETE FROM \(schema).protection_groups WHERE id = $1", [groupID])
            try await auditLog.record(actor: actor, team: team, action: "protection-group.delete",
                                      type: "protection-group", id: groupID.uuidString, on: connection)
        }
    }

    /// The inventory servers `selection` picks in the team's accounts in `region`.
    func resolve(_ selection: GroupSelection, team: TeamID, region: String, on connection: PostgresConnection)
        async throws -> [PlannerAPI.MemberView]
    {
        let filter: String
        let argument: PostgresJSON
        switch selection {
        case .servers(let ids):
            filter = "s.server_id IN (SELECT jsonb_array_elements_text($3))"
            argument = try PostgresJSON(encoding: ids)
        case .tags(let tags):
            filter = "s.tags @> $3"
            argument = try PostgresJSON(encoding: tags)
        }
        let members = try await connection.query(
            """
            SELECT s.server_id, s.account_id, s.region FROM \(schema).source_servers s
            JOIN \(schema).accounts a ON a.aws_account_id = s.account_id AND a.team_id = $1
            WHERE s.region = $2 AND \(filter) ORDER BY s.server_id
            """, [team, region, argument]).rows.map {
            PlannerAPI.MemberView(
                sourceServerId: try $0.decode(String.self, "server_id"),
                accountId: try $0.decode(String.self, "account_id"), region: try $0.decode(String.self, "region"))
        }
        if case .servers(let ids) = selection {
            let found = Set(members.map(\.sourceServerId))
            if let index = ids.firstIndex(where: { !found.contains($0) }) {
                throw APIError.validation(ValidationFailure(
                    field: "sourceServerIds[\(index)]", rule: "inventory",
                    message: "\(ids[index]) is not in your inventory in \(region); register its account or wait for the next inventory scan"))
            }
        }
        guard members.count <= limits.maxServersPerGroup else {
            throw APIError.validation(ValidationFailure(
                field: "tagSelector", rule: "maxItems",
                message: "the selector matches \(members.count) servers; a group holds at most \(limits.maxServersPerGroup)"))
        }
        return members
    }

    /// Records membership; the table's key enforces one group per server.
    func assign(_ members: [PlannerAPI.MemberView], to group: UUID, on connection: PostgresConnection) async throws {
        guard !members.isEmpty else { return }
        let taken = try await connection.query(
            """
            SELECT m.server_id, g.name FROM \(schema).protection_group_servers m
            JOIN \(schema).protection_groups g ON g.id = m.group_id
            JOIN jsonb_to_recordset($1) AS r("sourceServerId" text, "accountId" text, region text)
              ON r."sourceServerId" = m.server_id AND r."accountId" = m.account_id AND r.region = m.region
            WHERE m.group_id <> $2 ORDER BY m.server_id LIMIT 1
            """, [try PostgresJSON(encoding: members), group]).rows.first
        if let taken {
            let server = try taken.decode(String.self, "server_id"), other = try taken.decode(String.self, "name")
            throw APIError.conflict(field: "sourceServerIds", rule: "assigned",
                "\(server) already belongs to protection group \(other); a server belongs to one protection group")
        }
        try await connection.query(
            """
            INSERT INTO \(schema).protection_group_servers (group_id, account_id, region, server_id)
            SELECT $2, r."accountId", r.region, r."sourceServerId"
            FROM jsonb_to_recordset($1) AS r("sourceServerId" text, "accountId" text, region text)
            """, [try PostgresJSON(encoding: members), group])
    }

    /// A group of the team with its members, or nil.
    func view(_ id: UUID, team: TeamID, on connection: PostgresConnection) async throws -> PlannerAPI.GroupView? {
        guard let row = try await connection.query(
            "SELECT * FROM \(schema).protection_groups WHERE id = $1 AND team_id = $2", [id, team]).rows.first
        else { return nil }
        let selection = try row.decode(PostgresJSON.self, "selection").decode(GroupSelection.self)
        let members = try await connection.query(
            """
            SELECT server_id, account_id, region FROM \(schema).protection_group_servers
            WHERE group_id = $1 ORDER BY server_id
            """, [id]).rows.map {
            PlannerAPI.MemberView(
                sourceServerId: try $0.decode(String.self, "server_id"),
                accountId: try $0.decode(String.self, "account_id"), region: try $0.decode(String.self, "region"))
        }
        var ids: [String]?, tags: [String: String]?
        switch selection {
        case .servers(let list): ids = list
        case .tags(let selector): tags = selector
        }
        return PlannerAPI.GroupView(
            id: id, name: try row.decode(String.self, "name"), region: try row.decode(String.self, "region"),
            sourceServerIds: ids, tagSelector: tags, servers: members,
            createdAt: try row.decode(Date.self, "created_at"), updatedAt: try row.decode(Date.self, "updated_at"))
    }
}
