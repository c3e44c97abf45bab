/// The consumer's demand-driven delivery logic, free of I/O so it can be tested without a broker.
///
/// Records are *pulled*: the poll thread calls `rd_kafka_consumer_poll` only while some `next()` is waiting, so
/// librdkafka's own (bounded, `queued.max.messages.kbytes`) fetch queue is the buffer, and a rebalance is only
/// served while the application is waiting for a record — never while it is processing one. At most one record
/// is held here: one polled for a waiter that was cancelled meanwhile.
///
/// `Waiter` is whatever resumes a `next()` call (a continuation in production, a tag in tests).
struct ConsumerStateMachine<Waiter> {
    /// What `next()` should do.
    enum NextAction {
        /// Return this record now.
        case deliver(KafkaRecord)
        /// Suspend; the waiter was queued and the poll thread should poll.
        case wait
        /// Return `nil`: the consumer is closed (or closing), or the call was cancelled.
        case finish
        /// Throw: the consumer failed.
        case fail(KafkaError)
    }

    private enum Phase {
        case running
        case failed(KafkaError)
        case closing
    }

    private var phase = Phase.running
    private var waiters: [(id: UInt64, waiter: Waiter)] = []
    private var held: KafkaRecord?
    /// Ids cancelled before their `next()` registered (the cancellation handler can run first).
    private var cancelledEarly: Set<UInt64> = []

    /// True when the poll thread should fetch a record.
    var wantsRecord: Bool {
        guard case .running = phase else { return false }
        return !waiters.isEmpty && held == nil
    }

    /// The record kept for the next caller, if any.
    var heldRecord: KafkaRecord? { held }

    /// A `next()` call with a unique `id` arrived.
    mutating func next(id: UInt64, waiter: Waiter) -> NextAction {
        if cancelledEarly.remove(id) != nil { return .finish }
        switch phase {
        case .closing: return .finish
        case let .failed(error): return .fail(error)
        case .running: break
        }
        if let record = held {
            held = nil
            return .deliver(record)
        }
        waiters.append((id, waiter))
        return .wait
    }

    /// The `next()` call `id` was cancelled; returns its waiter to resume with `nil`, if it was waiting.
    mutating func cancel(id: UInt64) -> Waiter? {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            return waiters.remove(at: index).waiter
        }
        cancelledEarly.insert(id)
        return nil
    }

    /// The `next()` call `id` has returned: a cancellation that arrived too late to matter is forgotten.
    mutating func forget(id: UInt64) {
        cancelledEarly.remove(id)
    }

    /// The poll thread got `record`; returns who gets it, or nil if it is held for the next caller.
    mutating func received(_ record: KafkaRecord) -> Waiter? {
        guard waiters.isEmpty else { return waiters.removeFirst().waiter }
        held = record
        return nil
    }

    /// Partitions were revoked: a held record of theirs is dropped, because the partition's next owner (possibly
    /// this member again) re-reads it from the committed offset; delivering it here would process it twice.
    mutating func revoked(_ partitions: some Sequence<TopicPartition>) {
        if let record = held, partitions.contains(record.topicPartition) {
            held = nil
        }
    }

    /// An unrecoverable error; returns the waiters to fail. Later `next()` calls fail too.
    mutating func failed(_ error: KafkaError) -> [Waiter] {
        guard case .running = phase else { return [] }
        phase = .failed(error)
        return takeWaiters()
    }

    /// `close()` began; returns the waiters to finish with `nil`. The held record is dropped (it is uncommitted,
    /// so it is delivered again after a restart).
    mutating func close() -> [Waiter] {
        phase = .closing
        held = nil
        return takeWaiters()
    }

    private mutating func takeWaiters() -> [Waiter] {
        defer { waiters = [] }
        return waiters.map(\.waiter)
    }
}
