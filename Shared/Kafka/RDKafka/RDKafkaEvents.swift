import Logging
import Synchronization

/// A change in a consumer's partition assignment, reported from librdkafka's rebalance callback.
public enum RebalanceEvent: Sendable, Equatable {
    /// These partitions were added to this member.
    case assigned([TopicPartition])
    /// These partitions are being taken away (reported before librdkafka forgets them, so the owner can
    /// still commit what it processed).
    case revoked([TopicPartition])
}

/// What librdkafka's C callbacks report to the Swift layer above.
///
/// One instance is the `rd_kafka_t`'s opaque, kept alive (retained) until `rd_kafka_destroy` has returned, so a
/// callback can never see a dangling pointer. Handlers are installed after the handle exists (callbacks that
/// need them only fire once polling or subscribing starts).
final class RDKafkaEvents: Sendable {
    /// Receives librdkafka's own log lines and client-level errors.
    let logger: Logger
    /// The installed handlers, wrapped in a struct on purpose: a closure stored directly as a `Mutex`'s value is
    /// held at the generic (maximal) abstraction, and every `withLock { $0 }` writes it back through a pair of
    /// reabstraction thunks — the stored handler grew by two thunks per delivery report until calling it
    /// overflowed the poll thread's stack (SIGSEGV). A struct field keeps its own abstraction: nothing is rewrapped.
    private struct Handlers {
        var delivery: (@Sendable (UInt, Result<KafkaDeliveryReport, KafkaError>) -> Void)?
        var rebalance: (@Sendable (RebalanceEvent) -> Void)?
    }
    private let handlers = Mutex(Handlers())

    init(logger: Logger) {
        self.logger = logger
    }

    /// Installs the handler for delivery reports (producer); `UInt` is the id passed to `produce`.
    func onDelivery(_ handler: @escaping @Sendable (UInt, Result<KafkaDeliveryReport, KafkaError>) -> Void) {
        handlers.withLock { $0.delivery = handler }
    }

    /// Installs the handler for assignment changes (consumer).
    func onRebalance(_ handler: @escaping @Sendable (RebalanceEvent) -> Void) {
        handlers.withLock { $0.rebalance = handler }
    }

    func delivered(id: UInt, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let handler = handlers.withLock { $0.delivery }
        handler?(id, result)
    }

    func rebalanced(_ event: RebalanceEvent) {
        let handler = handlers.withLock { $0.rebalance }
        handler?(event)
    }
}
