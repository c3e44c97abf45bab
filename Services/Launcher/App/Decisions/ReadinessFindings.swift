import Foundation
import MusterDRS
import MusterEvents

/// The readiness checks only AWS can answer (issue 16), pure: what DRS and
/// EC2 said about one account in, the checks of `readiness.checked` out.
/// Each check is spelled like the planner's own (name, status, servers,
/// message, fix); a look-up that failed makes its check `unknown` with the
/// reason, never `ok`.
enum ReadinessFindings {
    /// A look-up's outcome: the answer, or why there is none (no secret in it).
    enum Lookup<T: Sendable>: Sendable {
        case found(T)
        case failed(String)
    }

    /// What the launcher found in one region of the account.
    struct Region: Sendable {
        var request: ReadinessCheckRequested.Region
        /// Jobs DRS reports as not COMPLETED (every job of the region, not only Muster's).
        var activeJobs: Lookup<[Job]>
        /// Recovery instances of the request's servers.
        var recoveryInstances: Lookup<[RecoveryInstance]>
        /// The requested subnets and security groups EC2 does not know.
        var missingSubnets: Lookup<[String]>
        var missingSecurityGroups: Lookup<[String]>
        /// The requested instance types not offered in the region.
        var missingInstanceTypes: Lookup<[String]> = .found([])
    }

    /// What `DescribeDocument` said about one SSM step's document.
    enum Document: Sendable, Equatable {
        /// It exists; its `DocumentType` (`Automation` runs, another type cannot be started as an automation).
        case found(type: String?)
        /// SSM answered `InvalidDocument` or `InvalidDocumentVersion` (the error type and message).
        case missing(String)
    }

    /// The check names, in the answer's order.
    static let names = ["account.credentials", "servers.noLiveJob", "servers.noRecoveryInstance", "account.quotas",
                        "launch.settings", "hooks.reachable"]

    /// Instance states that are no longer a leftover.
    static let gone: Set<EC2InstanceState> = [.terminated, .notFound]

    /// The answer when the credentials already failed: that check blocks, the others could not be looked at
    /// (`hooks.reachable` among them only when the request named SSM documents).
    static func credentialsFailed(_ reason: String, hooks: Bool = false) -> [ReadinessChecked.Check] {
        [.init(name: "account.credentials", status: .blocking,
               message: "the account's credentials do not work: \(reason)",
               fix: "check the account's role (trust policy, external id) or key pair variables and the launcher's base credentials")]
            + names.dropFirst().filter { hooks || $0 != "hooks.reachable" }.map {
                .init(name: $0, status: .unknown, message: "not checked: the account's credentials do not work",
                      fix: "fix account.credentials first")
            }
    }

    /// Every check over `regions` (credentials worked), comparing DRS's figures with `quotas`, and the SSM
    /// steps' `documents` (nil: the request named none — a planner that predates the field). An account the
    /// plan has no servers in (only SSM steps run there) answers `hooks.reachable` alone.
    static func checks(_ regions: [Region], quotas: ReadinessCheckRequested.Quotas,
                       documents: [(ReadinessCheckRequested.SSMDocument, Lookup<Document>)]? = nil) -> [ReadinessChecked.Check] {
        let hooks = documents.map { [self.documents($0)] } ?? []
        guard !regions.isEmpty else { return hooks }
        return [.init(name: "account.credentials", status: .ok, message: "the account's credentials work (DRS answered)"),
                liveJobs(regions), leftovers(regions), quotaCheck(regions, quotas: quotas), launchSettings(regions)] + hooks
    }

    /// `step (wave W): document[:version] in region`.
    static func describe(_ document: ReadinessCheckRequested.SSMDocument) -> String {
        "step \(document.stepName) (wave \(document.waveName)): \(document.documentName)"
            + (document.documentVersion.map { ":\($0)" } ?? "") + " in \(document.region)"
    }

    /// Every SSM step's document exists (and is an Automation document) where the step runs. A missing one
    /// blocks (the step would fail to start mid-drill); a failed look-up makes the check `unknown`, never `ok`.
    static func documents(_ documents: [(ReadinessCheckRequested.SSMDocument, Lookup<Document>)]) -> ReadinessChecked.Check {
        var missing: [String] = [], failed: [String] = []
        for (document, lookup) in documents {
            switch lookup {
            case .found(.found(let type)) where type == nil || type == "Automation": continue
            case .found(.found(let type)):
                missing.append("\(describe(document)) is a \(type ?? "") document, not Automation")
            case .found(.missing(let why)): missing.append("\(describe(document)) does not exist (\(why))")
            case .failed(let why): failed.append("\(describe(document)): \(why)")
            }
        }
        if !missing.isEmpty {
            return .init(name: "hooks.reachable", status: .blocking,
                         message: "SSM step document(s) cannot run: " + missing.joined(separator: "; ")
                            + (failed.isEmpty ? "" : "; not checked: " + failed.joined(separator: "; ")),
                         fix: "create or share the Automation document in the step's account and region, or correct the step's documentName/documentVersion")
        }
        if !failed.isEmpty {
            return .init(name: "hooks.reachable", status: .unknown,
                         message: "DescribeDocument failed: " + failed.joined(separator: "; "),
                         fix: "evaluate again; if it persists check the account's ssm:DescribeDocument permission and the launcher's logs")
        }
        return .init(name: "hooks.reachable", status: .ok,
                     message: documents.isEmpty ? "no SSM step runs in the account"
                        : "every SSM step's Automation document exists (\(documents.count) checked)")
    }

