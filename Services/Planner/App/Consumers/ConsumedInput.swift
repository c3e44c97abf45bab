import Foundation
import Logging
import MusterDomain
import MusterEvents
import MusterPostgres

extension ExecutionStore {
    /// Applies `input`, carried by the consumed `event`, to execution `id` inside the inbox
    /// transaction: lock, run the state machine, let `adjust` add what the event alone cannot
    /// tell (the job-status consumer's recovery points), save state and effects. An execution
    /// this planner does not have (another deployment sharing the topic, or deleted) is logged
    /// as "`what` for an unknown execution" and skipped. The one path of every planner consumer
    /// that moves an execution.
    func applyConsumed(
        _ input: ExecutionInput, to id: ExecutionID, event: CloudEvent, what: String, logger: Logger,
        on connection: PostgresConnection,
        adjust: (ExecutionState) async throws -> ExecutionState = { $0 }
    ) async throws {
        guard let old = try await lock(id, teamID: nil, on: connection) else {
            logger.warning("\(what) for an unknown execution", metadata: ["ce_id": "\(event.id)", "execution": "\(id)"])
            return
        }
        let (applied, effects) = try ExecutionStateMachine.apply(input, to: old, now: Date())
        try await save(from: old, to: try await adjust(applied), effects: effects, on: connection)
    }
}
