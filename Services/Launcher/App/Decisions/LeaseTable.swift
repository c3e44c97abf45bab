import MusterDomain

/// One endpoint's occupancy (DESIGN §5 "Per-server lease", "Quotas"): the
/// servers leased to Muster's jobs (live or being submitted), those jobs
/// and the servers in them. DRS runs one job per source server, so a server
/// is leased from the moment a job is requested until that job is observed
/// terminal. Pure.
public struct LeaseTable: Sendable, Equatable {
    /// Leased servers.
    public var leased: Set<SourceServerID>
    /// Muster's active jobs on the endpoint (submitting included).
    public var activeJobs: Int
    /// Servers in those jobs.
    public var serversInActiveJobs: Int

    /// Creates a table.
    public init(leased: Set<SourceServerID> = [], activeJobs: Int = 0, serversInActiveJobs: Int = 0) {
        self.leased = leased
        self.activeJobs = activeJobs
        self.serversInActiveJobs = serversInActiveJobs
    }

    /// The servers of `servers` that are leased.
    public func blocking(_ servers: [SourceServerID]) -> [SourceServerID] {
        servers.filter { leased.contains($0) }
    }

    /// Whether one more job of `count` servers fits the quotas. An empty
    /// endpoint always admits one job, so an oversized chunk cannot deadlock.
    public func fits(servers count: Int, quotas: LaunchQueue.Quotas) -> Bool {
        guard activeJobs + 1 <= quotas.maxConcurrentJobs else { return false }
        return serversInActiveJobs == 0 || serversInActiveJobs + count <= quotas.maxServersInActiveJobs
    }

    /// A job for `servers` was requested: lease them and count it.
    public mutating func take(_ servers: [SourceServerID]) {
        leased.formUnion(servers)
        activeJobs += 1
        serversInActiveJobs += servers.count
    }

    /// The job for `servers` ended (observed terminal, or never created): free them.
    public mutating func release(_ servers: [SourceServerID]) {
        leased.subtract(servers)
        activeJobs = max(0, activeJobs - 1)
        serversInActiveJobs = max(0, serversInActiveJobs - servers.count)
    }
}
