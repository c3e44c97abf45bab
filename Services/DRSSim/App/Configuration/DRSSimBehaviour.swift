import Foundation
import MusterDRS

/// What real DRS may do one way or another where AWS documents nothing (or
/// where Muster must not depend on it): one setting per choice, so tests run
/// Muster under each. Start-up values come from `DRS_SIM_*`; `PUT
/// /admin/behaviour` changes them while running (jobs created afterwards,
/// lists answered afterwards).
public struct DRSSimBehaviour: Codable, Sendable, Equatable {
    /// When a recovery job's post-launch action runs end relative to its `JOB_END`.
    public enum PostLaunchOrder: String, Codable, Sendable, CaseIterable {
        /// `JOB_END` (status COMPLETED) comes first; the SSM agent registers
        /// and the runs start and end afterwards. The harder case: the first
        /// COMPLETED snapshot carries no runs at all.
        case afterJob = "after-job"
        /// The runs end, then the job ends.
        case beforeJob = "before-job"
    }

    /// The order `DescribeJobLogItems` lists a job's log in (the API reference states none).
    public enum LogOrder: String, Codable, Sendable, CaseIterable {
        /// Oldest first.
        case oldestFirst = "oldest-first"
        /// Newest first.
        case newestFirst = "newest-first"
    }

    /// What `DescribeSourceServers` reports of a server's replication
    /// freshness in `dataReplicationInfo` (botocore's model lists only
    /// `lagDuration`; the console also shows the last snapshot's time).
    public enum ReplicationInfo: String, Codable, Sendable, CaseIterable {
        /// `lagDuration` and `lastSnapshotDateTime`.
        case lagAndLastSnapshot = "lag-and-last-snapshot"
        /// `lagDuration` only (what botocore's model lists).
        case lagOnly = "lag-only"
        /// `lastSnapshotDateTime` only.
        case lastSnapshotOnly = "last-snapshot-only"
        /// Neither: Muster cannot know the age of the latest data.
        case neither = "none"
    }

    /// `DRS_SIM_POST_LAUNCH_ORDER` (default `after-job`).
    public var postLaunchOrder: PostLaunchOrder
    /// `DRS_SIM_LOG_ORDER` (default `oldest-first`).
    public var logOrder: LogOrder
    /// `DRS_SIM_LOG_JITTER`: up to this many simulated seconds between a log
    /// item's `logDateTime` and the moment it is listed (eventual
    /// consistency), so an older item can appear after newer ones (default 0).
    public var logJitterSeconds: Double
    /// `DRS_SIM_TIMESTAMP_FORMAT`: `millis` (`…46.324Z`, default) or `aws`
    /// (`…46.324841+00:00`, what real DRS returns).
    public var timestampFormat: DRSDateTime.Style
    /// `DRS_SIM_SSM_AGENT_DELAY`: simulated seconds until the launched
    /// instance's SSM agent registers and the first post-launch run starts —
    /// counted from the launch (`before-job`) or from `JOB_END` (`after-job`)
    /// (default 30; real instances take minutes).
    public var ssmAgentDelaySeconds: Double
    /// `DRS_SIM_REPLICATION_INFO` (default `lag-and-last-snapshot`).
    public var replicationInfo: ReplicationInfo

    /// `DRS_SIM_SSM_DOCUMENTS` (JSON): how each SSM Automation document runs
    /// (outcome, simulated duration, outputs, failure message); documents not
    /// listed run as `ssmDefault`.
    public var ssmDocuments: [String: SSMDocumentBehaviour]
    /// `DRS_SIM_SSM_DEFAULT` (JSON): how a document not in `ssmDocuments` runs
    /// (default: Success after 60 simulated seconds).
    public var ssmDefault: SSMDocumentBehaviour
    /// `DRS_SIM_SSM_MISSING_DOCUMENTS` (comma-separated): documents SSM does not
    /// know (StartAutomationExecution answers AutomationDefinitionNotFoundException).
    public var ssmMissingDocuments: [String]

