import Foundation
import Hummingbird
import MusterAPI

// Protection groups: explicit servers or a tag selector, resolved against
// the team's inventory when the group is saved. SQL: Store/GroupStore.swift.
extension PlannerAPI {
    struct MemberView: Encodable { var sourceServerId: String; var accountId: String; var region: String }
    struct GroupView: Encodable {
        var id: UUID, name: String, region: String, sourceServerIds: [String]?, tagSelector: [String: String]?
        var servers: [MemberView], createdAt: Date, updatedAt: Date
    }

    func addGroupRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("protection-groups") { request, _ in try await saveGroup(request, existing: nil) }
        v1.put("protection-groups/:id") { request, context in
            try await saveGroup(request, existing: try context.id(what: "protection group"))
        }
        v1.get("protection-groups") { request, _ in try await listGroups(request) }
        v1.get("protection-groups/:id") { request, context in try await getGroup(request, context) }
        v1.delete("protection-groups/:id") { request, context in try await deleteGroup(request, context) }
    }

    func listGroups(_ request: Request) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        return try JSONResponse.make(.ok, Page(items: try await groups.groups(of: team), nextCursor: nil))
    }

    func getGroup(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        guard let view = try await groups.group(try context.id(what: "protection group"), of: team) else {
            throw APIError.notFound("protection group")
        }
        return try JSONResponse.make(.ok, view)
    }

    func deleteGroup(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.operator)
        try await groups.remove(try context.id(what: "protection group"), of: team, by: principal.subject)
        return JSONResponse.noContent()
    }

    func saveGroup(_ request: Request, existing: UUID?) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.operator)
        let input = try await JSONBody.decode(
            GroupInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let (name, region, selection) = try validated { try GroupValidator.validate(input, limits: limits) }
        let view = try await uniqueConflict(field: "name", message: "a protection group named \(name) exists in your team") {
            try await groups.save(id: existing ?? UUID(), existing: existing != nil, name: name, region: region,
                                  selection: selection, team: team, by: principal.subject)
        }
        return try JSONResponse.make(existing == nil ? .created : .ok, view)
    }
}
