import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import TestSupport
import Testing

/// Every payload's contract (topic, `ce_type`s, key, subject) against the
/// records the services used to build by hand: the wire did not change when
/// producers started building records through `OutboxMessage(_:source:topics:)`.
@Suite("Event contracts")
struct EventContractTests {
    static let endpoint = Endpoint(accountID: "111122223333", region: "us-east-1")
    static let executionID = ExecutionID.fixture(0x0b5e)
    static let execution = executionID.rawValue
    static let group = LaunchGroupID(executionID: executionID, waveNumber: 2, endpoint: endpoint)
    static let topics = Topics(prefix: "t1.")

    @Test("one contract per ce_type, each on one topic; a prefix only prefixes")
    func typesAreClaimedOnce() {
        var owner: [String: String] = [:]
        for contract in EventContracts.all {
            #expect(!contract.types.isEmpty, "\(contract) names no ce_type")
            for type in contract.types {
                #expect(owner[type] == nil, "\(type) is claimed by \(owner[type] ?? "") and \(contract)")
                owner[type] = "\(contract)"
            }
        }
        // EventType's 23 constants and every ExecutionEventType.
        #expect(owner.count == 23 + ExecutionEventType.allCases.count, "\(owner.keys.sorted())")
        for type in [EventType.launchGroupRequested, EventType.jobPollFinal, EventType.accountUpdated,
                     EventType.calloutCompleted, ExecutionEventType.planReadinessChanged.rawValue,
                     ExecutionEventType.waveStarted.rawValue] {
            #expect(owner[type] != nil, "\(type) has no contract")
        }
        for topic in Topic.allCases {
            #expect(Topics.standard.name(topic) == topic.name)
            #expect(Self.topics[topic] == "t1." + topic.name)
        }
        #expect(Set(EventContracts.all.map { $0.topic }) == Set(Topic.allCases), "every topic carries a contract")
    }

    @Test("a launch request: the endpoint as key, the execution as subject")
    func launchGroupRequested() throws {
        let request = LaunchGroupRequested(
            launchGroup: Self.group, executionType: .drill, planID: .named("p-1"), planName: "plan", waveName: "db",
            team: .named("t"), initiatedBy: "bob", sourceServerIDs: ["s-1"],
            waveStartedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let message = try OutboxMessage(request, source: EventSource.planner, topics: Self.topics)
        #expect(message.topic == "t1.launch.requests.v1")
        #expect(message.key == "111122223333/us-east-1")
        #expect(message.event.type == "launch-group.requested")
        #expect(message.event.subject == Self.execution)
        #expect(message.event.source == "/muster/planner")
        #expect(try message.event.decode(LaunchGroupRequested.self) == request)
    }

    @Test("the instance decides among a contract's types: a final poll, an update of an account")
    func typeFromTheInstanceOrTheCaller() throws {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let poll = JobPoll(endpoint: Self.endpoint, jobIDs: ["drsjob-1"], isFinal: true, requestedAt: at)
        let message = try OutboxMessage(poll, source: EventSource.poller, topics: .standard)
        #expect(message.topic == "job.poll.v1" && message.key == "111122223333/us-east-1")
        #expect(message.event.type == "job.poll.final" && message.event.subject == "111122223333/us-east-1")
        #expect(message.event.time == at, "ce_time is when the poller asked")
        var plain = poll
        plain.isFinal = false
        #expect(try OutboxMessage(plain, source: EventSource.poller, topics: .standard).event.type == "job.poll")

        let account = AccountRegistration(accountID: "111122223333", name: "prod", regions: ["us-east-1"],
                                          credentials: .keyPair(name: "prod"))
        let registered = try OutboxMessage(account, source: EventSource.planner, topics: .standard)
        let updated = try OutboxMessage(account, source: EventSource.planner, topics: .standard,
                                        type: EventType.accountUpdated)
        #expect(registered.event.type == "account.registered" && updated.event.type == "account.updated")
        #expect(registered.topic == "accounts.v1" && updated.key == "111122223333"
                    && updated.event.subject == "111122223333")
    }

    @Test("inventory: key accountId/region/serverId, subject the server; a readiness answer keyed by plan")
    func inventory() throws {
        let server = SourceServerObserved(
            endpoint: Self.endpoint, sourceServerID: "s-1", hostname: "db1", replicationState: "CONTINUOUS",
            lastLaunchResult: nil, tags: [:], recoveryInstanceID: nil, observedAt: Date())
        let message = try OutboxMessage(server, source: EventSource.launcher, topics: .standard)
        #expect(message.topic == "inventory.v1" && message.key == "111122223333/us-east-1/s-1")
        #expect(message.event.type == "source-server.observed" && message.event.subject == "s-1")
        let answer = ReadinessChecked(planID: .named("p-1"), evaluationID: "e-1", accountID: "111122223333", checks: [],
                                      checkedAt: Date())
        let checked = try OutboxMessage(answer, source: EventSource.launcher, topics: .standard)
        let plan = PlanID.named("p-1").rawValue
        #expect(checked.topic == "inventory.v1" && checked.key == plan && checked.event.subject == plan)
        #expect(checked.event.type == "readiness.checked")
    }

    @Test("job.status.v1 events are keyed by their execution; a timeout is stamped when it was declared")
    func jobStatus() throws {
        let at = Date(timeIntervalSince1970: 1_800_000_100)
        let timedOut = JobTimedOut(launchGroup: Self.group, chunk: 0, jobID: "drsjob-1", lastStatus: .started,
                                   timeoutSeconds: 600, timedOutAt: at)
        let message = try OutboxMessage(timedOut, source: EventSource.poller, topics: Self.topics)
        #expect(message.topic == "t1.job.status.v1" && message.key == Self.execution)
        #expect(message.event.subject == Self.execution && message.event.type == "job.timed-out")
        #expect(message.event.time == at)
    }

    @Test("a public execution event: its own type, its time, the execution as key and subject")
    func executionEvent() throws {
        let at = Date(timeIntervalSince1970: 1_800_000_200)
        let event = ExecutionEvent(
            type: .waveStarted, executionID: Self.executionID, executionType: .drill, executionStatus: .running,
            planID: .named("p-1"), planName: "plan", teamID: .named("t-1"), initiatedBy: "bob", occurredAt: at)
        let message = try OutboxMessage(event, source: EventSource.planner, topics: .standard)
        #expect(message.topic == "execution.events.v1" && message.key == Self.execution)
        #expect(message.event.type == "wave.started" && message.event.time == at)
        #expect(message.event.subject == Self.execution)
        #expect(!ExecutionEvent.types.contains(ExecutionEventType.planReadinessChanged.rawValue),
                "plan.readiness-changed has its own body")
    }
}
