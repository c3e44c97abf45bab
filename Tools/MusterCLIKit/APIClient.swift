import Foundation
import MusterHTTP

/// The planner (and notifier) REST API as the CLI uses it: JSON in, JSON
/// out, errors turned into `CLIError.api` naming the field and the rule.
public struct APIClient: Sendable {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    public let endpoint: String
    /// Bearer token (never printed).
    let token: String
    private let http: HTTPClient

    /// A client for `endpoint` with `token`.
    public init(endpoint: String, token: String, http: HTTPClient) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.token = token
        self.http = http
    }

    /// GET `path` (with query items) decoded as `T`.
    public func get<T: Decodable>(_ path: String, query: [String: String] = [:], as type: T.Type = T.self) async throws -> T {
        try await send("GET", path, query: query, body: nil)
    }

    /// GET `path` (with query items) as text, e.g. a CSV export.
    public func text(_ path: String, query: [String: String] = [:]) async throws -> String {
        String(decoding: try await raw("GET", path, query: query, body: nil), as: UTF8.self)
    }

    /// Sends `body` with `method` to `path`, decoding the answer as `T`.
    public func send<T: Decodable>(
        _ method: String, _ path: String, query: [String: String] = [:], body: JSONValue?, as type: T.Type = T.self
    ) async throws -> T {
        let body = try await raw(method, path, query: query, body: body)
        let data = body.isEmpty ? Data("null".utf8) : Data(body)
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Sends `body` with `method` to `path`; the answer's body, or `CLIError.api` for a non-2xx answer.
    func raw(_ method: String, _ path: String, query: [String: String], body: JSONValue?) async throws -> [UInt8] {
        var components = URLComponents(string: endpoint + path)
        if !query.isEmpty {
            components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        }
        guard let url = components?.string else { throw CLIError.notConfigured("endpoint \(endpoint) is not a URL") }
        var headers = [HTTPHeader("Authorization", "Bearer \(token)"), HTTPHeader("Accept", "application/json")]
        var bytes: [UInt8] = []
        if let body {
            bytes = Array(try JSONEncoder().encode(body))
            headers.append(HTTPHeader("Content-Type", "application/json"))
        }
        let response = try await http.execute(HTTPRequest(method: method, url: url, headers: headers, body: bytes))
        guard (200..<300).contains(response.status) else {
            let error = try? JSONDecoder().decode(JSONValue.self, from: Data(response.body))
            let detail = error?["error"]
            throw CLIError.api(
                status: response.status, code: detail?["code"]?.string ?? "http_\(response.status)",
                message: detail?["message"]?.string ?? String(decoding: response.body.prefix(300), as: UTF8.self),
                field: detail?["field"]?.string)
        }
        return response.body
    }

    /// Every item of a cursor-paged list.
    public func all(_ path: String, query: [String: String] = [:]) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        var cursor: String?
        repeat {
            var pageQuery = query
            pageQuery["limit"] = "100"
            if let cursor { pageQuery["cursor"] = cursor }
            let page: JSONValue = try await get(path, query: pageQuery)
            items += page["items"]?.array ?? []
            cursor = page["nextCursor"]?.string
        } while cursor != nil
        return items
    }
}
