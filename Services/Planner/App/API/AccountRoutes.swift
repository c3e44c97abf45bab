import Foundation
import Hummingbird
import MusterAPI
import MusterEvents
import MusterMessaging
import MusterPostgres

// AWS accounts (published to the launcher on accounts.v1) and the source
// server inventory built from inventory.v1.
extension PlannerAPI {
    struct AccountView: Encodable {
        var id: UUID, awsAccountId: String, name: String, regions: [String]
        var credentials: AccountInput.Credentials, createdAt: Date, updatedAt: Date
    }

    struct ServerView: Encodable {
        var sourceServerId: String, accountId: String, region: String, hostname: String?
        var replicationState: String?, lastLaunchResult: String?, tags: [String: String]
        var recoveryInstanceId: String?, observedAt: Date, protectionGroupId: UUID?, protectionGroupName: String?
    }

    func addAccountRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("accounts") { request, _ in
            try await saveAccount(request, existing: nil)
        }
        v1.put("accounts/:id") { request, context in
            try await saveAccount(request, existing: try context.id(what: "account"))
        }
        v1.get("accounts") { request, _ in
            let team = try await auth.authenticate(request).team()
            let rows = try await pool.query(
                "SELECT * FROM \(schema).accounts WHERE team_id = $1 ORDER BY aws_account_id", [team]).rows
            return try JSONResponse.make(.ok, Page(items: try rows.map(accountView), nextCursor: nil))
        }
        v1.get("accounts/:id") { request, context in
            let team = try await auth.authenticate(request).team()
            guard let row = try await pool.query(
                "SELECT * FROM \(schema).accounts WHERE id = $1 AND team_id = $2",
                [try context.id(what: "account"), team]).rows.first else { throw APIError.notFound("account") }
            return try JSONResponse.make(.ok, try accountView(row))
        }
        v1.delete("accounts/:id") { request, context in
            let principal = try await auth.authenticate(request)
            let team = try principal.team()
            try principal.require(.admin)
            let accountID = try context.id(what: "account")
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
                try await Outbox(schema: schema).enqueue(OutboxMessage(
                    topic: configuration.topics.accounts, key: aws,
                    event: try CloudEvent(source: EventSource.planner, type: EventType.accountRemoved, subject: aws,
                                          payload: AccountRemoved(accountID: aws))), on: connection)
                try await audit(principal, team: team, action: "account.delete", type: "account",
                                id: accountID.uuidString, on: connection)
            }
            wake()
            return JSONResponse.noContent()
        }
        v1.get("source-servers") { request, _ in
            let team = try await auth.authenticate(request).team()
            let query = request.uri.queryParameters
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
                [team, query["accountId"].map(String.init), query["region"].map(String.init),
                 query["state"].map(String.init)]).rows
            let servers = try rows.map { row in
                ServerView(
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
            return try JSONResponse.make(.ok, Page(items: servers, nextCursor: nil))
        }
    }

    func saveAccount(_ request: Request, existing: UUID?) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.admin)
        let input = try await JSONBody.decode(
            AccountInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let (name, regions, credentials) = try validated { try AccountValidator.validate(input, limits: limits) }
        var stored = input.credentials
        stored.secretAccessKey = nil
        let accountID = existing ?? UUID()
        let row = try await uniqueConflict(
            field: "awsAccountId", message: "AWS account \(input.awsAccountId) is already registered") {
            try await pool.transaction { connection in
                if let existing {
                    guard let current = try await connection.query(
                        "SELECT aws_account_id FROM \(schema).accounts WHERE id = $1 AND team_id = $2 FOR UPDATE",
                        [existing, team]).rows.first else { throw APIError.notFound("account") }
                    guard try current.decode(String.self, "aws_account_id") == input.awsAccountId else {
                        throw APIError.validation(ValidationFailure(
                            field: "awsAccountId", rule: "immutable",
                            message: "an account's AWS account id cannot change; register a new account instead"))
                    }
                    try await connection.query(
                        """
                        UPDATE \(schema).accounts SET name = $2, regions = $3, credentials = $4, updated_at = now()
                        WHERE id = $1
                        """, [existing, name, try PostgresJSON(encoding: regions), try PostgresJSON(encoding: stored)])
                } else {
                    try await connection.query(
                        """
                        INSERT INTO \(schema).accounts (id, team_id, aws_account_id, name, regions, credentials)
                        VALUES ($1, $2, $3, $4, $5, $6)
                        """,
                        [accountID, team, input.awsAccountId, name, try PostgresJSON(encoding: regions),
                         try PostgresJSON(encoding: stored)])
                }
                let registration = AccountRegistration(
                    accountID: input.awsAccountId, name: name, regions: regions, credentials: credentials)
                try await Outbox(schema: schema).enqueue(OutboxMessage(
                    topic: configuration.topics.accounts, key: input.awsAccountId,
                    event: try CloudEvent(
                        source: EventSource.planner,
                        type: existing == nil ? EventType.accountRegistered : EventType.accountUpdated,
                        subject: input.awsAccountId, payload: registration)), on: connection)
                try await audit(principal, team: team, action: existing == nil ? "account.create" : "account.update",
                                type: "account", id: accountID.uuidString, on: connection)
                return try await connection.query("SELECT * FROM \(schema).accounts WHERE id = $1", [accountID]).rows[0]
            }
        }
        wake()
        return try JSONResponse.make(existing == nil ? .created : .ok, try accountView(row))
    }

    func accountView(_ row: PostgresRow) throws -> AccountView {
        AccountView(
            id: try row.decode(UUID.self, "id"), awsAccountId: try row.decode(String.self, "aws_account_id"),
            name: try row.decode(String.self, "name"),
            regions: try row.decode(PostgresJSON.self, "regions").decode([String].self),
            credentials: try row.decode(PostgresJSON.self, "credentials").decode(AccountInput.Credentials.self),
            createdAt: try row.decode(Date.self, "created_at"), updatedAt: try row.decode(Date.self, "updated_at"))
    }
}
