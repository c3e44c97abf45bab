import Foundation

/// An in-process service started for one test; it owns resources (a schema,
/// clients, running tasks) that must be released after the test.
public protocol TestApp: AnyObject {
    /// Stops what the app started and releases what it holds.
    func tearDown() async
}

extension TestApp {
    /// Runs `body` with this app and always tears it down, also when `body` throws.
    public func use(_ body: (Self) async throws -> Void) async throws {
        do {
            try await body(self)
        } catch {
            await tearDown()
            throw error
        }
        await tearDown()
    }
}

/// The long-running tasks of a test app (servers, consumers, relays), all
/// cancelled and awaited on teardown.
public final class BackgroundTasks: Sendable {
    private let tasks = Locked<[Task<Void, any Error>]>([])

    /// No tasks yet.
    public init() {}

    /// Starts `operation` in a new task.
    public func start(_ operation: sending @escaping () async throws -> Void) {
        let task = Task { try await operation() }
        tasks.withLock { $0.append(task) }
    }

    /// Takes over a task started elsewhere: cancelled and awaited with the rest.
    public func adopt(_ task: Task<Void, any Error>) {
        tasks.withLock { $0.append(task) }
    }

    /// Cancels every task, then waits for each to end (their errors are expected and ignored).
    public func cancelAll() async {
        let all = tasks.value
        for task in all { task.cancel() }
        for task in all { _ = try? await task.value }
    }
}

/// An HTTP reply with the views the API tests read: the JSON object, its
/// `error` object and its `items` list.
public struct JSONReply: Sendable {
    /// The status code.
    public var status: Int
    /// The raw body.
    public var body: [UInt8]

    /// A reply of `status` with `body`.
    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object; empty when it is not one.
    public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    /// The `error` object of an error body; empty otherwise.
    public var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    /// The `items` of a list body; empty otherwise.
    public var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    /// A top-level field of the JSON object.
    public subscript(key: String) -> Any? { json[key] }
}
