import Crypto
import Foundation
import Logging
import MusterAPI
import MusterDomain
import MusterHTTP
import MusterPostgres

/// OpenID Connect settings; OIDC is off unless an issuer is set.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `MUSTER_OIDC_ISSUER` | unset | the provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`) |
/// | `MUSTER_OIDC_CLIENT_ID` | required with an issuer | this console's client id (also the ID token audience) |
/// | `MUSTER_OIDC_CLIENT_SECRET` | unset | client secret for a confidential client; never logged |
/// | `MUSTER_OIDC_REDIRECT_URL` | required with an issuer | `https://<planner>/console/oidc/callback` as registered at the provider |
/// | `MUSTER_OIDC_GROUP_MAP` | required with an issuer | `group=team:role,…` |
/// | `MUSTER_OIDC_GROUPS_CLAIM` | `groups` | the claim holding the person's groups |
/// | `MUSTER_OIDC_API_AUDIENCE` | the client id | `aud` that access tokens on the REST API must carry |
/// | `MUSTER_OIDC_SCOPES` | `openid profile email` | scopes asked for |
public struct OIDCSettings: Sendable {
    public var issuer: String
    public var clientID: String
    @Secret public var clientSecret: String?
    public var redirectURL: String
    public var groupMap: String
    public var groupsClaim = "groups"
    public var apiAudience: String
    public var scopes = "openid profile email"

    /// Creates settings; `apiAudience` defaults to the client id.
    public init(issuer: String, clientID: String, clientSecret: String? = nil, redirectURL: String, groupMap: String,
                apiAudience: String? = nil) {
        self.issuer = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURL = redirectURL
        self.groupMap = groupMap
        self.apiAudience = apiAudience ?? clientID
    }
}

/// The planner's side of OIDC: discovery, the provider's JWKS (cached,
/// refetched when a token names a key it does not hold, at most every
/// 30 s), the code exchange, and turning verified claims into a principal.
actor OIDCClient {
    struct Discovery: Decodable, Sendable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
        var jwks_uri: String
    }

    let settings: OIDCSettings
    let mapping: GroupMapping
    private let http: HTTPClient
    private let logger: Logger
    private var discovery: Discovery?
    private var keys: JWKS?
    private var keysFetched: ContinuousClock.Instant?

    init(settings: OIDCSettings, logger: Logger) throws {
        self.settings = settings
        self.mapping = try GroupMapping(settings.groupMap)
        self.http = HTTPClient(logger: logger)
        self.logger = logger
    }

    func configuration() async throws -> Discovery {
        if let discovery { return discovery }
        let response = try await http.execute(HTTPRequest(
            method: "GET", url: settings.issuer + "/.well-known/openid-configuration", headers: [], body: []))
        guard response.isSuccess else { throw OIDCError.provider("discovery answered \(response.status)") }
        let document = try JSONDecoder().decode(Discovery.self, from: Data(response.body))
        guard document.issuer == settings.issuer else {
            throw OIDCError.provider("discovery names issuer \(document.issuer), configured \(settings.issuer)")
        }
        discovery = document
        return document
    }

    func jwks(refresh: Bool) async throws -> JWKS {
        if let keys, !refresh || (keysFetched.map { .now - $0 < .seconds(30) } ?? false) { return keys }
        let response = try await http.execute(HTTPRequest(method: "GET", url: try await configuration().jwks_uri,
                                                          headers: [], body: []))
        guard response.isSuccess else { throw OIDCError.provider("JWKS answered \(response.status)") }
        let fresh = try JWKS(json: response.body)
        keys = fresh
        keysFetched = .now
        return fresh
    }

    /// Verifies `token` with audience `audience`, refetching the keys once if it names an unknown one.
    func verify(_ token: String, audience: String, nonce: String? = nil) async throws -> [String: JSONClaim] {
        let verifier = TokenVerifier(issuer: settings.issuer, audience: audience)
        do {
            return try verifier.verify(token, keys: try await jwks(refresh: false), now: Date(), nonce: nonce)
        } catch TokenError.unknownKey {
            return try verifier.verify(token, keys: try await jwks(refresh: true), now: Date(), nonce: nonce)
        }
    }

    /// The authorization URL for a sign-in with `state`, `nonce` and PKCE `verifier`.
    func authorizationURL(state: String, nonce: String, verifier: String) async throws -> String {
        var components = URLComponents(string: try await configuration().authorization_endpoint)
        let challenge = Base64URL.encode(Array(SHA256.hash(data: Data(verifier.utf8))))
        let existing = components?.queryItems ?? []
        components?.queryItems = existing + [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: settings.clientID),
            URLQueryItem(name: "redirect_uri", value: settings.redirectURL), URLQueryItem(name: "scope", value: settings.scopes),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: nonce),
            URLQueryItem(name: "code_challenge", value: challenge), URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        guard let url = components?.string else { throw OIDCError.provider("authorization_endpoint is not a URL") }
        return url
    }

    /// Exchanges `code` for tokens and returns the verified ID token's claims.
    func redeem(code: String, verifier: String, nonce: String) async throws -> [String: JSONClaim] {
        var form = ["grant_type": "authorization_code", "code": code, "redirect_uri": settings.redirectURL,
                    "client_id": settings.clientID, "code_verifier": verifier]
        if let secret = settings.clientSecret { form["client_secret"] = secret }
        let body = form.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.formEncode($0.value))" }.joined(separator: "&")
        let response = try await http.execute(HTTPRequest(
            method: "POST", url: try await configuration().token_endpoint,
            headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded"), HTTPHeader("Accept", "application/json")],
            body: Array(body.utf8)))
        guard response.isSuccess else { throw OIDCError.provider("the token endpoint answered \(response.status)") }
        struct Tokens: Decodable { var id_token: String }
        guard let tokens = try? JSONDecoder().decode(Tokens.self, from: Data(response.body)) else {
            throw OIDCError.provider("the token endpoint sent no id_token")
        }
        return try await verify(tokens.id_token, audience: settings.clientID, nonce: nonce)
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// The person the claims describe, as a principal of the mapped team (looked up by name).
    func principal(_ claims: [String: JSONClaim], pool: PostgresPool, schema: String) async throws -> MusterAPI.Principal<TeamID?> {
        guard let grant = mapping.grant(for: claims[settings.groupsClaim]?.strings ?? []) else { throw TokenError.noTeam }
        guard let row = try await pool.query("SELECT id FROM \(schema).teams WHERE lower(name) = lower($1)",
                                             [grant.team]).rows.first else {
            logger.warning("OIDC group mapping names a team that does not exist", metadata: ["team": "\(grant.team)"])
            throw TokenError.noTeam
        }
        let subject = claims["preferred_username"]?.string ?? claims["email"]?.string ?? claims["sub"]?.string ?? "oidc"
        return MusterAPI.Principal(teamID: try row.decode(TeamID.self, "id"), subject: subject, role: grant.role)
    }

    func shutdown() async { await http.shutdown() }
}

/// The provider misbehaved or is unreachable.
enum OIDCError: Error, CustomStringConvertible {
    case provider(String)
    var description: String {
        switch self { case .provider(let text): "identity provider: \(text)" }
    }
}
