import Foundation
@testable import PlannerApp
import Testing

@Suite("Plan validation")
struct PlanValidatorTests {
    let g1 = UUID(), g2 = UUID(), g3 = UUID()

    func wave(_ name: String, _ groups: [UUID], dependsOn: [String]? = nil, timeout: Int? = nil) -> PlanInput.Wave {
        .init(name: name, protectionGroupIds: groups, dependsOn: dependsOn, pauseBefore: nil, continueOnFailure: nil,
              timeoutMinutes: timeout)
    }

    func failure(_ input: PlanInput, limits: PlannerLimits = PlannerLimits()) -> ValidationFailure? {
        do {
            _ = try PlanValidator.validate(input, limits: limits)
            return nil
        } catch {
            return error as? ValidationFailure
        }
    }

    @Test func cycleIsRejectedNamingItsWaves() {
        let input = PlanInput(name: "p", waves: [
            wave("db", [g1]), wave("app", [g2], dependsOn: ["web", "db"]), wave("web", [g3], dependsOn: ["app"]),
        ])
        let failure = failure(input)
        #expect(failure?.rule == "acyclic")
        #expect(failure?.field == "waves")
        #expect(failure?.message.contains("app → web → app") == true)
    }

    @Test func selfDependencyIsACycle() {
        #expect(failure(PlanInput(name: "p", waves: [wave("db", [g1], dependsOn: ["db"])]))?.rule == "acyclic")
    }

    @Test(arguments: [
        ("unknown dependency", "waves[0].dependsOn[0]", "reference"),
        ("empty wave", "waves[0].protectionGroupIds", "minItems"),
        ("duplicate wave", "waves[1].name", "unique"),
        ("group twice", "waves[1].protectionGroupIds[0]", "unique"),
        ("timeout", "waves[0].timeoutMinutes", "range"),
        ("no waves", "waves", "minItems"),
        ("blank name", "name", "length"),
    ])
    func ruleViolationsNameFieldAndRule(_ case_: String, _ field: String, _ rule: String) {
        let input: PlanInput = switch case_ {
        case "unknown dependency": PlanInput(name: "p", waves: [wave("db", [g1], dependsOn: ["nope"])])
        case "empty wave": PlanInput(name: "p", waves: [wave("db", [])])
        case "duplicate wave": PlanInput(name: "p", waves: [wave("db", [g1]), wave("DB", [g2])])
        case "group twice": PlanInput(name: "p", waves: [wave("db", [g1]), wave("app", [g1])])
        case "timeout": PlanInput(name: "p", waves: [wave("db", [g1], timeout: 0)])
        case "no waves": PlanInput(name: "p", waves: [])
        default: PlanInput(name: "  ", waves: [wave("db", [g1])])
        }
        let failure = failure(input)
        #expect(failure?.field == field, "\(case_)")
        #expect(failure?.rule == rule, "\(case_)")
    }

    @Test func tooManyWaves() {
        var limits = PlannerLimits()
        limits.maxWaves = 2
        let input = PlanInput(name: "p", waves: [wave("a", [g1]), wave("b", [g2]), wave("c", [g3])])
        #expect(failure(input, limits: limits)?.rule == "maxItems")
    }

    @Test func referencesNeedKnownNonEmptyGroupsWithinTheServerLimit() throws {
        var limits = PlannerLimits()
        limits.maxServersPerPlan = 5
        let plan = try PlanValidator.validate(
            PlanInput(name: "p", waves: [wave("db", [g1]), wave("app", [g2], dependsOn: ["db"])]), limits: limits)
        #expect(plan.waves[1].dependsOn == [0])
        #expect(throws: ValidationFailure(field: "waves[1].protectionGroupIds[0]", rule: "reference",
                                          message: "no protection group \(g2.uuidString.lowercased()) in your team")) {
            try PlanValidator.validateReferences(plan, serverCounts: [g1: 1], limits: limits)
        }
        #expect((try? PlanValidator.validateReferences(plan, serverCounts: [g1: 1, g2: 0], limits: limits)) == nil)
        #expect((try? PlanValidator.validateReferences(plan, serverCounts: [g1: 3, g2: 3], limits: limits)) == nil)
        try PlanValidator.validateReferences(plan, serverCounts: [g1: 2, g2: 3], limits: limits)
    }

    @Test func dagWithDiamondIsAccepted() throws {
        let plan = try PlanValidator.validate(PlanInput(name: "p", waves: [
            wave("a", [g1]), wave("b", [g2], dependsOn: ["a"]), wave("c", [g3], dependsOn: ["a"]),
            wave("d", [UUID()], dependsOn: ["b", "c"]),
        ]), limits: PlannerLimits())
        #expect(plan.waves[3].dependsOn == [1, 2])
    }
}
