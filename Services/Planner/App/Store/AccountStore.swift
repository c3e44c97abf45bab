import Foundation
import MusterAPI
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// AWS accounts (published to the launcher on `accounts.v1`) and the source
/// server inventory read with them. A protocol for the database-free route tests.
protocol AccountStoring: Sendable {
    /// Registers (`existing` nil, as `id`) or updates an account of `team` with its outbox event and audit row;
    /// 404 for another team's account, 422 if the AWS account id would change.
    func save(_ account: AccountWrite, id: UUID, existing: Bool, team: TeamID, by actor: String) async throws
        -> PlannerAPI.AccountView
    /// The team's accounts by AWS account id.
    func accounts(of team: TeamID) async throws -> [PlannerAPI.AccountView]
    /// One account of the team, or nil.
    func account(_ id: UUID, of team: TeamID) async throws -> PlannerAPI.AccountView?
    /// Removes an account no protection group uses (409 otherwise), with its outbox event and audit row.
    func remove(_ id: UUID, of team: TeamID, by actor: String) async throws
    /// The team's inventory, filtered.
    func sourceServers(of team: TeamID, accountID: String?, region: String?, state: String?) async throws
        -> [PlannerAPI.ServerView]
}

/// A validated account to store: what the table keeps and what `accounts.v1` carries.
struct AccountWrite: Sendable {
    var awsAccountID: String
    var name: String
    var regions: [String]
    /// As stored (no secret access key).
    var storedCredentials: AccountInput.Credentials
    /// How the launcher gets credentials (published on `accounts.v1`).
    var credentials: CredentialsReference
}

/// ``AccountStoring`` on PostgreSQL.
struct AccountStore: AccountStoring {
    let schema: String
    let pool: PostgresPool
    let topics: Topics

    var auditLog: AuditStore { AuditStore(schema: schema) }

    func save(_ account: AccountWrite, id accountID: UUID, existing: Bool, team: TeamID, by actor: String) async throws
        -> PlannerAPI.AccountView
    {
        try await pool.transaction { connection in
            if existing {
                guard let current = try await connection.query(
                    "SELECT aws_account_id FROM \(schema).accounts WHERE id = $1 AND team_id = $2 FOR UPDATE",
                    [accountID, team]).rows.first else { throw APIError.notFound("account") }
                guard try current.decode(String.self, "aws_account_id") == account.awsAccountID else {
                    throw APIError.validation(ValidationFailure(
                        field: "awsAccountId", rule: "immutable",
                        message: "an account's AWS account id cannot change; register a new account instead"))
                }
                try await connection.query(
                    """
                    UPDATE \(schema).accounts SET name = $2, regions = $3, credentials = $4, updated_at = now()
                    WHERE id = $1
                    """, [accountID, account.name, try PostgresJSON(encoding: account.regions),
                          try PostgresJSON(encoding: account.storedCredentials)])
            } else {
                try await connection.query(
                    """
                    INSERT INTO \(schema).accounts (id, team_id, aws_account_id, name, regions, credentials)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    """,
                    [accountID, team, account.awsAccountID, account.name, try PostgresJSON(encoding: account.regions),
                     try PostgresJSON(encoding: account.storedCredentials)])
            }
            let registration = AccountRegistration(
                accountID: account.awsAccountID, name: account.name, regions: account.regions,
                credentials: account.credentials)
            try await Outbox(schema: schema).owe(
                registration, source: EventSource.planner, topics: topics,
                type: existing ? EventType.accountUpdated : EventType.accountRegistered, on: connection)
            try await auditLog.record(actor: actor, team: team, action: existing ? "account.update" : "account.create",
                                      type: "account", id: accountID.uuidString, on: connection)
            return try Self.view(try await connection.query(
                "SELECT * FROM \(schema).accounts WHERE id = $1", [accountID]).rows[0])
        }
    }

    func accounts(of team: TeamID) async throws -> [PlannerAPI.AccountView] {
        try await pool.query(
            "SELECT * FROM \(schema).accounts WHERE team_id = $1 ORDER BY aws_account_id", [team]).rows.map(Self.view)
    }

