import MusterEvents
import MusterKafka
import MusterPostgres

/// Where a consumed record is handled: the event, its record, and the inbox
/// transaction the handler's work commits (or rolls back) with.
public struct EventContext: Sendable {
    /// The CloudEvent.
    public var event: CloudEvent
    /// The Kafka record it came in.
    public var record: KafkaRecord
    /// The inbox transaction.
    public var transaction: PostgresConnection
}

/// A consumer's handlers, one per ``EventContract`` type, dispatched on
/// `ce_type`: a handler receives the decoded payload, so no consumer switches
/// on type strings or decodes by hand. A body that does not decode as its
/// contract is `UnprocessableEvent` (parked). What happens to a type nobody
/// registered is the consumer's rule, ``Unregistered``.
public struct EventHandlers: Sendable {
    /// What a consumer does with a `ce_type` no handler is registered for.
    public enum Unregistered: Sendable {
        /// Park it (`UnprocessableEvent` naming the type and the topic).
        case park
        /// Skip it: the topic carries events other consumers are for.
        case skip
    }

    private typealias Handler = @Sendable (EventContext) async throws -> Void
    private var handlers: [String: Handler] = [:]
    private let unregistered: Unregistered
    private let trusted: (source: String, refusal: String)?

    /// An empty table with `unregistered`'s rule. With `onlyFrom`, a record whose `ce_source` is
    /// another is unprocessable (parked) before any handler sees it: `"<type> <id>: ce_source
    /// '<source>' <refusal>"` — for topics anyone with write access could forge records on.
    public init(unregistered: Unregistered, onlyFrom source: String? = nil, refusal: String = "") {
        self.unregistered = unregistered
        self.trusted = source.map { ($0, refusal) }
    }

    /// Handles every type of `Contract` (``EventContract/types``) with `handler`.
    public mutating func register<Contract: EventContract>(
        _ contract: Contract.Type,
        _ handler: @escaping @Sendable (_ payload: Contract, _ context: EventContext) async throws -> Void
    ) {
        for type in Contract.types {
            precondition(handlers[type] == nil, "a handler for \(type) is registered twice")
            handlers[type] = { context in
                let payload: Contract
                do {
                    payload = try context.event.decode(Contract.self)
                } catch let error as CloudEventError {
                    throw UnprocessableEvent(error.description)
                }
                try await handler(payload, context)
            }
        }
    }

    /// The `ce_type`s with a handler.
    public var registeredTypes: Set<String> { Set(handlers.keys) }

    /// Runs the handler of `event`'s type inside `transaction`; an
    /// unregistered type is parked or skipped by the table's rule.
    public func handle(_ event: CloudEvent, record: KafkaRecord, transaction: PostgresConnection) async throws {
        if let trusted, event.source != trusted.source {
            throw UnprocessableEvent("\(event.type) \(event.id): ce_source '\(event.source)' \(trusted.refusal)")
        }
        guard let handler = handlers[event.type] else {
            switch unregistered {
            case .park: throw UnprocessableEvent("\(record.topic) carries no \(event.type) events for this consumer")
            case .skip: return
            }
        }
        try await handler(EventContext(event: event, record: record, transaction: transaction))
    }

    /// The table as an ``EventHandler`` for ``EventConsumer``.
    public var handler: EventHandler {
        { event, record, transaction in try await self.handle(event, record: record, transaction: transaction) }
    }
}
