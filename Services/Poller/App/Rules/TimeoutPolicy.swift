import Foundation
import MusterDomain

/// Timeouts per wave (DESIGN §6): when the deadline passes the poller asks for
/// a final look (`job.poll.final`); only if that answer is still not terminal
/// does it publish `job.timed-out`. Documented rule for a missing answer: a
/// final poll unanswered for `finalAnswerGrace` is sent again, at most
/// `maxFinalPolls` times in all; after the last one's grace the job times out
/// with the last status the poller knows. Pure.
public struct TimeoutPolicy: Sendable, Equatable {
    /// How long to wait for the answer to a `job.poll.final`.
    public var finalAnswerGrace: Duration
    /// Final polls sent before timing out without an answer (≥ 1).
    public var maxFinalPolls: Int

    /// Defaults: wait a minute for the answer, ask three times.
    public init(finalAnswerGrace: Duration = .seconds(60), maxFinalPolls: Int = 3) {
        self.finalAnswerGrace = finalAnswerGrace
        self.maxFinalPolls = max(1, maxFinalPolls)
    }

    /// What the scheduler does with a job it found due.
    public enum DueAction: Sendable, Equatable {
        /// An ordinary look (`job.poll`).
        case poll
        /// The look before a timeout (`job.poll.final`); `attempt` counts from 1.
        case finalPoll(attempt: Int)
        /// No answer came to the last final poll: publish `job.timed-out`.
        case timeOut
    }

    /// The action for a due job in `state` that has had `finalPolls` final polls.
    public func dueAction(state: TrackingState, finalPolls: Int, deadline: Date, now: Date) -> DueAction? {
        switch state {
        case .tracking:
            return now >= deadline ? .finalPoll(attempt: finalPolls + 1) : .poll
        case .finalRequested:
            return finalPolls < maxFinalPolls ? .finalPoll(attempt: finalPolls + 1) : .timeOut
        case .done, .timedOut:
            return nil
        }
    }

    /// When a final poll sent at `sentAt` counts as unanswered.
    public func answerDeadline(sentAt: Date, minimumGap: Duration) -> Date {
        sentAt.addingTimeInterval(max(finalAnswerGrace, minimumGap).seconds)
    }

    /// Whether a snapshot decides a timeout: it answers a final poll, the
    /// deadline has passed, and the job is live — not COMPLETED, or COMPLETED
    /// with post-launch runs still unfinished (`awaitingPostLaunch`).
    public func isTimeout(
        isFinalAnswer: Bool, status: DRSJobStatus, awaitingPostLaunch: Bool = false, deadline: Date, now: Date
    ) -> Bool {
        isFinalAnswer && (status != .completed || awaitingPostLaunch) && now >= deadline
    }
}
