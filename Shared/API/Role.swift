/// What a bearer token may do. Each role includes the ones before it; the
/// planner issues tokens with a role and every service checks it the same way.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    /// Read what the team has.
    case viewer
    /// Also change things and run them (plans, executions, subscriptions).
    case `operator`
    /// Also manage accounts and tokens.
    case admin

    /// Whether `lhs` grants less than `rhs`.
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    private var rank: Int { Role.allCases.firstIndex(of: self)! }
}

/// Who is calling, from the bearer token, never from a body. `Team` is how
/// the service holds the caller's team (the planner: `TeamID?`, nil for its
/// bootstrap admin; the notifier: `TeamID`).
public struct Principal<Team: Sendable>: Sendable {
    /// The caller's team.
    public var teamID: Team
    /// The person or system the token was issued to (audit, `initiatedBy`).
    public var subject: String
    /// What it may do.
    public var role: Role

    /// A caller of `teamID`.
    public init(teamID: Team, subject: String, role: Role) {
        self.teamID = teamID
        self.subject = subject
        self.role = role
    }

    /// 403 unless the role is at least `role`.
    public func require(_ role: Role) throws {
        guard self.role >= role else {
            throw APIError.forbidden("this needs the \(role.rawValue) role; your token has \(self.role.rawValue)")
        }
    }
}
