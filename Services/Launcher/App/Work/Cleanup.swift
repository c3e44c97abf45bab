import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Drill cleanup (DESIGN §5, `instances.terminate`): the recovery instances
/// are cut into TerminateRecoveryInstances calls of at most 200 ids, each a
/// chunk of a TERMINATE "launch group" whose wave number is 0; the scheduler
/// starts them within the endpoint's budget and the job is tracked like any
/// other (`job.created` with jobType TERMINATE, polls, `job.observed`).
enum Cleanup {
    /// Records the cleanup's chunks; each request is a new attempt, so a
    /// cleanup asked again (after some instances failed to go) runs again.
    static func enqueue(
        _ request: InstancesTerminate, store: LaunchStore, on connection: PostgresConnection
    ) async throws {
        guard !request.recoveryInstanceIDs.isEmpty else {
            throw UnprocessableEvent("instances.terminate needs at least one recovery instance id")
        }
        let group = LaunchGroupID(executionID: request.executionID, waveNumber: 0, endpoint: request.endpoint)
        let attempt = try await store.nextTerminateAttempt(of: group, on: connection)
        try await store.enqueue(
            kind: .terminate, launchGroup: group, attempt: attempt,
            chunks: Chunking.batches(Array(Set(request.recoveryInstanceIDs)).sorted(), size: Chunking.apiMaximum),
            request: request, on: connection)
    }
}
