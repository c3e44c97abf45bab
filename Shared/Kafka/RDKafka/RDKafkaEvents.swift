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
    private let deliveryHandler = Mutex<(@Sendable (UInt, Result<KafkaDeliveryReport, KafkaError>) -> Void)?>(nil)
    private let rebalanceHandler = Mutex<(@Sendable (RebalanceEvent) -> Void)?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    /// Installs the handler for delivery reports (producer); `UInt` is the id passed to `produce`.
    func onDelivery(_ handler: @escaping @Sendable (UInt, Result<KafkaDeliveryReport, KafkaError>) -> Void) {
        deliveryHandler.withLock { $0 = handler }
    }

    /// Installs the handler for assignment changes (consumer).
    func onRebalance(_ handler: @escaping @Sendable (RebalanceEvent) -> Void) {
        rebalanceHandler.withLock { $0 = handler }
    }

    func delivered(id: UInt, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let handler = deliveryHandler.withLock { $0 }
        handler?(id, result)
    }

    func rebalanced(_ event: RebalanceEvent) {
        let handler = rebalanceHandler.withLock { $0 }
        handler?(event)
    }
}
