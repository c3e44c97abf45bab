import Foundation
import Hummingbird
import MusterMessaging
import MusterPostgres

/// The dead-letter endpoints every service serves on its ops port
/// (DESIGN §12), behind `Authorization: Bearer <MUSTER_OPS_ADMIN_TOKEN>`:
///
/// - `GET /admin/dead-letters?status=parked|replayed|discarded|all&consumer=&limit=&before=` lists parked
///   records, newest first (`nextBefore` pages on);
/// - `POST /admin/dead-letters/{id}/replay` runs the consumer's handler on one again, after a fix;
/// - `POST /admin/dead-letters/{id}/discard` gives one up: kept as evidence, never replayed;
/// - `POST /admin/dead-letters/replay?consumer=` replays every parked record (oldest first).
///
/// Without a configured token the endpoints answer 403 saying how to enable them.
public enum DeadLetterRoutes {
    /// Adds the endpoints for `consumers` (all storing in `schema`) to `router`.
    public static func add<Context: RequestContext>(
        to router: Router<Context>, schema: String, pool: PostgresPool, consumers: [EventConsumer],
        adminToken: String?
    ) {
        let store = DeadLetters(schema: schema)
        // A loop over several topics answers for each of its routes' names (e.g. `planner.job-status`).
        let byName = Dictionary(
            consumers.flatMap { consumer in consumer.names.map { ($0, consumer) } }, uniquingKeysWith: { first, _ in first })
        let group = router.group("admin/dead-letters")

        group.get { request, _ in
            if let refusal = refuse(request, adminToken: adminToken) { return refusal }
            let query = request.uri.queryParameters
            guard let status = DeadLetters.Status(rawValue: query["status"].map(String.init) ?? "parked") else {
                return invalid("status", "must be one of parked, replayed, discarded, all")
            }
            guard let limit = Int(query["limit"].map(String.init) ?? "100"), (1...1000).contains(limit) else {
                return invalid("limit", "must be an integer from 1 to 1000")
            }
            var before: Int64?
            if let raw = query["before"] {
                guard let value = Int64(String(raw)), value > 0 else { return invalid("before", "must be a positive id") }
                before = value
            }
            let consumer = query["consumer"].map(String.init)
            let letters = try await pool.withConnection {
                try await store.list(status: status, consumer: consumer, limit: limit, before: before, on: $0)
            }
            var body: [String: Any] = ["items": letters.map(json)]
            if letters.count == limit, let last = letters.last { body["nextBefore"] = last.id }
            return OpsRoutes.jsonResponse(.ok, body)
        }

        group.post("replay") { request, _ in
            if let refusal = refuse(request, adminToken: adminToken) { return refusal }
            let only = request.uri.queryParameters["consumer"].map(String.init)
            let parked = try await pool.withConnection {
                try await store.list(status: .parked, consumer: only, limit: 1000, on: $0)
            }
            var replayed: [Int64] = [], failed: [[String: Any]] = []
            for letter in parked.reversed() {
                guard let consumer = byName[letter.consumer] else {
                    failed.append(["id": letter.id, "error": "no consumer named \(letter.consumer) runs in this process"])
                    continue
                }
                switch try await consumer.replay(deadLetter: letter.id) {
                case .replayed: replayed.append(letter.id)
                case .notFound: continue  // replayed meanwhile by another request
                case .failed(let error): failed.append(["id": letter.id, "error": error])
                }
            }
            return OpsRoutes.jsonResponse(.ok, ["replayed": replayed, "failed": failed])
        }

        group.post(":id/replay") { request, context in
            if let refusal = refuse(request, adminToken: adminToken) { return refusal }
            guard let id = context.parameters.get("id").flatMap({ Int64($0) }), id > 0 else {
                return invalid("id", "must be a positive integer")
            }
            let letter = try await pool.withConnection { try await store.find(id: id, on: $0) }
            guard let letter else {
                return failure(.notFound, "not_found", "no dead letter \(id)")
            }
            if let refusal = settled(letter) { return refusal }
            guard let consumer = byName[letter.consumer] else {
                return failure(.conflict, "no_consumer", "no consumer named \(letter.consumer) runs in this process")
            }
            switch try await consumer.replay(deadLetter: id) {
            case .replayed:
                return OpsRoutes.jsonResponse(.ok, ["id": id, "status": "replayed"])
            case .notFound:
                // Replayed or discarded meanwhile by another request.
                let now = try await pool.withConnection { try await store.find(id: id, on: $0) }
                return now.flatMap(settled) ?? failure(.conflict, "not_parked", "dead letter \(id) is not parked")
            case .failed(let error):
                return failure(.conflict, "replay_failed", "the handler failed again; the record stays parked: \(error)")
            }
        }

        group.post(":id/discard") { request, context in
            if let refusal = refuse(request, adminToken: adminToken) { return refusal }
            guard let id = context.parameters.get("id").flatMap({ Int64($0) }), id > 0 else {
                return invalid("id", "must be a positive integer")
            }
            if try await pool.withConnection({ try await store.discard(id: id, on: $0) }) {
                return OpsRoutes.jsonResponse(.ok, ["id": id, "status": "discarded"])
            }
            // Not parked: say why (gone, or replayed or discarded, possibly just now by another request).
            guard let letter = try await pool.withConnection({ try await store.find(id: id, on: $0) }) else {
                return failure(.notFound, "not_found", "no dead letter \(id)")
            }
            return settled(letter) ?? failure(.conflict, "not_parked", "dead letter \(id) is not parked")
        }
    }

