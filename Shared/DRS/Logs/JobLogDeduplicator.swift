import Foundation

/// Finds the job-log items of a `DescribeJobLogItems` listing that were not
/// reported yet, whatever order DRS lists them in.
///
/// The DRS API reference states no order for `DescribeJobLogItems`, and an
/// item may be listed late (after newer ones). So items are recognised by
/// their content — event, time, event data — never by position. Identical
/// items are counted, so a listing holding the same content twice yields it
/// twice. New items come back oldest first.
///
/// Pure and `Codable`: keep one per job between polls (or store
/// `reportedKeys` and rebuild it with `init(reportedKeys:)`).
///
/// ```swift
/// var seen = JobLogDeduplicator(reportedKeys: storedKeys)
/// let fresh = seen.newItems(in: try await client.describeAllJobLogItems(jobID: id))
/// storedKeys = seen.reportedKeys
/// ```
public struct JobLogDeduplicator: Sendable, Equatable, Codable {
    /// Content key → how many items with that content were reported.
    public private(set) var reported: [String: Int]

    /// Nothing reported yet.
    public init() {
        reported = [:]
    }

    /// Items with these content keys (from `reportedKeys` or `key(of:)`,
    /// repeated once per item) were reported already.
    public init(reportedKeys: some Sequence<String>) {
        reported = [:]
        for key in reportedKeys { reported[key, default: 0] += 1 }
    }

    /// Every reported content key, once per reported item, sorted (what to store).
    public var reportedKeys: [String] {
        reported.keys.sorted().flatMap { Array(repeating: $0, count: reported[$0] ?? 0) }
    }

    /// How many items were reported.
    public var reportedCount: Int { reported.values.reduce(0, +) }

    /// The items of `listing` not reported yet, oldest first, and records them
    /// as reported. Items already reported are never returned again; an item
    /// missing from this listing (listed late) is returned when it appears.
    public mutating func newItems(in listing: [JobLog]) -> [JobLog] {
        var remaining = reported
        var fresh: [(time: Date?, position: Int, log: JobLog)] = []
        // Ties in time keep DRS's relative order, read oldest first.
        let ordered = Self.isNewestFirst(listing) ? Array(listing.reversed()) : listing
        for (position, log) in ordered.enumerated() {
            let key = Self.key(of: log)
            if let count = remaining[key], count > 0 {
                remaining[key] = count - 1
                continue
            }
            reported[key, default: 0] += 1
            fresh.append((log.logDateTime.flatMap(DRSDateTime.date(from:)), position, log))
        }
        return fresh.sorted { a, b in
            switch (a.time, b.time) {
            case let (x?, y?) where x != y: x < y
            case (nil, _?): false
            case (_?, nil): true
            default: a.position < b.position
            }
        }.map(\.log)
    }

    /// The content key of an item: event, instant (so `…46.324Z` and
    /// `…46.324000+00:00` agree) and event data with sorted keys.
    public static func key(of log: JobLog) -> String {
        let time = log.logDateTime.map { text in
            DRSDateTime.date(from: text).map { String(Int64(($0.timeIntervalSince1970 * 1_000_000).rounded())) } ?? text
        } ?? "-"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = log.eventData.flatMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) } ?? "-"
        return "\(log.event?.rawValue ?? "-")|\(time)|\(data)"
    }

    /// True when the listing's datable items run from newest to oldest.
    static func isNewestFirst(_ listing: [JobLog]) -> Bool {
        let times = listing.compactMap { $0.logDateTime.flatMap(DRSDateTime.date(from:)) }
        guard let first = times.first, let last = times.last else { return false }
        return first > last
    }
}
