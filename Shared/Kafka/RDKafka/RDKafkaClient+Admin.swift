import CRdKafka

/// Metadata and admin calls; all block, so callers run them on a dedicated thread.
extension RDKafkaClient {
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

    /// The offsets committed by this handle's `group.id` for `partitions` (topic → partition ids), as the broker
    /// reports them; a partition the group never committed is absent. Blocks up to `milliseconds`.
    func committedOffsets(_ partitions: [String: [Int32]], milliseconds: Int32) throws(KafkaError) -> [String: [Int32: Int64]] {
        let count = partitions.values.reduce(0) { $0 + $1.count }
        let list = rd_kafka_topic_partition_list_new(Int32(max(count, 1)))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (topic, ids) in partitions {
            for id in ids { rd_kafka_topic_partition_list_add(list, topic, id) }
        }
        let error = rd_kafka_committed(handle, list, milliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .adminFailed(operation: "committed offsets", reason: String(cString: rd_kafka_err2str(error)))
        }
        var result: [String: [Int32: Int64]] = [:]
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            guard element.err == RD_KAFKA_RESP_ERR_NO_ERROR, element.offset >= 0 else { continue }
            result[String(cString: element.topic), default: [:]][element.partition] = element.offset
        }
        return result
    }

    /// The broker's low and high watermarks of one partition. Blocks up to `milliseconds`.
    func watermarks(topic: String, partition: Int32, milliseconds: Int32) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let error = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, milliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .adminFailed(operation: "watermarks of \(topic)[\(partition)]", reason: String(cString: rd_kafka_err2str(error)))
        }
        return (low, high)
    }

    /// librdkafka's code for "topic already exists".
    static let topicAlreadyExists = RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS.rawValue
}
