import Foundation
import MusterDRS
import MusterDomain
import MusterEvents
import Synchronization

/// Before a launch (DESIGN §5): each server's launch configuration is read
/// (GetLaunchConfiguration, cached), optionally repaired when empty, and the
/// plan's overrides applied with UpdateLaunchConfiguration where they differ.
final class LaunchConfigurationCheck: Sendable {
    private struct Cached { var configuration: LaunchConfiguration; var at: ContinuousClock.Instant }

    private let cache = Mutex<[String: Cached]>([:])
    /// Keys being read ahead by `warm`, so two passes never read one server twice at once.
    private let warming = Mutex<Set<String>>([])
    private let gate: DRSGate
    private let ttl: Duration
    private let repairEmpty: Bool
    private let capacity: Int

    /// `capacity` bounds the cache (docs/launcher.md "Memory"): past it, expired entries go,
    /// then the older half of what is left.
    init(gate: DRSGate, ttl: Duration, repairEmpty: Bool, capacity: Int = 2048) {
        self.gate = gate
        self.ttl = ttl
        self.repairEmpty = repairEmpty
        self.capacity = max(capacity, 1)
    }

    /// Entries cached now (tests).
    var count: Int { cache.withLock { $0.count } }

    /// Whether `key` is cached (tests).
    func cached(_ key: String) -> Bool { cache.withLock { $0[key] != nil } }

    /// Caches `configuration` for `key`, keeping the cache within its capacity.
    func remember(_ key: String, _ configuration: LaunchConfiguration, at now: ContinuousClock.Instant = .now) {
        cache.withLock { entries in
            entries[key] = Cached(configuration: configuration, at: now)
            if entries.count > capacity { Self.evict(&entries, capacity: capacity, ttl: ttl, now: now) }
        }
    }

    /// Drops expired entries; if more than half of `capacity` remain, keeps the newest half of
    /// `capacity` (so eviction runs once per `capacity / 2` inserts, not on every one).
    private static func evict(
        _ entries: inout [String: Cached], capacity: Int, ttl: Duration, now: ContinuousClock.Instant
    ) {
        entries = entries.filter { now - $0.value.at < ttl }
        let keep = max(capacity / 2, 1)
        guard entries.count > keep else { return }
        let newest = entries.sorted { $0.value.at > $1.value.at }.prefix(keep)
        entries = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }

    /// Reads, repairs and overrides the configurations of `servers`.
    func prepare(_ servers: [SourceServerID], overrides: LaunchOverrides?, endpoint: Endpoint) async throws {
        for server in servers {
            let key = "\(endpoint.key)/\(server)"
            var configuration: LaunchConfiguration
            if let cached = cache.withLock({ $0[key] }), ContinuousClock.now - cached.at < ttl {
                configuration = cached.configuration
            } else {
                configuration = try await gate.call(endpoint, "GetLaunchConfiguration") {
                    try await $0.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: server.rawValue))
                }
                remember(key, configuration)
            }
            if let update = Self.update(for: configuration, server: server, overrides: overrides, repairEmpty: repairEmpty) {
                configuration = try await gate.call(endpoint, "UpdateLaunchConfiguration") {
                    try await $0.updateLaunchConfiguration(update)
                }
                remember(key, configuration)
            }
        }
    }

    /// Reads ahead (and caches) the configurations of `servers` not cached
    /// yet: called for chunks waiting for a slot, so the launch that follows
    /// the slot's release makes no GetLaunchConfiguration on its way to
    /// StartRecovery. Spends spare request budget only (`.background`: it
    /// never delays a launch); a failure is left to `prepare`, which reads again.
    /// Returns how many configurations it read.
    @discardableResult
    func warm(_ servers: [SourceServerID], endpoint: Endpoint) async -> Int {
        var read = 0
        for server in servers {
            let key = "\(endpoint.key)/\(server)"
            let fresh = cache.withLock { cache in cache[key].map { ContinuousClock.now - $0.at < ttl / 2 } ?? false }
            guard !fresh, warming.withLock({ $0.insert(key).inserted }) else { continue }
            defer { warming.withLock { _ = $0.remove(key) } }
            guard let configuration = try? await gate.call(endpoint, "GetLaunchConfiguration", priority: .background, {
                try await $0.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: server.rawValue))
            }) else { return read }
            remember(key, configuration)
            read += 1
        }
        return read
    }

    /// Whether each launched source server of `job` without post-launch runs
    /// has post-launch actions enabled: from the cache, else read once (and
    /// cached), so a RECOVERY server with them disabled is not waited for.
    func postLaunchEnabled(_ job: Job, endpoint: Endpoint) async throws -> [SourceServerID: Bool?] {
        var result: [SourceServerID: Bool?] = [:]
        for server in job.participatingServers ?? [] {
            guard let id = server.sourceServerID.map(SourceServerID.init(rawValue:)), server.launchStatus == .launched,
                  (server.launchActionsStatus?.runs ?? []).isEmpty else { continue }
            let key = "\(endpoint.key)/\(id)"
            if let cached = cache.withLock({ $0[key] }) {
                result[id] = cached.configuration.postLaunchEnabled
                continue
            }
            let configuration = try await gate.call(endpoint, "GetLaunchConfiguration") {
                try await $0.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: id.rawValue))
            }
            remember(key, configuration)
            result[id] = configuration.postLaunchEnabled
        }
        return result
    }

    /// The update `configuration` needs, nil when none. Pure.
    static func update(
        for configuration: LaunchConfiguration, server: SourceServerID, overrides: LaunchOverrides?, repairEmpty: Bool
    ) -> UpdateLaunchConfigurationRequest? {
        var request = UpdateLaunchConfigurationRequest(sourceServerID: server.rawValue)
        var changed = false
        let isEmpty = configuration.launchDisposition == nil && configuration.targetInstanceTypeRightSizingMethod == nil
            && configuration.copyPrivateIp == nil && configuration.copyTags == nil
        if repairEmpty && isEmpty {
            request.launchDisposition = .started
            request.targetInstanceTypeRightSizingMethod = .basic
            request.copyPrivateIp = false
            request.copyTags = true
            changed = true
        }
        if let overrides {
            if let value = overrides.copyPrivateIp, value != configuration.copyPrivateIp {
                request.copyPrivateIp = value
                changed = true
            }
            if let value = overrides.copyTags, value != configuration.copyTags {
                request.copyTags = value
                changed = true
            }
            if let value = overrides.launchDisposition, value.rawValue != configuration.launchDisposition?.rawValue {
                request.launchDisposition = LaunchDisposition(rawValue: value.rawValue)
                changed = true
            }
            if let value = overrides.targetInstanceTypeRightSizingMethod,
               value.rawValue != configuration.targetInstanceTypeRightSizingMethod?.rawValue {
                request.targetInstanceTypeRightSizingMethod = TargetInstanceTypeRightSizingMethod(rawValue: value.rawValue)
                changed = true
            }
            if let value = overrides.osByol, value != configuration.licensing?.osByol {
                request.licensing = Licensing(osByol: value)
                changed = true
            }
        }
        return changed ? request : nil
    }
}
