import MusterKafka

// Broker-test helpers beyond TestSupport's `TestEnvironment`: bounded waits and taking records.

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `operation`, failing with `TimedOut` after `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ what: String,
                              _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension KafkaConsumer {
    /// The next `count` records (committing none), or `TimedOut`.
    func take(_ count: Int, within limit: Duration = .seconds(20)) async throws -> [KafkaRecord] {
        try await withTimeout(limit, "\(count) records") {
            var result: [KafkaRecord] = []
            for try await record in self.records {
                result.append(record)
                if result.count == count { break }
            }
            return result
        }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
