import Foundation
import MusterDRS

/// The admin API, under `/admin/`, kept apart from the DRS API: no SigV4 (optionally a bearer
/// token), plain JSON. Routes are listed in `Services/DRSSim/README.md`.
///
/// Independent of the HTTP framework: it maps (method, path, body) to (status, JSON), so it is
/// tested without a socket.
public struct AdminAPI: Sendable {
    /// A JSON answer.
    public struct Reply: Sendable, Equatable {
        /// HTTP status.
        public var status: Int
        /// JSON body.
        public var body: Data
    }

    private let engine: DRSSimEngine
    private let token: String?

    /// An admin API over `engine`; if `token` is set, requests must carry it as a bearer token.
    public init(engine: DRSSimEngine, token: String?) {
        self.engine = engine
        self.token = token
    }

    /// Answers one admin request.
    public func respond(method: String, path: String, authorization: String?, body: Data) async -> Reply {
        if let token, authorization != "Bearer \(token)" {
            return .message(401, "admin API needs 'Authorization: Bearer <DRS_SIM_ADMIN_TOKEN>'")
        }
        let segments = path.split(separator: "/").map(String.init).dropFirst()  // drop "admin"
        do throws(DRSSimAdminError) {
            switch (method, Array(segments)) {
            case ("GET", ["state"]):
                return .json(await engine.withSimulation { sim, now in sim.status(realNow: now) })
            case ("GET", ["counters"]):
                return .json(await engine.withSimulation { sim, now in
                    sim.advanceAll(realNow: now)
                    return sim.counters
                })
            case ("POST", ["seed"]):
                let document = try decode(SeedDocument.self, body)
                try await engine.withSimulation { (sim, now) throws(DRSSimAdminError) in try sim.seed(document, realNow: now) }
                return .json(await engine.withSimulation { sim, now in sim.status(realNow: now) })
            case ("POST", ["reset"]):
                let document = body.isEmpty ? nil : try decode(SeedDocument.self, body)
                try await engine.withSimulation { (sim, now) throws(DRSSimAdminError) in try sim.reset(to: document, realNow: now) }
                return .json(await engine.withSimulation { sim, now in sim.status(realNow: now) })
            case ("GET", ["time-scale"]):
                return .json(TimeScale(timeScale: await engine.withSimulation { sim, _ in sim.clock.timeScale }))
            case ("PUT", ["time-scale"]), ("POST", ["time-scale"]):
                let request = try decode(TimeScale.self, body)
                try await engine.withSimulation { (sim, now) throws(DRSSimAdminError) in
                    try sim.setTimeScale(request.timeScale, realNow: now)
                }
                return .json(request)
            case ("POST", ["clock", "advance"]):
                let request = try decode(Advance.self, body)
                try await engine.withSimulation { (sim, now) throws(DRSSimAdminError) in
                    try sim.advanceClock(bySimulatedSeconds: request.seconds, realNow: now)
                }
                return .json(await engine.withSimulation { sim, now in sim.status(realNow: now) })
            case ("GET", ["behaviour"]):
                return .json(await engine.withSimulation { sim, _ in sim.behaviour })
            case ("PUT", ["behaviour"]), ("POST", ["behaviour"]):
                let current = await engine.withSimulation { sim, _ in sim.behaviour }
                let next: DRSSimBehaviour
                do { next = try current.merging(body) } catch let error as DRSSimAdminError { throw error } catch {
                    throw DRSSimAdminError("behaviour must be a JSON object of known settings: \(error)")
                }
                await engine.withSimulation { sim, _ in sim.setBehaviour(next) }
                return .json(next)
            case ("GET", ["quotas"]):
                return .json(await engine.withSimulation { sim, _ in sim.quotas })
            case ("PUT", ["quotas"]), ("POST", ["quotas"]):
                let quotas = try decode(DRSSimQuotas.self, body)
                try await engine.withSimulation { (sim, _) throws(DRSSimAdminError) in try sim.setQuotas(quotas) }
                return .json(quotas)
            case ("GET", ["rate-limit"]):
                return .json(await engine.withSimulation { sim, _ in sim.rateLimit })
            case ("PUT", ["rate-limit"]), ("POST", ["rate-limit"]):
                let limit = try decode(DRSSimRateLimit.self, body)
                try await engine.withSimulation { (sim, now) throws(DRSSimAdminError) in try sim.setRateLimit(limit, realNow: now) }
                return .json(limit)
            case ("GET", ["faults"]):
                return .json(await engine.withSimulation { sim, _ in sim.activeFaults })
            case ("POST", ["faults"]):
                let fault = try decode(DRSSimFault.self, body)
                let (stored, job) = try await engine.withSimulation { (sim, now) throws(DRSSimAdminError) in
                    try sim.addFault(fault, realNow: now)
                }
                return .json(FaultAdded(fault: stored, job: job), status: 201)
            case ("DELETE", ["faults"]):
                await engine.withSimulation { sim, _ in sim.clearFaults() }
                return .message(200, "all faults cleared")
            case ("DELETE", let path) where path.count == 2 && path[0] == "faults":
                let removed = await engine.withSimulation { sim, _ in sim.removeFault(id: path[1]) }
                return removed ? .message(200, "fault \(path[1]) removed") : .message(404, "no fault \(path[1]); GET /admin/faults lists them")
            default:
                return .message(404, "no admin route \(method) \(path); see Services/DRSSim/README.md for the admin API")
            }
        } catch {
            return .message(error.httpStatus, error.message)
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ body: Data) throws(DRSSimAdminError) -> T {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw DRSSimAdminError("request body is not a valid \(type) JSON document: \(error)")
        }
    }

    private struct TimeScale: Codable, Sendable { var timeScale: Double }
    private struct Advance: Codable, Sendable { var seconds: Double }
    private struct FaultAdded: Codable, Sendable {
        var fault: ActiveFault?
        var job: Job?
    }
}

extension AdminAPI.Reply {
    static func json<T: Encodable>(_ value: T, status: Int = 200) -> Self {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Self(status: status, body: (try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    static func message(_ status: Int, _ message: String) -> Self {
        json(["message": message], status: status)
    }
}
