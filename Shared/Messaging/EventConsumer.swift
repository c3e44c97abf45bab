import Foundation
import Logging
import Metrics
import MusterEvents
import MusterKafka
import MusterPostgres
import ServiceLifecycle
import Synchronization
import Tracing

/// Thrown by a handler when an event is well-formed CloudEvents but its
/// content can never be handled (unknown type, invalid payload): the record
/// is parked (stored in `dead_letters`, logged, counted) instead of retried.
public struct UnprocessableEvent: Error, CustomStringConvertible {
    /// Why the event cannot be handled.
    public var reason: String
    /// Creates the error.
    public init(_ reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}

/// What a consumer does with one event, inside the transaction that also
/// records the event in the inbox. Throwing rolls both back.
public typealias EventHandler = @Sendable (_ event: CloudEvent, _ record: KafkaRecord, _ transaction: PostgresConnection)
    async throws -> Void

/// How one record ended, for metrics and tests.
public enum ConsumeOutcome: String, Sendable {
    /// The handler ran and its transaction committed.
    case handled
    /// The inbox already held the event id, or (a record that is not a CloudEvent) it was parked already: skipped.
    case duplicate
    /// Not a CloudEvent, undecodable, or `UnprocessableEvent`: parked.
    case malformed
    /// A deterministic failure (PostgreSQL classes 22/23, …) or over the retry budget: parked.
    case parked
}

/// The one consumer loop of every service: read a record, handle it in a
/// transaction that claims its `ce_id` in the inbox, commit the offset after
/// that transaction commits (at-least-once delivery, effectively-once effect).
///
/// One loop may serve several topics through one Kafka group member (one
/// ``Route`` per topic): each route keeps its own logical name — the inbox
/// key, the `consumer` of the records it parks, the `consumer` metrics label
/// — and its own handler, so a service joins its group once and fetches once
/// for all its topics (issue 18: an idle stack that idles).
///
/// Failures are classified (``FailureClass``): transient ones are retried
/// with back-off within a ``RetryBudget``; deterministic ones, and any still
/// failing after the budget, are *parked* — stored with the inbox entry in
/// `dead_letters`, logged and counted — and the consumer moves on
/// (DESIGN §12). Each partition is handled by its own worker, in order, so a
/// retried record holds up only its own partition. On graceful shutdown it
/// stops reading, ends every back-off at once, finishes the records in hand
/// and closes the consumer; queued records stay uncommitted.
public final class EventConsumer: Service, Sendable {
    /// Tuning knobs.
    public struct Configuration: Sendable {
        /// Backoff between attempts at a record whose handler failed transiently.
        public var retry = Backoff(base: .milliseconds(200), cap: .seconds(30))
        /// When a transiently failing record is parked instead of retried.
        public var budget = RetryBudget()
        /// Records queued per partition before the partition is paused.
        public var partitionBacklog = 200
        /// On shutdown, how long the records in hand get to finish before the
        /// consumer closes. One that finishes later is not committed (it is
        /// redelivered, and the inbox drops it); one whose offset commit waits
        /// for a broker that does not answer ends when the close gives up.
        public var shutdownGrace: Duration = .milliseconds(500)
        /// How long closing may wait for the broker (leaving the group); then
        /// every offset commit still waiting fails (``KafkaConsumer/close(timeout:)``).
        public var closeTimeout: Duration = .seconds(1)
        /// Creates the defaults.
        public init() {}
    }

    /// What the loop does with the records of one topic: its logical name
    /// (inbox key, parked records' `consumer`, metrics label), its handler and
    /// the observer of its finished records.
    public struct Route: Sendable {
        /// The topic whose records take this route.
        public var topic: String
        /// The inbox consumer name (stable across restarts; one per purpose).
        public var name: String
        /// Observes each finished record of this route.
        public var onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)?
        /// Handles one event of this route.
        public var handler: EventHandler

