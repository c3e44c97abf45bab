import Foundation
import MusterHTTP
@testable import PlannerApp
import TestSupport
import Testing
import _CryptoExtras

/// OpenID Connect against a real (tiny) provider over HTTP: the console's
/// authorization-code + PKCE sign-in, ID token checks, the groups mapping,
/// and provider access tokens on the REST API.
@Suite("Planner OIDC")
struct OIDCTests {
    func header(_ response: HTTPResponse, _ name: String) -> String? { response.header(name) }

    func cookieValue(_ setCookie: String?) -> String? {
        setCookie.map { String($0.split(separator: ";")[0].split(separator: "=", maxSplits: 1).last ?? "") }
    }

    func settings(_ provider: TestOIDCProvider, app team: String, port: Int = 0) -> OIDCSettings {
        OIDCSettings(issuer: provider.issuer, clientID: "muster-console", redirectURL: "http://127.0.0.1/console/oidc/callback",
                     groupMap: "dr-ops=\(team):operator,dr-view=\(team):viewer,dr-admins=\(team):admin",
                     apiAudience: TestOIDCProvider.apiAudience)
    }

    /// Runs the browser's part of a sign-in with plain HTTP: start, the provider's redirect, the callback.
    func signIn(_ app: PlannerTestApp, sendStateCookie: Bool = true) async throws -> (callback: HTTPResponse, replay: () async throws -> HTTPResponse) {
        let start = try await app.http.execute(HTTPRequest(method: "GET", url: app.baseURL + "/console/oidc/start"))
        #expect(start.status == 303)
        let authorize = try #require(start.header("Location"))
        #expect(authorize.contains("code_challenge_method=S256"))
        #expect(authorize.contains("nonce="))
        let state = try #require(cookieValue(start.header("Set-Cookie")))
        let provider = try await app.http.execute(HTTPRequest(method: "GET", url: authorize))
        #expect(provider.status == 302)
        let location = try #require(provider.header("Location"))
        let back = try #require(URLComponents(string: location))
        let callback = app.baseURL + "/console/oidc/callback?" + (back.percentEncodedQuery ?? "")
        let headers = sendStateCookie ? [HTTPHeader("Cookie", "muster_oidc_state=\(state)")] : []
        let response = try await app.http.execute(HTTPRequest(method: "GET", url: callback, headers: headers))
        return (response, { try await app.http.execute(HTTPRequest(method: "GET", url: callback, headers: headers)) })
    }

