import Dispatch
import Logging
import Synchronization

/// The consumer's shared state and poll thread. See ``KafkaConsumer`` for the delivery and commit semantics.
final class ConsumerCore: Sendable {
    private typealias Waiter = CheckedContinuation<KafkaRecord?, any Error>

    private typealias CommitWaiter = CheckedContinuation<Void, any Error>

    /// A commit taken by the poll thread; its waiter stays in ``State/inFlight`` until it is answered.
    private struct CommitRequest {
        var id: UInt64
        var record: KafkaRecord
    }

    private struct State {
        var machine = ConsumerStateMachine<Waiter>()
        var nextWaiterID: UInt64 = 0
        var commits: [CommitRequest] = []
        var nextCommitID: UInt64 = 0
        /// The waiter of every commit requested and not yet answered (queued or being performed). Whoever
        /// removes one resumes it: the poll thread with the broker's answer, or ``abandonCommits()``.
        var inFlight: [UInt64: CommitWaiter] = [:]
        /// Pause (true) or resume (false) requests, applied on the poll thread in order.
        var flowChanges: [(paused: Bool, partition: TopicPartition)] = []
        var onRevoked: (@Sendable ([TopicPartition]) -> Void)?
        /// The subscription was made (on the poll thread, when a record was first wanted).
        var subscribed = false
        /// An assignment (possibly empty) arrived: this member joined its group.
        var joined = false
        var closeRequested = false
        /// The poll thread began leaving the group: no more commits.
        var leaving = false
        /// The handle is freed (or about to be): nobody may touch it.
        var stopped = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum Step {
        case commit([CommitRequest])
        case flow([(paused: Bool, partition: TopicPartition)])
        case poll
        case idle
        case leave
    }

    private let client: RDKafkaClient
    private let topics: [String]
    private let logger: Logger
    private let state = Mutex(State())
    /// Wakes the idle poll thread. Extra signals only cost an extra loop turn.
    private let wake = DispatchSemaphore(value: 0)

    private let onRebalance: (@Sendable (RebalanceEvent) -> Void)?

    init(
        configuration: KafkaConfiguration, groupID: String, topics: [String], logger: Logger,
        onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil
    ) throws(KafkaError) {
        guard !topics.isEmpty else { throw .subscribeFailed(topics: topics, reason: "no topic to subscribe to") }
        // Subscribed on the poll thread when a record is first wanted, not here: a consumer that is
        // built but never read (or closed at once) never sends a JoinGroup, so it can never be left
        // in its group as a member that will not answer (see ``subscribeIfNeeded()``).
        self.topics = topics
        self.logger = logger
        self.onRebalance = onRebalance
        let events = RDKafkaEvents(logger: logger)
        client = try RDKafkaClient(
            kind: .consumer,
            properties: configuration.effectiveProperties(defaults: KafkaClientDefaults.consumer(groupID: groupID)),
            events: events
        )
        events.onRebalance { [weak self] event in self?.rebalanced(event) }
    }

    // MARK: Called from tasks

    func next() async throws -> KafkaRecord? {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        // The cancellation handler has finished once withTaskCancellationHandler returns.
        defer { state.withLock { $0.machine.forget(id: id) } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                let action = state.withLock { $0.machine.next(id: id, waiter: continuation) }
                switch action {
                case let .deliver(record): continuation.resume(returning: record)
                case .finish: continuation.resume(returning: nil)
                case let .fail(error): continuation.resume(throwing: error)
                case .wait: wake.signal()
                }
            }
        } onCancel: {
            state.withLock { $0.machine.cancel(id: id) }?.resume(returning: nil)
        }
    }

    func commit(_ record: KafkaRecord) async throws {
        try await withCheckedThrowingContinuation { (continuation: CommitWaiter) in
            let accepted = state.withLock { state in
                guard !state.leaving else { return false }
                state.nextCommitID += 1
                state.inFlight[state.nextCommitID] = continuation
                state.commits.append(CommitRequest(id: state.nextCommitID, record: record))
                client.wakeConsumerPoll()  // handle alive: `stopped` implies `leaving`
                return true
            }
            if accepted { wake.signal() } else { continuation.resume(throwing: KafkaError.consumerClosed) }
        }
    }

    /// Asks the poll thread to pause or resume fetching `partition`.
    func setPaused(_ paused: Bool, _ partition: TopicPartition) {
        let accepted = state.withLock { state in
            guard !state.leaving else { return false }
            state.flowChanges.append((paused, partition))
            client.wakeConsumerPoll()  // handle alive: `stopped` implies `leaving`
            return true
        }
        if accepted { wake.signal() }
    }

    /// Fails every commit not yet answered with ``KafkaError/consumerClosed`` and refuses new ones; the close
    /// gave up waiting for the poll thread (held in librdkafka's commit or close by a broker that does not
    /// answer), so nothing may wait for it. A commit the poll thread still performs may land later; its answer
    /// goes nowhere. Safe to call at any time: after a finished close there is nothing left to fail.
    func abandonCommits() {
        let waiters = state.withLock { state -> [CommitWaiter] in
            state.leaving = true
            state.commits = []
            defer { state.inFlight = [:] }
            return Array(state.inFlight.values)
        }
        if !waiters.isEmpty { logger.warning("Kafka consumer: gave up \(waiters.count) offset commit(s) at close") }
        for waiter in waiters { waiter.resume(throwing: KafkaError.consumerClosed) }
    }

