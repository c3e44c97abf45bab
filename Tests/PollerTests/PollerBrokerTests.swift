import Foundation
import Logging
import MusterDomain
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
@testable import PollerApp
import ServiceLifecycle
import TestSupport
import Testing

/// The whole poller (status consumer, scheduler, outbox relay) through the
/// real broker and PostgreSQL: records in on the status topic, polls and
/// timeouts out on the poll and status topics.
@Suite("Poller through the broker")
struct PollerBrokerTests {
    struct Running {
        let fixture: PollerFixture
        /// The test's own producer, publishing what the launcher would.
        let producer: KafkaProducer
        /// The poller as its process runs (status consumer, scheduler, relay, HTTP), on the fixture's schema.
        let service: ServiceUnderTest<PollerService>
        let handled: Locked<[String]>
        /// The status consumer, for replaying what it parked.
        var consumers: [EventConsumer] { service.consumers }

        func publish(
            _ type: String, _ payload: some Encodable, key: String = "exec-1", id: UUID = UUID(), time: Date = Date()
        ) async throws {
            let event = try CloudEvent(id: id, source: EventSource.launcher, type: type, time: time, payload: payload)
            _ = try await producer.send(event.kafkaRecord(topic: fixture.configuration.topics.jobStatus, key: key))
        }

        func stop() async {
            await service.stop()
            await producer.shutdown(timeout: .seconds(5))
            await fixture.tearDown()
        }
    }

    /// `groupPrefix` puts the poller's consumer in a given group (default: one of its own);
    /// `keepConsumer: false` leaves it out of the running services.
    func start(logger: Logger = TestEnvironment.logger, groupPrefix: String? = nil, keepConsumer: Bool = true,
               configure: (inout PollerConfiguration) -> Void = { _ in }) async throws -> Running
    {
        let fixture = try await PollerFixture(configure: configure)
        let configuration = fixture.configuration
        try await KafkaAdmin.createTopics(
            [(name: configuration.topics.jobStatus, partitions: 3), (name: configuration.topics.jobPoll, partitions: 3)],
            configuration: try TestEnvironment.kafka(), timeout: .seconds(10))
        let producer = try KafkaProducer(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        var consumerConfiguration = EventConsumer.Configuration()
        consumerConfiguration.retry = Backoff(base: .milliseconds(10), cap: .milliseconds(100))
        let handled = Locked<[String]>([])
        let service = try await ServiceUnderTest.start(
            PollerService.self, schema: fixture.schema, configuration: configuration, groupPrefix: groupPrefix,
            eventConsumer: consumerConfiguration, logger: logger,
            running: { parts in keepConsumer ? parts : parts.filter { !($0 is EventConsumer) } },
            onOutcome: { outcome, event in
                if outcome == .handled, let event { handled.withLock { $0.append(event.type) } }
            })
        return Running(fixture: fixture, producer: producer, service: service, handled: handled)
    }

    /// Issue 18: the poller's one consumer-group member (it has one topic) consumes `job.status`
    /// under its consumer name, like the other services' single members consume all of theirs.
    @Test("one member consumes job.status under poller.status")
    func oneMemberEveryTopic() async throws {
        let poller = try await start()
        try await SingleMemberProbe(pool: poller.fixture.pool, schema: poller.fixture.schema, producer: poller.producer)
            .expectOneMember(poller.consumers, routes: [(poller.fixture.configuration.topics.jobStatus, "poller.status")])
        await poller.stop()
    }

    /// `ServiceUnderTest` (every harness builds its service through it): a consumer that `running:`
    /// leaves out is closed at once, so it holds no partition of its group — the planner's test app
    /// leaves its consumers out, and one left holding partitions would starve a consumer that runs.
    @Test("a consumer left out by ServiceUnderTest holds no partition: a second instance in the group gets every record")
    func leftOutConsumerHoldsNoPartition() async throws {
        let group = TestEnvironment.uniqueName("group")
        let idle = try await start(groupPrefix: group, keepConsumer: false)
        #expect(idle.consumers.isEmpty && idle.service.parts.count == 2, "built both parts, runs only the scheduler")
        let seen = Locked<Set<UUID>>([])
        let working = try await ServiceUnderTest.start(
            PollerService.self, schema: idle.fixture.schema, configuration: idle.fixture.configuration,
            groupPrefix: group, onOutcome: { _, event in if let event { seen.withLock { _ = $0.insert(event.id) } } })
        var sent: Set<UUID> = []
        for partition in Int32(0)..<3 {
            // Not one of the poller's events: skipped, recorded in the inbox, reported as handled.
            let event = try CloudEvent(source: EventSource.launcher, type: EventType.jobQueued, payload: ["probe": Int(partition)])
            var record = event.kafkaRecord(topic: idle.fixture.configuration.topics.jobStatus, key: "probe")
            record.partition = partition
            _ = try await idle.producer.send(record)
            sent.insert(event.id)
        }
        // Session 8 saw this fail in full runs: the left-out consumer had subscribed at construction and
        // was closed with its JoinGroup pending, so Tansu kept it in the group as a member that never
        // answered. A consumer now subscribes when first read (ConsumerGroupTests.closedBeforeReadNeverJoins).
        #expect(await eventually { seen.value.isSuperset(of: sent) },
                "the records of every partition were consumed by the instance that runs its consumer")
        await working.stop()
        await idle.stop()
    }

