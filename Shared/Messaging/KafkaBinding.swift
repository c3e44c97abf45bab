import MusterEvents
import MusterKafka

/// CloudEvents binary mode over Kafka: attributes as headers, data as value.
extension CloudEvent {
    /// The Kafka record carrying this event on `topic` under `key`.
    public func kafkaRecord(topic: String, key: String) -> KafkaOutgoingRecord {
        KafkaOutgoingRecord(
            topic: topic, key: Array(key.utf8), value: data,
            headers: headers.map { KafkaHeader(name: $0.name, value: Array($0.value.utf8)) }
        )
    }

    /// Parses a consumed record; throws `CloudEventError` when it is not one.
    public init(record: KafkaRecord) throws {
        try self.init(header: { record.header($0) }, value: record.value)
    }
}
