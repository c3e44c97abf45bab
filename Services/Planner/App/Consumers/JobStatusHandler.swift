import Foundation
import Logging
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Applies `job.status.v1` events to their execution, inside the inbox
/// transaction (EventConsumer): lock the execution, run the state machine,
/// store the new state and its effects (outbox) — all or nothing.
struct JobStatusHandler: Sendable {
    let store: ExecutionStore
    let logger: Logger

    func handle(_ event: CloudEvent, on connection: PostgresConnection) async throws {
        if event.type == EventType.jobDuplicateDetected {
            // The launcher tracks the extra job and terminates its instances with the
            // execution's cleanup; the execution's state does not change.
            logger.error("DRS holds a duplicate job for a launch-group chunk", metadata: [
                "ce_id": "\(event.id)", "subject": "\(event.subject ?? "-")"])
            return
        }
        let input = try Self.input(from: event)
        guard let executionID = UUID(uuidString: Self.executionID(of: input)) else {
            throw UnprocessableEvent("\(event.type) names execution \(Self.executionID(of: input)), which is not a UUID")
        }
        guard let old = try await store.lock(executionID, teamID: nil, on: connection) else {
            // Not ours (another deployment sharing the topic) or deleted: nothing to update.
            logger.warning("job.status for an unknown execution", metadata: [
                "ce_id": "\(event.id)", "execution": "\(executionID)"])
            return
        }
        let (new, effects) = try ExecutionStateMachine.apply(input, to: old, now: Date())
        try await store.save(from: old, to: new, effects: effects, on: connection)
    }

    static func input(from event: CloudEvent) throws -> ExecutionInput {
        do {
            switch event.type {
            case EventType.jobQueued: return .jobQueued(try event.decode(JobQueued.self))
            case EventType.jobCreated: return .jobCreated(try event.decode(JobCreated.self))
            case EventType.jobLaunchFailed: return .jobLaunchFailed(try event.decode(JobLaunchFailed.self))
            case EventType.jobObserved: return .jobObserved(try event.decode(JobObserved.self))
            case EventType.jobTimedOut: return .jobTimedOut(try event.decode(JobTimedOut.self))
            default: throw UnprocessableEvent("job.status.v1 carries no \(event.type) events")
            }
        } catch let error as CloudEventError {
            throw UnprocessableEvent(error.description)
        }
    }

    static func executionID(of input: ExecutionInput) -> String {
        switch input {
        case .jobQueued(let e): e.launchGroup.executionID
        case .jobCreated(let e): e.launchGroup.executionID
        case .jobLaunchFailed(let e): e.launchGroup.executionID
        case .jobObserved(let e): e.launchGroup.executionID
        case .jobTimedOut(let e): e.launchGroup.executionID
        case .pause, .resume, .cancel, .cleanup: ""
        }
    }
}