    func account(_ id: UUID, of team: TeamID) async throws -> PlannerAPI.AccountView? {
        try await pool.query(
            "SELECT * FROM \(schema).accounts WHERE id = $1 AND team_id = $2", [id, team]).rows.first.map(Self.view)
    }

    func remove(_ accountID: UUID, of team: TeamID, by actor: String) async throws {
        try await pool.transaction { connection in
            guard let row = try await connection.query(
                "SELECT aws_account_id FROM \(schema).accounts WHERE id = $1 AND team_id = $2 FOR UPDATE",
                [accountID, team]).rows.first else { throw APIError.notFound("account") }
            let aws = try row.decode(String.self, "aws_account_id")
            let groups = try await connection.query(
                """
                SELECT DISTINCT g.name FROM \(schema).protection_group_servers s
                JOIN \(schema).protection_groups g ON g.id = s.group_id WHERE s.account_id = $1 ORDER BY g.name
                """, [aws]).rows.map { try $0.decode(String.self, "name") }
            guard groups.isEmpty else {
                throw APIError.conflict(rule: "inUse",
                    "protection groups use servers of this account: \(groups.joined(separator: ", ")); remove them first")
            }
            try await connection.query("DELETE FROM \(schema).accounts WHERE id = $1", [accountID])
            try await Outbox(schema: schema).owe(
                AccountRemoved(accountID: aws), source: EventSource.planner, topics: topics, on: connection)
            try await auditLog.record(actor: actor, team: team, action: "account.delete", type: "account",
                                      id: accountID.uuidString, on: connection)
        }
    }

    func sourceServers(of team: TeamID, accountID: String?, region: String?, state: String?) async throws
        -> [PlannerAPI.ServerView]
    {
        let rows = try await pool.query(
            """
            SELECT s.*, g.id AS group_id, g.name AS group_name
            FROM \(schema).source_servers s
            JOIN \(schema).accounts a ON a.aws_account_id = s.account_id AND a.team_id = $1
            LEFT JOIN \(schema).protection_group_servers m
                ON m.account_id = s.account_id AND m.region = s.region AND m.server_id = s.server_id
            LEFT JOIN \(schema).protection_groups g ON g.id = m.group_id
            WHERE ($2::text IS NULL OR s.account_id = $2) AND ($3::text IS NULL OR s.region = $3)
              AND ($4::text IS NULL OR s.replication_state = $4)
            ORDER BY s.account_id, s.region, s.server_id
            """,
            [team, accountID, region, state]).rows
        return try rows.map { row in
            PlannerAPI.ServerView(
                sourceServerId: try row.decode(String.self, "server_id"), accountId: try row.decode(String.self, "account_id"),
                region: try row.decode(String.self, "region"), hostname: try row.decode(String?.self, "hostname"),
                replicationState: try row.decode(String?.self, "replication_state"),
                lastLaunchResult: try row.decode(String?.self, "last_launch_result"),
                tags: try row.decode(PostgresJSON.self, "tags").decode([String: String].self),
                recoveryInstanceId: try row.decode(String?.self, "recovery_instance_id"),
                observedAt: try row.decode(Date.self, "observed_at"),
                protectionGroupId: try row.decode(UUID?.self, "group_id"),
                protectionGroupName: try row.decode(String?.self, "group_name"))
        }
    }

    static func view(_ row: PostgresRow) throws -> PlannerAPI.AccountView {
        PlannerAPI.AccountView(
            id: try row.decode(UUID.self, "id"), awsAccountId: try row.decode(String.self, "aws_account_id"),
            name: try row.decode(String.self, "name"),
            regions: try row.decode(PostgresJSON.self, "regions").decode([String].self),
            credentials: try row.decode(PostgresJSON.self, "credentials").decode(AccountInput.Credentials.self),
            createdAt: try row.decode(Date.self, "created_at"), updatedAt: try row.decode(Date.self, "updated_at"))
    }
}
