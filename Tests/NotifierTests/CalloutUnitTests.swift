import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
@testable import NotifierApp
import TestSupport
import Testing

/// The pure rules the notifier adds for callouts: retries stop at the step's
/// deadline, and which attempts owe the planner a `callout.completed`.
@Suite("Callout rules (notifier)")
struct CalloutUnitTests {
    let policy = RetryPolicy(backoff: Backoff(base: .seconds(1), cap: .seconds(60)), window: .seconds(600))
    let first = Date(timeIntervalSince1970: 1_000_000)

    @Test("a step's deadline ends the retries before the window does; a later one changes nothing")
    func deadlineEndsRetries() {
        var generator = SeededGenerator(state: 3)
        let deadline = first.addingTimeInterval(30)
        for _ in 0..<50 {
            guard case .retry(let at) = policy.decide(succeeded: false, attempts: 9, firstAttemptAt: first,
                                                      now: first.addingTimeInterval(29.5), deadline: deadline,
                                                      using: &generator)
            else { Issue.record("expected a retry before the deadline"); return }
            #expect(at <= deadline)
        }
        #expect(policy.decide(succeeded: false, attempts: 2, firstAttemptAt: first, now: deadline, deadline: deadline,
                              using: &generator) == .dead)
        #expect(policy.decide(succeeded: true, attempts: 2, firstAttemptAt: first, now: deadline.addingTimeInterval(1),
                              deadline: deadline, using: &generator) == .delivered)
        // A deadline past the window: the window still decides.
        let far = first.addingTimeInterval(86_400)
        #expect(policy.decide(succeeded: false, attempts: 2, firstAttemptAt: first, now: first.addingTimeInterval(600),
                              deadline: far, using: &generator) == .dead)
        if case .retry = policy.decide(succeeded: false, attempts: 2, firstAttemptAt: first,
                                       now: first.addingTimeInterval(100), deadline: far, using: &generator) {
        } else {
            Issue.record("inside both the window and the deadline a failure is retried")
        }
    }

    func delivery(attempts: Int) -> ClaimedDelivery {
        ClaimedDelivery(
            id: UUID(), claimID: UUID(), subscriptionID: UUID(), url: "https://hooks.example/x",
            secret: WebhookSecret("whsec_unit_secret_0123456789"), eventID: UUID(),
            eventType: EventType.calloutRequested, eventSource: EventSource.planner, eventTime: first,
            executionID: ExecutionID.fixture(1).rawValue, body: [], attempts: attempts, firstAttemptAt: nil, claimedAt: first,
            callout: CalloutTarget(stepName: "tell", deadline: first.addingTimeInterval(60)))
    }

    func result(_ decision: RetryPolicy.Decision, status: Int?, error: String? = nil, answer: String? = nil)
        -> AttemptResult
    {
        AttemptResult(startedAt: first, finishedAt: first, statusCode: status, error: error, answer: answer,
                      decision: decision)
    }

    @Test("only a final attempt is reported: delivered with the answer, or dead with the last error")
    func reports() throws {
        let target = CalloutTarget(stepName: "tell", deadline: first.addingTimeInterval(60))
        #expect(try DeliveryQueue.report(delivery(attempts: 0), target,
                                     result(.retry(at: first), status: 500, error: "HTTP 500: x")) == nil)
        let delivered = try #require(try DeliveryQueue.report(
            delivery(attempts: 2), target, result(.delivered, status: 202, answer: #"{"status":"FAILED"}"#)))
        #expect(delivered == CalloutCompleted(executionID: .fixture(1), stepName: "tell", delivered: true, statusCode: 202,
                                              answer: #"{"status":"FAILED"}"#, attempts: 3))
        let dead = try #require(try DeliveryQueue.report(delivery(attempts: 4), target,
                                                     result(.dead, status: nil, error: "connection refused")))
        #expect(!dead.delivered && dead.error == "connection refused" && dead.attempts == 5 && dead.answer == nil)
    }
}
