import Synchronization
import Logging

/// A consumer-group member with manual, per-record commits (at-least-once).
///
/// Offsets: `enable.auto.commit=false` and `enable.auto.offset.store=false` — librdkafka never commits by itself.
/// An offset moves only when ``commit(_:)`` is called for a processed record, so an unprocessed record is never
/// skipped, and a record whose handler failed is delivered again after a restart or rebalance.
///
/// Rebalances: records are pulled (polled only while ``records`` is awaited), so a rebalance is served between
/// records, never while one is being processed. On revoke, commits already requested are performed first, and a
/// record fetched but not yet handed out is dropped (the partition's next owner re-reads it from the committed
/// offset). With `partition.assignment.strategy=cooperative-sticky` only the moved partitions are affected.
///
/// All blocking librdkafka calls run on one dedicated poll thread per consumer. Call ``close()`` when done.
public final class KafkaConsumer: Sendable {
    private let core: ConsumerCore

    /// Consumer-group member subscribed to `topics`; `auto.offset.reset` defaults to "earliest".
    ///
    /// It subscribes, and so joins its group, when ``records`` is first awaited: a consumer built but never
    /// read, or closed at once, never becomes a member (one closed while its join was still pending would have
    /// no member id to leave with, and could hold up its group's rebalances).
    ///
    /// The topics must exist (create them with ``KafkaAdmin/createTopics(_:configuration:timeout:)``); subscribing
    /// does not create them. For fast group joins in tests use ``KafkaConfiguration/fastGroupProperties``.
    ///
    /// `onRebalance` runs on the poll thread inside librdkafka's rebalance callback: after an assignment is
    /// applied, and before revoked partitions go (so an owner can stop acting for them first). It must not block.
    public init(
        configuration: KafkaConfiguration, groupID: String, topics: [String], logger: Logger,
        onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil
    ) throws {
        var logger = logger
        logger[metadataKey: "kafka.group"] = "\(groupID)"
        core = try ConsumerCore(
            configuration: configuration, groupID: groupID, topics: topics, logger: logger, onRebalance: onRebalance)
        let core = self.core
        DedicatedThread.start(name: "muster-kafka-consumer") { core.runPollLoop() }
    }

    deinit {
        // Not awaited: the poll thread still leaves the group and frees the handle.
        core.requestClose(waiter: nil)
    }

    /// Records in order per partition; polled on a dedicated thread; ends (returns nil) after close().
    ///
    /// Throws ``KafkaError/consumerFailed(reason:)`` on a fatal client error. A cancelled `next()` returns nil.
    public var records: KafkaConsumerRecords { KafkaConsumerRecords(core: core) }

    /// Marks `record` processed and commits offset+1 for its partition; after it returns, a restarted group member
    /// does not receive that record again.
    ///
    /// Throws ``KafkaError/partitionRevoked(topic:partition:)`` if the partition was reassigned meanwhile (its new
    /// owner receives the record again), ``KafkaError/commitFailed(topic:partition:offset:reason:)`` or
    /// ``KafkaError/consumerClosed``.
    public func commit(_ record: KafkaRecord) async throws {
        try await core.commit(record)
    }

