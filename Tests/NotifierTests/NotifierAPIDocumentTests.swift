import Foundation
import Hummingbird
import MusterAPI
import Logging
import MusterEvents
import MusterPostgres
@testable import NotifierApp
import TestSupport
import Testing

/// The notifier's document held against the Swift types and rules it
/// describes, so neither can change without the other.
@Suite("API document (notifier)")
struct NotifierAPIDocumentTests {
    let root: [String: Any]

    init() throws {
        root = try #require(try JSONSerialization.jsonObject(with: Data(NotifierAPI.document.bytes)) as? [String: Any])
    }

    func schema(_ name: String) throws -> [String: Any] {
        let components = try #require(root["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        return try #require(schemas[name] as? [String: Any])
    }

    func property(_ schema: String, _ name: String) throws -> [String: Any] {
        try #require((try self.schema(schema)["properties"] as? [String: Any])?[name] as? [String: Any])
    }

    @Test("the compiled-in document is byte for byte Services/Notifier/App/API/openapi.json, and it is OpenAPI 3.1")
    func embeddedIsTheFile() throws {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            directory = directory.deletingLastPathComponent()
        }
        let file = try Data(contentsOf: directory.appendingPathComponent("Services/Notifier/App/API/openapi.json"))
        let same = NotifierAPI.document.bytes == Array(file)
        #expect(same, "the binary holds another version of Services/Notifier/App/API/openapi.json: rebuild")
        #expect((root["openapi"] as? String)?.hasPrefix("3.1") == true)
    }

    @Test("eventTypes lists exactly \"*\" and every ExecutionEventType")
    func eventTypes() throws {
        for name in ["SubscriptionInput", "SubscriptionUpdate"] {
            let items = try #require(try property(name, "eventTypes")["items"] as? [String: Any])
            #expect(items["enum"] as? [String] == [EventFilter.wildcard] + ExecutionEventType.allCases.map(\.rawValue))
        }
    }

    @Test("lengths, patterns and enums are the code's")
    func constraints() throws {
        let url = try property("SubscriptionInput", "url")
        #expect(url["maxLength"] as? Int == SubscriptionRules.maxURLLength)
        #expect(url["pattern"] as? String == SubscriptionRules.urlPattern)
        let secret = try property("SubscriptionInput", "secret")
        #expect(secret["minLength"] as? Int == WebhookSecret.allowedLength.lowerBound)
        #expect(secret["maxLength"] as? Int == WebhookSecret.allowedLength.upperBound)
        #expect(try property("SubscriptionInput", "description")["maxLength"] as? Int == SubscriptionRules.maxDescriptionLength)
        #expect(try schema("DeliveryStatus")["enum"] as? [String] == DeliveryStatus.allCases.map(\.rawValue))
        #expect(try schema("SubscriptionInput")["required"] as? [String] == ["url"])
    }

    @Test("the URL rule accepts what the pattern accepts and refuses what it refuses")
    func urlRule() throws {
        let rules = SubscriptionRules(allowHTTP: true)
        for good in ["https://hooks.example.com/muster", "http://127.0.0.1:8080/x?a=b&c=d", "https://a", "https://a.b/c@d:e",
                     "http://127.0.0.1:65535/hook"] {
            #expect(throws: Never.self) { try rules.checkURL(good) }
        }
        for bad in [" https://a.example", "https://a.example/%zz", "https://u:p@a.example", "https://a.example/#f", "ftp://a",
                    "https://ä.example", "https://a.example/ x", "https://-a", "https://a.example:65536/", "https://a.example:0/"] {
            #expect(throws: APIError.self, "\(bad)") { try rules.checkURL(bad) }
        }
    }

    @Test("undocumented methods on documented paths answer 405 with Allow")
    func methodNotAllowed() async throws {
        let router = Router(context: LocalRequestContext.self)
        router.add(middleware: MethodNotAllowedMiddleware(document: NotifierAPI.document))
        NotifierAPI.document.addRoutes(to: router)
        let client = RouterClient(router)
        let put = try await client.send(.put, "/v1/subscriptions")
        #expect(put.status == .methodNotAllowed)
        #expect(put.headers[.allow] == "GET, POST")
        let get = try await client.send(.get, "/v1/subscriptions/1/test")
        #expect(get.status == .methodNotAllowed)
        #expect(get.headers[.allow] == "POST")
        #expect(try await client.send(.get, "/openapi.json").body == NotifierAPI.document.bytes)
    }

    @Test("every documented operation is routed: without a token each answers 401, none 404 or 405")
    func everyOperationRouted() async throws {
        // The pool opens connections lazily and authentication comes first, so no database is touched.
        let pool = PostgresPool(configuration: .init(url: "postgresql://127.0.0.1:1/none"), logger: Logger(label: "test"))
        let router = Router(context: LocalRequestContext.self)
        NotifierAPI(configuration: NotifierConfiguration(), pool: pool, wake: {}).addRoutes(to: router)
        let client = RouterClient(router)
        let operations = NotifierAPI.document.paths.flatMap { item in item.methods.map { (item.template, $0) } }
        #expect(operations.count == 9)
        for (template, method) in operations {
            let uri = template.replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: UUID().uuidString.lowercased(),
                                                    options: .regularExpression)
            let answer = try await client.send(HTTPRequest.Method(method)!, uri, body: "{}")
            #expect(answer.status == .unauthorized, "\(method) \(template)")
        }
    }
}