        /// A route for `topic`'s records, named `name`.
        public init(
            topic: String, name: String, onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)? = nil,
            handler: @escaping EventHandler
        ) {
            self.topic = topic
            self.name = name
            self.onOutcome = onOutcome
            self.handler = handler
        }
    }

    /// The outcome of replaying one parked record.
    public enum ReplayResult: Sendable, Equatable {
        /// The handler ran and committed; the row is marked replayed.
        case replayed
        /// No parked (unreplayed) row with that id belongs to this consumer.
        case notFound
        /// The handler failed again; the row stays parked with this error.
        case failed(String)
    }

    /// The loop's name: its only route's name, or the group member's name
    /// (e.g. `planner`) for a loop over several routes (logs, readiness).
    public let name: String
    /// The logical consumer names of its routes (inbox keys, parked records' `consumer`).
    public var names: [String] {
        routeList.reduce(into: [String]()) { names, route in if !names.contains(route.name) { names.append(route.name) } }
    }
    /// The schema holding its inbox and dead letters.
    public let schema: String
    private let consumer: KafkaConsumer
    private let pool: PostgresPool
    private let inbox: Inbox
    private let deadLetters: DeadLetters
    private let routeList: [Route]
    private let routes: [String: Route]
    /// The route of a loop built with one handler: every topic takes it.
    private let fallback: Route?
    private let configuration: Configuration
    private let logger: Logger
    private let lanes: Mutex<LaneTable>
    private let handledHooks = Mutex<[@Sendable () -> Void]>([])
    private let workers = Mutex<[LaneTable.Key: Task<Void, Never>]>([:])

    /// A consumer loop named `name` (the inbox key) over `consumer`, storing
    /// its inbox and dead letters in `schema`. `onOutcome` observes each finished record.
    public convenience init(
        name: String, schema: String, consumer: KafkaConsumer, pool: PostgresPool, logger: Logger,
        configuration: Configuration = .init(),
        onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)? = nil,
        handler: @escaping EventHandler
    ) {
        self.init(
            name: name, schema: schema, consumer: consumer, pool: pool, logger: logger, configuration: configuration,
            routeList: [Route(topic: "", name: name, onOutcome: onOutcome, handler: handler)], fallback: true)
    }

    /// A consumer loop named `name` over `consumer` (one group member subscribed
    /// to every route's topic), handing each record to the route of its topic.
    /// Every route keeps its own name in the inbox, dead letters and metrics. Routes may share a
    /// name (one logical consumer over several topics, e.g. `launcher.inputs`) only with the same
    /// handler: a replay of a record parked under that name runs the first such route's handler.
    public convenience init(
        name: String, schema: String, consumer: KafkaConsumer, pool: PostgresPool, logger: Logger,
        configuration: Configuration = .init(), routes: [Route]
    ) {
        precondition(!routes.isEmpty, "a consumer loop has at least one route")
        precondition(Set(routes.map(\.topic)).count == routes.count, "one route per topic")
        self.init(
            name: name, schema: schema, consumer: consumer, pool: pool, logger: logger, configuration: configuration,
            routeList: routes, fallback: false)
    }

    private init(
        name: String, schema: String, consumer: KafkaConsumer, pool: PostgresPool, logger: Logger,
        configuration: Configuration, routeList: [Route], fallback: Bool
    ) {
        self.name = name
        self.schema = schema
        self.consumer = consumer
        self.pool = pool
        self.inbox = Inbox(schema: schema)
        self.deadLetters = DeadLetters(schema: schema)
        self.routeList = routeList
        self.routes = fallback ? [:] : Dictionary(uniqueKeysWithValues: routeList.map { ($0.topic, $0) })
        self.fallback = fallback ? routeList.first : nil
        self.configuration = configuration
        self.logger = logger
        self.lanes = Mutex(LaneTable(capacity: max(2, configuration.partitionBacklog)))
        // Exported at 0 from the start, so an alert's `increase()` sees the first parked record.
        for route in routeList where !routeList.prefix(while: { $0.topic != route.topic }).contains(where: { $0.name == route.name }) {
            for reason in ParkReason.allCases {
                Counter(label: "muster_events_parked_total", dimensions: [
                    ("consumer", route.name), ("reason", reason.rawValue),
                ]).increment(by: 0)
            }
            Counter(label: "muster_events_handler_failures_total", dimensions: [("consumer", route.name)])
                .increment(by: 0)
        }
    }

    /// The route of `topic`'s records; nil for a topic no route names (only
    /// possible through a misconfigured subscription: parked under the loop's name).
    private func route(_ topic: String) -> Route? {
        fallback ?? routes[topic]
    }

    /// Also runs `hook` after every record (or replay) whose transaction
    /// committed: a booted service wakes its outbox relay with it, so rows a
    /// handler wrote are published at once instead of at the relay's idle interval.
    public func onHandled(_ hook: @escaping @Sendable () -> Void) {
        handledHooks.withLock { $0.append(hook) }
    }

    private func handled() {
        for hook in handledHooks.withLock({ $0 }) { hook() }
    }

    /// Whether its Kafka consumer has joined its group (readiness: a service
    /// stopped before that would leave its successors waiting on a rebalance).
    public var hasJoinedGroup: Bool { consumer.hasJoinedGroup }

    /// Consumes until graceful shutdown or cancellation, then closes the consumer.
    public func run() async throws {
        let stop = StopSignal()
        consumer.onRevoked { [weak self] partitions in
            self?.lanes.withLock { $0.revoke(partitions.map { LaneTable.Key(topic: $0.topic, partition: $0.partition) }) }
        }
        // The reader only waits for records and hands them to the partition
        // lanes, so cancelling it never interrupts a record in hand.
        let reader = Task {
            var iterator = consumer.records.makeAsyncIterator()
            while !stop.isSet, let record = try await iterator.next() {
                dispatch(record, stop: stop)
            }
        }
        await withTaskCancellationOrGracefulShutdownHandler {
            do {
                try await reader.value
            } catch is CancellationError {
            } catch {
                logger.error("consumer stopped on an error", metadata: ["consumer": "\(name)", "error": "\(error)"])
            }
        } onCancelOrGracefulShutdown: {
            stop.set()
            self.lanes.withLock { $0.stop() }  // workers take no further record
            reader.cancel()
        }
        stop.set()
        lanes.withLock { $0.stop() }
        // Workers finish the record in hand; their queues stay uncommitted. A worker whose offset
        // commit waits for a broker that stopped answering would hold the shutdown for the commit's
        // own bound (10 s), so the consumer closes after the grace in any case (waited for in a task
        // of its own: a cancelled run does not cut it short), and its bounded close fails the commits
        // still waiting: every worker ends within grace + close timeout.
        let drained = StopSignal()
        Task { await self.waitForWorkers(); drained.set() }
        let grace = configuration.shutdownGrace
        await Task { await drained.sleep(for: grace) }.value
        await consumer.close(timeout: configuration.closeTimeout)
        await waitForWorkers()
        logger.debug("consumer stopped", metadata: ["consumer": "\(name)"])
    }

    private func waitForWorkers() async {
        while case let (key, worker)? = workers.withLock({ $0.first.map { ($0.key, $0.value) } }) {
            await worker.value
            workers.withLock { if $0[key] == worker { $0[key] = nil } }
        }
    }

    private func dispatch(_ record: KafkaRecord, stop: StopSignal) {
        let key = LaneTable.Key(topic: record.topic, partition: record.partition)
        let action = lanes.withLock { $0.enqueue(record) }
        if action.pause {
            logger.info("partition backlog full; pausing it until its worker catches up", metadata: [
                "consumer": "\(name)", "topic": "\(record.topic)", "partition": "\(record.partition)",
            ])
            consumer.pause(topic: record.topic, partition: record.partition)
        }
        guard action.startWorker else { return }
        workers.withLock { workers in
            let previous = workers[key]
            workers[key] = Task {
                await previous?.value  // a lane's records stay in order even across worker restarts
                await self.drain(key, stop: stop)
            }
        }
    }

    private func drain(_ key: LaneTable.Key, stop: StopSignal) async {
        while case let .handle(record, resume) = lanes.withLock({ $0.take(key) }) {
            if resume { consumer.resume(topic: key.topic, partition: key.partition) }
            await process(record, stop: stop)
        }
    }

    // MARK: One record

    private func process(_ record: KafkaRecord, stop: StopSignal) async {
        let firstAttempt = Date()
        guard let route = route(record.topic) else {
            await park(record, event: nil, route: nil, reason: .malformed,
                       error: UnprocessableEvent("no route for topic \(record.topic) in consumer \(name)"), attempts: 1,
                       firstFailedAt: firstAttempt, stop: stop)
            return
        }
        let event: CloudEvent
        do {
            event = try CloudEvent(record: record)
        } catch {
            await park(record, event: nil, route: route, reason: .malformed, error: error, attempts: 1,
                       firstFailedAt: firstAttempt, stop: stop)
            return
        }
        // One consumer span per record (all its attempts), the child of the span that published it;
        // the handler runs inside it, so the rows it writes to the outbox and the calls it makes join the trace.
        var parent = ServiceContext.topLevel
        if let traceparent = event.traceparent {
            var carrier = ["traceparent": traceparent]
            carrier["tracestate"] = event.tracestate
            InstrumentationSystem.instrument.extract(carrier, into: &parent, using: DictionaryTraceCarrier())
        }
        let name = route.name
        await withSpan("consume \(event.type)", context: parent, ofKind: .consumer) { span in
            span.updateAttributes { attributes in
                attributes.set("messaging.system", value: .string("kafka"))
                attributes.set("messaging.operation.type", value: .string("process"))
                attributes.set("messaging.destination.name", value: .string(record.topic))
                attributes.set("messaging.destination.partition.id", value: .string("\(record.partition)"))
                attributes.set("messaging.kafka.offset", value: .int64(record.offset))
                attributes.set("messaging.consumer.group.name", value: .string(name))
                attributes.set("messaging.message.id", value: .string(event.id.uuidString.lowercased()))
                attributes.set("cloudevents.event_type", value: .string(event.type))
            }
            let outcome = await handleWithRetries(event, record: record, route: route, stop: stop)
            span.updateAttributes { $0.set("muster.consume.outcome", value: .string(outcome?.rawValue ?? "interrupted")) }
            if outcome == .parked || outcome == .malformed { span.setStatus(SpanStatus(code: .error)) }
        }
    }

    /// Handles `event` until it is handled, a duplicate or parked (returned), or shutdown interrupts (nil).
    private func handleWithRetries(
        _ event: CloudEvent, record: KafkaRecord, route: Route, stop: StopSignal
    ) async -> ConsumeOutcome? {
        let name = route.name
        var attempts = 0
        var firstFailure: (date: Date, instant: ContinuousClock.Instant)?
        while true {
            do {
                let outcome = try await handleOnce(event, record: record, route: route)
                await commit(record, consumer: name)
                finish(outcome, event, route: route)
                return outcome
            } catch {
                attempts += 1
                let first = firstFailure ?? (Date(), ContinuousClock.now)
                firstFailure = first
                let decision = FailureDecision.after(
                    FailureClass.of(error), attempts: attempts, elapsed: ContinuousClock.now - first.instant,
                    budget: configuration.budget)
                switch decision {
                case .park(let reason):
                    let malformed = error is UnprocessableEvent || error is CloudEventError || error is DecodingError
                    await park(record, event: event, route: route, reason: malformed ? .malformed : reason, error: error,
                               attempts: attempts, firstFailedAt: first.date, stop: stop)
                    return malformed ? .malformed : .parked
                case .retry:
                    Counter(label: "muster_events_handler_failures_total", dimensions: [("consumer", name)]).increment()
                    logger.warning("event handling failed; will retry the same record", metadata: [
                        "consumer": "\(name)", "ce_id": "\(event.id)", "ce_type": "\(event.type)",
                        "partition": "\(record.partition)", "offset": "\(record.offset)",
                        "attempt": "\(attempts)", "error": "\(DeadLetters.storable("\(error)"))",
                    ])
                    // On shutdown, leave the record uncommitted: it is redelivered.
                    if stop.isSet { return nil }
                    await stop.sleep(for: configuration.retry.delay(attempt: attempts - 1))
                    if stop.isSet { return nil }
                }
            }
        }
    }

    private func handleOnce(_ event: CloudEvent, record: KafkaRecord, route: Route) async throws -> ConsumeOutcome {
        let inbox = self.inbox, name = route.name, handler = route.handler
        return try await pool.transaction { transaction in
            let fresh = try await inbox.claim(
                consumer: name, eventID: event.id, topic: record.topic, partition: record.partition,
                offset: record.offset, on: transaction)
            guard fresh else { return .duplicate }
            try await handler(event, record, transaction)
            return .handled
        }
    }

    /// Stores the record in `dead_letters` with its inbox entry, then commits
    /// its offset. A failure to store is retried (never skipped) until shutdown.
    private func park(
        _ record: KafkaRecord, event: CloudEvent?, route: Route?, reason: ParkReason, error: any Error, attempts: Int,
        firstFailedAt: Date, stop: StopSignal
    ) async {
        let text = DeadLetters.storable("\(error)")
        let inbox = self.inbox, deadLetters = self.deadLetters, name = route?.name ?? self.name
        var tries = 0
        while true {
            do {
                let outcome = try await pool.transaction { transaction -> ConsumeOutcome in
                    if let event {
                        let fresh = try await inbox.claim(
                            consumer: name, eventID: event.id, topic: record.topic, partition: record.partition,
                            offset: record.offset, on: transaction)
                        guard fresh else { return .duplicate }
                    }
                    // A record with no event id (not a CloudEvent) has no inbox entry: the dead letter's own
                    // key (consumer, topic, partition, offset) tells a redelivery of a record parked already.
                    let stored = try await deadLetters.park(
                        record, consumer: name, eventID: event?.id, reason: reason, error: text, attempts: attempts,
                        firstFailedAt: firstFailedAt, lastFailedAt: Date(), on: transaction)
                    guard stored else { return .duplicate }
                    return reason == .malformed ? .malformed : .parked
                }
                if outcome != .duplicate {
                    Counter(label: "muster_events_parked_total", dimensions: [
                        ("consumer", name), ("reason", reason.rawValue),
                    ]).increment()
                    logger.error("parked a record that cannot be processed; replay it after a fix", metadata: [
                        "consumer": "\(name)", "topic": "\(record.topic)", "partition": "\(record.partition)",
                        "offset": "\(record.offset)", "ce_id": "\(event.map { "\($0.id)" } ?? "-")",
                        "ce_type": "\(DeadLetters.storable(event?.type ?? "-", limit: 100))",
                        "reason": "\(reason.rawValue)", "attempts": "\(attempts)", "error": "\(text)",
                    ])
                }
                await commit(record, consumer: name)
                finish(outcome, event, route: route)
                return
            } catch {
                logger.warning("parking a record failed; will retry", metadata: [
                    "consumer": "\(name)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                    "error": "\(DeadLetters.storable("\(error)"))",
                ])
                if stop.isSet { return }
                await stop.sleep(for: configuration.retry.delay(attempt: tries))
                tries += 1
                if stop.isSet { return }
            }
        }
    }

    private func commit(_ record: KafkaRecord, consumer name: String) async {
        // A failed commit only means a redelivery later, which the inbox absorbs.
        do {
            try await consumer.commit(record, timeout: .seconds(10))
        } catch {
            logger.warning("offset commit failed; the record may be redelivered and deduplicated", metadata: [
                "consumer": "\(name)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                "error": "\(error)",
            ])
        }
    }

    private func finish(_ outcome: ConsumeOutcome, _ event: CloudEvent?, route: Route?) {
        let name = route?.name ?? self.name
        Counter(label: "muster_events_consumed_total", dimensions: [
            ("consumer", name), ("outcome", outcome.rawValue),
            ("type", event.map { DeadLetters.storable($0.type, limit: 100) } ?? "unknown"),
        ]).increment()
        if outcome == .handled { handled() }
        if let event {
            // From the event's time to its handling: the lag a dashboard can see on any broker
            // (Tansu under-reports high watermarks, docs/brokers.md).
            Recorder(label: "muster_events_consume_delay_seconds", dimensions: [("consumer", name)])
                .record(max(0, Date().timeIntervalSince(event.time)))
        }
        route?.onOutcome?(outcome, event)
    }

    // MARK: Replay

    /// Runs the handler again on parked record `id` (after its cause was
    /// fixed), in one transaction that marks the row replayed: a record is
    /// handled by a replay at most once. The inbox entry written when it was
    /// parked stays, so a redelivery of the original is still skipped.
    public func replay(deadLetter id: Int64) async throws -> ReplayResult {
        let deadLetters = self.deadLetters, routeList = self.routeList
        struct Failed: Error { var error: any Error }
        do {
            let replayed = try await pool.transaction { transaction -> (CloudEvent, Route)? in
                guard let letter = try await deadLetters.lockParked(id: id, on: transaction),
                      let route = routeList.first(where: { $0.name == letter.consumer })
                else { return nil }
                do {
                    let event = try CloudEvent(record: letter.record)
                    try await route.handler(event, letter.record, transaction)
                    try await deadLetters.markReplayed(id: id, on: transaction)
                    return (event, route)
                } catch {
                    throw Failed(error: error)
                }
            }
            guard let (event, route) = replayed else { return .notFound }
            logger.notice("replayed a parked record", metadata: ["consumer": "\(route.name)", "dead_letter": "\(id)"])
            handled()
            route.onOutcome?(.handled, event)
            return .replayed
        } catch let failed as Failed {
            let text = DeadLetters.storable("\(failed.error)")
            try await pool.withConnection { try await deadLetters.recordFailedReplay(id: id, error: text, on: $0) }
            logger.warning("replaying a parked record failed; it stays parked", metadata: [
                "consumer": "\(name)", "dead_letter": "\(id)", "error": "\(text)",
            ])
            return .failed(text)
        }
    }
}
