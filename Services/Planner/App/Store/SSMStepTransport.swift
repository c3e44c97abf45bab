import Crypto
import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging

/// How an SSM Automation step travels (issue 16): the state machine's
/// `runStep` becomes `ssm.automation-requested` on `hook.requests.v1` (key
/// `accountId/region`, the launcher's co-partitioned inputs); the launcher's
/// `ssm.automation-status` on `job.status.v1` comes back as a step outcome.
enum SSMStepTransport {
    /// The `ssm.automation-requested` payload of `run`, nil unless it is an SSM step
    /// with a resolved account and region (HookRules resolves them at start).
    static func request(_ run: StepRun, requestedAt: Date = Date()) -> SSMAutomationRequested? {
        guard run.step.kind == .ssmAutomation, let ssm = run.step.ssm, let accountID = ssm.accountID,
              let region = ssm.region else { return nil }
        let attempt = 1
        return SSMAutomationRequested(
            executionID: run.executionID, waveNumber: run.waveNumber, stepName: run.step.name, attempt: attempt,
            idempotencyKey: idempotencyKey(executionID: run.executionID, stepName: run.step.name, attempt: attempt),
            endpoint: Endpoint(accountID: accountID, region: region), documentName: ssm.documentName,
            documentVersion: ssm.documentVersion, parameters: ssm.parameters, deadline: run.deadline,
            requestedAt: requestedAt)
    }

    /// A UUID (SSM's `ClientToken` must be one) that is the same for every
    /// request of one step run: the first 16 bytes of SHA-256 over
    /// `execution/step/attempt`, with the version-5 and variant bits set.
    static func idempotencyKey(executionID: ExecutionID, stepName: String, attempt: Int) -> String {
        var bytes = Array(SHA256.hash(data: Array("\(executionID)/\(stepName)/\(attempt)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }

    /// The outbox row for `run`, nil when it is not an SSM step.
    static func message(_ run: StepRun, topics: Topics) throws -> OutboxMessage? {
        guard let request = request(run) else { return nil }
        return try OutboxMessage(request, source: EventSource.planner, topics: topics)
    }

    /// The `ssm.automation-stop-requested` row for `run`, nil unless it is an SSM step.
    static func stopMessage(_ run: StepRun, topics: Topics) throws -> OutboxMessage? {
        guard let request = request(run) else { return nil }
        let stop = SSMAutomationStopRequested(
            executionID: run.executionID, stepName: run.step.name, idempotencyKey: request.idempotencyKey,
            endpoint: request.endpoint, reason: "the step ended without the automation's result (timed out or skipped)")
        return try OutboxMessage(stop, source: EventSource.planner, topics: topics)
    }

    /// The state machine's input for a status: a terminal status finishes the
    /// step; a start report changes nothing (nil).
    static func input(_ status: SSMAutomationStatus) -> ExecutionInput? {
        guard status.terminal else { return nil }
        return .stepFinished(StepResult(stepName: status.stepName, succeeded: status.succeeded, output: status.summary))
    }
}
