import Foundation
import MusterDomain

/// How executions look in the API, built from the state document.
enum ExecutionViews {
    struct Server: Encodable {
        var sourceServerId: String, accountId: String, region: String, status: ServerStatus, jobId: String?
        var recoveryInstanceId: String?, startedAt: Date?, launchedAt: Date?, endedAt: Date?, failureReason: String?
        var postLaunch: PostLaunchStatus
        /// DRS job-log items about the server and its job, oldest first (at most `JobLogBook.limit`).
        var logEvents: [LogEvent]
    }
    struct LogEvent: Encodable {
        var event: String, time: Date, error: String?
    }
    struct Wave: Encodable {
        var number: Int, name: String, status: WaveStatus, dependsOn: [String], pauseBefore: Bool
        var continueOnFailure: Bool, timeoutSeconds: Int, startedAt: Date?, endedAt: Date?, queuedReason: String?
        var servers: [Server]
        /// Hook steps, before ones first (absent: none).
        var steps: [Step]?
    }
    /// A wave hook step: its start, end, outcome and output.
    struct Step: Encodable {
        var name: String, kind: HookKind, phase: HookPhase, status: StepStatus, onFailure: HookFailurePolicy
        var timeoutSeconds: Int, startedAt: Date?, deadline: Date?, endedAt: Date?, output: String?
        var decidedBy: String?
        /// Failed with onFailure PAUSE: waits for an operator's resume.
        var holding: Bool
        /// Where to approve or decline, while an approval waits.
        var approvalLink: String?
    }

    static func steps(_ wave: WaveState, executionID: ExecutionID) -> [Step]? {
        wave.steps?.map { step in
            Step(name: step.step.name, kind: step.step.kind, phase: step.phase, status: step.status,
                 onFailure: step.step.onFailure, timeoutSeconds: step.step.timeoutSeconds, startedAt: step.startedAt,
                 deadline: step.deadline, endedAt: step.endedAt, output: step.output, decidedBy: step.decidedBy,
                 holding: step.holding,
                 approvalLink: step.step.kind == .approval && step.status == .running
                    ? StepState.approvalLink(executionID: executionID, step: step.step.name) : nil)
        }
    }
    struct Cleanup: Encodable {
        var requestedBy: String, requestedAt: Date, completedAt: Date?, instanceIds: [String], failures: [String]
    }
    struct Detail: Encodable {
        var id: ExecutionID, planId: PlanID, planName: String, type: ExecutionType, status: ExecutionStatus
        var initiatedBy: String, createdAt: Date, endedAt: Date?, waves: [Wave], cleanup: Cleanup?
    }
    struct Summary: Encodable {
        var id: ExecutionID, planId: PlanID, planName: String, type: ExecutionType, status: ExecutionStatus
        var initiatedBy: String, createdAt: Date, endedAt: Date?
    }
    struct Accepted: Encodable { var id: ExecutionID; var status: ExecutionStatus; var location: String }

    static func server(_ server: ServerState) -> Server {
        Server(sourceServerId: server.id, accountId: server.accountID, region: server.region, status: server.status,
               jobId: server.jobID, recoveryInstanceId: server.recoveryInstanceID, startedAt: server.startedAt,
               launchedAt: server.launchedAt, endedAt: server.endedAt, failureReason: server.failureReason,
               postLaunch: server.postLaunch,
               logEvents: (server.logEvents ?? []).map { LogEvent(event: $0.event, time: $0.time, error: $0.rawError) })
    }

    static func detail(_ state: ExecutionState) -> Detail {
        Detail(
            id: state.id, planId: state.planID, planName: state.planName, type: state.type, status: state.status,
            initiatedBy: state.initiatedBy, createdAt: state.createdAt, endedAt: state.endedAt,
            waves: state.waves.map { wave in
                Wave(number: wave.number, name: wave.name, status: wave.status,
                     dependsOn: wave.dependsOn.map { state.waves[$0 - 1].name }, pauseBefore: wave.pauseBefore,
                     continueOnFailure: wave.continueOnFailure, timeoutSeconds: wave.timeoutSeconds,
                     startedAt: wave.startedAt, endedAt: wave.endedAt, queuedReason: wave.queuedReason,
                     servers: state.servers(inWave: wave.number).map(server),
                     steps: steps(wave, executionID: state.id))
            },
            cleanup: state.cleanup.map {
                Cleanup(requestedBy: $0.requestedBy, requestedAt: $0.requestedAt, completedAt: $0.completedAt,
                        instanceIds: $0.instanceIDs, failures: $0.failures)
            })
    }

