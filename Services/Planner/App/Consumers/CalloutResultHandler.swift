import Foundation
import Logging
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Applies `callout.completed` (from the notifier) inside the inbox
/// transaction: a POST that failed for good fails its step with the reason; a
/// 2xx answer holding a final result (`{"status": …}`) ends the step with it;
/// any other 2xx answer leaves the step waiting for its callback (or timeout).
struct CalloutResultHandler: Sendable {
    let store: ExecutionStore
    let logger: Logger

    func handle(_ event: CloudEvent, on connection: PostgresConnection) async throws {
        guard event.type == EventType.calloutCompleted else {
            throw UnprocessableEvent("callout.results.v1 carries no \(event.type) events")
        }
        guard event.source == EventSource.notifier else {
            throw UnprocessableEvent("\(event.type) \(event.id): ce_source '\(event.source)' is not the notifier's")
        }
        let completed: CalloutCompleted
        do {
            completed = try event.decode(CalloutCompleted.self)
        } catch {
            throw UnprocessableEvent("\(event.type) \(event.id): \(error)")
        }
        guard let result = Self.result(of: completed) else { return }
        guard let id = UUID(uuidString: completed.executionID) else {
            throw UnprocessableEvent("\(event.type) names execution \(completed.executionID), which is not a UUID")
        }
        guard let old = try await store.lock(id, teamID: nil, on: connection) else {
            logger.warning("callout.completed for an unknown execution", metadata: ["execution": "\(id)"])
            return
        }
        let (new, effects) = try ExecutionStateMachine.apply(.stepFinished(result), to: old, now: Date())
        try await store.save(from: old, to: new, effects: effects, on: connection)
    }

    /// What the outcome means for the step (pure): nil while it waits for the callback.
    static func result(of completed: CalloutCompleted) -> StepResult? {
        if !completed.delivered {
            let status = completed.statusCode.map { " (last answer HTTP \($0))" } ?? ""
            return StepResult(
                stepName: completed.stepName, succeeded: false,
                output: "callout POST failed after \(completed.attempts) attempt(s)\(status): \(completed.error ?? "no answer")")
        }
        guard let reply = CalloutReply.final(inAnswer: completed.answer) else { return nil }
        return StepResult(stepName: completed.stepName, succeeded: reply.succeeded, output: reply.output)
    }
}
