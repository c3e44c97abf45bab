import Foundation
import MusterDRS
import MusterDomain
import MusterEC2
import MusterEvents
import MusterMessaging
import ServiceLifecycle

/// Answers `readiness.check-requested` (issue 16): per request, the DRS and
/// EC2 look-ups of `ReadinessFindings`, every call through the gate at
/// background priority (spare tokens only, never repeated, never pausing the
/// endpoint — a readiness check cannot delay a StartRecovery), then the
/// answer on `inventory.v1` in the transaction that closes the request.
final class ReadinessChecks: Service, Sendable {
    private let context: LauncherContext
    private let store: ReadinessRequestStore
    private let loop: WorkLoop
    /// How long a claimed request is left to its worker before another may take it.
    static let lease: Duration = .seconds(60)

    init(context: LauncherContext) {
        self.context = context
        self.store = ReadinessRequestStore(launch: context.store)
        self.loop = WorkLoop(name: "readiness", timing: LoopTiming(idle: .seconds(5)), logger: context.logger)
    }

    /// A request was recorded: look now.
    func wake() { loop.wake() }

    func run() async throws {
        try await loop.run {
            guard let request = try await store.claim(lease: Self.lease, pool: context.pool) else { return .idle }
            let answer = await check(request)
            try await store.answer(answer, pool: context.pool)
            context.wakeRelay()
            return .immediately
        }
    }

    /// Every check of `request`.
    func check(_ request: ReadinessCheckRequested) async -> ReadinessChecked {
        let checks: [ReadinessChecked.Check]
        if let failure = await credentialsFailure(request) {
            checks = ReadinessFindings.credentialsFailed(failure, hooks: request.ssmDocuments != nil)
        } else {
            var regions: [ReadinessFindings.Region] = []
            for region in request.regions {
                regions.append(await look(at: region, account: request.accountID))
            }
            var documents: [(ReadinessCheckRequested.SSMDocument, ReadinessFindings.Lookup<ReadinessFindings.Document>)]?
            if let wanted = request.ssmDocuments {
                documents = []
                for document in wanted {
                    documents?.append((document, await describe(document, account: request.accountID)))
                }
            }
            checks = ReadinessFindings.checks(regions, quotas: request.quotas, documents: documents)
        }
        return ReadinessChecked(planID: request.planID, evaluationID: request.evaluationID, accountID: request.accountID,
                                checks: checks, checkedAt: Date())
    }

    /// One cheap signed DRS call in the first region: with an assumed role it first needs STS's
    /// AssumeRole, so both the base chain and the role are proven. Only an authentication or
    /// credentials failure counts (a throttled call proves nothing either way and is ignored here).
    private func credentialsFailure(_ request: ReadinessCheckRequested) async -> String? {
        guard let region = request.regions.first?.region else { return nil }
        let endpoint = Endpoint(accountID: request.accountID, region: region)
        do {
            _ = try await context.gate.call(endpoint, "DescribeJobs", priority: .background) {
                try await $0.describeJobs(DescribeJobsRequest(maxResults: 1))
            }
            return nil
        } catch let error as AccountError {
            return error.description
        } catch let error as DRSError {
            switch error {
            case .credentials, .accessDenied, .uninitializedAccount: return Self.reason(error)
            case .unknown(let type, let status, _) where status == 401 || status == 403:
                return "\(type): \(Self.reason(error))"
            default: return nil
            }
        } catch {
            return nil
        }
    }