    /// A job that is not COMPLETED.
    static func isActive(_ job: Job) -> Bool { job.status != .completed }

    /// The servers of `job` among `servers`.
    static func touched(_ job: Job, _ servers: Set<String>) -> [String] {
        (job.participatingServers ?? []).compactMap(\.sourceServerID).filter(servers.contains)
    }

    /// The failures of `lookups`, joined; nil when every look-up succeeded.
    static func failures(_ lookups: [(String, String?)]) -> String? {
        let failed = lookups.compactMap { region, why in why.map { "\(region): \($0)" } }
        return failed.isEmpty ? nil : failed.joined(separator: "; ")
    }

    static func failure<T>(_ lookup: Lookup<T>) -> String? {
        if case .failed(let why) = lookup { return why }
        return nil
    }

    static func value<T>(_ lookup: Lookup<T>) -> T? {
        if case .found(let value) = lookup { return value }
        return nil
    }

    /// A Muster job (tagged by the launcher) makes the plan wait for its leases; anyone else's job would make
    /// StartRecovery fail with a conflict, so it blocks.
    static func liveJobs(_ regions: [Region]) -> ReadinessChecked.Check {
        if let why = failures(regions.map { ($0.request.region, failure($0.activeJobs)) }) {
            return .init(name: "servers.noLiveJob", status: .unknown, message: "DescribeJobs failed: \(why)",
                         fix: "evaluate again; if it persists check the launcher's logs for the account")
        }
        var ours: Set<String> = [], foreign: Set<String> = [], foreignJobs: Set<String> = []
        for region in regions {
            let servers = Set(region.request.sourceServerIDs.map(\.rawValue))
            for job in value(region.activeJobs) ?? [] where isActive(job) {
                let hit = touched(job, servers)
                guard !hit.isEmpty else { continue }
                if job.tags?[JobTags.executionID] != nil {
                    ours.formUnion(hit)
                } else {
                    foreign.formUnion(hit)
                    foreignJobs.insert(job.jobID)
                }
            }
        }
        if !foreign.isEmpty {
            return .init(name: "servers.noLiveJob", status: .blocking, servers: foreign.sorted(),
                         message: "\(foreign.count) server(s) are in DRS job(s) not started by Muster "
                            + "(\(foreignJobs.sorted().joined(separator: ", "))); a launch would conflict",
                         fix: "wait for those jobs to complete in DRS before starting the plan")
        }
        if !ours.isEmpty {
            return .init(name: "servers.noLiveJob", status: .warning, servers: ours.sorted(),
                         message: "\(ours.count) server(s) are in live DRS jobs of a Muster execution; their launches will wait for it",
                         fix: "wait for that execution to end, or cancel it")
        }
        return .init(name: "servers.noLiveJob", status: .ok, message: "DRS reports no live job for the plan's servers")
    }

    /// A recovery instance that is still there and not being launched by a live job is a leftover.
    static func leftovers(_ regions: [Region]) -> ReadinessChecked.Check {
        if let why = failures(regions.map { ($0.request.region, failure($0.recoveryInstances)) }) {
            return .init(name: "servers.noRecoveryInstance", status: .unknown,
                         message: "DescribeRecoveryInstances failed: \(why)",
                         fix: "evaluate again; if it persists check the launcher's logs for the account")
        }
        var left: Set<String> = [], instances: Set<String> = []
        for region in regions {
            let servers = Set(region.request.sourceServerIDs.map(\.rawValue))
            let live = Set((value(region.activeJobs) ?? []).filter(isActive).map(\.jobID))
            for instance in value(region.recoveryInstances) ?? [] {
                guard let server = instance.sourceServerID, servers.contains(server),
                      !gone.contains(instance.ec2InstanceState ?? .running),
                      !(instance.jobID.map(live.contains) ?? false) else { continue }
                left.insert(server)
                if let id = instance.recoveryInstanceID { instances.insert(id) }
            }
        }
        guard left.isEmpty else {
            return .init(name: "servers.noRecoveryInstance", status: .blocking, servers: left.sorted(),
                         message: "DRS holds \(instances.count) recovery instance(s) of \(left.count) server(s) from an earlier launch "
                            + "(\(instances.sorted().joined(separator: ", ")))",
                         fix: "clean up the earlier drill (muster cleanup EXECUTION) or terminate the recovery instances in DRS")
        }
        return .init(name: "servers.noRecoveryInstance", status: .ok, message: "DRS holds no recovery instance of the plan's servers")
    }

