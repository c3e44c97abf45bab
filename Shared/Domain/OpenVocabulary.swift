/// A word from a vocabulary AWS owns and may extend (DRS's launch settings,
/// its post-launch run statuses): an enum of the words Muster knows plus an
/// `unknown(String)` case, so a word AWS adds later decodes — and is written
/// back — exactly as received instead of failing a consumer. Encoded as the
/// plain word, so JSON bodies and stored documents keep their spelling.
///
/// Conform with `init(rawValue:)` (never failing: an unknown word is
/// `unknown`) and `rawValue`; the coding and the description are here.
public protocol OpenVocabulary: PlainStringValue {
    /// The words this build knows (what a validator offers an operator).
    static var known: [Self] { get }
}

extension OpenVocabulary {
    /// False for a word this build does not know.
    public var isKnown: Bool { Self.known.contains(self) }
}

/// A value written as one plain JSON string, its `rawValue`, and read back
/// from any string without failing: DRS's ids (``StringIdentifier``) and
/// words (``OpenVocabulary``).
public protocol PlainStringValue: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible
    where RawValue == String
{
    /// Wraps any string (an id or word this build does not know included).
    init(rawValue: String)
}

extension PlainStringValue {
    /// The string.
    public var description: String { rawValue }

    /// Reads the plain string.
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Writes the plain string, unchanged.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// DRS's `launchDisposition`: whether the recovery instance is left running
/// after launch. Same words as the DRS API (`STOPPED`, `STARTED`), in upper
/// case; the generated `MusterDRS.LaunchDisposition` is the wire type the
/// launcher converts to.
public enum DRSLaunchDisposition: OpenVocabulary {
    /// `STOPPED`.
    case stopped
    /// `STARTED`.
    case started
    /// A word DRS did not document when Muster was written, kept as received.
    case unknown(String)

    /// `STOPPED`, `STARTED`.
    public static var known: [Self] { [.stopped, .started] }

    /// Reads DRS's word (exact spelling); any other word is ``unknown(_:)``.
    public init(rawValue: String) {
        switch rawValue {
        case "STOPPED": self = .stopped
        case "STARTED": self = .started
        default: self = .unknown(rawValue)
        }
    }

    /// DRS's word.
    public var rawValue: String {
        switch self {
        case .stopped: "STOPPED"
        case .started: "STARTED"
        case .unknown(let raw): raw
        }
    }
}

/// DRS's `targetInstanceTypeRightSizingMethod`: whether DRS picks the
/// recovery instance's type (`BASIC`, `IN_AWS`) or leaves the launch
/// template's (`NONE`). The generated
/// `MusterDRS.TargetInstanceTypeRightSizingMethod` is the wire type the
/// launcher converts to.
public enum DRSRightSizingMethod: OpenVocabulary {
    /// `NONE`: the launch template's instance type.
    case none
    /// `BASIC`: DRS matches the source's CPU and memory.
    case basic
    /// `IN_AWS`: DRS right-sizes from the instance's own metrics.
    case inAWS
    /// A word DRS did not document when Muster was written, kept as received.
    case unknown(String)

    /// `NONE`, `BASIC`, `IN_AWS`.
    public static var known: [Self] { [.none, .basic, .inAWS] }

    /// Reads DRS's word (exact spelling); any other word is ``unknown(_:)``.
    public init(rawValue: String) {
        switch rawValue {
        case "NONE": self = .none
        case "BASIC": self = .basic
        case "IN_AWS": self = .inAWS
        default: self = .unknown(rawValue)
        }
    }

    /// DRS's word.
    public var rawValue: String {
        switch self {
        case .none: "NONE"
        case .basic: "BASIC"
        case .inAWS: "IN_AWS"
        case .unknown(let raw): raw
        }
    }
}
