import Foundation
import Hummingbird
import Logging
import MusterAPI
import MusterPostgres
import PlannerApp
import TestSupport
import Testing

/// The planner's document as compiled in, served and enforced: through the
/// router's responder (RouterClient), no socket and no database.
@Suite("API document (planner)")
struct PlannerAPIDocumentTests {
    let document = PlannerAPI.document

    @Test("the compiled-in document is byte for byte Services/Planner/App/API/openapi.json")
    func embeddedIsTheFile() throws {
        let file = try Data(contentsOf: RepositoryFile.url("Services/Planner/App/API/openapi.json"))
        let same = document.bytes == Array(file)
        #expect(same, "the binary holds another version of Services/Planner/App/API/openapi.json: rebuild")
        #expect(document.paths.contains { $0.template == "/v1/plans/{id}" && $0.methods == ["DELETE", "GET", "PUT"] })
    }

    @Test("documented methods per request path; literal segments win; undocumented paths are nil")
    func allowedMethods() {
        #expect(document.allowedMethods(for: "/v1/plans/1f0c") == ["DELETE", "GET", "PUT"])
        #expect(document.allowedMethods(for: "/v1/plans/1f0c/") == ["DELETE", "GET", "PUT"])
        #expect(document.allowedMethods(for: "/v1/executions/x/pause") == ["POST"])
        #expect(document.allowedMethods(for: "/v1/plans") == ["GET", "POST"])
        #expect(document.allowedMethods(for: "/v1/nothing") == nil)
        #expect(document.allowedMethods(for: "/v1/plans/a/b") == nil)
        #expect(document.allowedMethods(for: "/health/live") == nil)
    }

    @Test("literal templates beat parameters where both match")
    func literalWins() throws {
        let json = #"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a/{id}":{"get":{},"delete":{}},"/a/new":{"post":{}}}}"#
        let doc = try APIDocument(json: Array(json.utf8))
        #expect(doc.allowedMethods(for: "/a/new") == ["POST"])
        #expect(doc.allowedMethods(for: "/a/other") == ["DELETE", "GET"])
        #expect(throws: APIDocument.DocumentError.self) { try APIDocument(json: Array(#"{"openapi":"3.1.0"}"#.utf8)) }
    }

    @Test("serves /openapi.json and /docs; an undocumented method on a documented path is 405 with Allow; other paths 404")
    func servedAndEnforced() async throws {
        let router = Router(context: LocalRequestContext.self)
        router.add(middleware: MethodNotAllowedMiddleware(document: document))
        document.addRoutes(to: router)
        router.get("/v1/plans/:id") { _, _ in "plan" }
        let client = RouterClient(router)

        let json = try await client.send(.get, "/openapi.json")
        #expect(json.status == .ok)
        #expect(json.headers[.contentType] == "application/json; charset=utf-8")
        #expect(json.body == document.bytes)

        let docs = try await client.send(.get, "/docs")
        #expect(docs.status == .ok)
        let page = String(decoding: docs.body, as: UTF8.self)
        for item in document.paths {
            #expect(page.contains(item.template), "\(item.template) missing from /docs")
            for method in item.methods { #expect(page.contains("id=\"\(method)-\(item.template)\"")) }
        }
        #expect(page.contains("id=\"schema-Plan\""))

        let patch = try await client.send(.patch, "/v1/plans/6a1e")
        #expect(patch.status == .methodNotAllowed)
        #expect(patch.headers[.allow] == "DELETE, GET, PUT")
        let body = try JSONSerialization.jsonObject(with: Data(patch.body)) as? [String: Any]
        let error = body?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "method_not_allowed")
        #expect(error?["rule"] as? String == "method")

        let get = try await client.send(.get, "/v1/plans/6a1e")
        #expect(get.status == .ok)
        #expect(String(decoding: get.body, as: UTF8.self) == "plan")

        let unknown = try await client.send(.patch, "/v1/unknown")
        #expect(unknown.status == .notFound)
        #expect(unknown.headers[.allow] == nil)
    }

    @Test("the reference page escapes what the document says")
    func escapes() throws {
        let json = #"{"openapi":"3.1.0","info":{"title":"<t>","version":"1","description":"a & \"b\""},"paths":{"/x":{"get":{"summary":"<script>"}}}}"#
        let page = APIReferencePage.render(try APIDocument(json: Array(json.utf8)))
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;"))
        #expect(page.contains("a &amp; &quot;b&quot;"))
    }

    /// `METHOD template` of the operations documented with `security: []` (the callout callback,
    /// whose one-time path token is its capability).
    static func openOperations() throws -> Set<String> {
        let data = try Data(contentsOf: RepositoryFile.url("Services/Planner/App/API/openapi.json"))
        let paths = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["paths"] as? [String: Any])
        var open: Set<String> = []
        for (template, item) in paths {
            for (method, operation) in (item as? [String: Any]) ?? [:] {
                if let security = (operation as? [String: Any])?["security"] as? [Any], security.isEmpty {
                    open.insert("\(method.uppercased()) \(template)")
                }
            }
        }
        return open
    }

    @Test("every documented operation is routed: without a token each answers 401 (open ones 4xx), none 404 or 405")
    func everyOperationRouted() async throws {
        let open = try Self.openOperations()
        #expect(open == ["POST /v1/callbacks/{token}"])
        // The pool opens connections lazily and authentication comes first, so no database is touched.
        let pool = PostgresPool(configuration: .init(url: "postgresql://127.0.0.1:1/none"), logger: Logger(label: "test"))
        let router = Router(context: LocalRequestContext.self)
        PlannerAPI(configuration: PlannerConfiguration(adminToken: nil), pool: pool, wake: {}).addRoutes(to: router)
        let client = RouterClient(router)
        let operations = document.paths.flatMap { item in item.methods.map { (item.template, $0) } }
        #expect(operations.count >= 30)
        for (template, method) in operations {
            let uri = template.replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: UUID().uuidString.lowercased(),
                                                    options: .regularExpression)
            let answer = try await client.send(HTTPRequest.Method(method)!, uri, body: "{}")
            if open.contains("\(method) \(template)") {
                // No token needed; the empty body is refused before any token or database is looked at.
                #expect(answer.status == .unprocessableContent, "\(method) \(template)")
                continue
            }
            #expect(answer.status == .unauthorized, "\(method) \(template)")
        }
    }
}