    /// The defaults.
    public init(
        postLaunchOrder: PostLaunchOrder = .afterJob, logOrder: LogOrder = .oldestFirst, logJitterSeconds: Double = 0,
        timestampFormat: DRSDateTime.Style = .milliseconds, ssmAgentDelaySeconds: Double = 30,
        replicationInfo: ReplicationInfo = .lagAndLastSnapshot, ssmDocuments: [String: SSMDocumentBehaviour] = [:],
        ssmDefault: SSMDocumentBehaviour = SSMDocumentBehaviour(), ssmMissingDocuments: [String] = []
    ) {
        self.ssmDocuments = ssmDocuments
        self.ssmDefault = ssmDefault
        self.ssmMissingDocuments = ssmMissingDocuments
        self.replicationInfo = replicationInfo
        self.postLaunchOrder = postLaunchOrder
        self.logOrder = logOrder
        self.logJitterSeconds = logJitterSeconds
        self.timestampFormat = timestampFormat
        self.ssmAgentDelaySeconds = ssmAgentDelaySeconds
    }

    /// Reads every field present (the admin API accepts partial documents).
    public init(from decoder: any Decoder) throws {
        let defaults = Self()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        postLaunchOrder = try container.decodeIfPresent(PostLaunchOrder.self, forKey: .postLaunchOrder)
            ?? defaults.postLaunchOrder
        logOrder = try container.decodeIfPresent(LogOrder.self, forKey: .logOrder) ?? defaults.logOrder
        logJitterSeconds = try container.decodeIfPresent(Double.self, forKey: .logJitterSeconds) ?? defaults.logJitterSeconds
        timestampFormat = try container.decodeIfPresent(DRSDateTime.Style.self, forKey: .timestampFormat)
            ?? defaults.timestampFormat
        ssmAgentDelaySeconds = try container.decodeIfPresent(Double.self, forKey: .ssmAgentDelaySeconds)
            ?? defaults.ssmAgentDelaySeconds
        replicationInfo = try container.decodeIfPresent(ReplicationInfo.self, forKey: .replicationInfo)
            ?? defaults.replicationInfo
        ssmDocuments = try container.decodeIfPresent([String: SSMDocumentBehaviour].self, forKey: .ssmDocuments)
            ?? defaults.ssmDocuments
        ssmDefault = try container.decodeIfPresent(SSMDocumentBehaviour.self, forKey: .ssmDefault) ?? defaults.ssmDefault
        ssmMissingDocuments = try container.decodeIfPresent([String].self, forKey: .ssmMissingDocuments)
            ?? defaults.ssmMissingDocuments
    }

    /// `self` with the fields present in `patch` (JSON) replaced.
    func merging(_ patch: Data) throws -> Self {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any] ?? [:]
        guard let changes = try JSONSerialization.jsonObject(with: patch) as? [String: Any] else {
            throw DRSSimAdminError("behaviour must be a JSON object")
        }
        let unknown = Set(changes.keys).subtracting(object.keys)
        if let name = unknown.sorted().first {
            throw DRSSimAdminError("unknown behaviour '\(name)'; known: \(object.keys.sorted().joined(separator: ", "))")
        }
        object.merge(changes) { _, new in new }
        let merged = try JSONDecoder().decode(Self.self, from: JSONSerialization.data(withJSONObject: object))
        guard (0...3600).contains(merged.logJitterSeconds) else {
            throw DRSSimAdminError("logJitterSeconds must be 0…3600 simulated seconds")
        }
        guard (0...86_400).contains(merged.ssmAgentDelaySeconds) else {
            throw DRSSimAdminError("ssmAgentDelaySeconds must be 0…86400 simulated seconds")
        }
        try merged.validateSSM()
        return merged
    }

    /// Checks the SSM documents' settings.
    func validateSSM() throws(DRSSimAdminError) {
        try ssmDefault.validate("(default)")
        for (name, document) in ssmDocuments { try document.validate(name) }
    }

    /// How long after its time log item `index` of `jobID` is listed: a
    /// stable pseudo-random share of `logJitterSeconds` (the same on every read).
    func logDelay(jobID: String, index: Int) -> Double {
        guard logJitterSeconds > 0 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in jobID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var mixed = hash ^ UInt64(index) &* 0x9e37_79b9_7f4a_7c15
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        mixed ^= mixed >> 31
        return Double(mixed % 1_000_001) / 1_000_000 * logJitterSeconds
    }
}
