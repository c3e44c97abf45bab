import Foundation
import MusterConsole
import Testing

/// The console's templates: hostile names, descriptions and tags come out
/// as text, never as markup or script; the layouts are pure and stable.
@Suite("Console rendering")
struct ConsoleRenderingTests {
    let renderer = ConsoleRenderer()
    static let hostile = [
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' onmouseover='alert(1)",
        "</text><script>alert(1)</script>", "{{csrf}}", "javascript:alert(1)&amp;",
    ]
    let user = User(subject: "<b>eve</b>", role: "operator", team: "T\"eam'<x>", csrf: "c0ffee", canOperate: true)

    /// What a safe rendering must not contain: any hostile string's raw markup.
    func expectInert(_ html: String, _ value: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!html.contains("<script>alert"), sourceLocation: sourceLocation)
        #expect(!html.contains("<img"), sourceLocation: sourceLocation)
        #expect(!html.contains("' onmouseover="), sourceLocation: sourceLocation)
        #expect(!html.contains("\" onerror"), sourceLocation: sourceLocation)
        #expect(html.contains(Self.escape(value)), "the value shows as text", sourceLocation: sourceLocation)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }

    @Test(arguments: hostile) func planNamesWaveNamesAndGroupsAreEscapedInTheDAG(_ name: String) {
        let graph = PlanGraph([
            .init(name: name, groups: [name], dependsOn: [], pauseBefore: true, continueOnFailure: false),
            .init(name: "app", groups: ["g"], dependsOn: [0], pauseBefore: false, continueOnFailure: false),
        ])
        let page = PlanPage(id: "p1", name: name, rto: "5 min", graph: graph, canStart: true, csrf: "c0ffee", running: nil)
        let html = renderer.page("plan", page, layout: Layout(title: "Plan \(name)", user: user, section: "plans"))
        expectInert(html, name)
        #expect(!html.contains("<b>eve"), "the subject is escaped in the layout")
    }

    @Test(arguments: hostile) func executionPagesEscapeNamesReasonsAndEventDetails(_ text: String) {
        let server = ExecutionPage.Server(id: "s-1", accountID: "111122223333", region: "us-east-1", status: Badge("FAILED"),
                                          jobID: "drsjob-1", instanceID: nil, failureReason: text,
                                          log: [.init(at: "t", event: text, error: text)])
        let wave = ExecutionPage.Wave(number: 1, name: text, status: Badge("RUNNING"), progress: Progress(done: 0, total: 1),
                                      gate: true, queuedReason: text, servers: [server])
        let timeline = Timeline(bars: [.init(label: text, status: "RUNNING", start: Date(timeIntervalSince1970: 0),
                                             end: nil, wave: true)],
                                origin: Date(timeIntervalSince1970: 0), now: Date(timeIntervalSince1970: 60), rtoMinutes: 1)
        var actions = ExecutionPage.Actions()
        actions.pause = true
        let page = ExecutionPage(
            id: "e1", planName: text, type: "DRILL", status: Badge("RUNNING"), initiatedBy: text, createdAt: "t",
            endedAt: "", rto: "target 1 min", progress: Progress(done: 0, total: 1), waves: [wave], timeline: timeline,
            events: [.init(seq: "1", type: "server.failed", at: "t", detail: text)], actions: actions, csrf: "c0ffee",
            finished: false)
        let html = renderer.page("execution", page, layout: Layout(title: "DRILL of \(text)", user: user, section: "history"))
        expectInert(html, text)
        #expect(html.contains("id=\"action-pause\""))
        #expect(html.contains("name=\"_csrf\" value=\"c0ffee\""))
        #expect(html.contains("<details class=\"joblog\"><summary>1 events"), "DRS job-log items per server, escaped too")
    }

    @Test func aFailureReasonShowsItsControlCharactersAsPictures() {
        let server = ExecutionPage.Server(id: "s-1", accountID: "111122223333", region: "us-east-1", status: Badge("FAILED"),
                                          jobID: nil, instanceID: nil, failureReason: "disk\u{0}full\u{1B}[31m")
        #expect(server.failureReason == "disk\u{2400}full\u{241B}[31m")
    }

    @Test(arguments: hostile) func inventoryTagsAndHostnamesAreEscaped(_ text: String) {
        let page = GroupsPage(
            groups: [.init(name: text, region: "us-east-1", servers: 1)],
            servers: [.init(id: "s-1", hostname: text, accountID: "1", region: "us-east-1", replication: "CONTINUOUS",
                            lastSeen: "t", group: text, tags: "Name=\(text)")],
            query: text, states: [.init(value: "CONTINUOUS", selected: true)])
        let html = renderer.page("groups", page, layout: Layout(title: "Groups", user: user, section: "groups"))
        expectInert(html, text)
        #expect(html.contains("value=\"\(Self.escape(text))\""), "the search box echoes the query as an attribute value")
    }

