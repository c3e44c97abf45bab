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
/// commit, woken by `finished(_:)`. A payload that can never be handled
/// throws `UnprocessableEvent`; a type the launcher does not handle is parked.
final class InputHandlers: Sendable {
    let context: LauncherContext
    /// What the records in hand ask to wake once their transactions commit.
    private let pending: Pending
    /// The co-partitioned inputs: launch requests, polls, cleanups, hook steps.
    private let inputs: EventHandlers
    /// `accounts.v1`: registrations and readiness-check requests.
    private let accounts: EventHandlers

    init(context: LauncherContext) {
        self.context = context
        let pending = Pending()
        self.pending = pending
        inputs = Self.inputs(context, pending)
        accounts = Self.accounts(context)
    }

    /// Which loop of which endpoint to wake.
    enum Wake: Sendable {
        case launches(Endpoint)
        case polls(Endpoint)
    }

    /// The wakes owed by records whose transactions have not committed yet, by event id.
    final class Pending: Sendable {
        let wakes = Mutex<[UUID: Wake]>([:])
        func owe(_ wake: Wake, for event: CloudEvent) { wakes.withLock { $0[event.id] = wake } }
    }

    func input(_ event: CloudEvent, _ record: KafkaRecord, _ connection: PostgresConnection) async throws {
        try await inputs.handle(event, record: record, transaction: connection)
    }

    /// `event`'s record is finished (its transaction committed, or it was a
    /// duplicate or parked): what it asked to wake. Keyed by event, so records
    /// handled concurrently on other partitions never wake before their commit.
    func finished(_ event: CloudEvent?) -> Wake? {
        guard let event else { return nil }
        return pending.wakes.withLock { $0.removeValue(forKey: event.id) }
    }

    func account(_ event: CloudEvent, _ record: KafkaRecord, _ connection: PostgresConnection) async throws {
        try await accounts.handle(event, record: record, transaction: connection)
    }

    private static func inputs(_ context: LauncherContext, _ pending: Pending) -> EventHandlers {
        var table = EventHandlers(unregistered: .park)
        table.register(LaunchGroupRequested.self) { request, input in
            try await launchGroupRequested(request, partition: input.record.partition, context, input.transaction)
            pending.owe(.launches(request.launchGroup.endpoint), for: input.event)
        }
        table.register(JobPoll.self) { poll, input in
            var poll = poll
            poll.isFinal = poll.isFinal || input.event.type == EventType.jobPollFinal
            guard !poll.jobIDs.isEmpty, poll.jobIDs.count <= JobPoll.maxJobIDs else {
                throw UnprocessableEvent("job.poll must name 1…\(JobPoll.maxJobIDs) job ids, got \(poll.jobIDs.count)")
            }
            try await claim(poll.endpoint, partition: input.record.partition, context, input.transaction)
            try await context.store.enqueuePoll(poll, on: input.transaction)
            pending.owe(.polls(poll.endpoint), for: input.event)
        }
        table.register(InstancesTerminate.self) { request, input in
            try await claim(request.endpoint, partition: input.record.partition, context, input.transaction)
            try await Cleanup.enqueue(request, store: context.store, on: input.transaction)
            pending.owe(.launches(request.endpoint), for: input.event)
        }
        table.register(SSMAutomationRequested.self) { request, input in
            try validate(request)
            try await claim(request.endpoint, partition: input.record.partition, context, input.transaction)
            try await SSMStore(launch: context.store).enqueue(request, on: input.transaction)
            pending.owe(.polls(request.endpoint), for: input.event)
        }
        table.register(SSMAutomationStopRequested.self) { stop, input in
            try await claim(stop.endpoint, partition: input.record.partition, context, input.transaction)
            try await SSMStore(launch: context.store).requestStop(stop, on: input.transaction)
            pending.owe(.polls(stop.endpoint), for: input.event)
        }
        return table
    }

    private static func accounts(_ context: LauncherContext) -> EventHandlers {
        var table = EventHandlers(unregistered: .park)
        table.register(AccountRegistration.self) { registration, input in
            try await context.store.storeAccount(registration, accountID: registration.accountID, on: input.transaction)
            context.accounts.register(registration)
        }
        table.register(AccountRemoved.self) { removed, input in
            try await context.store.storeAccount(nil, accountID: removed.accountID, on: input.transaction)
            context.accounts.remove(accountID: removed.accountID)
        }
        table.register(ReadinessCheckRequested.self) { request, input in
            let servers = request.regions.reduce(0) { $0 + $1.sourceServerIDs.count }
            let documents = request.ssmDocuments?.count ?? 0
            guard !request.regions.isEmpty || documents > 0, servers <= ReadinessCheckRequested.maxServers,
                  documents <= ReadinessCheckRequested.maxSSMDocuments,
                  !request.accountID.isEmpty, !request.evaluationID.isEmpty else {
                throw UnprocessableEvent(
                    "readiness.check-requested must name 1 or more regions or SSM documents, at most "
                        + "\(ReadinessCheckRequested.maxServers) servers and \(ReadinessCheckRequested.maxSSMDocuments) SSM documents")
            }
            try await ReadinessRequestStore(launch: context.store).record(request, on: input.transaction)
        }
        return table
    }

    private static func claim(
        _ endpoint: Endpoint, partition: Int32, _ context: LauncherContext, _ connection: PostgresConnection
    ) async throws {
        try await context.store.claim(endpoint, partition: partition, instance: context.instanceID, on: connection)
        context.ownership.place(endpoint, on: partition)
    }

    private static func launchGroupRequested(
        _ request: LaunchGroupRequested, partition: Int32, _ context: LauncherContext, _ connection: PostgresConnection
    ) async throws {
        let servers = request.sourceServerIDs
        guard !servers.isEmpty, servers.allSatisfy({ !$0.rawValue.isEmpty }) else {
            throw UnprocessableEvent("launch-group.requested for \(request.launchGroup) names no source servers")
        }
        guard request.attempt >= 1, request.timeoutSeconds > 0 else {
            throw UnprocessableEvent("launch-group.requested for \(request.launchGroup) needs attempt >= 1 and timeoutSeconds > 0")
        }
        let chunks = Chunking.chunks(servers, limit: context.configuration.limits.effectiveServersPerJob)
        try await claim(request.launchGroup.endpoint, partition: partition, context, connection)
        try await context.store.enqueue(
            kind: .launch, launchGroup: request.launchGroup, attempt: request.attempt, chunks: chunks.map { $0.map(\.rawValue) },
            request: request,
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
}
