import Foundation
import MusterDomain
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres

/// The consumer handlers. Each runs inside the inbox transaction and only
/// records work (launch chunks, polls) and endpoint ownership; the
/// scheduler does the DRS calls after the commit. A payload that can never
/// be handled throws `UnprocessableEvent`: logged, counted, skipped.
struct InputHandlers: Sendable {
    let context: LauncherContext

    func input(_ event: CloudEvent, _ record: KafkaRecord, _ connection: PostgresConnection) async throws {
        switch event.type {
        case EventType.waveStarted:
            try await waveStarted(try decode(WaveStarted.self, event), connection)
        case EventType.jobPoll, EventType.jobPollFinal:
            var poll = try decode(JobPoll.self, event)
            poll.isFinal = poll.isFinal || event.type == EventType.jobPollFinal
            guard !poll.jobIDs.isEmpty, poll.jobIDs.count <= JobPoll.maxJobIDs else {
                throw UnprocessableEvent("job.poll must name 1…\(JobPoll.maxJobIDs) job ids, got \(poll.jobIDs.count)")
            }
            try await context.store.claim(poll.endpoint, instance: context.instanceID, on: connection)
            try await context.store.enqueuePoll(poll, on: connection)
        case EventType.instancesTerminate:
            try await Cleanup.enqueue(try decode(InstancesTerminate.self, event), store: context.store,
                                      instance: context.instanceID, on: connection)
        default:
            throw UnprocessableEvent("the launcher does not handle ce_type \(event.type) on \(record.topic)")
        }
    }

    func account(_ event: CloudEvent, _ connection: PostgresConnection) async throws {
        switch event.type {
        case EventType.accountRegistered, EventType.accountUpdated:
            let registration = try decode(AccountRegistration.self, event)
            try await context.store.storeAccount(registration, accountID: registration.accountID, on: connection)
            context.accounts.register(registration)
        case EventType.accountRemoved:
            let removed = try decode(AccountRemoved.self, event)
            try await context.store.storeAccount(nil, accountID: removed.accountID, on: connection)
            context.accounts.remove(accountID: removed.accountID)
        default:
            throw UnprocessableEvent("the launcher does not handle ce_type \(event.type) on accounts")
        }
    }

    private func waveStarted(_ request: WaveStarted, _ connection: PostgresConnection) async throws {
        let servers = request.sourceServerIDs
        guard !servers.isEmpty, servers.allSatisfy({ !$0.isEmpty }) else {
            throw UnprocessableEvent("wave.started for \(request.launchGroup) names no source servers")
        }
        guard request.attempt >= 1, request.timeoutSeconds > 0 else {
            throw UnprocessableEvent("wave.started for \(request.launchGroup) needs attempt >= 1 and timeoutSeconds > 0")
        }
        let chunks = Chunking.chunks(servers, limit: context.configuration.limits.effectiveServersPerJob)
        try await context.store.claim(request.launchGroup.endpoint, instance: context.instanceID, on: connection)
        try await context.store.enqueue(
            kind: .launch, launchGroup: request.launchGroup, attempt: request.attempt, chunks: chunks, request: request,
            on: connection)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ event: CloudEvent) throws -> T {
        do {
            return try event.decode(T.self)
        } catch {
            throw UnprocessableEvent("\(error)")
        }
    }
}
