import Foundation
import Hummingbird
import Logging
import MusterAPI
import MusterConsole
import MusterDomain
import MusterPostgres

/// The operator console (issue 15), mounted in the planner under `/console`:
/// server-rendered pages over the planner's own tables and the same
/// operations as the REST API (same roles, same team scoping, same state
/// machine and audit), signed in by session cookie. Why in the planner and
/// not a service of its own: every page reads the planner's tables, and
/// services never read each other's (DESIGN §2); a separate console would
/// have to go through the REST API for every page and duplicate its auth.
public struct PlannerConsole: Sendable {
    let api: PlannerAPI
    let sessions: ConsoleSessions
    let renderer = ConsoleRenderer()
    let settings: ConsoleSettings

    static let cookieName = "muster_session"

    /// A console over `api`.
    public init(api: PlannerAPI) {
        self.api = api
        var settings = api.configuration.console
        settings.oidcEnabled = api.oidc != nil
        self.settings = settings
        self.sessions = ConsoleSessions(schema: api.schema, pool: api.pool, lifetime: settings.sessionLifetime)
    }

    var schema: String { api.schema }
    var pool: PostgresPool { api.pool }
    /// The pages' reads (Store/ConsoleStore.swift).
    var store: ConsoleStore { ConsoleStore(schema: api.schema, pool: api.pool) }

