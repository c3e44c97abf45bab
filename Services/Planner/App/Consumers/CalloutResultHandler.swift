import Foundation
import Logging
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres

/// Applies `callout.completed` (from the notifier) inside the inbox
/// transaction: a POST that failed for good fails its step with the reason; a
/// 2xx answer holding a final result (`{"status": …}`) ends the step with it;
/// any other 2xx answer leaves the step waiting for its callback (or timeout).
struct CalloutResultHandler: Sendable {
    let store: ExecutionStore
    let logger: Logger
    /// `callout.results.v1`'s one type; any other is parked.
    private let handlers: EventHandlers

    init(store: ExecutionStore, logger: Logger) {
        self.store = store
        self.logger = logger
        var handlers = EventHandlers(unregistered: .park, onlyFrom: EventSource.notifier, refusal: "is not the notifier's")
        handlers.register(CalloutCompleted.self) { completed, context in
            try await Self.apply(completed, event: context.event, store: store, logger: logger, on: context.transaction)
        }
        self.handlers = handlers
    }

    func handle(_ event: CloudEvent, _ record: KafkaRecord, on connection: PostgresConnection) async throws {
        try await handlers.handle(event, record: record, transaction: connection)
    }

    private static func apply(
        _ completed: CalloutCompleted, event: CloudEvent, store: ExecutionStore, logger: Logger,
        on connection: PostgresConnection
    ) async throws {
        guard let result = Self.result(of: completed) else { return }
        try await store.applyConsumed(
            .stepFinished(result), to: completed.executionID, event: event, what: "callout.completed", logger: logger,
            on: connection)
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
