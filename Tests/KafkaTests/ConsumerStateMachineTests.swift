@testable import MusterKafka
import Testing

@Suite("Consumer demand state machine (pure)")
struct ConsumerStateMachineTests {
    typealias Machine = ConsumerStateMachine<String>

    func record(_ offset: Int64, partition: Int32 = 0) -> KafkaRecord {
        KafkaRecord(topic: "t", partition: partition, offset: offset, key: nil, value: [], headers: [])
    }

    @Test("polls only while someone waits; records go to waiters in arrival order")
    func demandDriven() {
        var machine = Machine()
        #expect(!machine.wantsRecord)
        guard case .wait = machine.next(id: 1, waiter: "a") else { Issue.record("expected wait"); return }
        guard case .wait = machine.next(id: 2, waiter: "b") else { Issue.record("expected wait"); return }
        #expect(machine.wantsRecord)
        #expect(machine.received(record(0)) == "a")
        #expect(machine.received(record(1)) == "b")
        #expect(!machine.wantsRecord)
    }

    @Test("a record polled for a cancelled waiter is held, stops polling, and goes to the next caller")
    func cancelledWaiterHoldsRecord() {
        var machine = Machine()
        _ = machine.next(id: 1, waiter: "a")
        #expect(machine.cancel(id: 1) == "a")
        #expect(machine.received(record(7)) == nil)
        #expect(machine.heldRecord == record(7))
        #expect(!machine.wantsRecord)
        guard case let .deliver(delivered) = machine.next(id: 2, waiter: "b") else {
            Issue.record("expected the held record"); return
        }
        #expect(delivered == record(7))
        #expect(machine.heldRecord == nil)
    }

    @Test("cancellation that races ahead of registration finishes that call")
    func earlyCancel() {
        var machine = Machine()
        #expect(machine.cancel(id: 5) == nil)
        guard case .finish = machine.next(id: 5, waiter: "x") else { Issue.record("expected finish"); return }
        #expect(!machine.wantsRecord)
        // A late cancellation of a call that already returned is forgotten, not applied to the id later.
        #expect(machine.cancel(id: 6) == nil)
        machine.forget(id: 6)
        guard case .wait = machine.next(id: 6, waiter: "y") else { Issue.record("expected wait"); return }
    }

    @Test("revoking a held record's partition drops it; other partitions keep theirs")
    func revokeDropsHeld() {
        var machine = Machine()
        _ = machine.received(record(3, partition: 1))
        machine.revoked([TopicPartition(topic: "t", partition: 0)])
        #expect(machine.heldRecord == record(3, partition: 1))
        machine.revoked([TopicPartition(topic: "t", partition: 1)])
        #expect(machine.heldRecord == nil)
    }

    @Test("close finishes waiters, drops the held record, and ends later calls")
    func close() {
        var machine = Machine()
        _ = machine.next(id: 1, waiter: "a")
        #expect(machine.close() == ["a"])
        #expect(!machine.wantsRecord)
        guard case .finish = machine.next(id: 2, waiter: "b") else { Issue.record("expected finish"); return }
        var holding = Machine()
        _ = holding.received(record(1))
        _ = holding.close()
        #expect(holding.heldRecord == nil)
    }

    @Test("a fatal error fails waiters and later calls")
    func failure() {
        var machine = Machine()
        _ = machine.next(id: 1, waiter: "a")
        #expect(machine.failed(.consumerFailed(reason: "boom")) == ["a"])
        guard case .fail = machine.next(id: 2, waiter: "b") else { Issue.record("expected fail"); return }
        #expect(!machine.wantsRecord)
    }
}
