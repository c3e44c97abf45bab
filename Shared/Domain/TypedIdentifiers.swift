import Foundation

/// An identifier that is a UUID: an execution, a plan, a team. Written
/// everywhere — JSON, `TEXT` columns, CloudEvent subjects, log lines — as the
/// UUID's lowercase hyphenated string, the spelling the planner has always
/// produced, so a typed id changes no byte on the wire or in a column. Reading
/// accepts either letter case; anything that is not a UUID is refused with an
/// error naming the kind of id (never a crash).
///
/// Conform a new kind with a stored `uuid`, `init(_:)` and `kind`; the rest is
/// here.
public protocol UUIDIdentifier: RawRepresentable, Codable, Hashable, Comparable, Sendable,
    CustomStringConvertible where RawValue == String
{
    /// The UUID.
    var uuid: UUID { get }
    /// Wraps a UUID.
    init(_ uuid: UUID)
    /// What it identifies, for error messages (`execution id`).
    static var kind: String { get }
}

extension UUIDIdentifier {
    /// Parses a UUID in either letter case; nil when `rawValue` is not one.
    public init?(rawValue: String) {
        guard let uuid = UUID(uuidString: rawValue) else { return nil }
        self.init(uuid)
    }

    /// Parses a UUID in either letter case, or throws ``MalformedIdentifier``
    /// naming the kind of id.
    public init(parsing text: String) throws {
        guard let id = Self(rawValue: text) else { throw MalformedIdentifier(kind: Self.kind, text: text) }
        self = id
    }

    /// A new random id.
    public static func random() -> Self { Self(UUID()) }

    /// The lowercase hyphenated UUID.
    public var rawValue: String { uuid.uuidString.lowercased() }

    /// The lowercase hyphenated UUID.
    public var description: String { rawValue }

    /// Ordered by their string form, so sorted lists read the same everywhere.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Reads the plain string; a string that is not a UUID is a `DecodingError`
    /// saying which id and what it must look like.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = Self(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: MalformedIdentifier(kind: Self.kind, text: text).description)
        }
        self = id
    }

    /// Writes the plain lowercase string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension UUIDIdentifier {
    /// A numbered id for tests and benchmarks (no service makes one):
    /// `00000000-0000-4000-8000-0000xxxxxxxx` with `n` in the last digits
    /// (hexadecimal), so a test says `.fixture(1)` and its rows and logs show
    /// `…000000000001`.
    public static func fixture(_ n: UInt32) -> Self {
        let b = withUnsafeBytes(of: n.bigEndian) { Array($0) }
        return Self(UUID(uuid: (0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, b[0], b[1], b[2], b[3])))
    }

    /// `n` of a ``fixture(_:)`` id; nil for any other id.
    public var fixtureNumber: UInt32? {
        let b = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        guard b.prefix(12) == [0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0] else { return nil }
        return b.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// A text that should have been an identifier and is not one.
public struct MalformedIdentifier: Error, Sendable, Equatable, CustomStringConvertible {
    /// What it should have identified (`execution id`).
    public var kind: String
    /// The text, cut to 64 characters (it came from outside and may be anything).
    public var text: String

    /// Records the refused text (cut to 64 characters).
    public init(kind: String, text: String) {
        self.kind = kind
        self.text = String(text.prefix(64))
    }

    /// `execution id must be a UUID (8-4-4-4-12 hexadecimal digits), not "…"`.
    public var description: String {
        "\(kind) must be a UUID (8-4-4-4-12 hexadecimal digits), not \"\(text)\""
    }
}

/// One execution of a recovery plan (planner `executions.id`; `execution_id`
/// in the launcher, poller and notifier; `executionId` in JSON).
public struct ExecutionID: UUIDIdentifier {
    /// The UUID.
    public let uuid: UUID
    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
    /// `execution id`.
    public static var kind: String { "execution id" }
}

/// A recovery plan (planner `plans.id`, `plan_id`; `planId` in JSON).
public struct PlanID: UUIDIdentifier {
    /// The UUID.
    public let uuid: UUID
    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
    /// `plan id`.
    public static var kind: String { "plan id" }
}

/// A team, the tenant every plan, execution and token belongs to
/// (`team_id`; `teamId` in JSON).
public struct TeamID: UUIDIdentifier {
    /// The UUID.
    public let uuid: UUID
    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
    /// `team id`.
    public static var kind: String { "team id" }
}

/// An identifier DRS assigns (`s-…`, `drsjob-…`): an opaque string, kept
/// exactly as DRS wrote it and written back the same way. Conform a new kind
/// with a stored `rawValue` and `init(rawValue:)`; the rest is here. A
/// literal, interpolated or not (`"s-\(n)"`), is one too, so fixtures read as
/// the ids they are.
public protocol StringIdentifier: PlainStringValue, Comparable, ExpressibleByStringInterpolation
    where StringLiteralType == String, StringInterpolation == DefaultStringInterpolation {}

extension StringIdentifier {
    /// Wraps a literal.
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    /// Ordered by the string.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A DRS source server (`s-…`; `server_id` in the planner, `source_server_id`
/// in the launcher, `sourceServerId` in JSON).
public struct SourceServerID: StringIdentifier {
    /// DRS's string.
    public let rawValue: String
    /// Wraps DRS's string.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A DRS job (`drsjob-…`; `job_id`; `jobId` in JSON).
public struct JobID: StringIdentifier {
    /// DRS's string.
    public let rawValue: String
    /// Wraps DRS's string.
    public init(rawValue: String) { self.rawValue = rawValue }
}
