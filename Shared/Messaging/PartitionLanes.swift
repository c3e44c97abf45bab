import MusterKafka
import Synchronization

/// The per-partition queues of one consumer (DESIGN §12: progress is per
/// partition). Each partition's records are handled in order by its own
/// worker, so a record retried on one partition never holds up the others.
/// A lane holding `capacity` records asks for its partition to be paused
/// and, once drained to half, resumed: memory stays bounded while the
/// other partitions keep flowing.
///
/// The state is a plain struct whose methods return what to do; the
/// consumer performs it (start a worker, pause, resume).
struct LaneTable {
    struct Key: Hashable, Sendable {
        var topic: String
        var partition: Int32
    }

    private struct Lane {
        var queue: [KafkaRecord] = []
        var head = 0
        var working = false
        var paused = false
        var count: Int { queue.count - head }
    }

    /// What the caller must do after `enqueue`.
    struct EnqueueAction: Equatable {
        /// Start a worker for this lane (none runs).
        var startWorker: Bool
        /// Pause the partition (the lane reached its capacity).
        var pause: Bool
    }

    /// What a worker gets from `take`.
    enum TakeAction: Equatable {
        /// Handle this record; `resume` asks to resume the paused partition first.
        case handle(KafkaRecord, resume: Bool)
        /// The lane is empty (or stopping): the worker ends.
        case done
    }

    let capacity: Int
    private var lanes: [Key: Lane] = [:]
    private(set) var stopping = false

    init(capacity: Int) {
        precondition(capacity >= 2, "a lane holds at least two records")
        self.capacity = capacity
    }

    mutating func enqueue(_ record: KafkaRecord) -> EnqueueAction {
        let key = Key(topic: record.topic, partition: record.partition)
        var lane = lanes[key, default: Lane()]
        lane.queue.append(record)
        let start = !lane.working && !stopping
        if start { lane.working = true }
        let pause = !lane.paused && lane.count >= capacity
        if pause { lane.paused = true }
        lanes[key] = lane
        return EnqueueAction(startWorker: start, pause: pause)
    }

    mutating func take(_ key: Key) -> TakeAction {
        guard var lane = lanes[key] else { return .done }
        guard !stopping, lane.count > 0 else {
            lane.working = false
            lane.queue = []
            lane.head = 0
            lanes[key] = lane
            return .done
        }
        let record = lane.queue[lane.head]
        lane.head += 1
        if lane.head > 64 && lane.head * 2 > lane.queue.count {
            lane.queue.removeFirst(lane.head)
            lane.head = 0
        }
        let resume = lane.paused && lane.count <= capacity / 2
        if resume { lane.paused = false }
        lanes[key] = lane
        return .handle(record, resume: resume)
    }

    /// The partitions were taken away: their queued records belong to the
    /// next owner (which re-reads them from the committed offset), and the
    /// pause went with the assignment.
    mutating func revoke(_ keys: some Sequence<Key>) {
        for key in keys {
            guard var lane = lanes[key] else { continue }
            lane.queue = []
            lane.head = 0
            lane.paused = false
            lanes[key] = lane
        }
    }

    /// Records queued in `key`'s lane (not counting the one in hand).
    func backlog(_ key: Key) -> Int { lanes[key]?.count ?? 0 }

    /// Shutdown began: workers finish the record in hand and stop; queued
    /// records stay uncommitted and are delivered again later.
    mutating func stop() { stopping = true }
}
