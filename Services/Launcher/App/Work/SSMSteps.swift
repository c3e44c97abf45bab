import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging

/// Runs the SSM Automation wave-hook steps of one endpoint (issue 16), on
/// its polling loop: a QUEUED or STARTING row is started (intent first, then
/// `StartAutomationExecution` with the step's idempotency key as ClientToken,
/// so a repeat after a crash or a lost answer never starts a second
/// automation); a RUNNING row is looked at (`GetAutomationExecution`) every
/// `ssmPollInterval` until terminal; past the step's deadline a running
/// automation is stopped (`StopAutomationExecution`). Each change commits
/// with its `ssm.automation-status` event.
struct SSMSteps: Sendable {
    let context: LauncherContext

    private var store: SSMStore { SSMStore(launch: context.store) }

    /// Serves what is due; returns when to look again (nil: nothing open).
    func serve(_ endpoint: Endpoint) async throws -> Date? {
        for row in try await store.due(endpoint, pool: context.pool) {
            guard context.ownership.mayAct(for: endpoint) else { return nil }
            // Each look continues the trace of the wave that asked for the step.
            try await StoredTrace.withSpan("SSM step \(row.state.rawValue.lowercased())", parent: row.trace, attributes: [
                "muster.step_name": row.request.stepName, "muster.execution_id": row.request.executionID.rawValue,
            ]) {
                switch row.state {
                case .queued where row.stopRequested != nil:
                    // Never sent: it is never started.
                    try await finish(row.request, automationID: nil, status: "Cancelled",
                                     failure: "not started: \(row.stopRequested ?? "")")
                case .queued, .starting: try await start(row)
                case .running: try await look(row)
                case .done: break
                }
            }
        }
        return try await store.nextDue(endpoint, pool: context.pool)
    }

    private var pollInterval: TimeInterval {
        max(0.05, LauncherConfiguration.seconds(context.configuration.ssmPollInterval))
    }

    private func start(_ row: SSMAutomationRow) async throws {
        let request = row.request
        if request.deadline <= Date(), row.state == .queued {
            // Never sent: nothing to stop.
            return try await finish(request, automationID: nil, status: "TimedOut",
                                    failure: "the step's timeout passed before the automation could start")
        }
        try await store.markStarting(request.idempotencyKey, pool: context.pool)
        try context.hooks.beforeSSMStart(request.stepName)
        let id: String
        do {
            id = try await context.gate.callSSM(request.endpoint, "ssm:StartAutomationExecution") { client in
                try await client.startAutomationExecution(
                    documentName: request.documentName, documentVersion: request.documentVersion,
                    parameters: request.parameters, clientToken: request.idempotencyKey)
            }
        } catch let error as SSMError where !error.isRetryable {
            return try await finish(request, automationID: nil, status: "StartFailed", failure: error.description)
        } catch let error as AccountError {
            return try await finish(request, automationID: nil, status: "StartFailed", failure: error.description)
        } catch let error as SSMError {
            return try await store.later(request.idempotencyKey, at: Date().addingTimeInterval(pollInterval),
                                         error: error.description, pool: context.pool)
        }
        try context.hooks.afterSSMStart(id)
        try await store.markRunning(
            request, automationID: id, nextAt: Date().addingTimeInterval(pollInterval), pool: context.pool)
        context.wakeRelay()
        context.logger.info("SSM automation started", metadata: [
            "execution": "\(request.executionID)", "step": "\(request.stepName)", "automation": "\(id)"])
    }

    private func look(_ row: SSMAutomationRow) async throws {
        let request = row.request
        guard let id = row.automationID else {
            return try await finish(request, automationID: nil, status: "Failed", failure: "no automation id recorded")
        }
        let execution: SSMAutomationExecution
        do {
            execution = try await context.gate.callSSM(request.endpoint, "ssm:GetAutomationExecution") { client in
                try await client.getAutomationExecution(id: id)
            }
        } catch let error as SSMError where error.type == "AutomationExecutionNotFoundException" {
            return try await finish(request, automationID: id, status: "Failed", failure: error.description)
        } catch let error as SSMError {
            return try await store.later(request.idempotencyKey, at: Date().addingTimeInterval(pollInterval),
                                         error: error.description, pool: context.pool)
        }
        if execution.isTerminal {
            return try await finish(request, automationID: id, status: execution.status,
                                    failure: execution.status == .success ? nil : execution.failureMessage,
                                    outputs: execution.outputs)
        }
        if let why = row.stopRequested ?? (request.deadline <= Date() ? "the step's timeout passed" : nil) {
            do {
                try await context.gate.callSSM(request.endpoint, "ssm:StopAutomationExecution") { client in
                    try await client.stopAutomationExecution(id: id)
                }
            } catch let error as SSMError where error.type == "InvalidAutomationStatusUpdateException" {
                // It ended meanwhile: the next look reports how.
                return try await store.later(request.idempotencyKey, at: Date(), error: nil, pool: context.pool)
            }
            return try await finish(request, automationID: id, status: row.stopRequested == nil ? "TimedOut" : "Cancelled",
                                    failure: "stopped (StopAutomationExecution) while \(execution.status): \(why)")
        }
        let next = min(Date().addingTimeInterval(pollInterval), max(request.deadline, Date()))
        try await store.later(request.idempotencyKey, at: next, error: nil, pool: context.pool)
    }

    private func finish(
        _ request: SSMAutomationRequested, automationID: String?, status: AutomationExecutionStatus, failure: String?,
        outputs: [String: [String]]? = nil
    ) async throws {
        try await store.finish(SSMAutomationStatus(
            executionID: request.executionID, waveNumber: request.waveNumber, stepName: request.stepName,
            attempt: request.attempt, endpoint: request.endpoint, automationExecutionID: automationID, status: status,
            terminal: true, outputs: outputs, failureMessage: failure), key: request.idempotencyKey, pool: context.pool)
        context.wakeRelay()
        context.logger.info("SSM automation ended", metadata: [
            "execution": "\(request.executionID)", "step": "\(request.stepName)", "status": "\(status)"])
    }
}
