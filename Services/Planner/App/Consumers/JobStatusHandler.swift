import Foundation
import Logging
import MusterDomain
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres

/// Applies `job.status.v1` events to their execution, inside the inbox
/// transaction (EventConsumer): lock the execution, run the state machine,
/// store the new state and its effects (outbox) — all or nothing.
struct JobStatusHandler: Sendable {
    let store: ExecutionStore
    let logger: Logger
    /// `job.status.v1`'s types; any other is parked.
    private let handlers: EventHandlers

    init(store: ExecutionStore, logger: Logger) {
        self.store = store
        self.logger = logger
        var handlers = EventHandlers(unregistered: .park)
        let apply = { @Sendable (input: ExecutionInput, context: EventContext) in
            try await Self.apply(input, event: context.event, store: store, logger: logger, on: context.transaction)
        }
        handlers.register(JobQueued.self) { try await apply(.jobQueued($0), $1) }
        handlers.register(JobCreated.self) { try await apply(.jobCreated($0), $1) }
        handlers.register(JobLaunchFailed.self) { try await apply(.jobLaunchFailed($0), $1) }
        handlers.register(JobObserved.self) { try await apply(.jobObserved($0), $1) }
        handlers.register(JobTimedOut.self) { try await apply(.jobTimedOut($0), $1) }
        handlers.register(JobDuplicateDetected.self) { duplicate, context in
            // The execution notes the extra jobs: the poller tracks them, their
            // instances are terminated with the drill's clean-up.
            logger.error("DRS holds a duplicate job for a launch-group chunk", metadata: [
                "ce_id": "\(context.event.id)", "subject": "\(context.event.subject ?? "-")"])
            try await apply(.jobDuplicateDetected(duplicate), context)
        }
        handlers.register(SSMAutomationStatus.self) { status, context in
            try await Self.ssmStatus(status, event: context.event, store: store, logger: logger, on: context.transaction)
        }
        self.handlers = handlers
    }

    func handle(_ event: CloudEvent, _ record: KafkaRecord, on connection: PostgresConnection) async throws {
        try await handlers.handle(event, record: record, transaction: connection)
    }

    /// Runs the execution's state machine on a job event and stores the result.
    private static func apply(
        _ input: ExecutionInput, event: CloudEvent, store: ExecutionStore, logger: Logger,
        on connection: PostgresConnection
    ) async throws {
        guard let executionID = Self.executionID(of: input) else {
            throw UnprocessableEvent("\(event.type) is not a job event")
        }
        try await store.applyConsumed(
            input, to: executionID, event: event, what: "job.status", logger: logger, on: connection
        ) { applied in
            guard case .jobCreated(let created) = input, created.jobType == .launch else { return applied }
            let observations = try await SourceServerStore(schema: store.schema).replication(
                of: created.sourceServerIDs.map(\.rawValue), in: created.launchGroup.endpoint, on: connection)
            return ExecutionStateMachine.noteLatestRecoveryPoints(observations, job: created, in: applied)
        }
    }

    /// `ssm.automation-status`: a terminal one finishes its step (the state
    /// machine ignores it unless the step is RUNNING); a start report is logged.
    private static func ssmStatus(
        _ status: SSMAutomationStatus, event: CloudEvent, store: ExecutionStore, logger: Logger,
        on connection: PostgresConnection
    ) async throws {
        let executionID = status.executionID
        guard let input = SSMStepTransport.input(status) else {
            logger.info("SSM automation started", metadata: [
                "execution": "\(executionID)", "step": "\(status.stepName)",
                "automation": "\(status.automationExecutionID ?? "-")"])
            return
        }
        try await store.applyConsumed(
            input, to: executionID, event: event, what: "ssm.automation-status", logger: logger, on: connection)
    }

    static func executionID(of input: ExecutionInput) -> ExecutionID? {
        switch input {
        case .jobQueued(let e): e.launchGroup.executionID
        case .jobCreated(let e): e.launchGroup.executionID
        case .jobLaunchFailed(let e): e.launchGroup.executionID
        case .jobObserved(let e): e.launchGroup.executionID
        case .jobTimedOut(let e): e.launchGroup.executionID
        case .jobDuplicateDetected(let e): e.launchGroup.executionID
        case .pause, .resume, .cancel, .cleanup, .stepFinished, .decide, .tick: nil
        }
    }
}