    /// Issue 18 (idle means idle): with no live job the scheduler sleeps its idle interval (here
    /// far longer than the test), so only the wake-up of a handled `job.created` can get the job polled.
    @Test("an idle scheduler is woken by job.created: the first poll does not wait for the idle interval")
    func jobCreatedWakesAnIdleScheduler() async throws {
        let poller = try await start { $0.idleInterval = .seconds(600); $0.tickInterval = .seconds(600) }
        let job = PollerFixture.created(job: "drsjob-wake")
        // The scheduler's first tick found nothing live and went to sleep for 600 s.
        try await Task.sleep(for: .milliseconds(500))
        try await poller.publish(EventType.jobCreated, job)
        let polls = try await KafkaTestReader.collect(topic: poller.fixture.configuration.topics.jobPoll, count: 1)
        // The first poll is the one the wake-up sent; a second may follow one pending interval later
        // (300 ms here) and arrive in the same fetch.
        let polled = try polls.map { try CloudEvent(record: $0).decode(JobPoll.self).jobIDs }
        #expect(polled.first == ["drsjob-wake"], "polled \(polled)")
        await poller.stop()
    }

    @Test func createdJobsArePolledUntilObservedCompleted() async throws {
        let poller = try await start()
        let job = PollerFixture.created(job: "drsjob-a1")
        let otherAccount = PollerFixture.created(job: "drsjob-b1", execution: "exec-2", account: "999988887777")
        let createdID = UUID()
        try await poller.publish(EventType.jobCreated, job, id: createdID)
        try await poller.publish(EventType.jobCreated, job, id: createdID)  // redelivery: deduplicated
        try await poller.publish(EventType.jobCreated, otherAccount, key: "exec-2")
        let pollTopic = poller.fixture.configuration.topics.jobPoll

        let first = try await KafkaTestReader.collect(topic: pollTopic, count: 4)
        let polls = try first.map { try CloudEvent(record: $0) }
        #expect(polls.allSatisfy { $0.type == EventType.jobPoll && $0.source == EventSource.poller })
        for record in first {
            let poll = try CloudEvent(record: record).decode(JobPoll.self)
            #expect(record.key == Array(poll.endpoint.key.utf8), "keyed by endpoint")
            #expect(poll.jobIDs == [poll.endpoint.accountID == "999988887777" ? "drsjob-b1" : "drsjob-a1"])
        }

        try await poller.publish(EventType.jobObserved, PollerFixture.observed(job, .completed))
        #expect(await eventually { poller.handled.value.contains(EventType.jobObserved) })
        #expect(poller.handled.value.filter { $0 == EventType.jobCreated }.count == 2, "the duplicate was skipped")
        let completedAt = Date()
        // Watched until the other job has been polled three more times (a group join can take
        // seconds on a loaded machine, so no fixed window): by then drsjob-a1 would have been
        // due several times over had COMPLETED not ended its polling.
        let watch = try KafkaTopicWatch(topic: pollTopic)
        func later() throws -> [JobPoll] {
            try watch.records.map { try CloudEvent(record: $0).decode(JobPoll.self) }
                .filter { $0.requestedAt > completedAt.addingTimeInterval(0.05) }
        }
        #expect(try await eventually {
            try later().filter { $0.jobIDs == ["drsjob-b1"] }.count >= 3
        }, "the other job is still polled")
        #expect(try !later().contains { $0.jobIDs.contains("drsjob-a1") }, "never polled after COMPLETED")
        await watch.stop()
        await poller.stop()
    }

    @Test func aJobsDRSClockIsAnchoredWhenTheLauncherAnnouncedIt() async throws {
        let poller = try await start()
        let announced = Date().addingTimeInterval(-20)  // job.created waited 20 s (a poller outage, a slow relay)
        try await poller.publish(EventType.jobCreated, PollerFixture.created(job: "drsjob-late"), time: announced)
        try await poller.publish(EventType.jobCreated, PollerFixture.created(job: "drsjob-ahead", execution: "exec-2"),
                                 key: "exec-2", time: Date().addingTimeInterval(3600))  // a launcher clock ahead
        #expect(await eventually { poller.handled.value.filter { $0 == EventType.jobCreated }.count == 2 })
        let rows = try await poller.fixture.pool.query(
            "SELECT job_id, tracked_at, clock_timestamp() AS now FROM \(poller.fixture.schema).jobs").rows
        var anchors: [String: (tracked: Date, now: Date)] = [:]
        for row in rows {
            anchors[try row.decode(String.self, "job_id")] = (try row.decode(Date.self, "tracked_at"), try row.decode(Date.self, "now"))
        }
        #expect(abs((anchors["drsjob-late"]?.tracked.timeIntervalSince(announced)) ?? 99) < 0.001, "the event's time")
        if let ahead = anchors["drsjob-ahead"] {
            #expect(ahead.tracked <= ahead.now, "never later than the moment it was tracked")
        } else {
            Issue.record("drsjob-ahead not tracked")
        }
        await poller.stop()
    }

    @Test func aTimeoutAsksForTheFinalLookThenPublishesTimedOutOnce() async throws {
        let poller = try await start { $0.timeout = TimeoutPolicy(finalAnswerGrace: .seconds(30), maxFinalPolls: 2) }
        let job = PollerFixture.created(job: "drsjob-slow", execution: "exec-9", waveStartedAt: Date() - 120,
                                        timeoutSeconds: 60)
        try await poller.publish(EventType.jobCreated, job, key: "exec-9")
        let final = try await KafkaTestReader.collect(topic: poller.fixture.configuration.topics.jobPoll, count: 1)
        #expect(try final.map { try CloudEvent(record: $0).type } == [EventType.jobPollFinal])
        #expect(try CloudEvent(record: final[0]).decode(JobPoll.self).isFinal)

        // The launcher's answer: still STARTED. Delivered twice with different ids.
        try await poller.publish(EventType.jobObserved, PollerFixture.observed(job, .started, isFinal: true), key: "exec-9")
        try await poller.publish(EventType.jobObserved, PollerFixture.observed(job, .started, isFinal: true), key: "exec-9")
        let status = try await KafkaTestReader.collect(
            topic: poller.fixture.configuration.topics.jobStatus, count: 4, thenWait: .milliseconds(500))
        let timedOut = status.filter { $0.header("ce_type") == EventType.jobTimedOut }
        #expect(timedOut.count == 1)
        #expect(timedOut.first?.key == Array(ExecutionID.named("exec-9").rawValue.utf8))
        let payload = try CloudEvent(record: timedOut[0]).decode(JobTimedOut.self)
        #expect(payload.jobID == "drsjob-slow" && payload.lastStatus == .started && payload.timeoutSeconds == 60)
        #expect(payload.launchGroup == job.launchGroup)
        await poller.stop()
    }
}
