import CRdKafka

/// Consumer-group calls. Blocking ones run on the consumer's poll thread only.
extension RDKafkaClient {
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
            rd_kafka_topic_partition_list_add(list, topic, CRdKafka_partition_unassigned())
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

    /// Stops (`paused` true) or restarts fetching `partitions`. librdkafka drops records it fetched for a paused
    /// partition and, on resume, fetches again from the position after the last record it handed out, so nothing
    /// is skipped. An assignment change clears the pause.
    func setPaused(_ paused: Bool, _ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions { rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition) }
        let error = paused ? rd_kafka_pause_partitions(handle, list) : rd_kafka_resume_partitions(handle, list)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            events.takeUnretainedValue().logger.warning(
                "\(paused ? "Pausing" : "Resuming") partitions failed: \(String(cString: rd_kafka_err2str(error)))")
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
}
