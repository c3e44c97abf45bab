import Foundation
import MusterEvents

/// The `text/event-stream` wire format (WHATWG HTML §9.2) for the planner's
/// event stream: one frame per logged event, its `id` the team sequence
/// number (what a client sends back as `Last-Event-ID`), its `event` the
/// CloudEvents type and its `data` the event in CloudEvents structured JSON.
enum ServerSentEvents {
    /// How long a browser waits before reconnecting after the stream drops.
    static let retryMilliseconds = 1000

    /// The first bytes of every stream.
    static var preamble: String { "retry: \(retryMilliseconds)\n\n" }

    /// A comment line: ignored by clients, keeps proxies from timing the stream out.
    static var heartbeat: String { ": heartbeat\n\n" }

    /// One logged event as a frame.
    static func frame(_ entry: EventLog.Entry) -> String {
        "id: \(entry.seq)\nevent: \(entry.event.type)\ndata: \(structured(entry.event))\n\n"
    }

    /// The event in CloudEvents JSON format (structured mode), on one line:
    /// attributes plus `data` holding the payload as JSON.
    static func structured(_ event: CloudEvent) -> String {
        var object: [String: Any] = [
            "specversion": CloudEvent.specVersion, "id": event.id.uuidString.lowercased(), "source": event.source,
            "type": event.type, "time": EventCoding.formatTime(event.time), "datacontenttype": CloudEvent.contentType,
        ]
        if let subject = event.subject { object["subject"] = subject }
        object["data"] = (try? JSONSerialization.jsonObject(with: Data(event.data))) ?? NSNull()
        // JSON text never holds a raw newline outside strings, and strings escape theirs,
        // so the result is one `data:` line.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses `Last-Event-ID`: a non-negative integer, or nil when absent or empty.
    static func lastEventID(_ raw: String?) -> Result<Int64?, LastEventIDError> {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return .success(nil) }
        guard let value = Int64(raw), value >= 0 else { return .failure(LastEventIDError(value: raw)) }
        return .success(value)
    }

    struct LastEventIDError: Error, Equatable { var value: String }
}