    // MARK: Report

    struct ReportServer: Encodable {
        var sourceServerId: String, status: ServerStatus, recoveryInstanceId: String?, startedAt: Date?
        var launchedAt: Date?, secondsToLaunch: Double?, failureReason: String?
        /// The snapshot it was recovered from (nil: latest) and its age at the start (achieved RPO).
        var recoverySnapshotId: String?, achievedRpoSeconds: Double?
        /// The recovery point (the snapshot's time, or for `latest` the inventory's estimate at launch)
        /// and what it rests on: `snapshot`, `replication-lag` or `last-snapshot`; nil while unknown.
        var recoveryPointTime: Date?, recoveryPointBasis: String?
    }
    struct ReportWave: Encodable {
        var number: Int, name: String, status: WaveStatus, startedAt: Date?, endedAt: Date?, durationSeconds: Double?
        var serversLaunched: Int, serversFailed: Int, servers: [ReportServer]
        /// Hook steps with their outcome and output (absent: none).
        var steps: [Step]?
    }
    struct Report: Encodable {
        var executionId: ExecutionID, planName: String, type: ExecutionType, status: ExecutionStatus, initiatedBy: String
        var startedAt: Date, endedAt: Date?, durationSeconds: Double?, rtoTargetMinutes: Int?
        /// From the start to the last server launched.
        var secondsToLastLaunch: Double?
        /// Whether every server launched within the RTO target (nil without a target or while running).
        var rtoMet: Bool?
        /// The plan's RPO target, the worst achieved RPO, and whether it met the target.
        var rpoTargetMinutes: Int?, worstAchievedRpoSeconds: Double?, rpoMet: Bool?
        var waves: [ReportWave]
    }

    static func report(_ state: ExecutionState) -> Report {
        func seconds(_ from: Date?, _ to: Date?) -> Double? {
            guard let from, let to else { return nil }
            return (to.timeIntervalSince(from) * 1000).rounded() / 1000
        }
        let lastLaunch = state.servers.values.compactMap(\.launchedAt).max()
        let toLast = seconds(state.createdAt, lastLaunch)
        var rtoMet: Bool?
        if let target = state.rtoTargetMinutes, state.status.isTerminal {
            let allLaunched = state.servers.values.allSatisfy(\.succeeded)
            rtoMet = allLaunched && (toLast ?? .infinity) <= Double(target * 60)
        }
        return Report(
            executionId: state.id, planName: state.planName, type: state.type, status: state.status,
            initiatedBy: state.initiatedBy, startedAt: state.createdAt, endedAt: state.endedAt,
            durationSeconds: seconds(state.createdAt, state.endedAt), rtoTargetMinutes: state.rtoTargetMinutes,
            secondsToLastLaunch: toLast, rtoMet: rtoMet, rpoTargetMinutes: state.rpoTargetMinutes,
            worstAchievedRpoSeconds: state.worstAchievedRPO,
            rpoMet: state.rpoTargetMinutes.flatMap { target in state.worstAchievedRPO.map { $0 <= Double(target * 60) } },
            waves: state.waves.map { wave in
                let servers = state.servers(inWave: wave.number)
                return ReportWave(
                    number: wave.number, name: wave.name, status: wave.status, startedAt: wave.startedAt,
                    endedAt: wave.endedAt, durationSeconds: seconds(wave.startedAt, wave.endedAt),
                    serversLaunched: servers.filter(\.succeeded).count,
                    serversFailed: servers.filter { $0.isResolved && !$0.succeeded }.count,
                    servers: servers.map {
                        ReportServer(sourceServerId: $0.id, status: $0.status, recoveryInstanceId: $0.recoveryInstanceID,
                                     startedAt: $0.startedAt, launchedAt: $0.launchedAt,
                                     secondsToLaunch: seconds($0.startedAt, $0.launchedAt), failureReason: $0.failureReason,
                                     recoverySnapshotId: $0.recoverySnapshotID,
                                     achievedRpoSeconds: $0.achievedRPO(executionStart: state.createdAt),
                                     recoveryPointTime: $0.recoveryPointTime,
                                     recoveryPointBasis: $0.recoverySnapshotTime != nil ? "snapshot"
                                         : $0.latestRecoveryPoint?.basis.rawValue)
                    },
                    steps: steps(wave, executionID: state.id))
            })
    }
}
