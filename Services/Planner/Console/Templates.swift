// The console's Mustache templates. `{{x}}` escapes; `{{{x}}}` appears only
// for the layout's body (HTML rendered by ConsoleRenderer itself).
// swiftlint:disable line_length
enum ConsoleTemplates {
    static let all: [(String, String)] = [
        ("layout", layout), ("dashboard", dashboard), ("dashboard-live", dashboardLive), ("execution", execution),
        ("execution-live", executionLive), ("plans", plans), ("plan", plan), ("confirm-start", confirmStart),
        ("groups", groups), ("history", history), ("audit", audit), ("sign-in", signIn), ("message", message),
        ("compliance", compliance),
    ]

    static let layout = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · Muster</title>
    <link rel="stylesheet" href="/console/assets/console.css">
    <script src="/console/assets/console.js" defer></script>
    </head>
    <body>
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/console">Muster</a>
      {{#user}}
      <nav aria-label="Main">
        <ul>{{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}</ul>
      </nav>
      <div class="who">
        <span>{{subject}} · {{team}} · <span data-role="{{role}}">{{role}}</span></span>
        <form method="post" action="/console/sign-out">
          <input type="hidden" name="_csrf" value="{{csrf}}">
          <button type="submit">Sign out</button>
        </form>
      </div>
      {{/user}}
    </header>
    <main id="main" tabindex="-1">
    <h1>{{title}}</h1>
    {{{body}}}
    </main>
    </body>
    </html>
    """

    static let dashboard = """
    <section aria-labelledby="live-heading" data-live="/console/dashboard/live" data-stream="/console/events">
    <div id="live" aria-live="polite">{{> dashboard-live}}</div>
    </section>
    """

    static let dashboardLive = """
    <h2 id="live-heading">Running and paused</h2>
    {{#noActive}}<p class="empty">Nothing is running.</p>{{/noActive}}
    {{^noActive}}
    <table>
    <thead><tr><th scope="col">Plan</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Servers launched</th><th scope="col">Started</th></tr></thead>
    <tbody>
    {{#active}}
    <tr><td><a href="/console/executions/{{id}}">{{planName}}</a></td><td>{{type}}</td>
    <td><span class="badge {{status.tone}}">{{status.text}}</span></td>
    <td><progress max="{{progress.total}}" value="{{progress.done}}" aria-label="servers launched for {{planName}}">{{progress.percent}}%</progress> {{progress.done}}/{{progress.total}}</td>
    <td><time>{{startedAt}}</time></td></tr>
    {{/active}}
    </tbody></table>
    {{/noActive}}
    <h2>DRS capacity in use</h2>
    {{#noCapacity}}<p class="empty">No DRS jobs are active.</p>{{/noCapacity}}
    {{^noCapacity}}
    <table>
    <thead><tr><th scope="col">Account</th><th scope="col">Region</th><th scope="col">Active jobs</th><th scope="col">Servers in active jobs</th><th scope="col">Queued launch groups</th></tr></thead>
    <tbody>
    {{#capacity}}
    <tr><td>{{accountID}}</td><td>{{region}}</td>
    <td><progress max="{{jobLimit}}" value="{{activeJobs}}" aria-label="active jobs in {{accountID}} {{region}}"></progress> {{activeJobs}} of {{jobLimit}}</td>
    <td>{{serversInJobs}}</td><td>{{queuedGroups}}</td></tr>
    {{/capacity}}
    </tbody></table>
    {{/noCapacity}}
    <h2>Recent failures</h2>
    {{#noFailures}}<p class="empty">No recent failures.</p>{{/noFailures}}
    {{^noFailures}}
    <ul class="failures">
    {{#failures}}<li><a href="/console/executions/{{executionID}}">{{planName}}</a>: {{what}} — {{reason}} <time>{{at}}</time></li>{{/failures}}
    </ul>
    {{/noFailures}}
    """

    static let execution = """
    <section data-live="/console/executions/{{id}}/live" data-stream="/console/events?executionId={{id}}">
    <div id="live" aria-live="polite">{{> execution-live}}</div>
    </section>
    """

    static let executionLive = """
    <dl class="facts">
      <div><dt>Plan</dt><dd>{{planName}}</dd></div>
      <div><dt>Type</dt><dd>{{type}}</dd></div>
      <div><dt>Status</dt><dd><span id="execution-status" class="badge {{status.tone}}" data-status="{{status.text}}">{{status.text}}</span></dd></div>
      <div><dt>Started by</dt><dd>{{initiatedBy}}</dd></div>
      <div><dt>Started</dt><dd><time>{{createdAt}}</time></dd></div>
      <div><dt>Ended</dt><dd><time>{{endedAt}}</time></dd></div>
      <div><dt>RTO</dt><dd>{{rto}}</dd></div>
    </dl>
    <p><progress max="{{progress.total}}" value="{{progress.done}}" aria-label="servers launched">{{progress.percent}}%</progress> {{progress.done}} of {{progress.total}} servers launched</p>
    {{#anyAction}}
    <div class="actions" role="group" aria-label="Execution actions">
      {{#actions.pause}}<form method="post" action="/console/executions/{{id}}/pause"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" id="action-pause">Pause</button></form>{{/actions.pause}}
      {{#actions.resume}}<form method="post" action="/console/executions/{{id}}/resume"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" id="action-resume">Resume</button></form>{{/actions.resume}}
      {{#actions.approve}}<form method="post" action="/console/executions/{{id}}/resume"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" id="action-approve">Approve gate</button></form>{{/actions.approve}}
      {{#actions.cancel}}<form method="post" action="/console/executions/{{id}}/cancel"><input type="hidden" name="_csrf" value="{{csrf}}">{{#actions.drill}}<label><input type="checkbox" name="terminateInstances" value="true"> terminate instances</label>{{/actions.drill}}<button type="submit" id="action-cancel" class="danger">Cancel</button></form>{{/actions.cancel}}
      {{#actions.cleanup}}<form method="post" action="/console/executions/{{id}}/cleanup"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" id="action-cleanup">Clean up drill instances</button></form>{{/actions.cleanup}}
    </div>
    {{/anyAction}}
    <h2>Timeline</h2>
    <svg class="timeline" role="img" aria-label="Timeline of waves and servers" viewBox="0 0 {{timeline.width}} {{timeline.height}}" width="{{timeline.width}}" height="{{timeline.height}}">
    {{#timeline.rows}}<text x="4" y="{{textY}}" class="{{#wave}}wave{{/wave}}">{{label}}</text><rect x="{{x}}" y="{{y}}" width="{{barWidth}}" height="16" class="bar {{tone}}"><title>{{label}}</title></rect>{{/timeline.rows}}
    <line x1="{{timeline.labelWidth}}" y1="{{timeline.axisY}}" x2="{{timeline.width}}" y2="{{timeline.axisY}}" class="axis"/>
    {{#timeline.ticks}}<text x="{{x}}" y="{{timeline.height}}" class="tick">{{label}}</text>{{/timeline.ticks}}
    {{#timeline.hasRTO}}<line x1="{{timeline.rtoX}}" y1="0" x2="{{timeline.rtoX}}" y2="{{timeline.axisY}}" class="rto"/><text x="{{timeline.rtoX}}" y="10" class="rto">{{timeline.rtoLabel}}</text>{{/timeline.hasRTO}}
    </svg>
    <h2>Waves and servers</h2>
    {{#waves}}
    <section class="wave" aria-label="Wave {{number}} {{name}}">
    <h3>{{number}}. {{name}} <span class="badge {{status.tone}}" data-wave-status="{{status.text}}">{{status.text}}</span>{{#gate}} <span class="gate">approval gate</span>{{/gate}}</h3>
    {{#queuedReason}}<p class="note">{{queuedReason}}</p>{{/queuedReason}}
    <p><progress max="{{progress.total}}" value="{{progress.done}}" aria-label="wave {{name}} servers launched">{{progress.percent}}%</progress> {{progress.done}}/{{progress.total}}</p>
    <table><thead><tr><th scope="col">Source server</th><th scope="col">Account / region</th><th scope="col">Status</th><th scope="col">DRS job</th><th scope="col">Recovery instance</th><th scope="col">Failure</th><th scope="col">DRS job log</th></tr></thead>
    <tbody>{{#servers}}<tr data-server="{{id}}"><td>{{id}}</td><td>{{accountID}} / {{region}}</td><td><span class="badge {{status.tone}}">{{status.text}}</span></td><td>{{jobID}}</td><td>{{instanceID}}</td><td>{{failureReason}}</td>
    <td>{{#hasLog}}<details class="joblog"><summary>{{logCount}} events<span class="visually-hidden"> for {{id}}</span></summary><ol>{{#log}}<li><time>{{at}}</time> <strong>{{event}}</strong>{{#error}} <span class="error">{{error}}</span>{{/error}}</li>{{/log}}</ol></details>{{/hasLog}}{{^hasLog}}<span class="note">none yet</span>{{/hasLog}}</td></tr>{{/servers}}</tbody></table>
    {{#hasSteps}}<table class="steps" aria-label="wave {{name}} hook steps"><thead><tr><th scope="col">Step</th><th scope="col">Phase</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Ended</th><th scope="col">Output</th><th scope="col">Decided by</th></tr></thead>
    <tbody>{{#steps}}<tr data-step="{{name}}"><td>{{name}}</td><td>{{phase}}</td><td>{{kind}}</td><td><span class="badge {{status.tone}}" data-step-status="{{status.text}}">{{status.text}}</span></td><td>{{startedAt}}</td><td>{{endedAt}}</td><td>{{output}}</td><td>{{decidedBy}}{{#canDecide}}<form method="post" action="/console/executions/{{id}}/approvals/{{name}}"><input type="hidden" name="_csrf" value="{{csrf}}"><label>Comment <input name="comment" maxlength="2000"></label> <button type="submit" name="decision" value="APPROVE" id="approve-{{name}}">Approve</button> <button type="submit" name="decision" value="DECLINE" id="decline-{{name}}">Decline</button></form>{{/canDecide}}</td></tr>{{/steps}}</tbody></table>{{/hasSteps}}
    </section>
    {{/waves}}
    <h2>Events</h2>
    <ol class="events">{{#events}}<li data-seq="{{seq}}"><time>{{at}}</time> <strong>{{type}}</strong> {{detail}}</li>{{/events}}</ol>
    """

    static let plans = """
    {{#none}}<p class="empty">No plans yet. Apply one with <code>muster apply</code>.</p>{{/none}}
    {{^none}}
    <table><thead><tr><th scope="col">Plan</th><th scope="col">Waves</th><th scope="col">RTO target</th></tr></thead>
    <tbody>{{#plans}}<tr><td><a href="/console/plans/{{id}}">{{name}}</a></td><td>{{waves}}</td><td>{{rto}}</td></tr>{{/plans}}</tbody></table>
    {{/none}}
    """

    static let plan = """
    <p>RTO target: {{rto}}</p>
    {{#readiness}}
    <section class="readiness" aria-labelledby="readiness-heading">
    <h2 id="readiness-heading">Readiness <span class="badge {{verdict.tone}}" id="readiness-verdict">{{verdict.text}}</span></h2>
    <p class="note">Evaluated <time>{{evaluatedAt}}</time>.</p>
    <table><thead><tr><th scope="col">Check</th><th scope="col">Status</th><th scope="col">Finding</th><th scope="col">Servers</th></tr></thead>
    <tbody>{{#checks}}<tr><td><code>{{name}}</code></td><td><span class="badge {{status.tone}}">{{status.text}}</span></td><td>{{message}}{{#hasFix}}<br><small>Fix: {{fix}}</small>{{/hasFix}}</td><td>{{servers}}</td></tr>{{/checks}}</tbody></table>
    </section>
    {{/readiness}}
    <figure>
    <svg class="dag" role="img" aria-labelledby="dag-summary" viewBox="0 0 {{graph.width}} {{graph.height}}" width="{{graph.width}}" height="{{graph.height}}">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>
    {{#graph.edges}}<path d="{{path}}" class="edge" marker-end="url(#arrow)"><title>{{from}} → {{to}}</title></path>{{/graph.edges}}
    {{#graph.nodes}}<g class="node{{#gate}} gated{{/gate}}"><rect x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" rx="6"/><text x="{{textX}}" y="{{nameY}}" class="name">{{number}}. {{name}}</text><text x="{{textX}}" y="{{groupsY}}" class="groups">{{groups}}</text>{{#gate}}<text x="{{gateX}}" y="{{nameY}}" class="gate"><title>approval gate before this wave</title>⏸</text>{{/gate}}</g>{{/graph.nodes}}
    </svg>
    <figcaption id="dag-summary">{{graph.summary}}</figcaption>
    </figure>
    {{#isRunning}}<p class="note">An execution of this plan is running: <a href="/console/executions/{{running}}">open it</a>.</p>{{/isRunning}}
    {{#canStart}}
    <form method="post" action="/console/plans/{{id}}/start" class="start">
      <input type="hidden" name="_csrf" value="{{csrf}}">
      <fieldset><legend>Start</legend>
      <label><input type="radio" name="type" value="DRILL" checked> Drill (isolated test; instances cleaned up afterwards)</label>
      <label><input type="radio" name="type" value="RECOVERY"> Recovery (the real thing)</label>
      </fieldset>
      <button type="submit" id="start">Start…</button>
    </form>
    {{/canStart}}
    """

    static let confirmStart = """
    <form method="post" action="/console/plans/{{planID}}/start/confirm" class="confirm">
      <input type="hidden" name="_csrf" value="{{csrf}}">
      <input type="hidden" name="type" value="{{type}}">
      <p>Start a <strong>{{type}}</strong> of plan <strong>{{planName}}</strong>?</p>
      {{#recovery}}<p class="warning">A recovery launches production instances from the replicated servers. Type the plan's name to confirm.</p>
      <label for="confirmation">Plan name</label> <input id="confirmation" name="confirmation" autocomplete="off" required>{{/recovery}}
      {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
      {{#isBlocking}}<div class="warning" role="alert"><p>The plan is not ready:</p><ul>{{#blocking}}<li>{{.}}</li>{{/blocking}}</ul>
      <label><input type="checkbox" name="force" value="on" id="force"> Start anyway (recorded in the audit trail)</label></div>{{/isBlocking}}
      <button type="submit" id="confirm-start">Start {{type}}</button>
      <a href="/console/plans/{{planID}}">Back</a>
    </form>
    """

    static let groups = """
    <form method="get" action="/console/protection-groups" class="filters">
      <label for="q">Search</label> <input id="q" name="q" value="{{query}}">
      <label for="state">Replication state</label>
      <select id="state" name="state"><option value="">any</option>{{#states}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/states}}</select>
      <button type="submit">Filter</button>
    </form>
    <h2>Protection groups</h2>
    <table><thead><tr><th scope="col">Group</th><th scope="col">Region</th><th scope="col">Servers</th></tr></thead>
    <tbody>{{#groups}}<tr><td>{{name}}</td><td>{{region}}</td><td>{{servers}}</td></tr>{{/groups}}</tbody></table>
    <h2>Source servers</h2>
    <table><thead><tr><th scope="col">Server</th><th scope="col">Hostname</th><th scope="col">Account / region</th><th scope="col">Replication</th><th scope="col">Last seen</th><th scope="col">Group</th><th scope="col">Tags</th></tr></thead>
    <tbody>{{#servers}}<tr><td>{{id}}</td><td>{{hostname}}</td><td>{{accountID}} / {{region}}</td><td>{{replication}}</td><td><time>{{lastSeen}}</time></td><td>{{#assigned}}{{group}}{{/assigned}}{{^assigned}}<em>unassigned</em>{{/assigned}}</td><td>{{tags}}</td></tr>{{/servers}}</tbody></table>
    """

    static let history = """
    <form method="get" action="/console/history" class="filters">
      <label for="status">Status</label>
      <select id="status" name="status"><option value="">any</option>{{#statuses}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/statuses}}</select>
      <label for="type">Type</label>
      <select id="type" name="type"><option value="">any</option>{{#types}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/types}}</select>
      <button type="submit">Filter</button>
    </form>
    <table><thead><tr><th scope="col">Plan</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Started by</th><th scope="col">Started</th><th scope="col">Ended</th></tr></thead>
    <tbody>{{#rows}}<tr><td><a href="/console/executions/{{id}}">{{planName}}</a></td><td>{{type}}</td><td><span class="badge {{status.tone}}">{{status.text}}</span></td><td>{{initiatedBy}}</td><td><time>{{createdAt}}</time></td><td><time>{{endedAt}}</time></td></tr>{{/rows}}</tbody></table>
    {{#hasNext}}<p><a href="{{next}}" rel="next">Older executions</a></p>{{/hasNext}}
    """

    static let audit = """
    <table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Detail</th></tr></thead>
    <tbody>{{#rows}}<tr><td><time>{{at}}</time></td><td>{{actor}}</td><td>{{action}}</td><td>{{resource}}</td><td><code>{{detail}}</code></td></tr>{{/rows}}</tbody></table>
    {{#hasNext}}<p><a href="{{next}}" rel="next">Older entries</a></p>{{/hasNext}}
    """

    static let signIn = """
    {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
    {{#oidc}}<p><a class="button" href="/console/oidc/start">Sign in with your identity provider</a></p><p>or</p>{{/oidc}}
    <form method="post" action="/console/sign-in" id="token-sign-in">
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="off" required>
      <button type="submit">Sign in</button>
    </form>
    """

    static let message = """
    <h2>{{heading}}</h2>
    <p>{{message}}</p>
    <p><a href="/console">Back to the dashboard</a></p>
    """

    static let compliance = """
    {{#none}}<p class="empty">No plans yet.</p>{{/none}}
    {{^none}}
    <table><thead><tr><th scope="col">Plan</th><th scope="col">Last successful drill</th><th scope="col">Days since</th><th scope="col">Policy</th><th scope="col">Due</th><th scope="col">RTO</th><th scope="col">RPO</th><th scope="col">Status</th></tr></thead>
    <tbody>{{#rows}}<tr><td><a href="/console/plans/{{planID}}">{{planName}}</a></td><td>{{#hasDrill}}<a href="/console/executions/{{executionID}}"><time>{{lastDrill}}</time></a>{{/hasDrill}}{{^hasDrill}}{{lastDrill}}{{/hasDrill}}</td><td>{{daysSince}}</td><td>{{policy}}</td><td><time>{{due}}</time></td><td>{{rto}}</td><td>{{rpo}}</td><td><span class="badge {{overdue.tone}}">{{overdue.text}}</span></td></tr>{{/rows}}</tbody></table>
    {{/none}}
    <p><a href="/console/history.csv" download id="history-csv">Execution history as CSV</a></p>
    """
}
