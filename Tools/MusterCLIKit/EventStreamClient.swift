import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of the planner's `GET /v1/events/stream`: connects with the
/// bearer token (and `Last-Event-ID` when resuming) and yields messages as
/// they arrive. Foundation's URLSession streams the body to a delegate;
/// nothing is buffered to the end.
public enum EventStreamClient {
    /// Why a stream could not be opened or ended.
    public struct Failure: Error, CustomStringConvertible {
        /// The HTTP status, when the server answered with one other than 200.
        public var status: Int?
        /// What went wrong.
        public var message: String
        /// A sentence.
        public var description: String { status.map { "HTTP \($0): \(message)" } ?? message }
    }

    /// What the stream yields: a message, or a heartbeat comment.
    public enum Item: Sendable, Equatable {
        /// An event.
        case message(SSEMessage)
        /// A comment line (the server's keep-alive).
        case heartbeat
    }

    /// An open stream: its items, and `close()` to hang up (breaking out of
    /// a loop over `items` does not, since URLSession holds the stream).
    public struct Connection: Sendable {
        /// The messages and heartbeats as they arrive.
        public let items: AsyncThrowingStream<Item, any Error>
        private let task: URLSessionDataTask
        private let session: URLSession

        init(items: AsyncThrowingStream<Item, any Error>, task: URLSessionDataTask, session: URLSession) {
            self.items = items
            self.task = task
            self.session = session
        }

        /// Closes the connection; `items` ends.
        public func close() {
            task.cancel()
            session.invalidateAndCancel()
        }
    }

    /// Opens `endpoint` + `/v1/events/stream?query` with `token`, resuming
    /// after `lastEventID` when given. The sequence ends when the server
    /// closes the stream and throws `Failure` when it cannot be opened;
    /// cancelling the consuming task, or `close()`, closes the connection.
    public static func open(endpoint: String, token: String, query: [String: String] = [:], lastEventID: String? = nil,
                            idleTimeout: TimeInterval = 60) throws -> Connection {
        var components = URLComponents(string: (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint)
                                       + "/v1/events/stream")
        if !query.isEmpty {
            components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        }
        guard let url = components?.url else { throw Failure(status: nil, message: "\(endpoint) is not a URL") }
        var request = URLRequest(url: url)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        if let lastEventID { request.setValue(lastEventID, forHTTPHeaderField: "Last-Event-ID") }
        request.timeoutInterval = idleTimeout
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Item.self)
        let delegate = StreamDelegate(continuation: continuation)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: request)
        continuation.onTermination = { _ in
            task.cancel()
            session.invalidateAndCancel()
        }
        task.resume()
        return Connection(items: stream, task: task, session: session)
    }

    /// Receives the body chunk by chunk. URLSession calls it on its own
    /// delegate queue; the parser lives behind a mutex.
    private final class StreamDelegate: NSObject, URLSessionDataDelegate, Sendable {
        private let continuation: AsyncThrowingStream<Item, any Error>.Continuation
        private let state = LockedParser()

        init(continuation: AsyncThrowingStream<Item, any Error>.Continuation) {
            self.continuation = continuation
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if status == 200 {
                completionHandler(.allow)
            } else {
                state.failStatus(status)
                completionHandler(.allow)  // read the error body, report it on completion
            }
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            for item in state.feed(data) { continuation.yield(item) }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            if let (status, body) = state.failure() {
                continuation.finish(throwing: Failure(status: status, message: body))
            } else if let error {
                continuation.finish(throwing: Failure(status: nil, message: "\(error.localizedDescription)"))
            } else {
                continuation.finish()
            }
            session.finishTasksAndInvalidate()
        }
    }

    private final class LockedParser: Sendable {
        private struct State {
            var parser = SSEParser()
            var failedStatus: Int?
            var errorBody: [UInt8] = []
        }
        private let state = Mutex(State())

        func failStatus(_ status: Int) { state.withLock { $0.failedStatus = status } }

        func feed(_ data: Data) -> [Item] {
            state.withLock { state in
                if state.failedStatus != nil {
                    state.errorBody.append(contentsOf: data.prefix(2000))
                    return []
                }
                let comments = state.parser.comments
                let messages = state.parser.feed(data).map(Item.message)
                return Array(repeating: Item.heartbeat, count: state.parser.comments - comments) + messages
            }
        }

        func failure() -> (Int, String)? {
            state.withLock { state in state.failedStatus.map { ($0, String(decoding: state.errorBody, as: UTF8.self)) } }
        }
    }
}

extension APIClient {
    /// Opens the planner's event stream with this client's endpoint and token.
    public func eventStream(query: [String: String] = [:], lastEventID: String? = nil) throws
        -> EventStreamClient.Connection
    {
        try EventStreamClient.open(endpoint: endpoint, token: token, query: query, lastEventID: lastEventID)
    }
}
