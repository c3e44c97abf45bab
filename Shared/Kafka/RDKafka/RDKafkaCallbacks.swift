import CRdKafka
import Logging

// librdkafka's C callbacks. They capture nothing: everything they need comes through the handle's opaque,
// an `RDKafkaEvents` kept alive by `RDKafkaClient` until after `rd_kafka_destroy`.

private func events(from opaque: UnsafeMutableRawPointer?) -> RDKafkaEvents? {
    opaque.map { Unmanaged<RDKafkaEvents>.fromOpaque($0).takeUnretainedValue() }
}

/// librdkafka log lines (syslog levels) → swift-log. Runs on librdkafka's internal threads.
let rdKafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, line in
    guard let handle, let events = events(from: rd_kafka_opaque(handle)) else { return }
    let facility = facility.map { String(cString: $0) } ?? ""
    let line = line.map { String(cString: $0) } ?? ""
    events.logger.log(
        level: RDKafkaLogLevel.level(syslog: level, facility: facility, line: line),
        "\(line)",
        metadata: ["librdkafka.facility": "\(facility)"]
    )
}

/// Maps librdkafka's syslog levels to swift-log levels.
enum RDKafkaLogLevel {
    static func level(syslog: Int32, facility: String, line: String) -> Logger.Level {
        // One KafkaConfiguration serves producers and consumers alike, so "consumer property ignored by this
        // producer" (and vice versa) is expected, not a warning.
        if facility == "CONFWARN", line.contains("will be ignored by this") { return .debug }
        return switch syslog {
        case ...3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }
}

/// Client-level errors (broker down, authentication, fatal idempotence errors). Served by poll calls.
let rdKafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    handle, code, reason, opaque in
    guard let events = events(from: opaque) else { return }
    let error = rd_kafka_resp_err_t(rawValue: code)
    let isFatal = error == RD_KAFKA_RESP_ERR__FATAL
    // Transport hiccups are routine (librdkafka reconnects on its own); fatal errors are not.
    events.logger.log(
        level: isFatal ? .error : .warning,
        "librdkafka error: \(reason.map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(error)))",
        metadata: ["librdkafka.code": "\(code)"]
    )
}

/// Delivery report for one produced message; its `_private` is the id given to `RDKafkaClient.produce`.
let rdKafkaDeliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    _, message, opaque in
    guard let message, let events = events(from: opaque) else { return }
    let id = UInt(bitPattern: message.pointee._private)
    let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        let report = KafkaDeliveryReport(topic: topic, partition: message.pointee.partition, offset: message.pointee.offset)
        events.delivered(id: id, .success(report))
    } else {
        let reason = String(cString: rd_kafka_err2str(message.pointee.err))
        events.delivered(id: id, .failure(.deliveryFailed(topic: topic, reason: reason)))
    }
}

/// Consumer-group rebalance: tells the owner first, then applies the change (eager or cooperative protocol).
let rdKafkaRebalanceCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { handle, code, partitions, opaque in
    guard let handle, let events = events(from: opaque) else { return }
    let cooperative = rd_kafka_rebalance_protocol(handle).map { String(cString: $0) } == "COOPERATIVE"
    let list = partitions.map(RDKafkaClient.topicPartitions(of:)) ?? []
    switch code {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        events.logger.info("Partitions assigned", metadata: ["partitions": "\(list.map(\.description))"])
        let failure: String?
        if cooperative {
            failure = RDKafkaClient.consume(error: rd_kafka_incremental_assign(handle, partitions))
        } else {
            let error = rd_kafka_assign(handle, partitions)
            failure = error == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : String(cString: rd_kafka_err2str(error))
        }
        if let failure { events.logger.error("Applying partition assignment failed: \(failure)") }
        events.rebalanced(.assigned(list))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        events.logger.info("Partitions revoked", metadata: ["partitions": "\(list.map(\.description))"])
        // The owner commits what it processed and drops what it buffered *before* the partitions go.
        events.rebalanced(.revoked(list))
        if cooperative {
            if let failure = RDKafkaClient.consume(error: rd_kafka_incremental_unassign(handle, partitions)) {
                events.logger.error("Releasing revoked partitions failed: \(failure)")
            }
        } else {
            rd_kafka_assign(handle, nil)
        }
    default:
        // librdkafka asks the application to drop its assignment and let the group recover.
        events.logger.error("Rebalance failed: \(String(cString: rd_kafka_err2str(code)))")
        events.rebalanced(.revoked(list))
        rd_kafka_assign(handle, nil)
    }
}

extension TopicPartition: CustomStringConvertible {
    /// `topic[partition]`.
    public var description: String { "\(topic)[\(partition)]" }
}
