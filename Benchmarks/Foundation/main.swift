import Foundation
import Logging
import MusterDomain
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import Synchronization

// Foundation benchmark: producer throughput, produce→consume latency (p50/p99)
// through the broker, and outbox throughput (insert → relay → consumed).
// Needs MUSTER_DATABASE_URL and MUSTER_KAFKA_BROKERS (scripts/bench.sh sets them).
//   muster-bench-foundation [messages=5000] [latencySamples=500] [outboxEvents=2000]
// Note: Tansu's in-memory storage slows down as a topic grows (each append
// costs more), so figures against it fall with larger counts; every phase
// uses fresh topics.

let arguments = CommandLine.arguments.dropFirst().compactMap(Int.init)
let messages = arguments.count > 0 ? arguments[0] : 5_000
let latencySamples = arguments.count > 1 ? arguments[1] : 500
let outboxEvents = arguments.count > 2 ? arguments[2] : 2_000

var logger = Logger(label: "bench")
logger.logLevel = .warning
let environment = ProcessInfo.processInfo.environment
guard let brokers = environment["MUSTER_KAFKA_BROKERS"], let databaseURL = environment["MUSTER_DATABASE_URL"] else {
    print("set MUSTER_KAFKA_BROKERS and MUSTER_DATABASE_URL (run through scripts/bench.sh)")
    exit(2)
}
try KafkaLibrary.checkVersion()
let kafka = KafkaConfiguration(
    bootstrapServers: brokers,
    properties: ["session.timeout.ms": "2000", "heartbeat.interval.ms": "500", "linger.ms": "5", "fetch.wait.max.ms": "10"])
let suffix = UUID().uuidString.prefix(8).lowercased()

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
}

func seconds(_ duration: Duration) -> Double {
    duration.seconds
}

/// Consumes `count` records of `topic` in a fresh group, calling `observe` for each.
@MainActor func consume(topic: String, count: Int, observe: @escaping @Sendable (KafkaRecord) -> Void) async throws {
    let consumer = try KafkaConsumer(configuration: kafka, groupID: "bench-\(UUID())", topics: [topic], logger: logger)
    var seen = 0
    for try await record in consumer.records {
        observe(record)
        seen += 1
        if seen >= count { break }
    }
    await consumer.close()
}

// 1. Producer throughput: `messages` records of 512 bytes, all awaited.
let throughputTopic = "bench.throughput.\(suffix)"
try await KafkaAdmin.createTopics([(name: throughputTopic, partitions: 4)], configuration: kafka, timeout: .seconds(10))
let producer = try KafkaProducer(configuration: kafka, logger: logger)
let payload = [UInt8](repeating: 0x61, count: 512)
let clock = ContinuousClock()
let produceStart = clock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    let workers = 64
    for worker in 0..<workers {
        group.addTask {
            for i in stride(from: worker, to: messages, by: workers) {
                _ = try await producer.send(KafkaOutgoingRecord(
                    topic: throughputTopic, key: Array("k\(i % 64)".utf8), value: payload))
            }
        }
    }
    try await group.waitForAll()
}
let produceElapsed = seconds(clock.now - produceStart)
print(String(format: "producer throughput, 64 awaiting senders: %d records of 512 B in %.2f s = %.0f records/s (acks=all, idempotent)",
             messages, produceElapsed, Double(messages) / produceElapsed))
let batchTopic = "bench.batch.\(suffix)"
try await KafkaAdmin.createTopics([(name: batchTopic, partitions: 4)], configuration: kafka, timeout: .seconds(10))
let batchStart = clock.now
for chunk in stride(from: 0, to: messages, by: 1000) {
    let records = (chunk..<min(chunk + 1000, messages)).map { i in
        KafkaOutgoingRecord(topic: batchTopic, key: Array("k\(i % 64)".utf8), value: payload)
    }
    _ = try await producer.sendBatch(records)
}
let batchElapsed = seconds(clock.now - batchStart)
print(String(format: "producer throughput, sendBatch of 1000: %d records of 512 B in %.2f s = %.0f records/s",
             messages, batchElapsed, Double(messages) / batchElapsed))

