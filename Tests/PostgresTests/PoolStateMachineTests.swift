import Testing

@testable import MusterPostgres

@Suite("PoolStateMachine (pure)")
struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<String>

    @Test("opens up to capacity, then queues waiters")
    func capacity() {
        var machine = Machine(capacity: 2)
        guard case .open = machine.acquire(waiter: 1), case .open = machine.acquire(waiter: 2) else {
            Issue.record("expected two opens")
            return
        }
        guard case .wait = machine.acquire(waiter: 3) else {
            Issue.record("third caller must wait")
            return
        }
        #expect(machine.total == 2)
        #expect(machine.waiters == [3])
    }

    @Test("a released connection goes to the first waiter, else becomes idle")
    func handOver() {
        var machine = Machine(capacity: 1)
        _ = machine.acquire(waiter: 1)
        _ = machine.opened("c1")
        _ = machine.acquire(waiter: 2)
        _ = machine.acquire(waiter: 3)
        guard case .resume(waiter: 2, grant: .connection("c1")) = machine.release("c1", reusable: true) else {
            Issue.record("waiter 2 should get c1")
            return
        }
        guard case .resume(waiter: 3, grant: .connection("c1")) = machine.release("c1", reusable: true) else {
            Issue.record("waiter 3 should get c1")
            return
        }
        guard case .none = machine.release("c1", reusable: true) else {
            Issue.record("no one waits")
            return
        }
        #expect(machine.idle == ["c1"])
        guard case .use("c1") = machine.acquire(waiter: 4) else {
            Issue.record("idle connection should be reused")
            return
        }
    }

    @Test("a broken connection's slot lets the next waiter open a new one")
    func brokenRelease() {
        var machine = Machine(capacity: 1)
        _ = machine.acquire(waiter: 1)
        _ = machine.opened("c1")
        _ = machine.acquire(waiter: 2)
        guard case .resume(waiter: 2, grant: .open) = machine.release("c1", reusable: false) else {
            Issue.record("waiter 2 should be told to open")
            return
        }
        #expect(machine.total == 1)
        guard case .none = machine.openFailed() else {
            Issue.record("nothing else waits")
            return
        }
        #expect(machine.total == 0)
    }

    @Test("failed opens pass the slot on; removed waiters are skipped")
    func failures() {
        var machine = Machine(capacity: 1)
        _ = machine.acquire(waiter: 1)
        _ = machine.acquire(waiter: 2)
        _ = machine.acquire(waiter: 3)
        let removed = machine.removeWaiter(2)
        let removedAgain = machine.removeWaiter(2)
        #expect(removed)
        #expect(!removedAgain)
        guard case .resume(waiter: 3, grant: .open) = machine.openFailed() else {
            Issue.record("waiter 3 should open")
            return
        }
    }

    @Test("closing returns idle connections and waiters, and refuses new callers")
    func closing() {
        var machine = Machine(capacity: 2)
        _ = machine.acquire(waiter: 1)
        _ = machine.opened("c1")
        _ = machine.acquire(waiter: 2)
        _ = machine.opened("c2")
        _ = machine.release("c2", reusable: true)
        _ = machine.acquire(waiter: 3)
        _ = machine.acquire(waiter: 4)
        let (idle, waiters) = machine.close()
        #expect(idle.isEmpty)
        #expect(waiters == [4])
        guard case .fail = machine.acquire(waiter: 5), case .close("c1") = machine.release("c1", reusable: true)
        else {
            Issue.record("closed pool must refuse and close")
            return
        }
    }
}
