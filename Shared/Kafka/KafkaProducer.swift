import Logging
import Synchronization

/// Idempotent Kafka producer (`enable.idempotence=true`, `acks=all` unless overridden in `properties`).
///
/// `send` suspends until the broker acknowledged the record, so a caller (e.g. an outbox relay) knows exactly
/// which records are durable. Delivery reports are served by one dedicated poll thread per producer.
/// Call ``shutdown(timeout:)`` before dropping the producer so queued records are flushed.
public final class KafkaProducer: Sendable {
    private let core: ProducerCore

    /// Creates the producer and starts its poll thread. Throws ``KafkaError`` for an invalid property.
    public init(configuration: KafkaConfiguration, logger: Logger) throws {
        core = try ProducerCore(configuration: configuration, logger: logger)
        let core = self.core
        DedicatedThread.start(name: "muster-kafka-producer") { core.runPollLoop() }
    }

    deinit {
        // Not awaited: the poll thread still flushes (briefly) and frees the handle.
        core.requestShutdown(timeout: .seconds(5), waiter: nil)
    }

    /// Enqueues and suspends until the broker acknowledged (or failed) this record.
    ///
    /// When librdkafka's send queue is full, waits (polling every few milliseconds) for room: that is the
    /// backpressure. Cancellation only interrupts that wait; once enqueued, the record's fate is awaited.
    /// Throws ``KafkaError/deliveryFailed(topic:reason:)``, ``KafkaError/produceFailed(topic:reason:)`` or
    /// ``KafkaError/producerShutDown``.
    public func send(_ record: KafkaOutgoingRecord) async throws -> KafkaDeliveryReport {
        while true {
            let outcome: ProducerCore.SendOutcome = await withCheckedContinuation { continuation in
                if let immediate = core.enqueue(record, completion: { continuation.resume(returning: $0) }) {
                    continuation.resume(returning: immediate)
                }
            }
            switch outcome {
            case let .delivered(report): return report
            case let .failed(error): throw error
            case .queueFull: try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// Enqueues `records` in order (so records of one partition keep that
    /// order, which the idempotent producer preserves through retries), then
    /// suspends until every one was acknowledged. Throws the first failure
    /// after all have settled; records before it may have been delivered.
    /// Cancellation ends the wait at once with `CancellationError`: records
    /// already enqueued may still be delivered (the caller treats the batch
    /// as not acknowledged, e.g. publishes it again later).
    public func sendBatch(_ records: [KafkaOutgoingRecord]) async throws -> [KafkaDeliveryReport] {
        guard !records.isEmpty else { return [] }
        let batch = BatchCompletion(count: records.count)
        for (index, record) in records.enumerated() {
            while true {
                let immediate = core.enqueue(record) { batch.settle(index, $0) }
                if case .queueFull = immediate {
                    // Back-pressure: wait for room instead of reordering (cancellation ends the wait).
                    try await Task.sleep(for: .milliseconds(5))
                    continue
                }
                if let immediate { batch.settle(index, immediate) }
                break
            }
        }
        return try await batch.wait()
    }

    /// Records enqueued whose delivery is not yet settled (for metrics and tests).
    public var pendingDeliveries: Int { core.pendingDeliveries }

    /// Waits up to `timeout` for all outstanding records; then stops the poll thread. Idempotent.
    ///
    /// Records still undelivered after `timeout` are purged and their `send` throws. After this returns, `send`
    /// throws ``KafkaError/producerShutDown``.
    public func shutdown(timeout: Duration) async {
        await withCheckedContinuation { continuation in
            core.requestShutdown(timeout: timeout, waiter: continuation)
        }
    }
}

/// The producer's shared state: the handle, the phase and the continuations of records in flight.
final class ProducerCore: Sendable {
    enum SendOutcome: Sendable {
        case delivered(KafkaDeliveryReport)
        case failed(KafkaError)
        case queueFull
    }

    private enum Phase {
        case running
        case draining(timeout: Duration)
        case stopped
    }

    private struct State {
        var phase = Phase.running
        var nextID: UInt = 1  // 0 would be a NULL opaque
        var inFlight: [UInt: @Sendable (SendOutcome) -> Void] = [:]
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []

        /// Set once shutdown was requested.
        var drainTimeout: Duration? {
            if case let .draining(timeout) = phase { timeout } else { nil }
        }
    }

    private let client: RDKafkaClient
    private let logger: Logger
    private let state = Mutex(State())

    init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        self.logger = logger
        let events = RDKafkaEvents(logger: logger)
        client = try RDKafkaClient(
            kind: .producer,
            properties: configuration.effectiveProperties(defaults: KafkaClientDefaults.producer()),
            events: events
        )
        events.onDelivery { [weak self] id, result in self?.delivered(id: id, result) }
    }

    var pendingDeliveries: Int { state.withLock { $0.inFlight.count } }

    /// Enqueues `record`; `completion` runs on the poll thread with its fate.
    /// Returns an outcome instead (and never calls `completion`) when the
    /// record could not be enqueued.
    func enqueue(_ record: KafkaOutgoingRecord, completion: @escaping @Sendable (SendOutcome) -> Void) -> SendOutcome? {
        state.withLock { state in
            guard case .running = state.phase else { return .failed(.producerShutDown) }
            let id = state.nextID
            state.nextID &+= 1
            // Registered before producing, under the lock, so the report (served on the poll thread, which needs
            // this lock) always finds it; produce itself never blocks.
            state.inFlight[id] = completion
            switch client.produce(record, id: id) {
            case .enqueued: return nil
            case .queueFull:
                state.inFlight[id] = nil
                return .queueFull
            case let .failed(error):
                state.inFlight[id] = nil
                return .failed(error)
            }
        }
    }

    private func delivered(id: UInt, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        guard let completion = state.withLock({ $0.inFlight.removeValue(forKey: id) }) else { return }
        switch result {
        case let .success(report): completion(.delivered(report))
        case let .failure(error): completion(.failed(error))
        }
    }

    func requestShutdown(timeout: Duration, waiter: CheckedContinuation<Void, Never>?) {
        let alreadyStopped = state.withLock { state in
            switch state.phase {
            case .running:
                state.phase = .draining(timeout: timeout)
                client.wakeProducerPoll()
            case .draining:
                break
            case .stopped:
                return true
            }
            if let waiter { state.shutdownWaiters.append(waiter) }
            return false
        }
        if alreadyStopped { waiter?.resume() }
    }

    /// The poll thread: serve delivery reports until shutdown, then flush, purge leftovers and free the handle.
    func runPollLoop() {
        var drainTimeout: Duration?
        while drainTimeout == nil {
            client.poll(milliseconds: 1000)  // a delivery report or `requestShutdown` ends the wait at once
            drainTimeout = state.withLock(\.drainTimeout)
        }
        let timeout = drainTimeout ?? .zero
        if !client.flush(milliseconds: timeout.clampedMilliseconds) {
            logger.warning("Kafka producer shutdown: \(client.outstanding) records undelivered after the timeout; purging")
            client.purge()
            _ = client.flush(milliseconds: 1000)  // serves the "purged" delivery reports
        }
        let (orphans, waiters) = state.withLock { state in
            state.phase = .stopped
            defer { state.inFlight = [:]; state.shutdownWaiters = [] }
            return (Array(state.inFlight.values), state.shutdownWaiters)
        }
        for completion in orphans {
            completion(.failed(.producerShutDown))
        }
        client.destroy()
        logger.debug("Kafka producer stopped")
        for waiter in waiters { waiter.resume() }
    }
}

/// Collects the fates of a batch of records and wakes the waiter when all settled.
final class BatchCompletion: Sendable {
    private struct State {
        var outcomes: [ProducerCore.SendOutcome?]
        var remaining: Int
        var cancelled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(outcomes: Array(repeating: nil, count: count), remaining: count))
    }

    func settle(_ index: Int, _ outcome: ProducerCore.SendOutcome) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard state.outcomes[index] == nil else { return nil }
            state.outcomes[index] = outcome
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async throws -> [KafkaDeliveryReport] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    if state.remaining == 0 || state.cancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                state.cancelled = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        let (outcomes, remaining) = state.withLock { ($0.outcomes, $0.remaining) }
        if remaining > 0 { throw CancellationError() }
        return try outcomes.map { outcome in
            switch outcome {
            case let .delivered(report)?: return report
            case let .failed(error)?: throw error
            case .queueFull?, nil: throw KafkaError.producerShutDown
            }
        }
    }
}
