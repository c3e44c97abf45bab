/// The console's stylesheet and script, served from the binary: no CDN, no
/// build step, nothing fetched at run time.
public enum ConsoleAssets {
    /// `/console/assets/console.css`.
    public static let css = """
    :root { --fg:#1d2430; --muted:#5b6576; --bg:#f6f7f9; --card:#fff; --line:#d9dde3; --accent:#1f5fbf;
            --ok:#1c7c3a; --bad:#b3261e; --warn:#9a6700; --live:#1f5fbf; font-family: system-ui, sans-serif; }
    * { box-sizing: border-box; }
    body { margin:0; color:var(--fg); background:var(--bg); line-height:1.45; }
    .skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:6px; z-index:2; }
    header.top { display:flex; flex-wrap:wrap; gap:12px; align-items:center; padding:10px 20px; background:#15233b; color:#fff; }
    header.top a { color:#fff; } .brand { font-weight:700; font-size:1.2em; text-decoration:none; }
    nav ul { display:flex; flex-wrap:wrap; gap:14px; list-style:none; margin:0; padding:0; }
    nav a[aria-current] { text-decoration:underline; font-weight:600; }
    .who { margin-left:auto; display:flex; gap:10px; align-items:center; font-size:.9em; }
    main { max-width:1240px; margin:0 auto; padding:16px 20px 40px; }
    main:focus { outline:none; }
    table { width:100%; border-collapse:collapse; background:var(--card); margin:8px 0 16px; }
    th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
    th { font-size:.85em; color:var(--muted); }
    .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:.8em; font-weight:600; background:#e8eaee; }
    .badge.ok { background:#dff3e4; color:var(--ok); } .badge.bad { background:#fbe3e1; color:var(--bad); }
    .badge.warn { background:#fff1cc; color:var(--warn); } .badge.live { background:#e1ebfb; color:var(--live); }
    progress { width:140px; height:12px; vertical-align:middle; }
    button, .button { font:inherit; padding:6px 14px; border-radius:6px; border:1px solid var(--accent); background:var(--accent);
             color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
    button.danger { background:var(--bad); border-color:var(--bad); }
    header button { background:transparent; border-color:#fff; padding:3px 10px; }
    :focus-visible { outline:3px solid #f0b400; outline-offset:2px; }
    .actions { display:flex; flex-wrap:wrap; gap:10px; margin:10px 0; } .actions form { display:flex; gap:8px; align-items:center; }
    dl.facts { display:grid; grid-template-columns:repeat(auto-fill, minmax(160px, 1fr)); gap:8px; margin:0 0 10px; }
    dl.facts div { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:6px 10px; }
    dt { font-size:.8em; color:var(--muted); } dd { margin:0; }
    section.wave { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:4px 12px; margin:10px 0; }
    .gate { color:var(--warn); font-size:.85em; } .note { color:var(--muted); } .error, .warning { color:var(--bad); }
    .empty { color:var(--muted); font-style:italic; }
    svg { max-width:100%; height:auto; background:var(--card); border:1px solid var(--line); border-radius:8px; }
    svg text { font-size:12px; fill:var(--fg); } svg text.wave { font-weight:600; } svg text.tick { fill:var(--muted); font-size:10px; }
    .bar { fill:#b8c4d6; } .bar.ok { fill:#4caf6a; } .bar.bad { fill:#d9534f; } .bar.warn { fill:#e0a800; } .bar.live { fill:#5b8def; }
    line.axis { stroke:var(--muted); } line.rto { stroke:var(--bad); stroke-dasharray:4 3; } text.rto { fill:var(--bad); }
    .dag .node rect { fill:#eef3fb; stroke:var(--accent); } .dag .node.gated rect { stroke:var(--warn); stroke-width:2; }
    .dag text.name { font-weight:600; } .dag text.groups { fill:var(--muted); } .dag .edge { fill:none; stroke:#6b7a90; stroke-width:1.5; }
    .dag marker path { fill:#6b7a90; }
    .filters { display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin:8px 0; }
    fieldset { border:1px solid var(--line); border-radius:6px; margin:8px 0; } fieldset label { display:block; margin:4px 0; }
    ol.events { padding-left:18px; font-size:.9em; }
    details.joblog summary { cursor:pointer; color:var(--accent); } details.joblog ol { margin:4px 0; padding-left:18px; font-size:.85em; }
    .visually-hidden { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
    input, select { font:inherit; padding:4px 6px; }
    @media (max-width: 700px) {
      header.top { padding:8px 10px; } .who { margin-left:0; } main { padding:10px; }
      table, thead, tbody, tr, th, td { display:block; } thead { position:absolute; left:-999px; }
      tr { border-bottom:2px solid var(--line); padding:4px 0; } td { border:none; padding:2px 4px; }
    }
    """

    /// `/console/assets/console.js`: live updates. A section with
    /// `data-stream` opens an EventSource there; on every event it re-reads
    /// its `data-live` fragment (server-rendered, so escaping stays on the
    /// server) and swaps it in, keeping keyboard focus where it was.
    public static let js = """
    "use strict";
    (function () {
      var types = ["execution.started", "wave.started", "server.launched", "server.failed", "wave.completed",
                   "execution.paused", "execution.resumed", "execution.completed", "execution.failed",
                   "execution.cancelled", "execution.timed-out", "cleanup.completed", "step.started",
                   "step.completed", "execution.approval-requested"];
      function follow(section) {
        var target = section.querySelector("#live");
        var pending = false, again = false;
        function refresh() {
          if (pending) { again = true; return; }
          pending = true;
          fetch(section.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
            .then(function (r) { if (r.status === 401) { location.reload(); } return r.ok ? r.text() : null; })
            .then(function (html) {
              if (html !== null) {
                var focused = document.activeElement && document.activeElement.id;
                target.innerHTML = html;
                if (focused) { var el = document.getElementById(focused); if (el) { el.focus(); } }
                document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || "0") + 1);
              }
            })
            .finally(function () { pending = false; if (again) { again = false; refresh(); } });
        }
        var source = new EventSource(section.dataset.stream + (section.dataset.stream.indexOf("?") < 0 ? "?" : "&") + "from=now");
        types.forEach(function (type) {
          source.addEventListener(type, function (event) {
            document.body.dataset.lastEventId = event.lastEventId;
            refresh();
          });
        });
        source.onopen = function () { document.body.dataset.stream = "open"; refresh(); };
        source.onerror = function () { document.body.dataset.stream = "reconnecting"; };
      }
      function start() {
        document.querySelectorAll("section[data-stream]").forEach(follow);
        var signIn = document.getElementById("token-sign-in");
        if (signIn && location.hash.indexOf("#token=") === 0) {
          // A demo sign-in link carries the token in the fragment, which browsers never send to a server.
          document.getElementById("token").value = decodeURIComponent(location.hash.slice(7));
          history.replaceState(null, "", location.pathname);
          signIn.submit();
        }
      }
      if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
    })();
    """
}
