import Foundation
import Hummingbird
import MusterAPI
import MusterDomain

// HTTP callout callbacks (issue 16): `POST /v1/callbacks/{token}`. No bearer
// token: the one-time token in the path is the capability. 404 for a token
// that is malformed, unknown, or whose step has ended (timed out, cancelled,
// completed by the receiver's answer); 409 once it was used; 422 naming the
// field for a bad body. Nothing changes on any refusal.
extension PlannerAPI {
    /// Largest callback body.
    static let maxCallbackBody = 65_536

    struct CallbackView: Encodable {
        var executionId: ExecutionID
        var step: String
        var status: String
    }

    func addCallbackRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("callbacks/:token") { request, context in
            let token = context.parameters.get("token") ?? ""
            let bytes: ByteBuffer
            do {
                bytes = try await request.body.collect(upTo: Self.maxCallbackBody)
            } catch {
                throw APIError(status: .contentTooLarge, code: "too_large", field: "", rule: "maxLength",
                               message: "a callback body is at most \(Self.maxCallbackBody) bytes")
            }
            let reply = try CalloutReply.parse(Array(bytes.readableBytesView))
            let view = try await callback(token: token, reply: reply)
            return try JSONResponse.make(.ok, view)
        }
    }

    /// Applies a callback: the step ends as the receiver says.
    func callback(token: String, reply: CalloutReply) async throws -> CallbackView {
        let notFound = APIError(status: .notFound, code: "not_found", message:
            "this callback URL is unknown or expired: it is valid once, while its step runs")
        guard token.wholeMatch(of: CalloutToken.pattern) != nil else { throw notFound }
        let digest = CalloutToken.digest(token)
        let store = CalloutStore(schema: schema, topics: configuration.topics, callbackBaseURL: configuration.callbackBaseURL)
        let view = try await pool.transaction { connection -> CallbackView in
            guard let found = try await store.lock(digest: digest, on: connection) else { throw notFound }
            guard !found.used else {
                throw APIError.conflict(field: "token", rule: "oneTime", "this callback URL was already used; a step takes one result")
            }
            guard let old = try await executions.lock(ExecutionID(found.executionID), teamID: nil, on: connection) else { throw notFound }
            let running = old.waves.flatMap { $0.steps ?? [] }
                .contains { $0.step.name == found.stepName && $0.status == .running }
            guard running else { throw notFound }
            let (new, effects) = try ExecutionStateMachine.apply(
                .stepFinished(StepResult(stepName: found.stepName, succeeded: reply.succeeded, output: reply.output)),
                to: old, now: Date())
            try await executions.save(from: old, to: new, effects: effects, on: connection)
            try await store.use(digest: digest, on: connection)
            let status = new.waves.flatMap { $0.steps ?? [] }.first { $0.step.name == found.stepName }?.status
            return CallbackView(executionId: old.id, step: found.stepName, status: status?.rawValue ?? "")
        }
        wake()
        return view
    }
}
