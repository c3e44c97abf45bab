import Foundation
import Hummingbird
import MusterAPI
import MusterConsole
import MusterPostgres

/// OpenID Connect sign-in for the console: authorization code with PKCE
/// (S256), `state` bound to the browser by a short-lived cookie and to a
/// single-use row holding the nonce and code verifier, the ID token checked
/// against the provider's JWKS (signature, issuer, audience, expiry, nonce),
/// and the groups claim mapped to a team and role.
extension PlannerConsole {
    static let stateCookie = "muster_oidc_state"

    static let oidcMigration = Migration(version: 152, name: "oidc_logins", sql: """
        CREATE TABLE oidc_logins (
            state_hash BYTEA PRIMARY KEY,
            nonce      TEXT NOT NULL,
            verifier   TEXT NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL
        );
        """)

    func addOIDCRoutes<Context: RequestContext>(to console: RouterGroup<Context>) {
        console.get("oidc/start") { _, _ in try await oidcStart() }
        console.get("oidc/callback") { request, _ in try await oidcCallback(request) }
    }

    func oidcStart() async throws -> Response {
        guard let oidc = api.oidc else { throw APIError.notFound("OIDC sign-in") }
        let state = ConsoleSessions.random(), nonce = ConsoleSessions.random(), verifier = ConsoleSessions.random()
        try await store.saveLogin(stateDigest: ConsoleSessions.digest(state), nonce: nonce, verifier: verifier)
        let location: String
        do {
            location = try await oidc.authorizationURL(state: state, nonce: nonce, verifier: verifier)
        } catch {
            return signInRefused("The identity provider cannot be reached; sign in with a token, or try again later.")
        }
        var response = redirect(location)
        response.setCookie(Cookie(name: Self.stateCookie, value: state, maxAge: 600, path: "/console/oidc",
                                  secure: settings.secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    func oidcCallback(_ request: Request) async throws -> Response {
        guard let oidc = api.oidc else { throw APIError.notFound("OIDC sign-in") }
        let query = request.uri.queryParameters
        if let error = query["error"] {
            return signInRefused("The identity provider refused the sign-in (\(error)).")
        }
        guard let state = query["state"].map(String.init), let code = query["code"].map(String.init),
              let cookie = request.cookies[Self.stateCookie]?.value,
              BearerToken.constantTimeEqual(Array(cookie.utf8), Array(state.utf8))
        else { return signInRefused("This sign-in did not start in this browser; start again.") }
        // Single use: the row goes whatever happens next.
        guard let login = try await store.takeLogin(stateDigest: ConsoleSessions.digest(state))
        else { return signInRefused("This sign-in expired or was already used; start again.") }
        let principal: Principal
        do {
            let claims = try await oidc.redeem(code: code, verifier: login.verifier, nonce: login.nonce)
            principal = try await oidc.principal(claims, pool: pool, schema: schema)
        } catch let error as TokenError {
            return signInRefused("Sign-in refused: \(error.description).")
        } catch let error as OIDCError {
            return signInRefused("Sign-in failed: \(error.description).")
        }
        var response = try await startSession(principal, team: principal.teamID!, via: "oidc")
        response.setCookie(Cookie(name: Self.stateCookie, value: "", maxAge: 0, path: "/console/oidc",
                                  secure: settings.secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    func signInRefused(_ text: String) -> Response {
        html(.unauthorized, renderer.page("sign-in", SignInPage(error: text, oidc: settings.oidcEnabled),
                                          layout: Layout(title: "Sign in", user: nil, section: "")))
    }
}