// 2. Produce→consume latency: one record at a time, consumer already joined.
let latencyTopic = "bench.latency.\(suffix)"
try await KafkaAdmin.createTopics([(name: latencyTopic, partitions: 1)], configuration: kafka, timeout: .seconds(10))
let arrivals = Mutex<[Int: ContinuousClock.Instant]>([:])
let warmup = 20
let consumerTask = Task {
    try await consume(topic: latencyTopic, count: latencySamples + warmup) { record in
        let index = Int(String(decoding: record.value, as: UTF8.self)) ?? -1
        arrivals.withLock { $0[index] = ContinuousClock.now }
    }
}
var sentAt: [Int: ContinuousClock.Instant] = [:]
// Warm up until the consumer has joined and sees records.
for i in 0..<warmup {
    _ = try await producer.send(KafkaOutgoingRecord(topic: latencyTopic, key: nil, value: Array("\(-1 - i)".utf8)))
}
while arrivals.withLock({ $0.count }) == 0 { try await Task.sleep(for: .milliseconds(20)) }
for i in 0..<latencySamples {
    sentAt[i] = clock.now
    _ = try await producer.send(KafkaOutgoingRecord(topic: latencyTopic, key: nil, value: Array("\(i)".utf8)))
    try await Task.sleep(for: .milliseconds(2))
}
try await consumerTask.value
let latencies = arrivals.withLock { arrived in
    (0..<latencySamples).compactMap { i in arrived[i].flatMap { at in sentAt[i].map { seconds(at - $0) * 1000 } } }
}.sorted()
print(String(format: "produce→consume latency over %d records: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
             latencies.count, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? .nan))

// 3. Outbox throughput: events inserted in transactions of 50, relayed, consumed.
let schema = "bench_\(suffix)"
let outboxTopic = "bench.outbox.\(suffix)"
try await KafkaAdmin.createTopics([(name: outboxTopic, partitions: 4)], configuration: kafka, timeout: .seconds(10))
let pool = PostgresPool(configuration: PostgresConfiguration(url: databaseURL, poolSize: 8), logger: logger)
try await Migrator.migrate(schema: schema, migrations: MessagingSchema.migrations(schema: schema), pool: pool, logger: logger)
let relay = OutboxRelay(schema: schema, pool: pool, producer: producer, logger: logger)
let outbox = Outbox(schema: schema)
let consumed = Atomic<Int>(0)
let outboxConsumer = Task {
    try await consume(topic: outboxTopic, count: outboxEvents) { _ in consumed.add(1, ordering: .relaxed) }
}
// Let the consumer join before timing.
try await Task.sleep(for: .seconds(2))
let relayTask = Task { try await relay.run() }
let outboxStart = clock.now
for batch in stride(from: 0, to: outboxEvents, by: 50) {
    let messages = (batch..<min(batch + 50, outboxEvents)).map { i in
        OutboxMessage(topic: outboxTopic, key: "exec-\(i % 100)",
                      event: CloudEvent(source: "/bench", type: "bench.event", data: Array(#"{"i":\#(i)}"#.utf8)))
    }
    try await pool.transaction { try await outbox.enqueue(messages, on: $0) }
    relay.wake()
}
let insertElapsed = seconds(clock.now - outboxStart)
try await outboxConsumer.value
let outboxElapsed = seconds(clock.now - outboxStart)
relayTask.cancel()
_ = try? await relayTask.value
print(String(format: "outbox: %d events inserted in %.2f s; insert→consumed %.2f s = %.0f events/s",
             outboxEvents, insertElapsed, outboxElapsed, Double(outboxEvents) / outboxElapsed))

_ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
await pool.close()
await producer.shutdown(timeout: .seconds(10))
