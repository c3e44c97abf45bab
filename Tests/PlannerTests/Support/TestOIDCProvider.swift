import Crypto
import Foundation
import Hummingbird
import Logging
import TestSupport
import _CryptoExtras

/// A tiny OpenID Connect provider for tests, over real HTTP on a free port:
/// discovery, a JWKS with a fresh RS256 key, an authorization endpoint that
/// signs in `nextUser` at once (no login form) and a token endpoint that
/// checks the PKCE verifier and issues signed ID and access tokens. `mint`
/// signs any claims, so tests can hand the planner expired, mis-addressed or
/// tampered tokens.
final class TestOIDCProvider: Sendable {
    struct User: Sendable { var subject: String; var groups: [String] }
    struct Grant: Sendable { var user: User; var nonce: String?; var challenge: String; var redirect: String; var clientID: String }

    let key: _RSA.Signing.PrivateKey
    let kid = "test-key-1"
    let nextUser = Locked(User(subject: "alice", groups: []))
    let nonceOverride = Locked<String?>(nil)
    private let grants = Locked<[String: Grant]>([:])
    private let port = Locked<Int?>(nil)
    private let tasks = BackgroundTasks()
    static let apiAudience = "muster-api"

    var issuer: String { "http://127.0.0.1:\(port.value ?? 0)" }

    init() async throws {
        key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let router = Router()
        router.get(".well-known/openid-configuration") { [self] _, _ in
            json(["issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
                  "jwks_uri": issuer + "/jwks", "response_types_supported": ["code"],
                  "code_challenge_methods_supported": ["S256"], "id_token_signing_alg_values_supported": ["RS256"]])
        }
        router.get("jwks") { [self] _, _ in
            let primitives = try key.publicKey.getKeyPrimitives()
            return json(["keys": [["kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                                   "n": Self.base64URL(primitives.modulus), "e": Self.base64URL(primitives.publicExponent)]]])
        }
        router.get("authorize") { [self] request, _ in
            let query = request.uri.queryParameters
            guard query["response_type"] == "code", query["code_challenge_method"] == "S256",
                  let challenge = query["code_challenge"], let redirect = query["redirect_uri"],
                  let state = query["state"], let client = query["client_id"]
            else { return Response(status: .badRequest) }
            let code = UUID().uuidString
            grants.withLock {
                $0[code] = Grant(user: nextUser.value, nonce: query["nonce"].map(String.init), challenge: String(challenge),
                                 redirect: String(redirect), clientID: String(client))
            }
            var location = URLComponents(string: String(redirect))!
            location.queryItems = [URLQueryItem(name: "code", value: code), URLQueryItem(name: "state", value: String(state))]
            return Response(status: .found, headers: [.location: location.string!])
        }
        router.post("token") { [self] request, _ in
            let body = String(buffer: try await request.body.collect(upTo: 65536))
            var form: [String: String] = [:]
            for pair in body.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                if parts.count == 2 { form[parts[0]] = parts[1] }
            }
            guard form["grant_type"] == "authorization_code", let code = form["code"],
                  let grant = grants.withLock({ $0.removeValue(forKey: code) }),
                  let verifier = form["code_verifier"],
                  Self.base64URL(Array(SHA256.hash(data: Data(verifier.utf8)))) == grant.challenge,
                  form["redirect_uri"] == grant.redirect, form["client_id"] == grant.clientID
            else { return json(["error": "invalid_grant"], status: .badRequest) }
            let now = Date().timeIntervalSince1970
            var idClaims: [String: Any] = ["iss": issuer, "aud": grant.clientID, "sub": grant.user.subject,
                                           "preferred_username": grant.user.subject, "groups": grant.user.groups,
                                           "iat": now, "exp": now + 300]
            if let nonce = nonceOverride.value ?? grant.nonce { idClaims["nonce"] = nonce }
            return json(["token_type": "Bearer", "expires_in": 300, "id_token": try mint(idClaims),
                         "access_token": try accessToken(for: grant.user)])
        }
        let port = self.port
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "test-oidc"),
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
            logger: TestEnvironment.logger)
        tasks.start { try await application.run() }
        _ = await eventually { port.value != nil }
    }

    /// Signs `claims` with the provider's key (or `key`), RS256, with this provider's `kid` unless told otherwise.
    func mint(_ claims: [String: Any], kid: String? = nil, key: _RSA.Signing.PrivateKey? = nil, alg: String = "RS256")
        throws -> String
    {
        let header = try JSONSerialization.data(withJSONObject: ["alg": alg, "typ": "JWT", "kid": kid ?? self.kid])
        let payload = try JSONSerialization.data(withJSONObject: claims)
        let input = Self.base64URL(Array(header)) + "." + Self.base64URL(Array(payload))
        let signature = try (key ?? self.key).signature(for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Self.base64URL(Array(signature.rawRepresentation))
    }

    /// An access token for the REST API.
    func accessToken(for user: User, audience: String = TestOIDCProvider.apiAudience, expiresIn: Double = 300) throws -> String {
        let now = Date().timeIntervalSince1970
        return try mint(["iss": issuer, "aud": audience, "sub": user.subject, "preferred_username": user.subject,
                         "groups": user.groups, "iat": now, "exp": now + expiresIn])
    }

    func stop() async { await tasks.cancelAll() }

    private func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))))
    }

    static func base64URL(_ bytes: some DataProtocol) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
