import Foundation
import MusterDomain
import MusterEvents

/// The tags on every DRS job Muster starts (DESIGN §5), and how a job is
/// recognised from them when reconciling (DESIGN §4). DRS tag rules
/// (botocore `TagsMap`): keys and values are strings of at most 256
/// characters, keys must not start with `aws:`; AWS allows 50 tags per
/// resource. Values longer than the limit are truncated, never rejected.
public enum JobTags {
    /// The longest tag key or value DRS accepts.
    public static let maxLength = 256

    /// Tag keys.
    public static let executionID = "muster:executionId"
    /// DRILL or RECOVERY.
    public static let executionType = "muster:executionType"
    /// The plan's name.
    public static let planName = "muster:planName"
    /// The wave's name.
    public static let waveName = "muster:waveName"
    /// The wave's number (0 for cleanup jobs).
    public static let waveNumber = "muster:waveNumber"
    /// `LaunchGroupID` string form.
    public static let launchGroup = "muster:launchGroup"
    /// The chunk of the launch group (0-based).
    public static let chunk = "muster:chunk"
    /// The launch attempt (planner retries).
    public static let attempt = "muster:attempt"
    /// Who started the execution.
    public static let initiatedBy = "muster:initiatedBy"
    /// The owning team.
    public static let team = "muster:team"
    /// When the launcher asked (RFC 3339).
    public static let timestamp = "muster:timestamp"

    /// The tags of chunk `chunk` of `request`'s launch group, asked at `now`.
    public static func launchTags(for request: LaunchGroupRequested, chunk: Int, now: Date) -> [String: String] {
        sanitized([
            executionID: request.launchGroup.executionID.rawValue,
            executionType: request.executionType.rawValue,
            planName: request.planName,
            waveName: request.waveName,
            waveNumber: String(request.launchGroup.waveNumber),
            launchGroup: request.launchGroup.description,
            Self.chunk: String(chunk),
            attempt: String(request.attempt),
            initiatedBy: request.initiatedBy,
            team: request.team.rawValue,
            timestamp: EventCoding.formatTime(now),
        ])
    }

    /// Keys and values cut to DRS's limits; empty values kept (DRS allows
    /// them), `aws:` keys dropped.
    public static func sanitized(_ tags: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in tags where !key.lowercased().hasPrefix("aws:") && !key.isEmpty {
            result[String(key.prefix(maxLength))] = String(value.prefix(maxLength))
        }
        return result
    }

    /// What identifies one launch: the launch group, chunk and attempt.
    public struct Identity: Sendable, Hashable {
        /// The launch group.
        public var launchGroup: String
        /// The chunk.
        public var chunk: Int
        /// The attempt.
        public var attempt: Int

        /// Creates an identity.
        public init(launchGroup: String, chunk: Int, attempt: Int) {
            self.launchGroup = launchGroup
            self.chunk = chunk
            self.attempt = attempt
        }
    }

    /// The identity a job's tags carry, nil when they are not a Muster launch.
    /// A job without `muster:attempt` counts as attempt 1.
    public static func identity(of tags: [String: String]?) -> Identity? {
        guard let tags, let group = tags[launchGroup], let chunkText = tags[chunk], let chunkNumber = Int(chunkText)
        else { return nil }
        return Identity(launchGroup: group, chunk: chunkNumber, attempt: tags[attempt].flatMap(Int.init) ?? 1)
    }
}
