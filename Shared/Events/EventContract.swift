import Foundation

/// What an event payload promises on the wire: the topic it travels on, the
/// `ce_type`s it travels under, its partition key and its `ce_subject`.
/// Producers build records through it (`OutboxMessage(_:source:topics:)`),
/// consumers dispatch on it (`EventHandlers.register`), and ContractTests
/// hold every conformance against ``EventType`` and docs/events/asyncapi.json;
/// so a topic, type or key is written once, here, not at each call site.
public protocol EventContract: Codable, Sendable {
    /// The topic this payload travels on.
    static var topic: Topic { get }
    /// Every `ce_type` this payload travels under; the first is the default.
    static var types: [String] { get }
    /// This event's `ce_type` (one of ``types``; by default the first).
    var eventType: String { get }
    /// The partition key (DESIGN §3: it gives the ordering that matters).
    var key: String { get }
    /// `ce_subject`: what the event is about.
    var eventSubject: String? { get }
    /// `ce_time`, when the payload says when it happened; nil: when it is built.
    var eventTime: Date? { get }
}

extension EventContract {
    /// The first of ``types``.
    public var eventType: String { Self.types[0] }
    /// No time of its own: the event is stamped when it is built.
    public var eventTime: Date? { nil }

    /// This payload as a CloudEvent from `source`, of ``eventType`` unless
    /// `type` (one of ``types``) says otherwise.
    public func cloudEvent(source: String, type: String? = nil, id: UUID = UUID()) throws -> CloudEvent {
        let type = type ?? eventType
        precondition(Self.types.contains(type), "\(type) is not a ce_type of \(Self.self)")
        return try CloudEvent(id: id, source: source, type: type, time: eventTime ?? Date(), subject: eventSubject,
                              payload: self)
    }
}

// MARK: launch.requests.v1, instances.terminate.v1, hook.requests.v1, job.poll.v1 (key: accountId/region)

extension LaunchGroupRequested: EventContract {
    /// `launch.requests.v1`.
    public static var topic: Topic { .launchRequests }
    /// `launch-group.requested`.
    public static var types: [String] { [EventType.launchGroupRequested] }
    /// The endpoint (`accountId/region`).
    public var key: String { launchGroup.endpoint.key }
    /// The execution.
    public var eventSubject: String? { launchGroup.executionID.rawValue }
}

extension InstancesTerminate: EventContract {
    /// `instances.terminate.v1`.
    public static var topic: Topic { .instancesTerminate }
    /// `instances.terminate`.
    public static var types: [String] { [EventType.instancesTerminate] }
    /// The endpoint (`accountId/region`).
    public var key: String { endpoint.key }
    /// The execution.
    public var eventSubject: String? { executionID.rawValue }
}

extension SSMAutomationRequested: EventContract {
    /// `hook.requests.v1`.
    public static var topic: Topic { .hookRequests }
    /// `ssm.automation-requested`.
    public static var types: [String] { [EventType.ssmAutomationRequested] }
    /// The endpoint (`accountId/region`).
    public var key: String { endpoint.key }
    /// The execution.
    public var eventSubject: String? { executionID.rawValue }
}

extension SSMAutomationStopRequested: EventContract {
    /// `hook.requests.v1`.
    public static var topic: Topic { .hookRequests }
    /// `ssm.automation-stop-requested`.
    public static var types: [String] { [EventType.ssmAutomationStopRequested] }
    /// The endpoint (`accountId/region`).
    public var key: String { endpoint.key }
    /// The execution.
    public var eventSubject: String? { executionID.rawValue }
}

extension JobPoll: EventContract {
    /// `job.poll.v1`.
    public static var topic: Topic { .jobPoll }
    /// `job.poll`, and `job.poll.final` for the last look before a timeout.
    public static var types: [String] { [EventType.jobPoll, EventType.jobPollFinal] }
    /// `job.poll.final` when ``isFinal``.
    public var eventType: String { isFinal ? EventType.jobPollFinal : EventType.jobPoll }
    /// The endpoint (`accountId/region`).
    public var key: String { endpoint.key }
    /// The endpoint.
    public var eventSubject: String? { endpoint.key }
    /// When the poller asked.
    public var eventTime: Date? { requestedAt }
}

