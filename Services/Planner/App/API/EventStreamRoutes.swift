import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterEvents
import MusterPostgres
import ServiceLifecycle

// `GET /v1/events/stream`: the team's execution events as Server-Sent Events,
// resumable with `Last-Event-ID` (DESIGN §12 "Event stream").
extension PlannerAPI {
    func addEventStreamRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.get("events/stream") { request, _ in
            let team = try await auth.authenticate(request).team()
            let filter = try Self.eventFilter(request.uri.queryParameters)
            let after = try Self.resumePoint(request)
            return eventStream(team: team, filter: filter, after: after ?? 0)
        }
    }

    /// The query's filters: `executionId`, `planId`, `type` (comma-separated event types).
    static func eventFilter(_ query: Parameters) throws -> EventFilter {
        func uuid(_ name: String) throws -> UUID? {
            guard let raw = query[name[...]] else { return nil }
            guard let id = UUID(uuidString: String(raw)) else {
                throw APIError.badRequest(field: name, rule: "format", "\(name) must be a UUID")
            }
            return id
        }
        var filter = EventFilter(executionID: try uuid("executionId"), planID: try uuid("planId").map(PlanID.init))
        for raw in query.getAll("type") {
            // Exactly the document's pattern: names joined by single commas, no blanks, no empty entries.
            for name in raw.split(separator: ",", omittingEmptySubsequences: false) {
                guard let type = ExecutionEventType(rawValue: String(name)) else {
                    throw APIError.badRequest(
                        field: "type", rule: "enum",
                        "type must be a comma-separated list of \(ExecutionEventType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter.types.insert(type)
            }
        }
        return filter
    }

    /// Where to resume: the `Last-Event-ID` header (sent by a reconnecting
    /// client), else the `lastEventId` query parameter (a first connection
    /// that already has a position), else nil (from the beginning).
    /// Both are checked when both are present (the document allows neither malformed).
    static func resumePoint(_ request: Request) throws -> Int64? {
        func parse(_ field: String, _ raw: String?) throws -> Int64? {
            guard let raw else { return nil }
            // Plain digits, as the document's integer ≥ 0 (no sign, no blanks, not empty).
            guard !raw.isEmpty, raw.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  case .success(let value) = ServerSentEvents.lastEventID(raw) else {
                throw APIError.badRequest(field: field, rule: "format",
                                          "\(field) must be a non-negative event id as sent in a stream's `id:` line, got \(raw.prefix(32))")
            }
            return value
        }
        let query = try parse("lastEventId", request.uri.queryParameters["lastEventId"].map(String.init))
        let header = try parse("Last-Event-ID", request.headers[.init("Last-Event-ID")!])
        return header ?? query
    }

    /// A `text/event-stream` response serving `team`'s events after `after`
    /// that match `filter`, then each new one as it commits, with heartbeats,
    /// until the client goes away or the planner shuts down.
    func eventStream(team: TeamID, filter: EventFilter, after: Int64) -> Response {
        let hub = self.streamHub, log = EventLog(schema: schema), pool = self.pool
        let body = ResponseBody { writer in
            let (id, signals) = await hub.subscribe(team: team)
            // The hub holds the subscription until told: on every way out (client gone, shutdown) it is told.
            do {
                try await withGracefulShutdownHandler {
                    var last = after
                    func drain() async throws {
                        while true {
                            let entries = try await pool.withConnection {
                                try await log.read(team: team, after: last, filter: filter, limit: 500, on: $0)
                            }
                            guard let final = entries.last else { return }
                            try await writer.write(ByteBuffer(string: entries.map(ServerSentEvents.frame).joined()))
                            last = final.seq
                            if entries.count < 500 { return }
                        }
                    }
                    try await writer.write(ByteBuffer(string: ServerSentEvents.preamble))
                    try await drain()
                    for await signal in signals {
                        switch signal {
                        case .advanced: try await drain()
                        case .heartbeat: try await writer.write(ByteBuffer(string: ServerSentEvents.heartbeat))
                        }
                    }
                } onGracefulShutdown: {
                    Task { await hub.unsubscribe(id) }
                }
            } catch {
                await hub.unsubscribe(id)
                throw error
            }
            await hub.unsubscribe(id)
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
                      .init("X-Accel-Buffering")!: "no"],
            body: body)
    }
}