    /// Whether the member has joined its group (received an assignment, possibly empty).
    var hasJoined: Bool { state.withLock { $0.joined && !$0.closeRequested } }

    /// Installs the observer of revoked partitions (called on the poll thread, before they go).
    func onRevoked(_ handler: @escaping @Sendable ([TopicPartition]) -> Void) {
        state.withLock { $0.onRevoked = handler }
    }

    func requestClose(waiter: CheckedContinuation<Void, Never>?) {
        let (finish, alreadyStopped) = state.withLock { state -> ([Waiter], Bool) in
            if state.stopped { return ([], true) }
            if let waiter { state.closeWaiters.append(waiter) }
            guard !state.closeRequested else { return ([], false) }
            state.closeRequested = true
            client.wakeConsumerPoll()
            return (state.machine.close(), false)
        }
        for pending in finish { pending.resume(returning: nil) }
        if alreadyStopped { waiter?.resume() } else { wake.signal() }
    }

    // MARK: Poll thread

    func runPollLoop() {
        loop: while true {
            let step = state.withLock { state -> Step in
                if !state.commits.isEmpty {
                    defer { state.commits = [] }
                    return .commit(state.commits)
                }
                if !state.flowChanges.isEmpty {
                    defer { state.flowChanges = [] }
                    return .flow(state.flowChanges)
                }
                if state.closeRequested {
                    state.leaving = true
                    return .leave
                }
                return state.machine.wantsRecord ? .poll : .idle
            }
            switch step {
            case let .commit(requests): perform(requests)
            case let .flow(changes):
                for change in changes { client.setPaused(change.paused, [change.partition]) }
            // 1 s: a record ends the wait at once, and commits, pauses and close wake it
            // (`wakeConsumerPoll`); a shorter wait only costs an idle service wake-ups.
            case .poll:
                guard subscribeIfNeeded() else { continue loop }
                handle(client.consumerPoll(milliseconds: 1000))
            case .idle: wake.wait()
            case .leave: break loop
            }
        }
        // Serves the final revoke; nothing is committed since auto-commit is off.
        client.consumerClose()
        let waiters = state.withLock { state in
            state.stopped = true
            defer { state.closeWaiters = [] }
            return state.closeWaiters
        }
        client.destroy()
        logger.debug("Kafka consumer closed")
        for waiter in waiters { waiter.resume() }
    }

    /// Subscribes the first time a record is wanted. A member that subscribes joins its group at
    /// once (librdkafka sends the JoinGroup in the background), and one closed while that join is
    /// still pending cannot leave: it has no member id yet. A broker that completes such a join
    /// keeps a member that never syncs or heartbeats, and every rebalance of the group then waits
    /// for it until its session ends (Tansu never ended it: the working members got no
    /// partitions). So a consumer joins only when it is read. False when the subscription failed:
    /// the waiting reads are failed, as on a fatal client error.
    private func subscribeIfNeeded() -> Bool {
        guard !state.withLock({ $0.subscribed }) else { return true }
        do {
            try client.subscribe(topics)
            state.withLock { $0.subscribed = true }
            return true
        } catch {
            logger.error("Kafka consumer could not subscribe: \(error)")
            let failure = KafkaError.consumerFailed(reason: "\(error)")
            let waiters = state.withLock { $0.machine.failed(failure) }
            for waiter in waiters { waiter.resume(throwing: failure) }
            return false
        }
    }

    private func handle(_ result: RDKafkaClient.ConsumerPollResult) {
        switch result {
        case .nothing:
            break
        case let .record(record):
            state.withLock { $0.machine.received(record) }?.resume(returning: record)
        case let .error(code, reason, fatal):
            guard fatal else {
                // E.g. a subscribed topic that does not exist yet; librdkafka keeps retrying on its own.
                logger.warning("Kafka consumer: \(reason)", metadata: ["librdkafka.code": "\(code)"])
                return
            }
            logger.error("Kafka consumer failed: \(reason)")
            let waiters = state.withLock { $0.machine.failed(.consumerFailed(reason: reason)) }
            for waiter in waiters { waiter.resume(throwing: KafkaError.consumerFailed(reason: reason)) }
        }
    }

    private func perform(_ requests: [CommitRequest]) {
        let assigned = client.assignment()
        for request in requests {
            let partition = request.record.topicPartition
            guard assigned.contains(partition) else {
                // Committing now could move the new owner's offset backwards.
                answer(request, .failure(KafkaError.partitionRevoked(topic: partition.topic, partition: partition.partition)))
                continue
            }
            do {
                try client.commit(partition, offset: request.record.offset + 1)
                answer(request, .success(()))
            } catch {
                answer(request, .failure(error))
            }
        }
    }

    /// Resumes the waiter of `request`, unless ``abandonCommits()`` already did.
    private func answer(_ request: CommitRequest, _ result: Result<Void, any Error>) {
        state.withLock { $0.inFlight.removeValue(forKey: request.id) }?.resume(with: result)
    }

    /// Runs on the poll thread, inside librdkafka's rebalance callback.
    private func rebalanced(_ event: RebalanceEvent) {
        onRebalance?(event)
        guard case let .revoked(partitions) = event else {
            state.withLock { $0.joined = true }
            return
        }
        let (requests, observer) = state.withLock { state in
            state.machine.revoked(partitions)
            defer { state.commits = [] }
            return (state.commits, state.onRevoked)
        }
        // The partitions are still assigned here: commit what was processed before they go.
        perform(requests)
        observer?(partitions)
    }
}