// MARK: job.status.v1 (key: execution id)

extension JobQueued: EventContract {
    /// `job.status.v1`.
    public static var topic: Topic { .jobStatus }
    /// `job.queued`.
    public static var types: [String] { [EventType.jobQueued] }
    /// The execution.
    public var key: String { launchGroup.executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { launchGroup.executionID.rawValue }
}

extension JobCreated: EventContract {
    /// `job.status.v1`.
    public static var topic: Topic { .jobStatus }
    /// `job.created`.
    public static var types: [String] { [EventType.jobCreated] }
    /// The execution.
    public var key: String { launchGroup.executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { launchGroup.executionID.rawValue }
}

extension JobLaunchFailed: EventContract {
    /// `job.status.v1`.
    public static var topic: Topic { .jobStatus }
    /// `job.launch-failed`.
    public static var types: [String] { [EventType.jobLaunchFailed] }
    /// The execution.
    public var key: String { launchGroup.executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { launchGroup.executionID.rawValue }
}

extension JobObserved: EventContract {
    /// `job.status.v1`.
    public static var topic: Topic { .jobStatus }
    /// `job.observed`.
    public static var types: [String] { [EventType.jobObserved] }
    /// The execution.
    public var key: String { launchGroup.executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { launchGroup.executionID.rawValue }
}

extension JobDuplicateDetected: EventContract {
    /// `job.status.v1`.
    public static var topic: Topic { .jobStatus }
    /// `job.duplicate-detected`.
    public static var types: [String] { [EventType.jobDuplicateDetected] }
    /// The execution.
    public var key: String { launchGroup.executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { launchGroup.executionID.rawValue }
}

extension JobTimedOut: EventContract {
    /// `job.status.v1`.
    public static var topic: Topic { .jobStatus }
    /// `job.timed-out`.
    public static var types: [String] { [EventType.jobTimedOut] }
    /// The execution.
    public var key: String { launchGroup.executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { launchGroup.executionID.rawValue }
    /// When the poller declared it.
    public var eventTime: Date? { timedOutAt }
}

extension SSMAutomationStatus: EventContract {
    /// `job.status.v1`.
    public static var topic: Topic { .jobStatus }
    /// `ssm.automation-status`.
    public static var types: [String] { [EventType.ssmAutomationStatus] }
    /// The execution.
    public var key: String { executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { executionID.rawValue }
}

// MARK: inventory.v1

extension SourceServerObserved: EventContract {
    /// `inventory.v1`.
    public static var topic: Topic { .inventory }
    /// `source-server.observed`.
    public static var types: [String] { [EventType.sourceServerObserved] }
    /// `accountId/region/serverId`.
    public var key: String { "\(endpoint.key)/\(sourceServerID)" }
    /// The source server.
    public var eventSubject: String? { sourceServerID.rawValue }
}

extension ReadinessChecked: EventContract {
    /// `inventory.v1`.
    public static var topic: Topic { .inventory }
    /// `readiness.checked`.
    public static var types: [String] { [EventType.readinessChecked] }
    /// The plan.
    public var key: String { planID.rawValue }
    /// The plan.
    public var eventSubject: String? { planID.rawValue }
}

// MARK: accounts.v1 (key: AWS account id)

extension AccountRegistration: EventContract {
    /// `accounts.v1`.
    public static var topic: Topic { .accounts }
    /// `account.registered`, and `account.updated` for an account registered before.
    public static var types: [String] { [EventType.accountRegistered, EventType.accountUpdated] }
    /// The AWS account.
    public var key: String { accountID }
    /// The AWS account.
    public var eventSubject: String? { accountID }
}

extension AccountRemoved: EventContract {
    /// `accounts.v1`.
    public static var topic: Topic { .accounts }
    /// `account.removed`.
    public static var types: [String] { [EventType.accountRemoved] }
    /// The AWS account.
    public var key: String { accountID }
    /// The AWS account.
    public var eventSubject: String? { accountID }
}

extension ReadinessCheckRequested: EventContract {
    /// `accounts.v1`.
    public static var topic: Topic { .accounts }
    /// `readiness.check-requested`.
    public static var types: [String] { [EventType.readinessCheckRequested] }
    /// The AWS account (so it follows the account's registration in order).
    public var key: String { accountID }
    /// The plan.
    public var eventSubject: String? { planID.rawValue }
    /// When the planner asked.
    public var eventTime: Date? { requestedAt }
}

// MARK: execution.events.v1 (public, key: execution or plan id)

extension ExecutionEvent: EventContract {
    /// `execution.events.v1`.
    public static var topic: Topic { .executionEvents }
    /// Every execution event type (not `plan.readiness-changed`, whose body is ``PlanReadinessChanged``).
    public static var types: [String] {
        ExecutionEventType.allCases.filter { $0 != .planReadinessChanged }.map(\.rawValue)
    }
    /// ``type``.
    public var eventType: String { type.rawValue }
    /// The execution.
    public var key: String { executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { executionID.rawValue }
    /// When it happened.
    public var eventTime: Date? { occurredAt }
}

extension PlanReadinessChanged: EventContract {
    /// `execution.events.v1`.
    public static var topic: Topic { .executionEvents }
    /// `plan.readiness-changed`.
    public static var types: [String] { [ExecutionEventType.planReadinessChanged.rawValue] }
    /// The plan.
    public var key: String { planID.rawValue }
    /// The plan.
    public var eventSubject: String? { planID.rawValue }
    /// When it was evaluated.
    public var eventTime: Date? { occurredAt }
}

// MARK: teams.v1 (key: team id)

extension TokenIssued: EventContract {
    /// `teams.v1`.
    public static var topic: Topic { .teams }
    /// `token.issued`.
    public static var types: [String] { [EventType.tokenIssued] }
    /// The team.
    public var key: String { teamID.rawValue }
    /// The team.
    public var eventSubject: String? { teamID.rawValue }
}

extension TokenRevoked: EventContract {
    /// `teams.v1`.
    public static var topic: Topic { .teams }
    /// `token.revoked`.
    public static var types: [String] { [EventType.tokenRevoked] }
    /// The team.
    public var key: String { teamID.rawValue }
    /// The team.
    public var eventSubject: String? { teamID.rawValue }
}

// MARK: callouts.v1, callout.results.v1 (key: execution id)

extension CalloutRequested: EventContract {
    /// `callouts.v1`.
    public static var topic: Topic { .callouts }
    /// `callout.requested`.
    public static var types: [String] { [EventType.calloutRequested] }
    /// The execution.
    public var key: String { body.executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { body.executionID.rawValue }
}

extension CalloutCompleted: EventContract {
    /// `callout.results.v1`.
    public static var topic: Topic { .calloutResults }
    /// `callout.completed`.
    public static var types: [String] { [EventType.calloutCompleted] }
    /// The execution.
    public var key: String { executionID.rawValue }
    /// The execution.
    public var eventSubject: String? { executionID.rawValue }
}

/// Every contract, for the tests that hold them against ``EventType`` and the AsyncAPI document.
public enum EventContracts {
    /// Every payload type that travels as an event.
    public static let all: [any EventContract.Type] = [
        LaunchGroupRequested.self, InstancesTerminate.self, SSMAutomationRequested.self,
        SSMAutomationStopRequested.self, JobPoll.self, JobQueued.self, JobCreated.self, JobLaunchFailed.self,
        JobObserved.self, JobDuplicateDetected.self, JobTimedOut.self, SSMAutomationStatus.self,
        SourceServerObserved.self, ReadinessChecked.self, AccountRegistration.self, AccountRemoved.self,
        ReadinessCheckRequested.self, ExecutionEvent.self, PlanReadinessChanged.self, TokenIssued.self,
        TokenRevoked.self, CalloutRequested.self, CalloutCompleted.self,
    ]
}
