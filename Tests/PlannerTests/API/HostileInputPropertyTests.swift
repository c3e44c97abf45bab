import Foundation
import MusterDomain
import TestSupport
import Testing

/// A property over the planner's OpenAPI document (issue 11): for every
/// string field of every request body it describes — nested objects, array
/// items and map values included — a value holding a control character
/// (generated: random printable text around one of U+0000–U+001F,
/// U+007F–U+009F; the 65 characters taken in turn, so each is used several
/// times over a run) gets a 422 naming exactly that field with rule
/// `controlCharacters`, one holding a lone UTF-16 surrogate escape a 422 with
/// rule `unicode`, an over-long one a 422 with rule `maxLength`; nothing is
/// stored. The fields and generators are shared with the notifier's test
/// (`TestSupport.HostileInput`).
@Suite("Planner: hostile strings in every documented field")
struct HostileInputPropertyTests {
    typealias Field = HostileInput.Field
    static let document = "Services/Planner/App/API/openapi.json"

    /// Every string field of every request body in the planner's OpenAPI document.
    static func documentedFields() throws -> [Field] { try HostileInput.documentedFields(document) }

    @Test func theDocumentDescribesTheBodies() throws {
        let fields = try Self.documentedFields()
        #expect(fields.count > 40, "every body's string fields are found")
        #expect(fields.contains { $0.path == "/v1/plans" && $0.field == "waves[0].protectionGroupIds[0]" })
        #expect(fields.contains { $0.path == "/v1/protection-groups" && $0.field == "tagSelector.k" })
        #expect(HostileInput.body("waves[0].protectionGroupIds[0]", "x") as? [String: [[String: [String]]]]
            == ["waves": [["protectionGroupIds": ["x"]]]])
    }

    @Test("The lone-surrogate scanner names the field (value or key) and passes valid pairs and other escapes")
    func scannerNamesTheField() {
        func path(_ json: String) -> String? { TextRule.loneSurrogatePath(inJSON: Array(json.utf8)) }
        #expect(path(#"{"name":"a\ud800b"}"#) == "name")
        #expect(path(#"{"waves":[{"name":"w"},{"name":"\udfff"}]}"#) == "waves[1].name")
        #expect(path(#"{"tagSelector":{"env":"x","\udc00":"y"}}"#) == "tagSelector.\u{FFFD}")
        #expect(path(#"{"a":{"b":["x","y\ud83d\u0041"]}}"#) == "a.b[1]")
        #expect(path(#"{"a":"\udc00\ud800"}"#) == "a")
        #expect(path(#"{"a":"\ud83d"}"#) == "a", "a high surrogate at the end of the string")
        #expect(path(#"["\ud800"]"#) == "[0]")
        #expect(path(#""\ud800""#) == "")
        // Not lone: a valid pair (also as a key before a later field), other escapes, escaped quotes and backslashes.
        #expect(path(#"{"a":"\ud83d\ude00","\ud83d\ude00":"\u0041\n\"\\ud800"}"#) == nil)
        #expect(path(#"{"\ud83d\ude00":{"k":"\udbff"}}"#) == "😀.k")
        #expect(path(#"{"a":"\ud8"#) == nil, "not JSON: the parser says so")
    }

    @Test func everyControlCharacterAndLoneSurrogateInEveryDocumentedStringFieldIsA422NamingItAndStoresNothing()
        async throws
    {
        let fields = try Self.documentedFields()
        var generator = SystemRandomNumberGenerator()
        try await PlannerTestApp.with { app in
            let team = try await app.team()
            let before = try await rowCounts(app)
            // Eight control-character values per field, the 65 characters in turn: all are used every ~8 fields.
            let (controls, surrogates, problems) = try await HostileInput.sendHostileBodies(
                fields, controlsPerField: 8, using: &generator
            ) { field, body in
                let path = field.path.replacingOccurrences(of: "{teamId}", with: team.id)
                    .replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                let token = field.path.hasPrefix("/v1/teams") ? PlannerTestApp.adminToken : team.admin
                return try await app.call(field.method, path, token: token, raw: body)
            }
            #expect(problems.isEmpty, "\(problems.count) bad replies: \(problems.prefix(10))")
            print("[figure] \(controls) control-character and \(surrogates) lone-surrogate bodies over \(fields.count) documented string fields")
            #expect(controls >= HostileInput.controls.count)
            #expect(surrogates >= HostileInput.surrogateEscapes.count)
            #expect(try await rowCounts(app) == before, "nothing was stored")
        }
    }

    /// A valid body for each create route, to carry one over-long field.
    static func validBody(_ route: String, field: String, group: String) -> [String: Any]? {
        switch route {
        case "POST /v1/teams": return ["name": "t"]
        case "POST /v1/teams/{teamId}/tokens": return ["name": "n", "subject": "s", "role": "viewer"]
        case "POST /v1/accounts":
            let credentials: [String: Any] = field.hasPrefix("credentials.roleArn") || field.hasPrefix("credentials.externalId")
                ? ["type": "ASSUME_ROLE", "roleArn": "arn:aws:iam::123456789012:role/Muster"]
                : ["type": "KEY_PAIR", "keyPairName": "keys"]
            return ["awsAccountId": "123456789012", "name": "a", "regions": ["us-east-1"], "credentials": credentials]
        case "POST /v1/protection-groups":
            return field.hasPrefix("sourceServerIds") ? ["name": "g", "region": "us-east-1", "sourceServerIds": ["s-1"]]
                : ["name": "g", "region": "us-east-1", "tagSelector": ["env": "x"]]
        case "POST /v1/plans":
            var wave: [String: Any] = ["name": "w", "protectionGroupIds": [group]]
            // A hook step's own fields need a valid step around them (name and kind first).
            for phase in ["before", "after"] where field.hasPrefix("waves[0].\(phase)[0].") {
                wave[phase] = [field.contains(".ssm.")
                    ? ["name": "s1", "kind": "SSM_AUTOMATION", "ssm": ["documentName": "AWS-RunShellScript"]]
                    : field.contains(".callout.")
                        ? ["name": "s1", "kind": "HTTP_CALLOUT",
                           "callout": ["url": "https://hooks.example/dr", "subscriptionId": UUID().uuidString]]
                        : ["name": "s1", "kind": "APPROVAL"]]
            }
            return ["name": "p", "waves": [wave]]
        default: return nil
        }
    }

    @Test func everyDocumentedMaxLengthIsEnforcedNamingTheFieldAndStoresNothing() async throws {
        let fields = try Self.documentedFields().filter { $0.maxLength != nil && $0.method == "POST" }
        #expect(fields.count >= 10, "the document states the limits the code enforces")
        var generator = SystemRandomNumberGenerator()
        try await PlannerTestApp.with { app in
            let team = try await app.team()
            try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g", "region": "us-east-1", "tagSelector": ["tier": "db"]])["id"] as? String)
            let before = try await rowCounts(app)
            var checked = 0
            for field in fields {
                let route = "\(field.method) \(field.path)"
                guard let base = Self.validBody(route, field: field.field, group: group), let maxLength = field.maxLength
                else { continue }
                let path = field.path.replacingOccurrences(of: "{teamId}", with: team.id)
                let token = field.path.hasPrefix("/v1/teams") ? PlannerTestApp.adminToken : team.admin
                // Over the limit by 1 and by a random amount, made of characters the field's pattern would accept.
                let filler: Character = field.field.hasPrefix("regions") ? "a" : field.field.hasPrefix("sourceServerIds") ? "9" : "x"
                let prefix = field.field.hasPrefix("sourceServerIds") ? "s-" : field.field.hasPrefix("regions") ? "us-" : ""
                for extra in [1, Int.random(in: 2...300, using: &generator)] {
                    var value = prefix + String(repeating: filler, count: maxLength + extra - prefix.count)
                    if field.field.hasPrefix("regions") { value = String(value.dropLast(2)) + "-1" }
                    if field.field == "credentials.roleArn" {
                        value = "arn:aws:iam::123456789012:role/" + String(repeating: "x", count: maxLength + extra - 31)
                    }
                    #expect(value.count == maxLength + extra)
                    let reply = try await app.call("POST", path, token: token, json: HostileInput.merge(base, field.field, value))
                    #expect(reply.status == 422, "\(field) \(value.count) characters")
                    #expect(reply.error["field"] as? String == field.field, "\(field) \(value.count) characters")
                    checked += 1
                }
            }
            print("[figure] \(checked) over-long values over \(fields.count) documented maxLength fields")
            #expect(checked >= 20)
            #expect(try await rowCounts(app) == before, "nothing was stored")
        }
    }

    /// Rows per table of the app's schema.
    func rowCounts(_ app: PlannerTestApp) async throws -> [String: Int] {
        try await HostileInput.rowCounts(app.pool, schema: app.schema)
    }
}