    /// Adds every `/console` route to `router`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let console = router.group("console")
        console.get("assets/console.css") { _, _ in
            Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8")
        }
        console.get("assets/console.js") { _, _ in
            Self.asset(ConsoleAssets.js, type: "text/javascript; charset=utf-8")
        }
        console.get("sign-in") { _, _ in
            html(.ok, renderer.page("sign-in", SignInPage(oidc: settings.oidcEnabled),
                                    layout: Layout(title: "Sign in", user: nil, section: "")))
        }
        console.post("sign-in") { request, _ in try await signIn(request) }
        console.post("sign-out") { request, _ in try await signOut(request) }
        console.get("events") { request, _ in try await events(request) }
        addOIDCRoutes(to: console)
        page(console, "", section: "dashboard", title: "Dashboard") { _, _, user in
            ("dashboard", try await dashboard(user.session.team))
        }
        fragment(console, "dashboard/live") { _, _, user in ("dashboard-live", try await dashboard(user.session.team)) }
        page(console, "executions/:id", section: "history", title: "Execution") { _, context, user in
            ("execution", try await executionPage(context, user))
        }
        fragment(console, "executions/:id/live") { _, context, user in
            ("execution-live", try await executionPage(context, user))
        }
        for action in ["pause", "resume", "cancel", "cleanup"] {
            console.post("executions/:id/\(action)") { request, context in
                try await guarded(request, post: true) { user, form in
                    try await executionAction(action, context: context, user: user, form: form)
                }
            }
        }
        console.post("executions/:id/approvals/:step") { request, context in
            try await guarded(request, post: true) { user, form in
                let id = try context.id(what: "execution")
                _ = try await api.decideApproval(
                    id, step: context.parameters.get("step") ?? "",
                    input: .init(decision: form["decision"] ?? "", comment: form["comment"]), by: user.session.principal)
                return redirect("/console/executions/\(id.uuidString.lowercased())")
            }
        }
        page(console, "plans", section: "plans", title: "Plans") { _, _, user in ("plans", try await plans(user)) }
        page(console, "plans/:id", section: "plans", title: "Plan") { _, context, user in
            ("plan", try await planPage(context, user))
        }
        console.post("plans/:id/start") { request, context in
            try await guarded(request, post: true) { user, form in try await confirmStart(context, user, form) }
        }
        console.post("plans/:id/start/confirm") { request, context in
            try await guarded(request, post: true) { user, form in try await start(context, user, form) }
        }
        page(console, "protection-groups", section: "groups", title: "Protection groups and source servers") {
            request, _, user in ("groups", try await groups(request, user))
        }
        page(console, "history", section: "history", title: "History") { request, _, user in
            ("history", try await history(request, user))
        }
        page(console, "compliance", section: "compliance", title: "Drill compliance") { _, _, user in
            ("compliance", try await compliance(user))
        }
        console.get("history.csv") { request, _ in
            try await guarded(request, post: false) { user, _ in
                try await api.exportHistory(format: "csv", team: user.session.team, filter: .init())
            }
        }
        page(console, "audit", section: "audit", title: "Audit trail") { request, _, user in
            ("audit", try await audit(request, user))
        }
    }

    // MARK: Plumbing

    /// The signed-in person of a request.
    struct SignedIn: Sendable {
        var session: ConsoleSessions.Session
        var user: User
    }

    /// A GET page: signed in or sent to the sign-in page; APIErrors become pages with their status.
    private func page<Context: RequestContext>(
        _ group: RouterGroup<Context>, _ path: String, section: String, title: String,
        _ body: @escaping @Sendable (Request, Context, SignedIn) async throws -> (String, any Sendable)
    ) {
        group.get(RouterPath(path)) { request, context in
            try await guarded(request, post: false) { user, _ in
                let (template, model) = try await body(request, context, user)
                let heading = (model as? ExecutionPage).map { "\($0.type) of \($0.planName)" }
                    ?? (model as? PlanPage).map { "Plan \($0.name)" } ?? title
                return html(.ok, renderer.page(template, model, layout: Layout(title: heading, user: user.user,
                                                                                section: section)))
            }
        }
    }

    /// A live fragment: 401 without a session (the page's script reloads into the sign-in page).
    private func fragment<Context: RequestContext>(
        _ group: RouterGroup<Context>, _ path: String,
        _ body: @escaping @Sendable (Request, Context, SignedIn) async throws -> (String, any Sendable)
    ) {
        group.get(RouterPath(path)) { request, context in
            guard let user = try await signedIn(request) else { return html(.unauthorized, "") }
            do {
                let (template, model) = try await body(request, context, user)
                return html(.ok, renderer.fragment(template, model))
            } catch let error as APIError {
                return html(error.status, "")
            }
        }
    }

    /// Runs `body` for a signed-in person, checking the CSRF token of a POST.
    private func guarded(_ request: Request, post: Bool, _ body: (SignedIn, FormBody) async throws -> Response)
        async throws -> Response
    {
        guard let user = try await signedIn(request) else {
            return post ? message(.unauthorized, "Signed out", "Your session has ended; sign in again.", user: nil)
                : Response(status: .seeOther, headers: [.location: "/console/sign-in"])
        }
        var form = FormBody("")
        if post {
            let buffer = try await request.body.collect(upTo: 64 * 1024)
            form = FormBody(String(buffer: buffer))
            let sent = Array((form["_csrf"] ?? "").utf8), expected = Array(user.session.csrf.utf8)
            guard sent.count == expected.count, BearerToken.constantTimeEqual(sent, expected) else {
                return message(.forbidden, "Refused", "The form's CSRF token is missing or stale. Reload the page and try again.",
                               user: user.user)
            }
        }
        do {
            return try await body(user, form)
        } catch let error as APIError {
            let heading = error.status == .notFound ? "Not found" : error.status == .forbidden ? "Not allowed" : "Refused"
            return message(error.status, heading, error.message, user: user.user)
        }
    }

    func signedIn(_ request: Request) async throws -> SignedIn? {
        guard let id = request.cookies[Self.cookieName]?.value, let session = try await sessions.find(id) else { return nil }
        let team = try await store.teamName(session.team)
        return SignedIn(session: session, user: User(
            subject: session.principal.subject, role: session.principal.role.rawValue,
            team: team, csrf: session.csrf,
            canOperate: session.principal.role >= .operator))
    }

    func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status,
                 headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                           .init("Content-Security-Policy")!:
                               "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
                           .init("X-Content-Type-Options")!: "nosniff", .init("Referrer-Policy")!: "no-referrer"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func message(_ status: HTTPResponse.Status, _ heading: String, _ text: String, user: User?) -> Response {
        html(status, renderer.page("message", MessagePage(heading: heading, message: text),
                                   layout: Layout(title: heading, user: user, section: "")))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    func cookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(name: Self.cookieName, value: value, maxAge: maxAge, path: "/console", secure: settings.secureCookies,
               httpOnly: true, sameSite: .lax)
    }

    // MARK: Sign-in

    func signIn(_ request: Request) async throws -> Response {
        let form = FormBody(String(buffer: try await request.body.collect(upTo: 16 * 1024)))
        func refused(_ text: String) -> Response { signInRefused(text) }
        guard let raw = form["token"], let token = BearerToken(authorization: "Bearer " + raw), token.isWellFormed else {
            return refused("Enter an API token.")
        }
        let principal: Principal
        do {
            principal = try await api.auth.authenticate(token)
        } catch is APIError {
            return refused("That token is unknown or revoked.")
        }
        guard let team = principal.teamID else {
            return refused("The bootstrap admin token manages teams only; sign in with a team token.")
        }
        return try await startSession(principal, team: team, via: "token")
    }

    func startSession(_ principal: Principal, team: TeamID, via: String) async throws -> Response {
        let id = try await sessions.create(for: principal, team: team, via: via)
        var response = redirect("/console")
        response.setCookie(cookie(id, maxAge: Int(settings.sessionLifetime.components.seconds)))
        return response
    }

    func signOut(_ request: Request) async throws -> Response {
        try await guarded(request, post: true) { _, _ in
            if let id = request.cookies[Self.cookieName]?.value { try await sessions.end(id) }
            var response = redirect("/console/sign-in")
            response.setCookie(cookie("", maxAge: 0))
            return response
        }
    }

    // MARK: Live events

    /// The event stream for the console's pages: the session instead of a
    /// bearer token; `from=now` starts at the team's current head.
    func events(_ request: Request) async throws -> Response {
        guard let user = try await signedIn(request) else {
            throw APIError.missingToken(hint: "sign in to the console")
        }
        let team = user.session.team
        let filter = try PlannerAPI.eventFilter(request.uri.queryParameters)
        var after = try PlannerAPI.resumePoint(request)
        if after == nil, request.uri.queryParameters["from"] == "now" {
            after = try await pool.withConnection { try await EventLog(schema: schema).heads([team], on: $0)[team] } ?? 0
        }
        return api.eventStream(team: team, filter: filter, after: after ?? 0)
    }
}

/// Console settings.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `MUSTER_CONSOLE_SECURE_COOKIES` | `true` | mark the session cookie `Secure` (set `false` only for local http) |
/// | `MUSTER_CONSOLE_SESSION_MINUTES` | `480` | how long a console session lasts |
public struct ConsoleSettings: Sendable {
    /// `Secure` on the session cookie.
    public var secureCookies = true
    /// Session lifetime.
    public var sessionLifetime: Duration = .seconds(8 * 3600)
    /// Whether an OIDC provider is configured (shows its sign-in button).
    public var oidcEnabled = false
    /// The defaults.
    public init() {}
}
