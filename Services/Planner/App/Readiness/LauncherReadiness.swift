import Foundation
import MusterDomain
import MusterEvents

/// The launcher's half of readiness (issue 16), pure: the requests the
/// planner sends for a plan (one per AWS account, on `accounts.v1`), and the
/// merge of the launcher's answers into the planner's own checks.
enum LauncherReadiness {
    /// The checks the launcher answers, in order (`ReadinessChecked`).
    static let names = ["account.credentials", "servers.noLiveJob", "servers.noRecoveryInstance", "account.quotas",
                        "launch.settings", "hooks.reachable"]

    /// One account's answer as stored.
    struct Answer: Sendable, Equatable {
        var accountID: String
        var evaluationID: UUID
        var checks: [PlanReadinessCheck]
        var checkedAt: Date
    }

    /// The SSM steps' documents per account (steps whose endpoint does not resolve are the planner's own finding).
    static func ssmDocuments(_ facts: ReadinessFacts) -> [String: [ReadinessCheckRequested.SSMDocument]] {
        var byAccount: [String: [ReadinessCheckRequested.SSMDocument]] = [:]
        for hook in facts.hooks {
            guard let ssm = hook.step.ssm, let endpoint = hook.ssmEndpoint else { continue }
            byAccount[endpoint.accountID, default: []].append(.init(
                stepName: hook.step.name, waveName: hook.waveName, region: endpoint.region,
                documentName: ssm.documentName, documentVersion: ssm.documentVersion))
        }
        return byAccount
    }

    /// The accounts the launcher is asked about: the servers' and the SSM steps', sorted.
    static func accounts(_ facts: ReadinessFacts) -> [String] {
        Array(Set(facts.servers.map(\.accountID)).union(ssmDocuments(facts).keys)).sorted()
    }

    /// The requests for `facts` (one per account, regions sorted), asking about the drill launch profiles'
    /// EC2 references of each server's group and wave, and about the documents of the SSM steps that run in
    /// the account (`ssmDocuments` nil when none does; an account with SSM steps only has no regions).
    static func requests(planID: PlanID, evaluationID: UUID, facts: ReadinessFacts, profiles: PlanLaunchProfiles?,
                         now: Date) -> [ReadinessCheckRequested] {
        let quotas = ReadinessCheckRequested.Quotas(
            concurrentJobs: facts.quotas.concurrentJobs, serversInActiveJobs: facts.quotas.serversInActiveJobs)
        let documents = ssmDocuments(facts)
        let byAccount = Dictionary(grouping: facts.servers, by: \.accountID)
        return accounts(facts).map { account in
            let servers = byAccount[account] ?? []
            let regions = Dictionary(grouping: servers, by: \.region).sorted { $0.key < $1.key }.map { region, servers in
                var subnets: Set<String> = [], groups: Set<String> = [], types: Set<String> = []
                for server in servers {
                    guard let settings = profiles?.resolve(server: server.id, group: server.groupID, wave: server.wave,
                                                           type: .drill)?.settings else { continue }
                    if let subnet = settings.subnetId { subnets.insert(subnet) }
                    groups.formUnion(settings.securityGroupIds ?? [])
                    if let type = settings.instanceType { types.insert(type) }
                }
                let perWave = Dictionary(grouping: servers, by: \.wave).values.map(\.count)
                let perJob = max(1, facts.quotas.serversPerJob)
                let ids = Set(servers.map(\.id)).sorted().map(SourceServerID.init(rawValue:))
                return ReadinessCheckRequested.Region(
                    region: region, sourceServerIDs: ids, subnetIDs: subnets.sorted(),
                    securityGroupIDs: groups.sorted(), instanceTypes: types.sorted(), peakServers: perWave.max() ?? 0,
                    peakJobs: perWave.map { ($0 + perJob - 1) / perJob }.max() ?? 0)
            }
            return ReadinessCheckRequested(
                planID: planID, evaluationID: evaluationID.uuidString.lowercased(),
                accountID: account, regions: regions, quotas: quotas, requestedAt: now, ssmDocuments: documents[account])
        }
    }

    /// The launcher's checks over `accounts`: per check name the worst status among the accounts' answers,
    /// servers joined, messages prefixed by account when there are several. An account without an answer
    /// (`answers` lacks it) gives every launcher check `unknown` with `missing(account)` as the reason
    /// (`hooks.reachable` only for the `ssmAccounts`, where SSM steps run); nil leaves that account out (the
    /// periodic path: an answer is still on its way).
    static func checks(accounts: [String], answers: [Answer], ssmAccounts: Set<String> = [],
                       missing: (String) -> String?) -> [PlanReadinessCheck] {
        let byAccount = Dictionary(answers.map { ($0.accountID, $0) }, uniquingKeysWith: { $0.checkedAt >= $1.checkedAt ? $0 : $1 })
        var perName: [String: [(account: String, check: PlanReadinessCheck)]] = [:]
        for account in accounts.sorted() {
            if let answer = byAccount[account] {
                for check in answer.checks { perName[check.name, default: []].append((account, check)) }
            } else if let missing = missing(account) {
                for name in names where name != "hooks.reachable" || ssmAccounts.contains(account) {
                    perName[name, default: []].append((account, PlanReadinessCheck(
                        name: name, status: .unknown, message: missing,
                        fix: "check that the launcher runs and consumes accounts.v1, then evaluate again")))
                }
            }
        }
        let order = names + perName.keys.filter { !names.contains($0) }.sorted()
        return order.compactMap { name in
            guard let found = perName[name], !found.isEmpty else { return nil }
            let worst = found.map(\.check.status).max() ?? .ok
            let message = found.count == 1 ? found[0].check.message
                : found.map { "account \($0.account): \($0.check.message)" }.joined(separator: "; ")
            return PlanReadinessCheck(
                name: name, status: worst, servers: Array(Set(found.flatMap(\.check.servers))).sorted(),
                message: message, fix: found.first { $0.check.status == worst }?.check.fix)
        }
    }

    /// `local` with `launcher` merged in: a check both answer takes the worse status (on a tie the launcher's
    /// text: DRS's live view beats the inventory's snapshot); a finding of the milder side is kept (its
    /// servers joined, its message appended), so an `unknown` from the launcher never hides what the
    /// planner found. The launcher's other checks follow the local ones.
    static func merge(_ local: ReadinessEvaluation, _ launcher: [PlanReadinessCheck]) -> ReadinessEvaluation {
        let byName = Dictionary(launcher.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var checks = local.checks.map { check -> PlanReadinessCheck in
            guard let theirs = byName[check.name] else { return check }
            let (worse, other) = theirs.status >= check.status ? (theirs, check) : (check, theirs)
            guard other.status != .ok else { return worse }
            var merged = worse
            merged.servers = Array(Set(worse.servers + other.servers)).sorted()
            if other.status != worse.status {
                merged.message = "\(worse.message); \(other.message)"
                merged.fix = worse.fix ?? other.fix
            }
            return merged
        }
        let localNames = Set(local.checks.map(\.name))
        checks += launcher.filter { !localNames.contains($0.name) }
        return ReadinessEvaluation(checks: checks)
    }

    /// A stored answer as the planner's checks (an unknown status word reads as `unknown`).
    static func checks(of answer: ReadinessChecked) -> [PlanReadinessCheck] {
        answer.checks.map {
            PlanReadinessCheck(name: $0.name, status: $0.status,
                               servers: $0.servers, message: $0.message, fix: $0.fix)
        }
    }
}