    @Test func viewersSeeNoActionsAndNoStartForm() {
        let page = ExecutionPage(
            id: "e1", planName: "p", type: "DRILL", status: Badge("RUNNING"), initiatedBy: "x", createdAt: "t", endedAt: "",
            rto: "", progress: Progress(done: 0, total: 0), waves: [],
            timeline: Timeline(bars: [], origin: Date(), now: Date(), rtoMinutes: nil), events: [],
            actions: ExecutionPage.Actions(), csrf: "c", finished: false)
        let html = renderer.fragment("execution-live", page)
        #expect(!html.contains("<button"))
        let plan = PlanPage(id: "p", name: "p", rto: "", graph: PlanGraph([]), canStart: false, csrf: "c", running: nil)
        #expect(!renderer.fragment("plan", plan).contains("<button"))
    }

    @Test func theDAGPlacesEveryWaveRightOfItsDependencies() {
        let graph = PlanGraph([
            .init(name: "db", groups: [], dependsOn: [], pauseBefore: false, continueOnFailure: false),
            .init(name: "cache", groups: [], dependsOn: [], pauseBefore: false, continueOnFailure: false),
            .init(name: "app", groups: [], dependsOn: [0, 1], pauseBefore: true, continueOnFailure: false),
            .init(name: "web", groups: [], dependsOn: [2, 0], pauseBefore: false, continueOnFailure: false),
        ])
        #expect(graph.nodes.map(\.x) == [16, 16, 266, 516])
        #expect(graph.nodes[0].y != graph.nodes[1].y)
        #expect(graph.edges.count == 4)
        #expect(graph.summary.contains("Wave 3 app after db, cache, with an approval gate"))
    }

    @Test func theTimelineMarksTheRTOTarget() {
        let origin = Date(timeIntervalSince1970: 0)
        let timeline = Timeline(bars: [.init(label: "w", status: "COMPLETED", start: origin,
                                             end: origin.addingTimeInterval(600), wave: true)],
                                origin: origin, now: origin.addingTimeInterval(900), rtoMinutes: 5)
        #expect(timeline.hasRTO)
        #expect(timeline.rtoX > timeline.rows[0].x && timeline.rtoX < timeline.rows[0].x + timeline.rows[0].barWidth)
    }

    @Test(arguments: hostile) func readinessFindingsBlockingReasonsAndCompliancePlanNamesAreEscaped(_ text: String) {
        let panel = ReadinessPanel(verdict: "blocking", evaluatedAt: "now", checks: [
            .init(name: "servers.replicating", status: "blocking", servers: ["s-1", text], message: text, fix: text),
            .init(name: "hooks.reachable", status: "ok", servers: [], message: "no hooks", fix: nil),
        ])
        let plan = PlanPage(id: "p", name: "p", rto: "", graph: PlanGraph([]), canStart: true, csrf: "c", running: nil,
                            readiness: panel)
        let html = renderer.fragment("plan", plan)
        expectInert(html, text)
        #expect(html.contains("<span class=\"badge bad\" id=\"readiness-verdict\">BLOCKING</span>"))
        #expect(html.contains("Fix: "), "a check with a fix shows it")
        #expect(html.components(separatedBy: "Fix: ").count == 2, "the ok check has none")

        let confirm = ConfirmStartPage(planID: "p", planName: "p", type: "DRILL", csrf: "c", blocking: [text])
        let confirmHTML = renderer.fragment("confirm-start", confirm)
        expectInert(confirmHTML, text)
        #expect(confirmHTML.contains("name=\"force\""), "a blocked start offers the force box")
        #expect(!renderer.fragment("confirm-start", ConfirmStartPage(planID: "p", planName: "p", type: "DRILL", csrf: "c"))
            .contains("name=\"force\""), "a ready plan does not")

        let compliance = CompliancePage(rows: [
            .init(planID: "p1", planName: text, lastDrill: nil, executionID: nil, daysSince: "–", policy: "every 7 days",
                  due: "soon", rto: "no target", rpo: "no target", overdue: true),
            .init(planID: "p2", planName: "ok", lastDrill: "yesterday", executionID: "e2", daysSince: "1",
                  policy: "every 7 days", due: "later", rto: "met (60 min)", rpo: "no target", overdue: false),
        ])
        let complianceHTML = renderer.fragment("compliance", compliance)
        expectInert(complianceHTML, text)
        #expect(complianceHTML.contains("OVERDUE") && complianceHTML.contains("ON TIME"))
        #expect(complianceHTML.contains("href=\"/console/executions/e2\""))
        #expect(complianceHTML.contains(">never<"), "a plan never drilled says so")
    }
}