    /// ``commit(_:)``, waiting at most `timeout` for the broker's answer. A broker that stopped
    /// answering (down, paused, cut off) blocks librdkafka's commit without end, and a consumer
    /// that waits for it never stops; giving up is safe, as an offset not confirmed only means a
    /// redelivery that the inbox absorbs. The commit may still land later.
    public func commit(_ record: KafkaRecord, timeout: Duration) async throws {
        let once = ResumeOnce()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            once.arm(continuation)
            let core = self.core
            // The timer ends with the commit (cancelled), so no sleeper outlives a commit on this hot path.
            let timer = Task {
                try await Task.sleep(for: timeout)
                once.resume(.failure(KafkaError.commitFailed(
                    topic: record.topic, partition: record.partition, offset: record.offset + 1,
                    reason: "no answer from the broker within \(timeout)")))
            }
            Task {
                do {
                    try await core.commit(record)
                    once.resume(.success(()))
                } catch {
                    once.resume(.failure(error))
                }
                timer.cancel()
            }
        }
    }

    /// True once the member has joined its consumer group: the group
    /// coordinator gave it an assignment, possibly empty (a group with more
    /// members than partitions leaves some idle, which is still joined).
    /// False before the first assignment and after ``close()``.
    public var hasJoinedGroup: Bool { core.hasJoined }

    /// Stops fetching records of `topic`'s `partition` until ``resume(topic:partition:)`` (flow control for a
    /// partition whose records pile up while one of them is retried). Records already fetched for it are dropped
    /// by librdkafka and fetched again on resume, from the position after the last record handed out; a rebalance
    /// clears the pause.
    public func pause(topic: String, partition: Int32) {
        core.setPaused(true, TopicPartition(topic: topic, partition: partition))
    }

    /// Fetches `topic`'s `partition` again after ``pause(topic:partition:)``.
    public func resume(topic: String, partition: Int32) {
        core.setPaused(false, TopicPartition(topic: topic, partition: partition))
    }

    /// Installs `handler`, called with the topic and partition of each partition taken from this member, before
    /// it goes (on the poll thread, between records: keep it short and non-blocking). Replaces an earlier one.
    public func onRevoked(_ handler: @escaping @Sendable (_ partitions: [(topic: String, partition: Int32)]) -> Void) {
        core.onRevoked { partitions in handler(partitions.map { ($0.topic, $0.partition) }) }
    }

    /// Commits nothing unprocessed, leaves the group, stops the poll thread. Idempotent.
    ///
    /// Commits requested before `close()` are still performed; pending `next()` calls return nil.
    /// Leaving the group needs the coordinator: with the broker unreachable (down, paused, cut
    /// off) librdkafka's close does not return, so this waits at most `timeout` and then lets the
    /// poll thread finish on its own. Commits not yet answered then fail with
    /// ``KafkaError/consumerClosed`` (nothing waits for them forever), and later ones are refused.
    /// Nothing is lost by going early: offsets not committed are redelivered to the next member,
    /// and the inbox drops what was already handled.
    public func close(timeout: Duration = .seconds(5)) async {
        let once = ResumeOnce()
        try? await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            once.arm(continuation)
            let core = self.core
            let timer = Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }  // closed in time
                // The poll thread may be held in a commit that never returns: its waiters must not wait forever.
                core.abandonCommits()
                once.resume(.success(()))
            }
            Task {
                await withCheckedContinuation { core.requestClose(waiter: $0) }
                timer.cancel()
                once.resume(.success(()))
            }
        }
    }
}

/// Resumes one continuation once, whichever of several racers comes first.
private final class ResumeOnce: Sendable {
    private let continuation = Mutex<CheckedContinuation<Void, any Error>?>(nil)

    func arm(_ waiter: CheckedContinuation<Void, any Error>) {
        continuation.withLock { $0 = waiter }
    }

    func resume(_ result: Result<Void, any Error>) {
        continuation.withLock { waiter in
            defer { waiter = nil }
            return waiter
        }?.resume(with: result)
    }
}

/// The records of a ``KafkaConsumer``, as an `AsyncSequence`.
public struct KafkaConsumerRecords: AsyncSequence, Sendable {
    /// A consumed record.
    public typealias Element = KafkaRecord
    /// Fatal consumer errors (``KafkaError``).
    public typealias Failure = any Error

    let core: ConsumerCore

    /// Pulls one record per `next()` from the consumer's poll thread.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let core: ConsumerCore

        /// The next record, or nil once the consumer is closed (or this call was cancelled).
        public mutating func next() async throws -> KafkaRecord? {
            try await core.next()
        }
    }

    /// Creates an iterator. Several iterators share the consumer's records (each record goes to one of them).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(core: core) }
}