    /// Per region (DRS quotas are per account and region): the plan's largest wave there against the configured
    /// quotas (exceeding them alone blocks: the plan must change), and beside DRS's active jobs and the servers
    /// in them (exceeding them only then is a warning: the launcher queues the launches for job slots, and a
    /// busy region must never refuse a recovery).
    static func quotaCheck(_ regions: [Region], quotas: ReadinessCheckRequested.Quotas) -> ReadinessChecked.Check {
        if let why = failures(regions.map { ($0.request.region, failure($0.activeJobs)) }) {
            return .init(name: "account.quotas", status: .unknown, message: "DescribeJobs failed: \(why)",
                         fix: "evaluate again; if it persists check the launcher's logs for the account")
        }
        var tooLarge: [String] = [], busy: [String] = [], figures: [String] = []
        var blockingServers: [String] = [], waitingServers: [String] = []
        for region in regions {
            let active = (value(region.activeJobs) ?? []).filter(isActive)
            let inJobs = active.reduce(0) { $0 + ($1.participatingServers?.count ?? 0) }
            let name = region.request.region, peakJobs = region.request.peakJobs, peakServers = region.request.peakServers
            figures.append("\(name): \(active.count) active job(s), \(inJobs) server(s) in them")
            if peakJobs > quotas.concurrentJobs || peakServers > quotas.serversInActiveJobs {
                tooLarge.append("\(name): the largest wave (\(peakJobs) job(s), \(peakServers) server(s)) exceeds \(quotas.concurrentJobs) concurrent jobs or \(quotas.serversInActiveJobs) servers in active jobs")
                blockingServers += region.request.sourceServerIDs.map(\.rawValue)
            } else if active.count + peakJobs > quotas.concurrentJobs {
                busy.append("\(name): \(active.count) active job(s) in DRS + \(peakJobs) for the largest wave exceed \(quotas.concurrentJobs) concurrent jobs")
                waitingServers += region.request.sourceServerIDs.map(\.rawValue)
            } else if inJobs + peakServers > quotas.serversInActiveJobs {
                busy.append("\(name): \(inJobs) server(s) in active DRS jobs + \(peakServers) in the largest wave exceed \(quotas.serversInActiveJobs)")
                waitingServers += region.request.sourceServerIDs.map(\.rawValue)
            }
        }
        if !tooLarge.isEmpty {
            return .init(name: "account.quotas", status: .blocking, servers: blockingServers.sorted(),
                         message: (tooLarge + busy).joined(separator: "; "),
                         fix: "split the largest wave, or raise the DRS quota")
        }
        if !busy.isEmpty {
            return .init(name: "account.quotas", status: .warning, servers: waitingServers.sorted(),
                         message: busy.joined(separator: "; ") + ": launches will wait for job slots",
                         fix: "nothing is required (the launcher queues the launches); to launch sooner, wait for running jobs to end or raise the DRS quota")
        }
        return .init(name: "account.quotas", status: .ok,
                     message: "the largest wave fits DRS's live figures (\(figures.joined(separator: "; ")))")
    }

    /// The launch profiles' subnets and security groups exist in the region.
    static func launchSettings(_ regions: [Region]) -> ReadinessChecked.Check {
        let lookups = regions.flatMap { region in
            [(region.request.region, failure(region.missingSubnets)), (region.request.region, failure(region.missingSecurityGroups)),
             (region.request.region, failure(region.missingInstanceTypes))]
        }
        if let why = failures(lookups) {
            return .init(name: "launch.settings", status: .unknown, message: "EC2 look-up failed: \(why)",
                         fix: "evaluate again; if it persists check the account's EC2 permissions (ec2:Describe*)")
        }
        var missing: [String] = [], servers: [String] = []
        for region in regions {
            let absent = (value(region.missingSubnets) ?? []) + (value(region.missingSecurityGroups) ?? [])
                + (value(region.missingInstanceTypes) ?? [])
            guard !absent.isEmpty else { continue }
            missing.append("\(region.request.region): \(absent.sorted().joined(separator: ", "))")
            servers += region.request.sourceServerIDs.map(\.rawValue)
        }
        guard missing.isEmpty else {
            return .init(name: "launch.settings", status: .blocking, servers: servers.sorted(),
                         message: "the launch profiles name EC2 resources that do not exist (or instance types not offered): \(missing.joined(separator: "; "))",
                         fix: "correct the subnet, security group or instance type of the plan's launch profiles")
        }
        let named = regions.reduce(0) {
            $0 + $1.request.subnetIDs.count + $1.request.securityGroupIDs.count + $1.request.instanceTypes.count
        }
        return .init(name: "launch.settings", status: .ok,
                     message: named == 0 ? "no launch profile names a subnet, security group or instance type"
                        : "every subnet, security group and instance type the launch profiles name exists in the region")
    }
}
