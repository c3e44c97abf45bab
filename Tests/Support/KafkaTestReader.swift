import Foundation
import MusterKafka
import Synchronization

/// Reads a topic from the beginning in a fresh consumer group, for tests
/// that check what a component published.
public enum KafkaTestReader {
    /// Collects records from `topic` until at least `count` arrived, then for
    /// `window` longer (to prove nothing more comes), or until `timeout`.
    public static func collect(
        topic: String, count: Int, thenWait window: Duration = .zero, timeout: Duration = TestEnvironment.patience
    ) async throws -> [KafkaRecord] {
        let consumer = try KafkaConsumer(
            configuration: try TestEnvironment.kafka(), groupID: TestEnvironment.uniqueName("reader"),
            topics: [topic], logger: TestEnvironment.logger)
        let collected = Locked<[KafkaRecord]>([])
        let reader = Task {
            for try await record in consumer.records {
                collected.withLock { $0.append(record) }
            }
        }
        _ = await eventually(timeout: timeout) { collected.withLock { $0.count } >= count }
        if window > .zero { try? await Task.sleep(for: window) }
        reader.cancel()
        await consumer.close()
        _ = try? await reader.value
        return collected.withLock { $0 }
    }
}

/// Reads a topic from the beginning in a fresh consumer group for as long as
/// it runs, for tests that wait (bounded, by polling) for what a component
/// published while it keeps publishing.
public final class KafkaTopicWatch: Sendable {
    private let consumer: KafkaConsumer
    private let collected: Locked<[KafkaRecord]>
    private let reader: Task<Void, Never>

    /// Starts reading `topic`.
    public init(topic: String) throws {
        let consumer = try KafkaConsumer(
            configuration: try TestEnvironment.kafka(), groupID: TestEnvironment.uniqueName("watch"),
            topics: [topic], logger: TestEnvironment.logger)
        let collected = Locked<[KafkaRecord]>([])
        self.consumer = consumer
        self.collected = collected
        reader = Task {
            do {
                for try await record in consumer.records { collected.withLock { $0.append(record) } }
            } catch {}
        }
    }

    /// Everything read so far.
    public var records: [KafkaRecord] { collected.withLock { $0 } }

    /// Stops reading.
    public func stop() async {
        reader.cancel()
        await consumer.close()
        _ = await reader.value
    }
}
