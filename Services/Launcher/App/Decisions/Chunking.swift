/// Splits a launch group into DRS jobs (DESIGN §5: a launch group larger than
/// the servers-per-job limit becomes several jobs). Pure.
public enum Chunking {
    /// The API maximum of servers in one StartRecovery / TerminateRecoveryInstances.
    public static let apiMaximum = 200

    /// `ids` without duplicates, in first-seen order, cut into the fewest
    /// chunks of at most `limit` (clamped to 1…200) with sizes differing by at
    /// most one, so no job is a small remainder (250 at 200 → 125 + 125).
    public static func chunks<ID: Hashable>(_ ids: [ID], limit: Int) -> [[ID]] {
        var seen = Set<ID>()
        let unique = ids.filter { seen.insert($0).inserted }
        guard !unique.isEmpty else { return [] }
        let size = min(max(limit, 1), apiMaximum)
        let count = (unique.count + size - 1) / size
        let base = unique.count / count, extra = unique.count % count
        var result: [[ID]] = []
        var start = 0
        for index in 0..<count {
            let length = base + (index < extra ? 1 : 0)
            result.append(Array(unique[start..<(start + length)]))
            start += length
        }
        return result
    }

    /// `ids` cut into consecutive batches of at most `size` (e.g. 1000 job ids
    /// per DescribeJobs filter, 200 instances per TerminateRecoveryInstances).
    public static func batches<T>(_ ids: [T], size: Int) -> [[T]] {
        let size = max(size, 1)
        return stride(from: 0, to: ids.count, by: size).map { Array(ids[$0..<min($0 + size, ids.count)]) }
    }
}
