/// One message of a `text/event-stream` (WHATWG HTML §9.2.6).
public struct SSEMessage: Sendable, Equatable {
    /// The `id:` field, if the message had one.
    public var id: String?
    /// The `event:` field, `message` when absent.
    public var event: String
    /// The `data:` lines joined with newlines.
    public var data: String

    /// Creates a message.
    public init(id: String?, event: String, data: String) {
        self.id = id
        self.event = event
        self.data = data
    }
}

/// Turns the bytes of an event stream, in chunks of any size, into messages
/// and counts comment lines (heartbeats). Pure: no I/O.
public struct SSEParser: Sendable {
    private var buffer: [UInt8] = []
    private var id: String?
    private var event: String?
    private var data: [String] = []
    private var hasData = false
    /// Comment lines seen (`: heartbeat`).
    public private(set) var comments = 0
    /// The `retry:` the server asked for, in milliseconds.
    public private(set) var retryMilliseconds: Int?

    /// An empty parser.
    public init() {}

    /// Feeds bytes; returns the messages they completed.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [SSEMessage] where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        var messages: [SSEMessage] = []
        var start = 0
        var index = 0
        while index < buffer.count {
            let byte = buffer[index]
            if byte == 0x0A || byte == 0x0D {
                // A CR LF pair is one line end; a lone CR at the chunk's end waits for the next byte.
                if byte == 0x0D && index + 1 == buffer.count { break }
                let line = String(decoding: buffer[start..<index], as: UTF8.self)
                if let message = take(line) { messages.append(message) }
                index += (byte == 0x0D && buffer[index + 1] == 0x0A) ? 2 : 1
                start = index
            } else {
                index += 1
            }
        }
        buffer.removeFirst(start)
        return messages
    }

    private mutating func take(_ line: String) -> SSEMessage? {
        if line.isEmpty {
            defer { event = nil; data = []; hasData = false }
            guard hasData else { return nil }
            return SSEMessage(id: id, event: event ?? "message", data: data.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { comments += 1; return nil }
        let field: Substring, value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            let rest = line[line.index(after: colon)...]
            value = rest.hasPrefix(" ") ? rest.dropFirst() : rest
        } else {
            field = line[...]
            value = ""
        }
        switch field {
        case "data": data.append(String(value)); hasData = true
        case "event": event = String(value)
        case "id" where !value.contains("\0"): id = String(value)  // the id persists across messages, per the spec
        case "retry": retryMilliseconds = Int(value) ?? retryMilliseconds
        default: break
        }
        return nil
    }
}
