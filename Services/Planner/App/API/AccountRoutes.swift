import Foundation
import Hummingbird
import MusterAPI

// AWS accounts (published to the launcher on accounts.v1) and the source
// server inventory built from inventory.v1. SQL: Store/AccountStore.swift.
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
        v1.post("accounts") { request, _ in try await saveAccount(request, existing: nil) }
        v1.put("accounts/:id") { request, context in try await saveAccount(request, existing: try context.id(what: "account")) }
        v1.get("accounts") { request, _ in try await listAccounts(request) }
        v1.get("accounts/:id") { request, context in try await getAccount(request, context) }
        v1.delete("accounts/:id") { request, context in try await deleteAccount(request, context) }
        v1.get("source-servers") { request, _ in try await listSourceServers(request) }
    }

    func listAccounts(_ request: Request) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        return try JSONResponse.make(.ok, Page(items: try await accounts.accounts(of: team), nextCursor: nil))
    }

    func getAccount(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        guard let view = try await accounts.account(try context.id(what: "account"), of: team) else {
            throw APIError.notFound("account")
        }
        return try JSONResponse.make(.ok, view)
    }

    func deleteAccount(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.admin)
        try await accounts.remove(try context.id(what: "account"), of: team, by: principal.subject)
        wake()
        return JSONResponse.noContent()
    }

    func listSourceServers(_ request: Request) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        let query = request.uri.queryParameters
        let servers = try await accounts.sourceServers(
            of: team, accountID: query["accountId"].map(String.init), region: query["region"].map(String.init),
            state: query["state"].map(String.init))
        return try JSONResponse.make(.ok, Page(items: servers, nextCursor: nil))
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
        let write = AccountWrite(awsAccountID: input.awsAccountId, name: name, regions: regions,
                                 storedCredentials: stored, credentials: credentials)
        let view = try await uniqueConflict(
            field: "awsAccountId", message: "AWS account \(input.awsAccountId) is already registered") {
            try await accounts.save(write, id: existing ?? UUID(), existing: existing != nil, team: team,
                                    by: principal.subject)
        }
        wake()
        return try JSONResponse.make(existing == nil ? .created : .ok, view)
    }
}
