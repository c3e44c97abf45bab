import Foundation
import MusterDomain
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import Synchronization

/// The consumer handlers. Each runs inside the inbox transaction and only
/// records work (launch chunks, polls) and where its endpoint lives (the
/// record's partition); the endpoint's worker does the DRS calls after the
/// commit, woken by `committed(_:)`. A payload that can never be handled
/// throws `UnprocessableEvent`.
final class InputHandlers: Sendable {
    let context: LauncherContext
    /// What the records in hand ask to wake once their transactions commit.
    private let pending = Mutex<[UUID: Wake]>([:])

    init(context: LauncherContext) {
        self.context = context
    }

    /// Which loop of which endpoint to wake.
    enum Wake: Sendable {
        case launches(Endpoint)
        case polls(Endpoint)
    }

    func input(_ event: CloudEvent, _ record: KafkaRecord, _ connection: PostgresConnection) async throws {
        switch event.type {
        case EventType.launchGroupRequested:
            let request = try decode(LaunchGroupRequested.self, event)
            try await launchGroupRequested(request, partition: record.partition, connection)
            pending.withLock { $0[event.id] = .launches(request.launchGroup.endpoint) }
        case EventType.jobPoll, EventType.jobPollFinal:
            var poll = try decode(JobPoll.self, event)
            poll.isFinal = poll.isFinal || event.type == EventType.jobPollFinal
            guard !poll.jobIDs.isEmpty, poll.jobIDs.count <= JobPoll.maxJobIDs else {
                throw UnprocessableEvent("job.poll must name 1…\(JobPoll.maxJobIDs) job ids, got \(poll.jobIDs.count)")
            }
            try await claim(poll.endpoint, partition: record.partition, connection)
            try await context.store.enqueuePoll(poll, on: connection)
            pending.withLock { $0[event.id] = .polls(poll.endpoint) }
        case EventType.instancesTerminate:
            let request = try decode(InstancesTerminate.self, event)
            try await claim(request.endpoint, partition: record.partition, connection)
            try await Cleanup.enqueue(request, store: context.store, on: connection)
            pending.withLock { $0[event.id] = .launches(request.endpoint) }
        case EventType.ssmAutomationRequested:
            let request = try decode(SSMAutomationRequested.self, event)
            try Self.validate(request)
            try await claim(request.endpoint, partition: record.partition, connection)
            try await SSMStore(launch: context.store).enqueue(request, on: connection)
            pending.withLock { $0[event.id] = .polls(request.endpoint) }
        case EventType.ssmAutomationStopRequested:
            let stop = try decode(SSMAutomationStopRequested.self, event)
            try await claim(stop.endpoint, partition: record.partition, connection)
            try await SSMStore(launch: context.store).requestStop(stop, on: connection)
            pending.withLock { $0[event.id] = .polls(stop.endpoint) }
        default:
            throw UnprocessableEvent("the launcher does not handle ce_type \(event.type) on \(record.topic)")
        }
    }

    /// `event`'s record is finished (its transaction committed, or it was a
    /// duplicate or parked): what it asked to wake. Keyed by event, so records
    /// handled concurrently on other partitions never wake before their commit.
    func finished(_ event: CloudEvent?) -> Wake? {
        guard let event else { return nil }
        return pending.withLock { $0.removeValue(forKey: event.id) }
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
        case EventType.readinessCheckRequested:
            let request = try decode(ReadinessCheckRequested.self, event)
            let servers = request.regions.reduce(0) { $0 + $1.sourceServerIDs.count }
            let documents = request.ssmDocuments?.count ?? 0
            guard !request.regions.isEmpty || documents > 0, servers <= ReadinessCheckRequested.maxServers,
                  documents <= ReadinessCheckRequested.maxSSMDocuments,
                  !request.accountID.isEmpty, !request.evaluationID.isEmpty else {
                throw UnprocessableEvent(
                    "readiness.check-requested must name 1 or more regions or SSM documents, at most "
                        + "\(ReadinessCheckRequested.maxServers) servers and \(ReadinessCheckRequested.maxSSMDocuments) SSM documents")
            }
            try await ReadinessRequestStore(launch: context.store).record(request, on: connection)
        default:
            throw UnprocessableEvent("the launcher does not handle ce_type \(event.type) on accounts")
        }
    }

    private func claim(_ endpoint: Endpoint, partition: Int32, _ connection: PostgresConnection) async throws {
        try await context.store.claim(endpoint, partition: partition, instance: context.instanceID, on: connection)
        context.ownership.place(endpoint, on: partition)
    }

    private func launchGroupRequested(_ request: LaunchGroupRequested, partition: Int32, _ connection: PostgresConnection) async throws {
        let servers = request.sourceServerIDs
        guard !servers.isEmpty, servers.allSatisfy({ !$0.isEmpty }) else {
            throw UnprocessableEvent("launch-group.requested for \(request.launchGroup) names no source servers")
        }
        guard request.attempt >= 1, request.timeoutSeconds > 0 else {
            throw UnprocessableEvent("launch-group.requested for \(request.launchGroup) needs attempt >= 1 and timeoutSeconds > 0")
        }
        let chunks = Chunking.chunks(servers, limit: context.configuration.limits.effectiveServersPerJob)
        try await claim(request.launchGroup.endpoint, partition: partition, connection)
        try await context.store.enqueue(
            kind: .launch, launchGroup: request.launchGroup, attempt: request.attempt, chunks: chunks, request: request,
            on: connection)
    }

    /// A request SSM could never take is parked, not retried.
    static func validate(_ request: SSMAutomationRequested) throws {
        guard UUID(uuidString: request.idempotencyKey) != nil else {
            throw UnprocessableEvent("ssm.automation-requested: idempotencyKey must be a UUID (SSM's ClientToken)")
        }
        guard !request.documentName.isEmpty, request.documentName.count <= 1011 else {
            throw UnprocessableEvent("ssm.automation-requested: documentName must be 1…1011 characters")
        }
        guard !request.stepName.isEmpty, request.attempt >= 1, request.waveNumber >= 1 else {
            throw UnprocessableEvent("ssm.automation-requested: stepName, attempt >= 1 and waveNumber >= 1 are required")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ event: CloudEvent) throws -> T {
        do {
            return try event.decode(T.self)
        } catch {
            throw UnprocessableEvent("\(error)")
        }
    }
}