    /// A 409 for a row that is no longer parked (replayed or discarded); nil while it is parked.
    static func settled(_ letter: DeadLetter) -> Response? {
        switch letter.status {
        case .replayed: failure(.conflict, "already_replayed", "dead letter \(letter.id) was already replayed")
        case .discarded: failure(.conflict, "already_discarded", "dead letter \(letter.id) was discarded")
        case .parked, .all: nil
        }
    }

    /// A 401/403 response unless `request` carries the admin token.
    static func refuse(_ request: Request, adminToken: String?) -> Response? {
        guard let adminToken, !adminToken.isEmpty else {
            return failure(.forbidden, "admin_disabled", "admin endpoints are disabled: set MUSTER_OPS_ADMIN_TOKEN to enable them")
        }
        let header = request.headers[.authorization] ?? ""
        let presented = header.lowercased().hasPrefix("bearer ")
            ? String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces) : ""
        guard constantTimeEqual(Array(presented.utf8), Array(adminToken.utf8)) else {
            var response = failure(.unauthorized, "unauthenticated", "send Authorization: Bearer <MUSTER_OPS_ADMIN_TOKEN>")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return nil
    }

    /// Equality in time that depends only on the lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    static func invalid(_ field: String, _ rule: String) -> Response {
        failure(.unprocessableContent, "validation_failed", "\(field) \(rule)", field: field, rule: rule)
    }

    /// The error body shape of Muster's APIs: `{"error": {"code", "field", "rule", "message"}}`.
    static func failure(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil, rule: String? = nil
    ) -> Response {
        var detail: [String: Any] = ["code": code, "message": message]
        if let field { detail["field"] = field }
        if let rule { detail["rule"] = rule }
        return OpsRoutes.jsonResponse(status, ["error": detail])
    }

    static func json(_ letter: DeadLetter) -> [String: Any] {
        let time = ISO8601DateFormatter()
        var object: [String: Any] = [
            "id": letter.id, "consumer": letter.consumer, "topic": letter.topic, "partition": letter.partition,
            "offset": letter.offset, "reason": letter.reason.rawValue, "error": letter.error,
            "attempts": letter.attempts, "firstFailedAt": time.string(from: letter.firstFailedAt),
            "lastFailedAt": time.string(from: letter.lastFailedAt),
            "value": String(decoding: letter.value, as: UTF8.self),
            "valueBase64": Data(letter.value).base64EncodedString(),
            "headers": letter.headers.map { header -> [String: Any] in
                ["name": header.name, "value": header.value.map { String(decoding: $0, as: UTF8.self) } ?? NSNull()]
            },
            "status": letter.status.rawValue,
        ]
        if let eventID = letter.eventID { object["eventId"] = eventID.uuidString.lowercased() }
        if let key = letter.key { object["key"] = String(decoding: key, as: UTF8.self) }
        if let replayedAt = letter.replayedAt { object["replayedAt"] = time.string(from: replayedAt) }
        if let discardedAt = letter.discardedAt { object["discardedAt"] = time.string(from: discardedAt) }
        return object
    }
}
