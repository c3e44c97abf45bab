import Foundation
import MusterKafka
import TestSupport
import Testing

/// A consumer closed while its broker does not answer (issue 11): the close
/// gives up after its timeout, and every offset commit still waiting for the
/// broker then fails instead of waiting forever.
///
/// The broker is a Tansu of the test's own (the shared one serves every other
/// suite in parallel), stopped with SIGSTOP like a hung broker.
@Suite("Consumer close with the broker not answering")
struct ConsumerCloseTests {
    let logger = TestEnvironment.logger

    /// A private Tansu on a port of issue 11's block (18200–18299), stopped and resumed with signals.
    final class PrivateBroker: @unchecked Sendable {
        let process = Process()
        let address: String

        init() throws {
            var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Services").path) {
                directory = directory.deletingLastPathComponent()
            }
            let binary = directory.appendingPathComponent(".local/tansu")
            try #require(FileManager.default.isExecutableFile(atPath: binary.path), "run scripts/setup.sh: no .local/tansu")
            address = "127.0.0.1:\(Int.random(in: 18200...18299))"
            process.executableURL = binary
            process.arguments = ["broker", "--listener-url", "tcp://\(address)", "--advertised-listener-url", "tcp://\(address)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        var configuration: KafkaConfiguration {
            // Tansu's group timings (the shared broker may be noida, whose settings differ).
            KafkaConfiguration(bootstrapServers: address, properties: KafkaConfiguration.fastGroupProperties.merging(
                ["fetch.wait.max.ms": "10", "topic.metadata.refresh.interval.ms": "1000"]) { _, new in new })
        }

        /// Stops the broker and returns once the kernel reports every thread of it stopped ('T' in
        /// /proc/<pid>/stat), so no request sent afterwards can be answered (on a loaded machine the
        /// stop of a many-threaded process is not instant).
        func stop() async throws {
            kill(process.processIdentifier, SIGSTOP)
            let tasks = "/proc/\(process.processIdentifier)/task"
            func allStopped() -> Bool {
                let threads = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
                return !threads.isEmpty && threads.allSatisfy { thread in
                    guard let stat = try? String(contentsOfFile: "\(tasks)/\(thread)/stat", encoding: .utf8),
                          let close = stat.lastIndex(of: ")") else { return false }
                    return stat[stat.index(close, offsetBy: 2)] == "T"
                }
            }
            for _ in 0..<200 where !allStopped() { try await Task.sleep(for: .milliseconds(10)) }
            try #require(allStopped(), "the private broker is stopped")
        }

        deinit {
            // Tansu does not stop on SIGTERM (it drains its connections first): kill it.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test("commits waiting for a broker that stopped answering fail when the close times out; later ones are refused")
    func closeTimeoutFailsWaitingCommits() async throws {
        let broker = try PrivateBroker()
        let configuration = broker.configuration
        let topic = TestEnvironment.uniqueName("close")
        // The broker needs a moment to listen: retry the topic creation until it answers (bounded by count).
        var created = false
        for _ in 0..<50 where !created {
            created = (try? await KafkaAdmin.createTopics([(topic, 1)], configuration: configuration, timeout: .seconds(2))) != nil
            if !created { try await Task.sleep(for: .milliseconds(200)) }
        }
        try #require(created, "the private broker answers")
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        for index in 0..<2 {
            _ = try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: "\(index)".bytes, partition: 0))
        }
        await producer.shutdown(timeout: .seconds(5))

        let consumer = try KafkaConsumer(
            configuration: configuration, groupID: TestEnvironment.uniqueName("g"), topics: [topic], logger: logger)
        let records = try await consumer.take(2, within: .seconds(60))

        try await broker.stop()
        // Both commits wait for the coordinator, which no longer answers (one performed, one queued behind it).
        let commits = records.map { record in
            Task { () -> (any Error)? in
                do { try await consumer.commit(record); return nil } catch { return error }
            }
        }
        // Let the poll thread take the commits into librdkafka (it blocks there) before closing.
        try await Task.sleep(for: .milliseconds(500))
        await consumer.close(timeout: .seconds(1))

        // Without the fix these never return: bounded so the failure is a failure, not a hung run.
        for commit in commits {
            let error = try await withTimeout(.seconds(60), "a commit waiter to be failed") { await commit.value }
            #expect((error as? KafkaError).map { "\($0)" } == "\(KafkaError.consumerClosed)", "\(String(describing: error))")
        }
        await #expect(throws: KafkaError.self) { try await consumer.commit(records[0]) }
    }
}
