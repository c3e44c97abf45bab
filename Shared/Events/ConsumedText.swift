import Foundation
import MusterDomain

/// The rule for strings a consumer reads out of an event payload (the
/// event-side twin of the APIs' ``TextRule`` check; docs/consumers.md,
/// "Control characters in consumed events"):
///
/// - **Identifiers and names** — ids, hostnames, plan/wave/account names,
///   tag keys and values, subjects, every object key — must hold no control
///   character (U+0000–U+001F, U+007F–U+009F). An event breaking that is
///   unprocessable: ``CloudEvent/decode(_:)`` throws, and the consumer parks
///   it. Such a value would otherwise be stored and later break a log line,
///   a page or a terminal, or (NUL) PostgreSQL.
/// - **Free text from outside** — the fields named in ``freeTextFields``
///   (a DRS failure message, a launch failure's raw error, an operator's
///   reason) — is kept as received, newlines included; wherever it is
///   rendered for a person it goes through ``TextRule/visible(_:)``.
///   PostgreSQL still refuses a NUL in it (`22P05`): that record is parked
///   as deterministic.
public enum ConsumedText {
    /// Payload keys (at any depth) whose string values are free text.
    public static let freeTextFields: Set<String> = ["rawError", "failureReason", "reason"]

    /// The JSON path of the first identifier or name in `data` (a JSON
    /// payload) that holds a control character, or nil. Data that is not
    /// JSON is left to the decoder.
    public static func violation(in data: [UInt8]) -> String? {
        guard let tree = try? JSONSerialization.jsonObject(with: Data(data), options: [.fragmentsAllowed]) else {
            return nil
        }
        return TextRule.controlCharacterPath(in: tree, exempt: freeTextFields)
    }
}
