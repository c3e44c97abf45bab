import CRdKafka
import Logging

/// Owns one librdkafka handle (`rd_kafka_t`). Together with the callbacks, the only code that touches C pointers.
///
/// `@unchecked Sendable` because Swift cannot check a C pointer: librdkafka documents `rd_kafka_t` as thread-safe,
/// and the owning producer/consumer guarantees `destroy()` runs exactly once, after which no other method is
/// called (each owner checks its phase under its own lock before every call).
final class RDKafkaClient: @unchecked Sendable {
    /// Which kind of librdkafka handle to create.
    enum Kind {
        case producer
        case consumer
    }

    private let handle: OpaquePointer
    private let events: Unmanaged<RDKafkaEvents>
    /// The consumer's queue, kept to wake a blocked `rd_kafka_consumer_poll` (`rd_kafka_queue_yield`).
    private let consumerQueue: OpaquePointer?

    /// Creates a handle from `properties` (already merged: defaults, brokers, user properties).
    init(kind: Kind, properties: [String: String], events: RDKafkaEvents) throws(KafkaError) {
        let configuration = rd_kafka_conf_new()!
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            var errorText = [CChar](repeating: 0, count: 512)
            if rd_kafka_conf_set(configuration, name, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(configuration)
                // librdkafka's message may quote the value, which may be a secret.
                let reason = KafkaConfiguration.isSecret(name) ? "invalid value" : Self.string(errorText)
                throw .invalidProperty(name: name, reason: reason)
            }
        }
        let retained = Unmanaged.passRetained(events)
        rd_kafka_conf_set_opaque(configuration, retained.toOpaque())
        rd_kafka_conf_set_log_cb(configuration, rdKafkaLogCallback)
        rd_kafka_conf_set_error_cb(configuration, rdKafkaErrorCallback)
        switch kind {
        case .producer: rd_kafka_conf_set_dr_msg_cb(configuration, rdKafkaDeliveryCallback)
        case .consumer: rd_kafka_conf_set_rebalance_cb(configuration, rdKafkaRebalanceCallback)
        }

