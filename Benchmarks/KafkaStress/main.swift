// muster-stress-kafka: hammers KafkaProducer.sendBatch the way the outbox
// relay does (500-record batches with CloudEvent-like headers), from many
// concurrent tasks, while the broker is paused and resumed (SIGSTOP/SIGCONT),
// records time out, producers are shut down with deliveries in flight and
// dropped without shutdown. Meant to be built with sanitizers:
//   swift build --sanitize=address --build-path .build-asan --product muster-stress-kafka
// Needs MUSTER_KAFKA_BROKERS (a loopback broker: scripts/infra.sh start).
// Settings (environment): STRESS_SECONDS (60), STRESS_TASKS (8),
// STRESS_BATCH (500), STRESS_BROKER_PID (pause/resume that process; default:
// none), STRESS_TIMEOUT_MS (message.timeout.ms, 3000).
import Foundation
import Logging
import MusterKafka
import Synchronization

let environment = ProcessInfo.processInfo.environment
guard let brokers = environment["MUSTER_KAFKA_BROKERS"], brokers.hasPrefix("127.0.0.1:") else {
    print("muster-stress-kafka: set MUSTER_KAFKA_BROKERS to a loopback broker (eval \"$(scripts/infra.sh start)\")")
    exit(2)
}
let seconds = Int(environment["STRESS_SECONDS"] ?? "") ?? 60
let taskCount = Int(environment["STRESS_TASKS"] ?? "") ?? 8
let batchSize = Int(environment["STRESS_BATCH"] ?? "") ?? 500
let brokerPID = environment["STRESS_BROKER_PID"].flatMap { Int32($0) }
let timeoutMS = environment["STRESS_TIMEOUT_MS"] ?? "3000"
let logger: Logger = {
    var logger = Logger(label: "stress")
    logger.logLevel = .critical
    return logger
}()

let topics = (0..<4).map { "stress.\(UUID().uuidString.prefix(8).lowercased()).\($0)" }
let configuration = KafkaConfiguration(bootstrapServers: brokers, properties: [
    "message.timeout.ms": timeoutMS, "socket.timeout.ms": "2000", "linger.ms": "5",
])
try await KafkaAdmin.createTopics(topics.map { ($0, 12) }, configuration: configuration, timeout: .seconds(30))

final class Tally: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func add(_ key: String, _ n: Int = 1) { counts.withLock { $0[key, default: 0] += n } }
    var summary: String { counts.withLock { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") } }
}
let tally = Tally()

func records(_ batch: Int) -> [KafkaOutgoingRecord] {
    (0..<batchSize).map { index in
        let key = "111122223333/region-\(index % 20)"
        let value = Array(repeating: UInt8(ascii: "x"), count: 200 + (index % 7) * 150)
        let headers = [
            KafkaHeader(name: "ce_id", string: UUID().uuidString), KafkaHeader(name: "ce_type", string: "muster.job.observed.v1"),
            KafkaHeader(name: "ce_source", string: "/launcher"), KafkaHeader(name: "ce_specversion", string: "1.0"),
            KafkaHeader(name: "ce_time", string: "2026-01-01T00:00:00Z"), KafkaHeader(name: "ce_subject", string: "b\(batch)-\(index)"),
            KafkaHeader(name: "content-type", string: "application/json"),
        ]
        return KafkaOutgoingRecord(topic: topics[index % topics.count], key: Array(key.utf8), value: value, headers: headers)
    }
}

/// One round: a producer, `taskCount` tasks sending batches until `until`, then a shutdown (short timeout,
/// deliveries may still be in flight) or a plain drop.
func round(_ number: Int, until: ContinuousClock.Instant) async {
    let producer: KafkaProducer
    do { producer = try KafkaProducer(configuration: configuration, logger: logger) } catch {
        tally.add("producerFailed"); return
    }
    await withTaskGroup(of: Void.self) { group in
        for task in 0..<taskCount {
            group.addTask {
                var batch = 0
                while ContinuousClock.now < until {
                    batch += 1
                    do {
                        let reports = try await producer.sendBatch(records(number * 1000 + task * 100 + batch))
                        tally.add("delivered", reports.count)
                    } catch {
                        tally.add("batchFailed")
                    }
                }
            }
        }
        // Cancel some senders mid-batch.
        group.addTask {
            try? await Task.sleep(for: .milliseconds(Int.random(in: 100...1500)))
            let inner = Task { _ = try? await producer.sendBatch(records(-1)) }
            try? await Task.sleep(for: .milliseconds(Int.random(in: 1...50)))
            inner.cancel()
            _ = await inner.value
        }
        await group.waitForAll()
    }
    switch number % 3 {
    case 0: await producer.shutdown(timeout: .milliseconds(Int.random(in: 0...200)))
    case 1:
        // Shutdown while another batch is being enqueued and delivered.
        let late = Task { _ = try? await producer.sendBatch(records(-2)) }
        try? await Task.sleep(for: .milliseconds(Int.random(in: 0...20)))
        await producer.shutdown(timeout: .milliseconds(Int.random(in: 0...100)))
        _ = await late.value
    default: break  // dropped: deinit requests the shutdown
    }
    tally.add("rounds")
}

let pauser = Task {
    guard let brokerPID else { return }
    while !Task.isCancelled {
        try? await Task.sleep(for: .milliseconds(Int.random(in: 500...3000)))
        kill(brokerPID, SIGSTOP)
        tally.add("pauses")
        try? await Task.sleep(for: .milliseconds(Int.random(in: 200...5000)))
        kill(brokerPID, SIGCONT)
    }
}

let end = ContinuousClock.now + .seconds(seconds)
var number = 0
while ContinuousClock.now < end {
    number += 1
    let roundEnd = min(end, ContinuousClock.now + .milliseconds(Int.random(in: 500...4000)))
    await round(number, until: roundEnd)
    print("round \(number): \(tally.summary)")
}
pauser.cancel()
_ = await pauser.value
if let brokerPID { kill(brokerPID, SIGCONT) }
print("muster-stress-kafka finished: \(tally.summary)")
