import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MusterEC2
import MusterHTTP

/// Routes every request: `/health/*` and `/metrics`, the admin API under `/admin/`, and
/// everything else as a DRS call (`POST /{Operation}`, SigV4-signed).
struct DRSSimResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let engine: DRSSimEngine
    let admin: AdminAPI
    let logger: Logger

    /// Largest request body accepted (a 200-server StartRecovery is a few KB).
    static let maxBody = 4 << 20

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let path = request.uri.path
        let body: [UInt8]
        do {
            body = Array(try await request.collectBody(upTo: Self.maxBody).readableBytesView)
        } catch {
            return Self.json(413, Data(#"{"message":"request body larger than 4 MiB"}"#.utf8))
        }
        switch path {
        case "/health/live":
            return Self.json(200, Data(#"{"status":"live"}"#.utf8))
        case "/health/ready":
            return Self.json(200, Data(#"{"status":"ready"}"#.utf8))
        case "/metrics":
            let text = await engine.withSimulation { sim, now in
                sim.advanceAll(realNow: now)
                return MetricsText.render(sim.counters, activeJobs: sim.activeJobCount, timeScale: sim.clock.timeScale)
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        default:
            break
        }
        if path == "/admin" || path.hasPrefix("/admin/") {
            let reply = await admin.respond(
                method: request.method.rawValue, path: path, authorization: request.headers[.authorization], body: Data(body)
            )
            return Self.json(reply.status, reply.body)
        }
        return await drs(request, path: path, body: body)
    }

    private func drs(_ request: Request, path: String, body: [UInt8]) async -> Response {
        var headers = request.headers.map { HTTPHeader(name: $0.name.rawName, value: $0.value) }
        // HTTP/1.1's Host header arrives as the :authority pseudo-header; SigV4 signs it as `host`.
        if let authority = request.head.authority, headers.first(named: "host") == nil {
            headers.append(HTTPHeader(name: "host", value: authority))
        }
        let auth = await engine.authenticate(
            method: request.method.rawValue, path: path, query: request.uri.query ?? "", headers: headers, body: body
        )
        let key: EstateKey
        switch auth {
        case .success(let value):
            key = value
        case .failure(let error):
            logger.info("drs-sim refused request", metadata: ["path": "\(path)", "error": "\(error.errorType)"])
            return Self.answer(DRSSimResponse(error: error))
        }
        if Self.signingService(headers) == "ec2" {
            let form = EC2QueryForm.decode(String(decoding: body, as: UTF8.self))
            let answer = await engine.performEC2(form: form, key: key)
            var xmlHeaders = HTTPFields()
            xmlHeaders[.contentType] = "text/xml;charset=UTF-8"
            return Response(status: HTTPResponse.Status(code: answer.status), headers: xmlHeaders,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
        }
        if Self.signingService(headers) == "ssm" {
            let answer = await engine.performSSM(target: headers.first(named: "x-amz-target") ?? "", body: Data(body), key: key)
            return Self.answer(answer)
        }
        let operation = String(path.drop { $0 == "/" })
        guard request.method == .post else {
            return Self.answer(DRSSimResponse(error: .validation(
                "DRS operations are POST /{Operation}; got \(request.method.rawValue) \(path).", reason: .unknownOperation
            )))
        }
        let latency = await engine.injectedLatency(operation: operation, key: key)
        if latency > 0 {
            try? await Task.sleep(for: .milliseconds(latency))
        }
        let response = await engine.perform(operation: operation, body: Data(body), key: key)
        let after = await engine.injectedLatency(operation: operation, key: key, phase: .after)
        if after > 0 {
            try? await Task.sleep(for: .milliseconds(after))
        }
        logger.debug(
            "drs-sim answered",
            metadata: [
                "operation": "\(operation)", "account": "\(key.accountID)", "region": "\(key.region)",
                "status": "\(response.status)", "errorType": "\(response.headers["x-amzn-ErrorType"] ?? "")",
            ]
        )
        return Self.answer(response)
    }

    /// `x-amzn-RequestId`: AWS sends one (a UUID) on every response, error or not.
    static let requestIDHeader = HTTPField.Name("x-amzn-RequestId")!

    /// The service of the SigV4 credential scope (`Credential=AKID/day/region/service/aws4_request`):
    /// `ec2` requests are EC2 Query-protocol calls, `ssm` SSM JSON 1.1 calls, everything else DRS.
    static func signingService(_ headers: [HTTPHeader]) -> String? {
        guard let authorization = headers.first(named: "authorization"),
              let credential = authorization.range(of: "Credential=")
        else { return nil }
        let scope = authorization[credential.upperBound...].prefix { $0 != "," && $0 != " " }.split(separator: "/")
        return scope.count == 5 ? String(scope[3]) : nil
    }

    private static func answer(_ response: DRSSimResponse) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[requestIDHeader] = UUID().uuidString.lowercased()
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: response.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body))
        )
    }

    private static func json(_ status: Int, _ body: Data) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[requestIDHeader] = UUID().uuidString.lowercased()
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
