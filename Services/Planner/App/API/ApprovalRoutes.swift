import Foundation
import Hummingbird
import MusterAPI
import MusterDomain

// Approval steps (issue 16): `POST /v1/executions/{id}/approvals/{step}`.
extension PlannerAPI {
    struct ApprovalInput: Decodable {
        var decision: String
        var comment: String?
    }

    /// Longest approval comment.
    static let maxApprovalComment = 2000

    func addApprovalRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("executions/:id/approvals/:step") { request, context in try await approve(request, context) }
    }

    func approve(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let executionID = try context.id(what: "execution")
        let input = try await JSONBody.decode(
            ApprovalInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let state = try await decideApproval(executionID, step: context.parameters.get("step") ?? "", input: input,
                                             by: principal)
        return try JSONResponse.make(.ok, ExecutionViews.detail(state))
    }

    /// Approves or declines `step` for `principal`; shared by the API and the console.
    func decideApproval(_ executionID: UUID, step: String, input: ApprovalInput, by principal: Principal) async throws
        -> ExecutionState
    {
        guard step.wholeMatch(of: HookRules.namePattern) != nil else {
            throw APIError.badRequest(field: "step", rule: "format", "the step is a step name of the plan")
        }
        let decision = try Self.approvalDecision(input)
        let comment = input.comment?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        var detail = ["step": step, "decision": input.decision]
        if let comment { detail["comment"] = comment }
        return try await command(
            executionID, by: principal, action: decision ? "execution.approve" : "execution.decline", detail: detail
        ) { actor in
            .decide(ApprovalDecision(stepName: step, approve: decision, actor: actor, role: principal.role, comment: comment))
        }
    }

    /// True to approve; 400 for anything but APPROVE / DECLINE or an over-long comment.
    static func approvalDecision(_ input: ApprovalInput) throws -> Bool {
        guard ["APPROVE", "DECLINE"].contains(input.decision) else {
            throw APIError.validation(ValidationFailure(field: "decision", rule: "enum", message: "must be APPROVE or DECLINE"))
        }
        if let comment = input.comment, comment.count > maxApprovalComment {
            throw APIError.validation(ValidationFailure(
                field: "comment", rule: "length", message: "must be at most \(maxApprovalComment) characters"))
        }
        return input.decision == "APPROVE"
    }
}

extension String {
    /// nil for the empty string.
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
