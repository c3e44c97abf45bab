import MusterEvents

/// A subscription's event-type filter: `ExecutionEventType` values, or `*`
/// for every type (including types added to `execution.events.v1` later).
public struct EventFilter: Sendable, Equatable {
    /// The wildcard entry.
    public static let wildcard = "*"

    /// The entries as stored (validated: known types or `*`, no duplicates).
    public let entries: [String]

    /// A filter over already-validated `entries`.
    public init(entries: [String]) { self.entries = entries }

    /// Whether an event of `ceType` goes to this subscription.
    public func matches(_ ceType: String) -> Bool {
        entries.contains { $0 == Self.wildcard || $0 == ceType }
    }

    /// Why `entries` cannot be a filter, or nil when it can.
    public static func problem(with entries: [String]) -> (rule: String, message: String)? {
        guard !entries.isEmpty else {
            return ("minItems", "eventTypes must list at least one event type, or \"*\" for all")
        }
        let known = Set(ExecutionEventType.allCases.map(\.rawValue))
        for entry in entries where entry != wildcard && !known.contains(entry) {
            let allowed = ExecutionEventType.allCases.map(\.rawValue).joined(separator: ", ")
            return ("enum", "eventTypes: '\(entry.prefix(64))' is not an execution event type; use \"*\" or one of: \(allowed)")
        }
        guard Set(entries).count == entries.count else {
            return ("unique", "eventTypes lists an event type twice; list each once")
        }
        return nil
    }
}