    private func look(at region: ReadinessCheckRequested.Region, account: String) async -> ReadinessFindings.Region {
        let endpoint = Endpoint(accountID: account, region: region.region)
        let gate = context.gate
        let jobs: ReadinessFindings.Lookup<[Job]> = await lookup {
            try await gate.callAll(endpoint, "DescribeJobs", priority: .background, items: \.items, nextToken: \.nextToken) {
                try await $0.describeJobs(DescribeJobsRequest(maxResults: 1000, nextToken: $1))
            }.filter(ReadinessFindings.isActive)
        }
        var instances: [RecoveryInstance] = []
        var instanceFailure: String?
        // DescribeRecoveryInstances takes at most 200 source server ids per filter.
        for start in stride(from: 0, to: region.sourceServerIDs.count, by: 200) where instanceFailure == nil {
            let ids = region.sourceServerIDs[start..<min(start + 200, region.sourceServerIDs.count)].map(\.rawValue)
            switch await lookup({
                try await gate.callAll(endpoint, "DescribeRecoveryInstances", priority: .background, items: \.items,
                                       nextToken: \.nextToken) {
                    try await $0.describeRecoveryInstances(DescribeRecoveryInstancesRequest(
                        filters: DescribeRecoveryInstancesRequestFilters(sourceServerIDs: ids), maxResults: 200,
                        nextToken: $1))
                }
            }) {
            case .found(let found): instances += found
            case .failed(let why): instanceFailure = why
            }
        }
        return ReadinessFindings.Region(
            request: region, activeJobs: jobs,
            recoveryInstances: instanceFailure.map { .failed($0) } ?? .found(instances),
            missingSubnets: await missing(region.subnetIDs, endpoint, "DescribeSubnets", notFound: "InvalidSubnetID.NotFound") {
                try await $0.describeSubnets(ids: [$1]).map(\.subnetID)
            },
            missingSecurityGroups: await missing(region.securityGroupIDs, endpoint, "DescribeSecurityGroups",
                                                 notFound: "InvalidGroup.NotFound") {
                try await $0.describeSecurityGroups(ids: [$1]).map(\.groupID)
            },
            missingInstanceTypes: await offerings(region.instanceTypes, endpoint))
    }

    /// The ids EC2 does not know, asked one by one: EC2 refuses a whole `DescribeSubnets` naming one unknown
    /// id (`…NotFound`), and a model that leaves it out of the answer instead is read the same way.
    private func missing(
        _ ids: [String], _ endpoint: Endpoint, _ operation: String, notFound: String,
        _ describe: @escaping @Sendable (EC2Client, String) async throws -> [String]
    ) async -> ReadinessFindings.Lookup<[String]> {
        var absent: [String] = []
        for id in Set(ids).sorted() {
            do {
                let found = try await context.gate.callEC2(endpoint, operation, priority: .background) {
                    try await describe($0, id)
                }
                if !found.contains(id) { absent.append(id) }
            } catch let error as EC2Error where error.code == notFound {
                absent.append(id)
            } catch {
                return .failed("\(operation): \(Self.reason(error))")
            }
        }
        return .found(absent)
    }

    /// The requested instance types not offered in the region: one call for all of them.
    private func offerings(_ types: [String], _ endpoint: Endpoint) async -> ReadinessFindings.Lookup<[String]> {
        guard !types.isEmpty else { return .found([]) }
        let wanted = Array(Set(types)).sorted()
        do {
            let offered = Set(try await context.gate.callEC2(endpoint, "DescribeInstanceTypeOfferings", priority: .background) {
                try await $0.describeInstanceTypeOfferings(types: wanted)
            })
            return .found(wanted.filter { !offered.contains($0) })
        } catch {
            return .failed("DescribeInstanceTypeOfferings: \(Self.reason(error))")
        }
    }

    /// `ssm:DescribeDocument` for one SSM step, at background priority (one attempt, spare tokens only):
    /// `InvalidDocument`/`InvalidDocumentVersion` mean the document is not there; any other failure
    /// (credentials, throttling, access denied) leaves the answer open.
    private func describe(_ document: ReadinessCheckRequested.SSMDocument, account: String) async
        -> ReadinessFindings.Lookup<ReadinessFindings.Document>
    {
        let endpoint = Endpoint(accountID: account, region: document.region)
        do {
            let found = try await context.gate.callSSM(endpoint, "ssm:DescribeDocument", priority: .background) {
                try await $0.describeDocument(name: document.documentName, version: document.documentVersion)
            }
            return .found(.found(type: found.documentType))
        } catch let error as SSMError where ["InvalidDocument", "InvalidDocumentVersion"].contains(error.type) {
            return .found(.missing(error.description))
        } catch {
            return .failed("DescribeDocument: \(Self.reason(error))")
        }
    }

    private func lookup<T: Sendable>(_ body: () async throws -> T) async -> ReadinessFindings.Lookup<T> {
        do {
            return .found(try await body())
        } catch {
            return .failed(Self.reason(error))
        }
    }

    /// An error's text for an answer: the errors' own descriptions carry no credentials (DRSError,
    /// EC2Error and the credentials providers never include a secret); capped in length.
    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
