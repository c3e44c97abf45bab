import Foundation

/// Which due deliveries a dispatcher takes (pure). A candidate is due and
/// first in its (subscription, execution) line; the selection keeps each
/// subscription under its concurrency cap, counting what is already in
/// flight anywhere, so one slow or dead endpoint holds at most `cap`
/// attempts and never the slots of the others.
struct DispatchSelection {
    struct Candidate: Sendable, Equatable {
        var id: UUID
        var subscriptionID: UUID
        /// Attempts to this subscription in flight now (all instances).
        var inFlight: Int
    }

    static func choose(_ candidates: [Candidate], perSubscriptionCap cap: Int, limit: Int) -> [UUID] {
        var taken: [UUID: Int] = [:]
        var chosen: [UUID] = []
        for candidate in candidates where chosen.count < limit {
            let already = taken[candidate.subscriptionID, default: 0]
            guard candidate.inFlight + already < cap else { continue }
            taken[candidate.subscriptionID] = already + 1
            chosen.append(candidate.id)
        }
        return chosen
    }
}
