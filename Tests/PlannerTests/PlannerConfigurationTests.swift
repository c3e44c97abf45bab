import Foundation
import MusterService
import PlannerApp
import Testing

/// The planner's settings as `PlannerService` reads them (its `ServiceDefinition`): documented
/// defaults, errors naming the variable, and the two secrets (bootstrap admin token, OIDC client
/// secret) never shown by a description, a dump or an error.
@Suite("Planner configuration")
struct PlannerConfigurationTests {
    static let token = "admin-token-" + String(repeating: "7", count: 40)
    static let clientSecret = "oidc-client-secret-9f8e7d6c"

    @Test func defaultsAndTheErrorsNameTheVariable() throws {
        let defaults = try PlannerService.configuration(from: EnvironmentSettings(environment: [:]))
        #expect(defaults.adminToken == nil)
        #expect(defaults.oidc == nil)
        #expect(defaults.schedules.tickInterval == .seconds(15))
        #expect(defaults.stepDeadlineInterval == .seconds(30))
        #expect(defaults.callbackBaseURL == "http://localhost:8080")
        #expect(throws: ConfigurationError.invalid(
            key: "MUSTER_PLANNER_ADMIN_TOKEN", value: nil,
            rule: "must be at least 32 characters (generate one with `openssl rand -hex 32`)")) {
            try PlannerService.configuration(from: EnvironmentSettings(environment: ["MUSTER_PLANNER_ADMIN_TOKEN": "short"]))
        }
        #expect(throws: ConfigurationError.missing(
            key: "MUSTER_OIDC_CLIENT_ID", help: "set it when MUSTER_OIDC_ISSUER is set (see docs/console.md)")) {
            try PlannerService.configuration(from: EnvironmentSettings(environment: ["MUSTER_OIDC_ISSUER": "https://idp.example"]))
        }
        #expect(throws: ConfigurationError.invalid(
            key: "MUSTER_PLANNER_STEP_DEADLINE_MS", value: "5", rule: "must be an integer in 10...300000")) {
            try PlannerService.configuration(from: EnvironmentSettings(environment: ["MUSTER_PLANNER_STEP_DEADLINE_MS": "5"]))
        }
    }

    @Test func theAdminTokenAndTheClientSecretNeverAppearInTheDescription() throws {
        let configuration = try PlannerService.configuration(from: EnvironmentSettings(environment: [
            "MUSTER_PLANNER_ADMIN_TOKEN": Self.token,
            "MUSTER_OIDC_ISSUER": "https://idp.example", "MUSTER_OIDC_CLIENT_ID": "muster-console",
            "MUSTER_OIDC_CLIENT_SECRET": Self.clientSecret,
            "MUSTER_OIDC_REDIRECT_URL": "https://muster.example/console/oidc/callback",
            "MUSTER_OIDC_GROUP_MAP": "ops=team-a:admin",
        ]))
        #expect(configuration.adminToken == Self.token, "the planner itself reads the value")
        #expect(configuration.oidc?.clientSecret == Self.clientSecret)
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [String(describing: configuration), String(reflecting: configuration), dumped,
                     String(describing: configuration.oidc as Any)] {
            #expect(!text.contains(Self.token), "\(text)")
            #expect(!text.contains(Self.clientSecret), "\(text)")
            #expect(text.contains("muster-console"), "the rest is shown: \(text)")
        }
    }
}
