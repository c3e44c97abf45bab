/// A record to send.
public struct KafkaOutgoingRecord: Sendable {
    /// Destination topic.
    public var topic: String
    /// Partitioning key; `nil` sends a key-less record.
    public var key: [UInt8]?
    /// Record value (an empty array is sent as a null value).
    public var value: [UInt8]
    /// Headers, sent in this order (duplicate names allowed).
    public var headers: [KafkaHeader]
    /// Explicit partition; `nil` lets the partitioner choose by key.
    public var partition: Int32?

    /// Creates a record to send.
    public init(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [], partition: Int32? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
    }
}

/// Where the broker stored a record it acknowledged.
public struct KafkaDeliveryReport: Sendable, Hashable {
    /// Topic written to.
    public var topic: String
    /// Partition written to.
    public var partition: Int32
    /// Offset assigned by the broker.
    public var offset: Int64

    /// Creates a delivery report.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// A record received by a ``KafkaConsumer``.
public struct KafkaRecord: Sendable, Hashable {
    /// Topic read from.
    public var topic: String
    /// Partition read from.
    public var partition: Int32
    /// The record's offset in its partition.
    public var offset: Int64
    /// Key, or `nil` for a key-less record.
    public var key: [UInt8]?
    /// Value (a null value arrives as an empty array).
    public var value: [UInt8]
    /// Headers in the order they were sent.
    public var headers: [KafkaHeader]

    /// Creates a record (the consumer builds these; tests may too).
    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// First header value with that name, as UTF-8 (`nil` if absent, null, or not valid UTF-8).
    public func header(_ name: String) -> String? { headers.firstString(named: name) }

    /// The record's topic and partition.
    var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
}

/// A partition of a topic.
/// One partition of one topic.
public struct TopicPartition: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32

    /// Creates a topic partition.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
}
