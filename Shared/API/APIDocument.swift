import Foundation
import Hummingbird

/// A service's OpenAPI document, compiled into its binary (SwiftPM
/// `embedInCode`), so what a service serves is exactly the file in the
/// repository. It is served at `GET /openapi.json`, rendered as a reference
/// page at `GET /docs`, and it decides the 405s: a request whose path matches
/// a documented path but whose method is not documented there is answered
/// 405 with `Allow` (``MethodNotAllowedMiddleware``), never routed.
public struct APIDocument: Sendable {
    /// One documented path: its segments (`{name}` matches any one segment) and methods.
    public struct PathItem: Sendable, Equatable {
        /// The path as written in the document (`/v1/plans/{id}`).
        public var template: String
        /// Upper-case HTTP methods documented for the path, sorted.
        public var methods: [String]
        var segments: [Substring]
    }

    /// The document exactly as compiled in.
    public let bytes: [UInt8]
    /// The documented paths.
    public let paths: [PathItem]
    /// `info.title`.
    public let title: String

    static let operationKeys: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// The document in `bytes` (UTF-8 JSON); throws when it is not an
    /// OpenAPI object with `paths`.
    public init(json bytes: [UInt8]) throws {
        guard let root = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let paths = root["paths"] as? [String: Any]
        else { throw DocumentError(message: "not an OpenAPI document with paths") }
        self.bytes = bytes
        self.title = ((root["info"] as? [String: Any])?["title"] as? String) ?? "API"
        self.paths = paths.keys.sorted().map { template in
            let item = paths[template] as? [String: Any] ?? [:]
            let methods = item.keys.filter(Self.operationKeys.contains).map { $0.uppercased() }.sorted()
            return PathItem(template: template, methods: methods, segments: Self.segments(template))
        }
    }

    /// Why a document could not be read.
    public struct DocumentError: Error, CustomStringConvertible {
        /// What is wrong.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// The methods documented for `path` (a request path, no query), or nil
    /// when no documented path matches it. Where several match, the ones
    /// with the most literal segments win, as in the router.
    public func allowedMethods(for path: String) -> [String]? {
        let request = Self.segments(path)
        var best: (literals: Int, methods: Set<String>)?
        for item in paths where item.segments.count == request.count {
            var literals = 0
            var matches = true
            for (pattern, segment) in zip(item.segments, request) {
                if pattern.first == "{" && pattern.last == "}" {
                    if segment.isEmpty { matches = false; break }
                } else if pattern == segment {
                    literals += 1
                } else {
                    matches = false
                    break
                }
            }
            guard matches else { continue }
            if best == nil || literals > best!.literals {
                best = (literals, Set(item.methods))
            } else if literals == best!.literals {
                best!.methods.formUnion(item.methods)
            }
        }
        return best.map { $0.methods.sorted() }
    }

    static func segments(_ path: String) -> [Substring] {
        var trimmed = Substring(path)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return trimmed.isEmpty ? [] : trimmed.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// Adds `GET /openapi.json` (the document) and `GET /docs` (its HTML
    /// reference page) to `router`. Neither needs a token.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let json = ByteBuffer(bytes: bytes)
        let page = ByteBuffer(string: APIReferencePage.render(self))
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: json))
        }
        router.get("/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: page))
        }
    }
}

/// Answers 405 with `Allow` and the JSON error body for a request whose path
/// is in the ``APIDocument`` but whose method is not documented for it, so
/// undeclared methods never reach a handler (and never fall through to 404).
/// Add it to the router itself (not a group): it must see every request.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The document whose paths and methods are enforced.
    public let document: APIDocument

    /// A middleware enforcing `document`'s methods.
    public init(document: APIDocument) { self.document = document }

    /// Answers 405 for an undocumented method on a documented path, else runs `next`.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if let allowed = document.allowedMethods(for: request.uri.path), !allowed.contains(request.method.rawValue) {
            let error = APIError(
                status: .methodNotAllowed, code: "method_not_allowed", field: "", rule: "method",
                message: "\(request.method.rawValue) is not an operation of \(request.uri.path); allowed: "
                    + allowed.joined(separator: ", "))
            var response = try error.response(from: request, context: context)
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        }
        return try await next(request, context)
    }
}