        var errorText = [CChar](repeating: 0, count: 512)
        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        guard let handle = rd_kafka_new(type, configuration, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(configuration)  // still ours: rd_kafka_new only takes it on success
            retained.release()
            throw .clientCreationFailed(reason: Self.string(errorText))
        }
        self.handle = handle
        self.events = retained
        if kind == .consumer {
            // Route client events (errors, logs served by poll) through the consumer queue, so the consumer's
            // single poll thread serves everything.
            rd_kafka_poll_set_consumer(handle)
            consumerQueue = rd_kafka_queue_get_consumer(handle)
        } else {
            consumerQueue = nil
        }
    }

    /// Frees the handle. Call exactly once, after every other use; blocks while librdkafka shuts down.
    func destroy() {
        if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
        rd_kafka_destroy(handle)
        // Only now can no callback run any more.
        events.release()
    }

    // MARK: Producer

    /// Outcome of trying to enqueue one record.
    enum ProduceResult {
        case enqueued
        /// librdkafka's send queue is full (`queue.buffering.max.*`): try again once deliveries drain it.
        case queueFull
        case failed(KafkaError)
    }

    /// Enqueues `record` (copied); its delivery report arrives through `RDKafkaEvents` with `id` (non-zero).
    func produce(_ record: KafkaOutgoingRecord, id: UInt) -> ProduceResult {
        var headers: OpaquePointer?
        if !record.headers.isEmpty {
            let list = rd_kafka_headers_new(record.headers.count)!
            for header in record.headers {
                if let value = header.value {
                    _ = value.withUnsafeBytes { bytes in
                        // A non-NULL pointer even for an empty value: NULL would mean a null header.
                        rd_kafka_header_add(list, header.name, -1, bytes.baseAddress ?? crdk_empty_bytes(), bytes.count)
                    }
                } else {
                    rd_kafka_header_add(list, header.name, -1, nil, 0)
                }
            }
            headers = list
        }
        let partition = record.partition ?? crdk_partition_unassigned()
        let error: OpaquePointer? = record.value.withUnsafeBytes { value in
            func send(key: UnsafeRawBufferPointer?) -> OpaquePointer? {
                crdk_produce(
                    handle, record.topic, partition,
                    key.map { $0.baseAddress ?? crdk_empty_bytes() }, key?.count ?? 0,
                    value.baseAddress, value.count,
                    headers, UnsafeMutableRawPointer(bitPattern: id)
                )
            }
            if let key = record.key {
                return key.withUnsafeBytes { send(key: $0) }
            }
            return send(key: nil)
        }
        guard let error else { return .enqueued }
        if let headers { rd_kafka_headers_destroy(headers) }  // still ours when produce fails
        defer { rd_kafka_error_destroy(error) }
        if rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL { return .queueFull }
        return .failed(.produceFailed(topic: record.topic, reason: String(cString: rd_kafka_error_string(error))))
    }

    /// Serves delivery reports and error callbacks for up to `milliseconds`.
    func poll(milliseconds: Int32) {
        rd_kafka_poll(handle, milliseconds)
    }

    /// Waits up to `milliseconds` for every enqueued record to be delivered or fail; true if none remain.
    func flush(milliseconds: Int32) -> Bool {
        rd_kafka_flush(handle, milliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Fails every record still queued or in flight (their delivery reports say "purged").
    func purge() {
        rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
    }

    /// Records not yet delivered plus pending callbacks.
    var outstanding: Int32 { rd_kafka_outq_len(handle) }

    /// Makes a blocked `poll`/`flush` return early.
    func wakeProducerPoll() {
        rd_kafka_yield(handle)
    }

    // MARK: Consumer

    /// Outcome of one `consumerPoll`.
    enum ConsumerPollResult {
        case nothing
        case record(KafkaRecord)
        case error(code: Int32, reason: String, fatal: Bool)
    }

    /// Joins the group for `topics`.
    func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, crdk_partition_unassigned())
        }
        let error = rd_kafka_subscribe(handle, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .subscribeFailed(topics: topics, reason: String(cString: rd_kafka_err2str(error)))
        }
    }

    /// Blocks up to `milliseconds` for the next record; also serves rebalance and error callbacks.
    func consumerPoll(milliseconds: Int32) -> ConsumerPollResult {
        guard let message = rd_kafka_consumer_poll(handle, milliseconds) else { return .nothing }
        defer { rd_kafka_message_destroy(message) }
        let code = message.pointee.err
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let reason = String(cString: rd_kafka_message_errstr(message))
            return .error(code: code.rawValue, reason: reason, fatal: code == RD_KAFKA_RESP_ERR__FATAL)
        }
        return .record(Self.record(from: message))
    }

    /// Makes a blocked `consumerPoll` return early.
    func wakeConsumerPoll() {
        if let consumerQueue { rd_kafka_queue_yield(consumerQueue) }
    }

    /// Synchronously commits `offset` (the next offset to read) for `partition`; blocks until the broker answers.
    func commit(_ partition: TopicPartition, offset: Int64) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(1)!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition).pointee.offset = offset
        var error = rd_kafka_commit(handle, list, 0)
        if error == RD_KAFKA_RESP_ERR_NO_ERROR { error = list.pointee.elems[0].err }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .commitFailed(topic: partition.topic, partition: partition.partition, offset: offset,
                                reason: String(cString: rd_kafka_err2str(error)))
        }
    }

    /// The partitions currently assigned to this member.
    func assignment() -> Set<TopicPartition> {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return Set(Self.topicPartitions(of: list))
    }

    /// Leaves the group (serving the final revoke callback on this thread). Commits nothing by itself since
    /// auto-commit is off.
    func consumerClose() {
        let error = rd_kafka_consumer_close(handle)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            events.takeUnretainedValue().logger.warning(
                "Leaving the consumer group failed: \(String(cString: rd_kafka_err2str(error)))")
        }
    }

    // MARK: Metadata and admin

    /// Partition count per topic in the cluster, fetched within `milliseconds`.
    func topicPartitionCounts(milliseconds: Int32) throws(KafkaError) -> [String: Int32] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(handle, 1, nil, &metadata, milliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw .adminFailed(operation: "metadata", reason: String(cString: rd_kafka_err2str(error)))
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var counts: [String: Int32] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            if topic.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                counts[String(cString: topic.topic)] = topic.partition_cnt
            }
        }
        return counts
    }

    /// True when broker metadata can be fetched within `milliseconds`.
    func canFetchMetadata(milliseconds: Int32) -> Bool {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(handle, 0, nil, &metadata, milliseconds)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        return error == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Creates `topics`; returns the per-topic error (nil = created). Blocks up to `milliseconds`.
    func createTopics(_ topics: [(name: String, partitions: Int32)], replicationFactor: Int32,
                      milliseconds: Int32) throws(KafkaError) -> [String: (code: Int32, reason: String)?] {
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            var errorText = [CChar](repeating: 0, count: 512)
            guard let newTopic = rd_kafka_NewTopic_new(topic.name, topic.partitions, replicationFactor,
                                                       &errorText, errorText.count) else {
                throw .adminFailed(operation: "create topic \(topic.name)", reason: Self.string(errorText))
            }
            newTopics.append(newTopic)
        }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, &errorText, errorText.count)
        rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds, &errorText, errorText.count)

        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        // A little longer than the request timeout, so librdkafka reports its own timeout first.
        guard let event = rd_kafka_queue_poll(queue, milliseconds &+ 1000) else {
            throw .timedOut(operation: "create topics")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        guard eventError == RD_KAFKA_RESP_ERR_NO_ERROR, let result = rd_kafka_event_CreateTopics_result(event) else {
            throw .adminFailed(operation: "create topics", reason: String(cString: rd_kafka_event_error_string(event)))
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return [:] }
        var outcome: [String: (code: Int32, reason: String)?] = [:]
        for index in 0..<count {
            let topicResult = results[index]
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let code = rd_kafka_topic_result_error(topicResult)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR {
                outcome[name] = .some(nil)
            } else {
                let reason = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) }
                outcome[name] = (code: code.rawValue, reason: reason ?? String(cString: rd_kafka_err2str(code)))
            }
        }
        return outcome
    }

    /// librdkafka's code for "topic already exists".
    static let topicAlreadyExists = RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS.rawValue

    // MARK: Conversions

    static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads and frees an `rd_kafka_error_t`; nil when there was no error.
    static func consume(error: OpaquePointer?) -> String? {
        guard let error else { return nil }
        defer { rd_kafka_error_destroy(error) }
        return String(cString: rd_kafka_error_string(error))
    }

    static func topicPartitions(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            return TopicPartition(topic: String(cString: element.topic), partition: element.partition)
        }
    }

    static func record(from message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaRecord {
        let raw = message.pointee
        let key = raw.key.map { Array(UnsafeRawBufferPointer(start: $0, count: raw.key_len)) }
        let value = raw.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: raw.len)) } ?? []
        var headers: [KafkaHeader] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let value = bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: value))
                index += 1
            }
        }
        return KafkaRecord(
            topic: raw.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
            partition: raw.partition, offset: raw.offset, key: key, value: value, headers: headers
        )
    }
}
