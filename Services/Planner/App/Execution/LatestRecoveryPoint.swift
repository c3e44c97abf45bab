import Foundation
import MusterEvents

/// What the inventory last said about a server's replication freshness
/// (`source-server.observed`).
public struct ReplicationObservation: Sendable, Equatable {
    /// `dataReplicationInfo.dataReplicationState`.
    public var replicationState: String?
    /// `lagDuration` in seconds.
    public var lagSeconds: Double?
    /// `lastSnapshotDateTime`.
    public var lastSnapshotAt: Date?
    /// When the launcher saw it.
    public var observedAt: Date

    /// Creates an observation.
    public init(replicationState: String?, lagSeconds: Double?, lastSnapshotAt: Date?, observedAt: Date) {
        self.replicationState = replicationState
        self.lagSeconds = lagSeconds
        self.lastSnapshotAt = lastSnapshotAt
        self.observedAt = observedAt
    }
}

/// The recovery point of a server launched from `latest` (no snapshot id):
/// DRS launches from the staging area's newest data, so the recovery point
/// is as old as replication was behind at launch. Estimated from the
/// inventory, conservatively (never newer than the data DRS can hold):
/// - replicating (`CONTINUOUS`) with a lag: the launch time minus the lag —
///   the launcher republishes a server whose lag leaves its band, so the
///   last figure still holds at launch within its band;
/// - any other state with a lag: replication has stopped, so the data is
///   no newer than the observation minus its lag;
/// - a last snapshot time: DRS holds at least that snapshot's data.
/// The newest of these bounds wins; without any, the recovery point is unknown.
public struct LatestRecoveryPoint: Codable, Sendable, Equatable {
    /// What the estimate rests on.
    public enum Basis: String, Codable, Sendable {
        /// `lagDuration`.
        case replicationLag = "replication-lag"
        /// `lastSnapshotDateTime`.
        case lastSnapshot = "last-snapshot"
    }

    /// The recovery point: the newest source data the instance holds.
    public var time: Date
    /// What it was estimated from.
    public var basis: Basis
    /// When DRS created the launch job.
    public var launchedAt: Date
    /// When the inventory observation it rests on was made.
    public var observedAt: Date

    /// The data's age at launch, in seconds (the achieved RPO of a `latest` launch).
    public var ageAtLaunchSeconds: Double {
        max(0, (launchedAt.timeIntervalSince(time) * 1000).rounded() / 1000)
    }

    /// Creates a recovery point.
    public init(time: Date, basis: Basis, launchedAt: Date, observedAt: Date) {
        self.time = time
        self.basis = basis
        self.launchedAt = launchedAt
        self.observedAt = observedAt
    }

    /// The estimate for a server launched at `launchedAt`, or nil when the inventory cannot tell.
    public static func estimate(_ observation: ReplicationObservation, launchedAt: Date) -> LatestRecoveryPoint? {
        var candidates: [(Date, Basis)] = []
        if let lag = observation.lagSeconds, lag >= 0 {
            let replicating = observation.replicationState == "CONTINUOUS"
            // Never later than the launch: an observation made after it says nothing newer.
            let reference = replicating ? launchedAt : min(observation.observedAt, launchedAt)
            candidates.append((reference.addingTimeInterval(-lag), .replicationLag))
        }
        if let snapshot = observation.lastSnapshotAt, snapshot <= launchedAt {
            candidates.append((snapshot, .lastSnapshot))
        }
        guard let newest = candidates.max(by: { $0.0 < $1.0 }) else { return nil }
        return LatestRecoveryPoint(time: newest.0, basis: newest.1, launchedAt: launchedAt, observedAt: observation.observedAt)
    }
}

extension ExecutionStateMachine {
    /// Notes the `latest` recovery point of each server `job` launches that
    /// has no snapshot id, from the inventory's `observations` (by server
    /// id). Pure; replaying it changes nothing once a point is noted.
    public static func noteLatestRecoveryPoints(
        _ observations: [String: ReplicationObservation], job: JobCreated, in state: ExecutionState
    ) -> ExecutionState {
        guard job.jobType == .launch else { return state }
        var state = state
        for id in job.sourceServerIDs.map(\.rawValue) {
            guard let server = state.servers[id], server.wave == job.launchGroup.waveNumber,
                  server.recoverySnapshotID == nil, server.latestRecoveryPoint == nil,
                  let observation = observations[id],
                  let point = LatestRecoveryPoint.estimate(observation, launchedAt: job.createdAt) else { continue }
            state.servers[id]?.latestRecoveryPoint = point
        }
        return state
    }
}
