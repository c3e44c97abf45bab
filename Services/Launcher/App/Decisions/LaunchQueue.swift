import Foundation
import MusterDomain
import MusterEvents

/// The per-endpoint admission decision (DESIGN §5): which queued launch
/// chunks may start now, given the server leases and the quotas. Pure.
///
/// Fairness: chunks are considered in arrival order. A chunk waiting for a
/// server reserves that server, so no later chunk needing it overtakes
/// (FIFO per server: no starvation). Once a chunk waits for a quota, no later
/// chunk of the endpoint starts either (FIFO per endpoint for quotas), so a
/// large group is not starved by a stream of small ones.
public enum LaunchQueue {
    /// A chunk waiting to start.
    public struct Pending: Sendable, Equatable {
        /// Row id: its arrival order.
        public var id: Int64
        /// Its servers.
        public var servers: [SourceServerID]
        /// Not before this time (ConflictException / quota back-off), if set.
        public var notBefore: Date?
        /// Why it last waited, reported again while its back-off runs.
        public var backoffReason: JobQueued.Reason?

        /// Creates a pending chunk.
        public init(id: Int64, servers: [SourceServerID], notBefore: Date? = nil, backoffReason: JobQueued.Reason? = nil) {
            self.id = id
            self.servers = servers
            self.notBefore = notBefore
            self.backoffReason = backoffReason
        }
    }

    /// What the endpoint looks like now.
    public struct Snapshot: Sendable, Equatable {
        /// Leased servers (by live or submitting jobs).
        public var leased: Set<SourceServerID>
        /// DRS jobs Muster has active on the endpoint (submitting included).
        public var activeJobs: Int
        /// Servers in those jobs.
        public var serversInActiveJobs: Int
        /// Queued chunks in arrival order.
        public var pending: [Pending]

        /// Creates a snapshot.
        public init(leased: Set<SourceServerID>, activeJobs: Int, serversInActiveJobs: Int, pending: [Pending]) {
            self.leased = leased
            self.activeJobs = activeJobs
            self.serversInActiveJobs = serversInActiveJobs
            self.pending = pending
        }

        /// A snapshot of `table` with `pending`.
        public init(_ table: LeaseTable, pending: [Pending]) {
            self.init(leased: table.leased, activeJobs: table.activeJobs, serversInActiveJobs: table.serversInActiveJobs,
                      pending: pending)
        }

        var table: LeaseTable {
            LeaseTable(leased: leased, activeJobs: activeJobs, serversInActiveJobs: serversInActiveJobs)
        }
    }

    /// The endpoint's quotas.
    public struct Quotas: Sendable, Equatable {
        /// Concurrent jobs per account and region (AWS: 20).
        public var maxConcurrentJobs: Int
        /// Servers in all active jobs (default 200).
        public var maxServersInActiveJobs: Int

        /// Creates quotas.
        public init(maxConcurrentJobs: Int = 20, maxServersInActiveJobs: Int = 200) {
            self.maxConcurrentJobs = maxConcurrentJobs
            self.maxServersInActiveJobs = maxServersInActiveJobs
        }
    }

    /// The decision for one chunk.
    public enum Decision: Sendable, Equatable {
        /// Take its leases and launch it.
        case start
        /// Keep it queued, for this reason, blocked by these servers (if any).
        case wait(JobQueued.Reason, blocking: [SourceServerID])
    }

    /// A decision per pending chunk, in arrival order.
    public static func plan(_ snapshot: Snapshot, quotas: Quotas, now: Date) -> [(id: Int64, decision: Decision)] {
        var reserved = Set<SourceServerID>()
        var table = snapshot.table
        var quotaBlocked = false
        var result: [(id: Int64, decision: Decision)] = []
        for chunk in snapshot.pending.sorted(by: { $0.id < $1.id }) {
            defer { reserved.formUnion(chunk.servers) }
            if let notBefore = chunk.notBefore, notBefore > now {
                result.append((chunk.id, .wait(chunk.backoffReason ?? .conflict, blocking: [])))
                continue
            }
            let blocking = chunk.servers.filter { table.leased.contains($0) || reserved.contains($0) }
            if !blocking.isEmpty {
                result.append((chunk.id, .wait(.leases, blocking: blocking)))
                continue
            }
            if quotaBlocked || !table.fits(servers: chunk.servers.count, quotas: quotas) {
                quotaBlocked = true
                result.append((chunk.id, .wait(.quota, blocking: [])))
                continue
            }
            table.take(chunk.servers)
            result.append((chunk.id, .start))
        }
        return result
    }
}
