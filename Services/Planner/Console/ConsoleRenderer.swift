import Mustache

/// Renders the console's pages from the templates in `Templates.swift`.
/// Every `{{value}}` is HTML-escaped by Mustache (`& < > " '`); the only
/// unescaped insertion is `{{{body}}}` of the layout, which is HTML this
/// renderer produced itself. Values reach scripts only through escaped
/// `data-*` attributes, never inside `<script>`.
public struct ConsoleRenderer: Sendable {
    private let library: MustacheLibrary

    /// Compiles the templates; a template error is a programming error caught by the unit tests.
    public init() {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            do {
                try library.register(text, named: name)
            } catch {
                preconditionFailure("console template \(name): \(error)")
            }
        }
        self.library = library
    }

    /// A whole page: `template` rendered with `page`, inside the layout.
    public func page(_ template: String, _ page: Any, layout: Layout) -> String {
        var layout = layout
        layout.body = fragment(template, page)
        layout.nav = layout.navigation()
        return library.render(layout, withTemplate: "layout") ?? ""
    }

    /// One template alone (live fragments).
    public func fragment(_ template: String, _ value: Any) -> String {
        library.render(value, withTemplate: template) ?? ""
    }
}

/// What every page shows around its content.
public struct Layout: Sendable {
    /// The `<title>`.
    public var title: String
    /// The signed-in person, nil on the sign-in page.
    public var user: User?
    /// Which navigation entry is current.
    public var section: String
    /// Set by the renderer.
    var body = ""
    var nav: [NavItem] = []

    /// Creates a layout.
    public init(title: String, user: User?, section: String) {
        self.title = title
        self.user = user
        self.section = section
    }

    /// The navigation with the current entry marked.
    func navigation() -> [NavItem] {
        guard user != nil else { return [] }
        return [("dashboard", "Dashboard", "/console"), ("plans", "Plans", "/console/plans"),
                ("groups", "Protection groups", "/console/protection-groups"),
                ("history", "History", "/console/history"), ("compliance", "Compliance", "/console/compliance"),
                ("audit", "Audit", "/console/audit")]
            .map { NavItem(label: $0.1, href: $0.2, current: $0.0 == section) }
    }

    struct NavItem: Sendable { var label: String; var href: String; var current: Bool }
}

/// The signed-in person as pages show them.
public struct User: Sendable {
    /// Who (token subject or OIDC subject).
    public var subject: String
    /// viewer, operator or admin.
    public var role: String
    /// The team's name.
    public var team: String
    /// The session's CSRF token, put in every form.
    public var csrf: String
    /// Whether actions are shown (operator or admin).
    public var canOperate: Bool

    /// Creates a user.
    public init(subject: String, role: String, team: String, csrf: String, canOperate: Bool) {
        self.subject = subject
        self.role = role
        self.team = team
        self.csrf = csrf
        self.canOperate = canOperate
    }
}
