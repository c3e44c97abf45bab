import Instrumentation

/// A W3C Trace Context position (`traceparent`, plus the vendor `tracestate`
/// passed through untouched): the trace, the span that is the parent of
/// whatever happens next, and the sampled flag.
public struct TraceParent: Sendable, Hashable {
    /// 32 lowercase hex digits, not all zero.
    public var traceID: String
    /// 16 lowercase hex digits, not all zero.
    public var spanID: String
    /// The trace flags; bit 0 is "sampled".
    public var flags: UInt8
    /// The `tracestate` header, if any (at most 512 characters, else dropped).
    public var traceState: String?

    /// Creates a position from its parts (ids as produced by ``TraceIDs``).
    public init(traceID: String, spanID: String, flags: UInt8 = 1, traceState: String? = nil) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.traceState = traceState
    }

    /// Parses a `traceparent` header (W3C Trace Context level 1): version
    /// `00` exactly 55 characters; a later version at least that, its extra
    /// fields ignored; version `ff`, upper-case hex and all-zero ids are
    /// invalid. Returns nil for anything invalid (the caller starts a new trace).
    public init?(header: String, traceState: String? = nil) {
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              parts.prefix(4).allSatisfy({ $0.allSatisfy(Self.isLowerHex) }), parts[0] != "ff"
        else { return nil }
        if parts[0] == "00" && parts.count != 4 { return nil }
        let trace = String(parts[1]), span = String(parts[2])
        guard trace.contains(where: { $0 != "0" }), span.contains(where: { $0 != "0" }),
              let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        self.init(traceID: trace, spanID: span, flags: flags,
                  traceState: traceState.flatMap { $0.isEmpty || $0.utf8.count > 512 ? nil : $0 })
    }

    /// The `traceparent` header value (version 00).
    public var header: String {
        let hex = String(flags, radix: 16)
        return "00-\(traceID)-\(spanID)-\(hex.count == 1 ? "0" + hex : hex)"
    }

    /// Whether the trace is sampled (recorded) upstream.
    public var isSampled: Bool { flags & 1 == 1 }

    private static func isLowerHex(_ character: Character) -> Bool {
        character.isASCII && (character.isNumber || ("a"..."f").contains(character))
    }
}

/// The key under which the current span's position travels in an `InstrumentationContext`.
enum TraceParentKey: InstrumentationContextKey {
    typealias Value = TraceParent
    static var nameOverride: String? { "traceparent" }
}

extension InstrumentationContext {
    /// The W3C position of the span this context belongs to (or the remote
    /// parent extracted from a carrier), if any.
    public var traceParent: TraceParent? {
        get { self[TraceParentKey.self] }
        set { self[TraceParentKey.self] = newValue }
    }
}

/// Random W3C ids.
public enum TraceIDs {
    /// A fresh trace id (32 hex digits, never all zero).
    public static func trace() -> String { hex(UInt64.random(in: 1...UInt64.max)) + hex(UInt64.random(in: 0...UInt64.max)) }
    /// A fresh span id (16 hex digits, never all zero).
    public static func span() -> String { hex(UInt64.random(in: 1...UInt64.max)) }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The trace position of the calling task, for logs and carriers that are not an `Instrument`'s.
public enum CurrentTrace {
    /// The current span's position, if the task runs inside one.
    public static var position: TraceParent? { InstrumentationContext.current?.traceParent }
}