    @Test func consoleSignInWithAuthorizationCodeAndPKCEMapsGroupsToTeamAndRole() async throws {
        let provider = try await TestOIDCProvider()
        let team = TestEnvironment.uniqueName("payments")
        // The settings need the provider's issuer, the mapping the team's name (created through the app below).
        try await PlannerTestApp.with(oidc: settings(provider, app: team)) { app in
            _ = try await app.team(team)
            provider.nextUser.withLock { $0 = .init(subject: "alice", groups: ["unrelated", "dr-view", "dr-ops"]) }
            let (callback, replay) = try await signIn(app)
            #expect(callback.status == 303)
            #expect(callback.header("Location") == "/console")
            let session = try #require(cookieValue(callback.headers.first {
                $0.name.lowercased() == "set-cookie" && $0.value.hasPrefix("muster_session=")
            }?.value))
            let dashboard = try await app.http.execute(HTTPRequest(
                method: "GET", url: app.baseURL + "/console", headers: [HTTPHeader("Cookie", "muster_session=\(session)")]))
            let html = String(decoding: dashboard.body, as: UTF8.self)
            #expect(dashboard.status == 200)
            #expect(html.contains("alice · \(team) · <span data-role=\"operator\">"), "highest mapped role of the team")
            // The state is single use.
            #expect(try await replay().status == 401)

            // A sign-in that did not start in this browser (no state cookie) is refused.
            #expect(try await signIn(app, sendStateCookie: false).callback.status == 401)
            // A person whose groups map to no team is refused.
            provider.nextUser.withLock { $0 = .init(subject: "mallory", groups: ["contractors"]) }
            let unmapped = try await signIn(app).callback
            #expect(unmapped.status == 401)
            #expect(String(decoding: unmapped.body, as: UTF8.self).contains("none of the token&#39;s groups maps to a Muster team"))
            // An ID token whose nonce is not this sign-in's is refused.
            provider.nextUser.withLock { $0 = .init(subject: "alice", groups: ["dr-ops"]) }
            provider.nonceOverride.withLock { $0 = "replayed-nonce" }
            let replayed = try await signIn(app).callback
            #expect(replayed.status == 401)
            #expect(String(decoding: replayed.body, as: UTF8.self).contains("nonce"))
        }
        await provider.stop()
    }

    @Test func idTokensAreCheckedForSignatureIssuerAudienceExpiryAndNonce() async throws {
        let provider = try await TestOIDCProvider()
        let http = HTTPClient(logger: TestEnvironment.logger)
        let keys = try JWKS(json: try await http.execute(HTTPRequest(method: "GET", url: provider.issuer + "/jwks")).body)
        await http.shutdown()
        let verifier = TokenVerifier(issuer: provider.issuer, audience: "console")
        let now = Date()
        func claims(_ changes: [String: Any] = [:]) -> [String: Any] {
            var base: [String: Any] = ["iss": provider.issuer, "aud": ["other", "console"], "sub": "alice", "nonce": "n1",
                                       "exp": now.timeIntervalSince1970 + 60, "iat": now.timeIntervalSince1970]
            base.merge(changes) { $1 }
            return base
        }
        let good = try provider.mint(claims())
        #expect(try verifier.verify(good, keys: keys, now: now, nonce: "n1")["sub"]?.string == "alice")

        func refusal(_ token: String, nonce: String? = "n1") -> TokenError? {
            do { _ = try verifier.verify(token, keys: keys, now: now, nonce: nonce); return nil } catch { return error as? TokenError }
        }
        let stranger = try _RSA_key()
        #expect(refusal(try provider.mint(claims(), key: stranger)) == .signature)
        #expect(refusal(try provider.mint(claims(), kid: "rotated-away")) == .unknownKey("rotated-away"))
        #expect(refusal(try provider.mint(claims(), alg: "HS256")) == .algorithm("HS256"))
        #expect(refusal(try provider.mint(claims(["iss": "https://evil.example"]))) == .issuer)
        #expect(refusal(try provider.mint(claims(["aud": "someone-else"]))) == .audience)
        #expect(refusal(try provider.mint(claims(["exp": now.timeIntervalSince1970 - 61]))) == .expired)
        #expect(refusal(try provider.mint(claims(["nbf": now.timeIntervalSince1970 + 600]))) == .notYetValid)
        #expect(refusal(good, nonce: "n2") == .nonce)
        #expect(refusal("not.a.jwt") == .malformed)
        // Claims changed after signing: the signature no longer covers them.
        let parts = good.split(separator: ".")
        let forged = try JSONSerialization.data(withJSONObject: claims(["sub": "root"]))
        #expect(refusal("\(parts[0]).\(TestOIDCProvider.base64URL(Array(forged))).\(parts[2])") == .signature)
        await provider.stop()
    }

    @Test func providerAccessTokensAuthenticateOnTheAPIWithTheSameMapping() async throws {
        let provider = try await TestOIDCProvider()
        let team = TestEnvironment.uniqueName("payments")
        try await PlannerTestApp.with(oidc: settings(provider, app: team)) { app in
            let tokens = try await app.team(team)
            let operatorToken = try provider.accessToken(for: .init(subject: "ci-pipeline", groups: ["dr-ops"]))
            let listed = try await app.call("GET", "/v1/executions", token: operatorToken)
            #expect(listed.status == 200)
            let me = try await app.call("GET", "/v1/me", token: operatorToken)
            #expect(me["role"] as? String == "operator")
            // Same roles as the API: a viewer mapping cannot change things.
            let viewerToken = try provider.accessToken(for: .init(subject: "auditor", groups: ["dr-view"]))
            let refused = try await app.call("POST", "/v1/protection-groups", token: viewerToken,
                                             json: ["name": "g", "region": "us-east-1", "sourceServerIds": ["s-1"]])
            #expect(refused.status == 403)
            for bad in [try provider.accessToken(for: .init(subject: "x", groups: ["dr-ops"]), expiresIn: -120),
                        try provider.accessToken(for: .init(subject: "x", groups: ["dr-ops"]), audience: "muster-console"),
                        try provider.accessToken(for: .init(subject: "x", groups: ["nobody"]))] {
                let reply = try await app.call("GET", "/v1/executions", token: bad)
                #expect(reply.status == 401)
                #expect((reply.error["message"] as? String)?.contains("provider token refused") == true)
                #expect((reply.error["message"] as? String)?.contains(bad) == false, "the token is never echoed")
            }
            // Planner-issued tokens keep working beside the provider's.
            #expect(try await app.call("GET", "/v1/executions", token: tokens.viewer).status == 200)
        }
        await provider.stop()
    }

    @Test func groupMappingTakesTheHighestRoleOfTheFirstMatchingTeam() throws {
        let mapping = try GroupMapping("ops=payments:operator, admins=payments:admin,billing=billing:viewer")
        #expect(mapping.grant(for: ["ops", "admins"])?.role == .admin)
        #expect(mapping.grant(for: ["billing", "ops"])?.team == "payments", "the first mapping in configured order wins")
        #expect(mapping.grant(for: ["billing"])?.role == .viewer)
        #expect(mapping.grant(for: ["other"]) == nil)
        #expect(throws: GroupMapping.GroupMappingError.self) { try GroupMapping("ops=payments") }
        #expect(throws: GroupMapping.GroupMappingError.self) { try GroupMapping("ops=payments:root") }
    }
}

/// A key the provider does not publish.
func _RSA_key() throws -> _RSA.Signing.PrivateKey { try _RSA.Signing.PrivateKey(keySize: .bits2048) }
