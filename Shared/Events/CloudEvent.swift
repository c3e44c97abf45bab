import Foundation

/// A CloudEvents 1.0 event in Kafka binary mode (DESIGN §3): `data` is the
/// record value (JSON), the attributes travel as `ce_*` headers.
public struct CloudEvent: Sendable, Equatable {
    /// `ce_id`: a UUID, the deduplication key of every consumer's inbox.
    public var id: UUID
    /// `ce_source`: the producing service, e.g. `/muster/planner`.
    public var source: String
    /// `ce_type`: e.g. `wave.started`.
    public var type: String
    /// `ce_time`: when the event happened.
    public var time: Date
    /// `ce_subject`: what the event is about (e.g. an execution id), if anything.
    public var subject: String?
    /// The JSON body.
    public var data: [UInt8]
    /// `traceparent` (CloudEvents distributed-tracing extension): the W3C
    /// position of the span that published the event, if it was traced.
    /// Carried, not compared: two copies of one event are equal whatever trace they travel in.
    public var traceparent: String?
    /// `tracestate`, passed through with `traceparent`.
    public var tracestate: String?

    /// The CloudEvents spec version this envelope implements.
    public static let specVersion = "1.0"
    /// The content type of `data`.
    public static let contentType = "application/json"

    /// Creates an event; `id` defaults to a fresh UUID and `time` to now.
    public init(
        id: UUID = UUID(), source: String, type: String, time: Date = Date(), subject: String? = nil, data: [UInt8],
        traceparent: String? = nil, tracestate: String? = nil
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.data = data
        self.traceparent = traceparent
        self.tracestate = tracestate
    }

    /// Equal when every CloudEvents attribute and the data are; the trace context is not compared.
    public static func == (lhs: CloudEvent, rhs: CloudEvent) -> Bool {
        lhs.id == rhs.id && lhs.source == rhs.source && lhs.type == rhs.type && lhs.time == rhs.time
            && lhs.subject == rhs.subject && lhs.data == rhs.data
    }

    /// Creates an event whose data is `payload` encoded as JSON.
    public init<Payload: Encodable>(
        id: UUID = UUID(), source: String, type: String, time: Date = Date(), subject: String? = nil, payload: Payload
    ) throws {
        self.init(id: id, source: source, type: type, time: time, subject: subject,
                  data: Array(try EventCoding.encoder.encode(payload)))
    }

    /// Decodes `data` as `Payload`; unknown fields are ignored. An identifier
    /// or name holding a control character (``ConsumedText``) makes it throw,
    /// so a consumer parks the event instead of storing the string.
    public func decode<Payload: Decodable>(_ type: Payload.Type) throws -> Payload {
        if let field = ConsumedText.violation(in: data) {
            throw CloudEventError.invalidData(
                type: self.type, reason: "\(field.isEmpty ? "the payload" : field) must not contain control characters")
        }
        do {
            return try EventCoding.decoder.decode(Payload.self, from: Data(data))
        } catch {
            throw CloudEventError.invalidData(type: self.type, reason: String(describing: error))
        }
    }

    // MARK: Binary mode

    /// The binary-mode headers, in a stable order.
    public var headers: [(name: String, value: String)] {
        var result: [(name: String, value: String)] = [
            ("ce_id", id.uuidString.lowercased()),
            ("ce_source", source),
            ("ce_type", type),
            ("ce_specversion", Self.specVersion),
            ("ce_time", EventCoding.formatTime(time)),
        ]
        if let subject { result.append(("ce_subject", subject)) }
        if let traceparent { result.append(("traceparent", traceparent)) }
        if traceparent != nil, let tracestate { result.append(("tracestate", tracestate)) }
        result.append(("content-type", Self.contentType))
        return result
    }

    /// Parses a binary-mode record. `header` returns the first value of a
    /// header by name. Throws `CloudEventError` naming the offending attribute.
    public init(header: (String) -> String?, value: [UInt8]) throws {
        func required(_ name: String) throws -> String {
            guard let value = header(name), !value.isEmpty else { throw CloudEventError.missingAttribute(name) }
            return value
        }
        let spec = try required("ce_specversion")
        guard spec == Self.specVersion else {
            throw CloudEventError.invalidAttribute("ce_specversion", reason: "must be \(Self.specVersion), got \(spec)")
        }
        let rawID = try required("ce_id")
        guard let id = UUID(uuidString: rawID) else {
            throw CloudEventError.invalidAttribute("ce_id", reason: "must be a UUID")
        }
        let rawTime = try required("ce_time")
        guard let time = EventCoding.parseTime(rawTime) else {
            throw CloudEventError.invalidAttribute("ce_time", reason: "must be an RFC 3339 timestamp")
        }
        if let contentType = header("content-type"), !contentType.hasPrefix(Self.contentType) {
            throw CloudEventError.invalidAttribute("content-type", reason: "must be \(Self.contentType)")
        }
        // The tracing extension is optional and never a reason to reject an event: an
        // implausible value (over 512 characters or not printable ASCII) is dropped.
        func traceHeader(_ name: String) -> String? {
            guard let value = header(name), !value.isEmpty, value.utf8.count <= 512,
                  value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
            else { return nil }
            return value
        }
        let traceparent = traceHeader("traceparent")
        self.init(id: id, source: try required("ce_source"), type: try required("ce_type"),
                  time: time, subject: header("ce_subject"), data: value,
                  traceparent: traceparent, tracestate: traceparent == nil ? nil : traceHeader("tracestate"))
    }
}

/// Why a record is not a valid CloudEvent; the record is skipped, never retried.
public enum CloudEventError: Error, Equatable, CustomStringConvertible {
    /// A required `ce_*` header is absent or empty.
    case missingAttribute(String)
    /// A header is present but breaks its rule.
    case invalidAttribute(String, reason: String)
    /// The JSON body does not decode as the type's payload.
    case invalidData(type: String, reason: String)

    /// A one-line explanation naming the attribute and the rule.
    public var description: String {
        switch self {
        case .missingAttribute(let name): "CloudEvent header \(name) is missing"
        case .invalidAttribute(let name, let reason): "CloudEvent header \(name) is invalid: \(reason)"
        case .invalidData(let type, let reason): "\(type) event body does not decode: \(reason)"
        }
    }
}
