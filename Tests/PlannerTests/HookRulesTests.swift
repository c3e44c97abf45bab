import Foundation
@testable import PlannerApp
import Testing

/// Wave hook steps in a plan body (issue 16): every broken rule names the field.
@Suite("Wave hook validation")
struct HookRulesTests {
    let group = UUID()

    func plan(before: [HookStepInput] = [], after: [HookStepInput] = []) -> PlanInput {
        var wave = PlanInput.Wave(name: "db", protectionGroupIds: [group])
        wave.before = before
        wave.after = after
        return PlanInput(name: "p", waves: [wave])
    }

    func ssm(_ name: String = "prep", document: String = "AWS-RunShellScript", kind: String = "SSM_AUTOMATION")
        -> HookStepInput {
        HookStepInput(name: name, kind: kind, ssm: .init(documentName: document, parameters: ["commands": ["echo hi"]]))
    }

    func failure(_ input: PlanInput) -> ValidationFailure? {
        do {
            _ = try PlanValidator.validate(input, limits: PlannerLimits())
            return nil
        } catch {
            return error as? ValidationFailure
        }
    }

    @Test func validStepsAreKeptWithDefaults() throws {
        let validated = try PlanValidator.validate(plan(
            before: [ssm()],
            after: [HookStepInput(name: "notify", kind: "HTTP_CALLOUT", timeoutSeconds: 120, onFailure: "CONTINUE",
                                  callout: .init(url: "https://hooks.example/dr",
                                                 subscriptionId: "3F1E6C2A-9B7D-4E21-8A55-0C4D2B1E9F70")),
                    HookStepInput(name: "signoff", kind: "APPROVAL",
                                  approval: .init(role: "admin", notStarter: true, onDecline: "CANCEL"))]),
            limits: PlannerLimits())
        let wave = try #require(validated.waves.first)
        #expect(wave.before?.map(\.name) == ["prep"])
        #expect(wave.before?.first?.timeoutSeconds == HookRules.defaultTimeoutSeconds)
        #expect(wave.before?.first?.onFailure == .failWave)
        #expect(wave.after?.first?.onFailure == .continue)
        // The signing subscription is kept in the one spelling ids have (lowercase).
        #expect(wave.after?.first?.callout == .init(url: "https://hooks.example/dr",
                                                    subscriptionID: "3f1e6c2a-9b7d-4e21-8a55-0c4d2b1e9f70"))
        #expect(wave.after?.last?.approval == .init(role: .admin, notStarter: true, onDecline: .cancel))
        // The plan view gives the steps back as they were submitted.
        let view = try #require(wave.after?.last.map(HookStepInput.init))
        #expect(view.approval?.role == "admin" && view.approval?.onDecline == "CANCEL")
        // A plan without hooks stores none (old definitions compare equal).
        #expect(try PlanValidator.validate(plan(), limits: PlannerLimits()).waves.first?.before == nil)
    }

    @Test(arguments: [
        ("bad kind", "waves[0].before[0].kind", "enum"),
        ("bad name", "waves[0].before[0].name", "format"),
        ("duplicate name", "waves[0].after[0].name", "unique"),
        ("missing ssm", "waves[0].before[0].ssm", "required"),
        ("settings of another kind", "waves[0].before[0].callout", "exclusive"),
        ("bad document", "waves[0].before[0].ssm.documentName", "format"),
        ("timeout", "waves[0].before[0].timeoutSeconds", "range"),
        ("bad policy", "waves[0].before[0].onFailure", "enum"),
        ("bad url", "waves[0].before[0].callout.url", "format"),
        ("callout without subscription", "waves[0].before[0].callout.subscriptionId", "required"),
        ("callout with a bad subscription", "waves[0].before[0].callout.subscriptionId", "format"),
        ("bad role", "waves[0].before[0].approval.role", "enum"),
        ("bad decline", "waves[0].before[0].approval.onDecline", "enum"),
        ("account without region", "waves[0].before[0].ssm.region", "required"),
        ("too many", "waves[0].before", "maxItems"),
    ])
    func brokenRulesNameTheField(_ scenario: String, _ field: String, _ rule: String) {
        var step = ssm()
        var after: [HookStepInput] = []
        var before: [HookStepInput]?
        switch scenario {
        case "bad kind": step.kind = "LAMBDA"
        case "bad name": step.name = "has space"
        case "duplicate name": after = [ssm("PREP")]
        case "missing ssm": step.ssm = nil
        case "settings of another kind": step.callout = .init(url: "https://x.example")
        case "bad document": step.ssm?.documentName = "a b"
        case "timeout": step.timeoutSeconds = 0
        case "bad policy": step.onFailure = "RETRY"
        case "bad url": step = HookStepInput(name: "c", kind: "HTTP_CALLOUT", callout: .init(url: "ftp://x.example"))
        case "callout without subscription":
            step = HookStepInput(name: "c", kind: "HTTP_CALLOUT", callout: .init(url: "https://x.example"))
        case "callout with a bad subscription":
            step = HookStepInput(name: "c", kind: "HTTP_CALLOUT",
                                 callout: .init(url: "https://x.example", subscriptionId: "sub-1"))
        case "bad role": step = HookStepInput(name: "a", kind: "APPROVAL", approval: .init(role: "root"))
        case "bad decline": step = HookStepInput(name: "a", kind: "APPROVAL", approval: .init(onDecline: "IGNORE"))
        case "account without region": step.ssm?.accountId = "111122223333"
        case "too many": before = (0...HookRules.maxStepsPerPhase).map { ssm("s\($0)") }
        default: Issue.record("unknown scenario \(scenario)")
        }
        let failure = failure(plan(before: before ?? [step], after: after))
        #expect(failure?.field == field, "\(scenario)")
        #expect(failure?.rule == rule, "\(scenario)")
    }

    @Test func ssmStepsWithoutAnEndpointTakeTheWavesOnlyOne() throws {
        let step = HookStep(name: "prep", kind: .ssmAutomation, ssm: .init(documentName: "AWS-RunShellScript"))
        let one = [ExecutionBlueprint.Server(id: "s-1", accountID: "111122223333", region: "eu-west-1")]
        let resolved = try HookRules.resolve([step], servers: one, field: "waves[0].before")
        #expect(resolved.first?.ssm?.accountID == "111122223333" && resolved.first?.ssm?.region == "eu-west-1")
        let two = one + [.init(id: "s-2", accountID: "444455556666", region: "eu-west-1")]
        #expect(throws: (any Error).self) { try HookRules.resolve([step], servers: two, field: "waves[0].before") }
        var pinned = step
        pinned.ssm?.accountID = "444455556666"
        pinned.ssm?.region = "us-east-1"
        #expect(try HookRules.resolve([pinned], servers: two, field: "w").first == pinned)
    }
}
