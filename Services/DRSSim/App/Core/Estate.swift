import Foundation
import MusterDRS

/// Identifies an estate: one account in one region. AWS quotas and request-rate limits are
/// regional, so drs-sim applies them per estate.
public struct EstateKey: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The 12-digit account id.
    public var accountID: String
    /// The region, e.g. `us-east-1`.
    public var region: String

    /// Memberwise initializer.
    public init(accountID: String, region: String) {
        self.accountID = accountID
        self.region = region
    }

    /// `account/region`.
    public var description: String { "\(accountID)/\(region)" }

    /// Orders by account, then region (for deterministic iteration).
    public static func < (lhs: EstateKey, rhs: EstateKey) -> Bool {
        (lhs.accountID, lhs.region) < (rhs.accountID, rhs.region)
    }

    /// The ARN prefix for resources in this estate.
    func arn(_ resource: String) -> String {
        "arn:aws:drs:\(region):\(accountID):\(resource)"
    }
}

/// A source server as drs-sim holds it: the model's view plus what drives launches.
struct SimSourceServer: Sendable, Equatable {
    /// What `DescribeSourceServers` answers.
    var server: SourceServer
    /// What `GetLaunchConfiguration` answers.
    var launchConfiguration: LaunchConfiguration
    /// Post-launch actions run for recovery launches when the configuration enables them.
    var postLaunchActions: [LaunchAction]
    /// Replication lag while `CONTINUOUS`, in seconds (seed `lagSeconds`).
    var lagSeconds: Double = 0
    /// When it was seeded (simulated): in other states its lag grows from here.
    var seededAt: Date?

    var id: String { server.sourceServerID ?? "" }

    var replicationState: DataReplicationState {
        server.dataReplicationInfo?.dataReplicationState ?? .continuous
    }
}

/// A job as drs-sim holds it: the model's view, its log, and the rest of its precomputed
/// timeline.
struct SimJob: Sendable, Equatable {
    var job: Job
    var isDrill: Bool
    var logs: [JobLog] = []
    /// When each of `logs` happened (simulated), for the listing jitter.
    var logTimes: [Date] = []
    /// Events not yet applied, in time order.
    var pending: [TimelineEvent]
    /// Where the next event to apply is in `pending`.
    var cursor = 0
    /// Per server: the snapshot it launches from and the network its template gave it (issue 13).
    var launches: [String: SimLaunchFacts] = [:]

    var id: String { job.jobID }
    var isActive: Bool { job.status != .completed }
    var serverIDs: [String] { (job.participatingServers ?? []).compactMap(\.sourceServerID) }
}

/// What a server's launch in a job takes: the chosen snapshot, the template's network.
struct SimLaunchFacts: Sendable, Equatable {
    var snapshotID: String?
    var snapshotTime: Date?
    var network: SimInstanceNetwork?
}

/// The DRS state of one account in one region.
struct Estate: Sendable, Equatable {
    let key: EstateKey
    var servers: [String: SimSourceServer] = [:]
    var serverOrder: [String] = []
    var jobs: [String: SimJob] = [:]
    var jobOrder: [String] = []
    /// Jobs not yet COMPLETED, in creation order.
    var activeJobIDs: [String] = []
    /// Jobs with timeline events still to apply, in creation order (a COMPLETED
    /// job's post-launch runs may still be to come).
    var timelineJobIDs: [String] = []
    var instances: [String: RecoveryInstance] = [:]
    var instanceOrder: [String] = []

    init(key: EstateKey) {
        self.key = key
    }

    /// Adds or replaces a server, keeping first-seen order.
    mutating func put(_ server: SimSourceServer) {
        if servers[server.id] == nil { serverOrder.append(server.id) }
        servers[server.id] = server
    }

    /// The active job holding `serverID`, if any (one job per source server).
    func activeJob(holding serverID: String) -> SimJob? {
        for id in activeJobIDs {
            if let job = jobs[id], job.serverIDs.contains(serverID) { return job }
        }
        return nil
    }

    /// Source server → the active job holding it (one lookup table for many servers).
    func activeHolders() -> [String: String] {
        var holders: [String: String] = [:]
        for id in activeJobIDs {
            for server in jobs[id]?.serverIDs ?? [] { holders[server] = id }
        }
        return holders
    }

    /// Servers taking part in active jobs (the "servers in all active jobs" quota).
    var serversInActiveJobs: Int {
        activeJobIDs.reduce(0) { $0 + (jobs[$1]?.serverIDs.count ?? 0) }
    }

    mutating func add(_ job: SimJob) {
        jobs[job.id] = job
        jobOrder.append(job.id)
        if job.isActive { activeJobIDs.append(job.id) }
        if !job.pending.isEmpty { timelineJobIDs.append(job.id) }
    }

    mutating func putInstance(_ instance: RecoveryInstance) {
        guard let id = instance.recoveryInstanceID else { return }
        if instances[id] == nil { instanceOrder.append(id) }
        instances[id] = instance
    }

    mutating func removeInstance(_ id: String) {
        guard instances.removeValue(forKey: id) != nil else { return }
        instanceOrder.removeAll { $0 == id }
    }
}
