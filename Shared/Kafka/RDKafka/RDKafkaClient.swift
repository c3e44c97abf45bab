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

    // Internal (not private) only so the RDKafkaClient+*.swift extensions in this folder can use them.
    let handle: OpaquePointer
    let events: Unmanaged<RDKafkaEvents>
    /// The consumer's queue, kept to wake a blocked `rd_kafka_consumer_poll` (`rd_kafka_queue_yield`).
    let consumerQueue: OpaquePointer?
    /// The producer's main queue (served by `rd_kafka_poll`), kept to wake a blocked poll: `rd_kafka_yield`
    /// works only from inside a callback, so it cannot end a poll from another thread.
    let mainQueue: OpaquePointer?

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
            mainQueue = nil
        } else {
            consumerQueue = nil
            mainQueue = rd_kafka_queue_get_main(handle)
        }
    }

    /// Frees the handle. Call exactly once, after every other use; blocks while librdkafka shuts down.
    func destroy() {
        if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
        if let mainQueue { rd_kafka_queue_destroy(mainQueue) }
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
                        rd_kafka_header_add(list, header.name, -1, bytes.baseAddress ?? CRdKafka_empty_bytes(), bytes.count)
                    }
                } else {
                    rd_kafka_header_add(list, header.name, -1, nil, 0)
                }
            }
            headers = list
        }
        let partition = record.partition ?? CRdKafka_partition_unassigned()
        let error: OpaquePointer? = record.value.withUnsafeBytes { value in
            func send(key: UnsafeRawBufferPointer?) -> OpaquePointer? {
                CRdKafka_produce(
                    handle, record.topic, partition,
                    key.map { $0.baseAddress ?? CRdKafka_empty_bytes() }, key?.count ?? 0,
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
        if let mainQueue { rd_kafka_queue_yield(mainQueue) }
    }
}
