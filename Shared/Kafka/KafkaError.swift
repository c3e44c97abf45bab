/// Everything that can go wrong in MusterKafka. Each description says what to do about it.
public enum KafkaError: Error, CustomStringConvertible, Sendable {
    /// The loaded librdkafka is older than the minimum this library needs.
    case libraryTooOld(loaded: String, required: String)
    /// librdkafka rejected a configuration property (the value is never included: it may be a secret).
    case invalidProperty(name: String, reason: String)
    /// librdkafka could not create a client handle.
    case clientCreationFailed(reason: String)
    /// A record could not be enqueued for sending.
    case produceFailed(topic: String, reason: String)
    /// The broker did not acknowledge a record (or it timed out / was purged on shutdown).
    case deliveryFailed(topic: String, reason: String)
    /// `send` was called after `shutdown` began.
    case producerShutDown
    /// Subscribing to the topics failed.
    case subscribeFailed(topics: [String], reason: String)
    /// The consumer hit an error it cannot continue from.
    case consumerFailed(reason: String)
    /// `commit` was called after `close` began.
    case consumerClosed
    /// The record's partition was revoked before its offset was committed.
    case partitionRevoked(topic: String, partition: Int32)
    /// Committing an offset failed.
    case commitFailed(topic: String, partition: Int32, offset: Int64, reason: String)
    /// An admin request (topic creation, metadata) failed.
    case adminFailed(operation: String, reason: String)
    /// A blocking operation did not finish in time.
    case timedOut(operation: String)

    /// A human-readable explanation including the fix.
    public var description: String {
        switch self {
        case let .libraryTooOld(loaded, required):
            return "librdkafka \(loaded) is loaded but Muster needs librdkafka >= \(required) (older versions hang "
                + "against some brokers). Run scripts/setup.sh, which installs the confluent-kafka wheel and links its "
                + "librdkafka into .local/lib, then put that folder on LD_LIBRARY_PATH (`source .local/infra.env` from the "
                + "repository root does both for local runs)."
        case let .invalidProperty(name, reason):
            return "librdkafka rejected property '\(name)': \(reason). Fix or remove it in KafkaConfiguration.properties."
        case let .clientCreationFailed(reason):
            return "Could not create a Kafka client: \(reason). Check KafkaConfiguration.properties."
        case let .produceFailed(topic, reason):
            return "Could not enqueue a record for topic '\(topic)': \(reason)."
        case let .deliveryFailed(topic, reason):
            return "A record for topic '\(topic)' was not delivered: \(reason). Check that the broker is reachable "
                + "and the topic exists; sending it again is safe with the idempotent producer."
        case .producerShutDown:
            return "The Kafka producer is shut down; create a new KafkaProducer to send more records."
        case let .subscribeFailed(topics, reason):
            return "Could not subscribe to \(topics): \(reason). Check the topic names."
        case let .consumerFailed(reason):
            return "The Kafka consumer failed: \(reason). Close it and create a new one."
        case .consumerClosed:
            return "The Kafka consumer is closed; create a new KafkaConsumer to continue."
        case let .partitionRevoked(topic, partition):
            return "Not committed: partition \(topic)[\(partition)] was reassigned to another group member, which "
                + "will receive the record again (make handling idempotent, e.g. with the inbox)."
        case let .commitFailed(topic, partition, offset, reason):
            return "Committing offset \(offset) of \(topic)[\(partition)] failed: \(reason). The record will be "
                + "delivered again after a restart or rebalance."
        case let .adminFailed(operation, reason):
            return "Kafka admin operation '\(operation)' failed: \(reason). Check that the broker is reachable."
        case let .timedOut(operation):
            return "Kafka operation '\(operation)' timed out. Check that the broker is reachable or raise the timeout."
        }
    }
}
