"""The operator console in a real browser: Debian's chromium-headless-shell
driven by Playwright (from PyPI, through `executable_path`), against the same
running stack as the other end-to-end tests. One browser, a few pages:
sign in through the OIDC provider the tests start (and with a token link), apply the demo plan, start a drill from the
Plans page with its confirmation, pause and resume with the buttons, watch
the Execution page reach COMPLETED without reloading, then a viewer (no
action buttons) and another team (404). Screenshots of each page go to the
run's artifacts folder (.local/artifacts/console/).

Every page is audited for accessibility with axe-core (the PyPI wheel
axe-playwright-python bundles axe.min.js; nothing is fetched): no violation of
any WCAG 2.x A/AA rule (labels, landmarks, contrast, names, ARIA); and the
keyboard reaches the skip link first and every control after it."""
import os
import shutil
import subprocess
import uuid

import pytest

from conftest import API, ROOT, wait_for

ARTIFACTS = os.path.join(ROOT, ".local", "artifacts", "console")
CHROMIUM_CANDIDATES = ["/usr/bin/chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell",
                       "/usr/lib/chromium/headless_shell"]


def chromium():
    for path in [os.environ.get("MUSTER_CHROMIUM", "")] + CHROMIUM_CANDIDATES:
        if path and os.access(path, os.X_OK):
            return path
    pytest.fail("chromium-headless-shell not found: scripts/setup.sh installs it (apt-get install chromium-headless-shell)")


def token_for(stack, team_id, role):
    admin = API(stack["MUSTER_API"], stack["MUSTER_ADMIN_TOKEN"])
    return admin.post(f"/v1/teams/{team_id}/tokens", {"name": role, "subject": f"{role}@browser", "role": role},
                      expect=201)["token"]


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def audit(page, name):
    """axe-core over the whole page: every violation named with its nodes, none allowed."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    violations = results.response["violations"]
    found = [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
             for v in violations]
    assert not found, f"accessibility violations on the {name} page:\n" + "\n".join(found)


def keyboard_reaches_every_control(page, name):
    """Tab from the top: the skip link first, then every link, button and field, each with a visible focus ring."""
    page.reload()  # the sequential-focus starting point goes back to the top
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip')"), f"{name}: the skip link is not first"
    # A radio group is one tab stop (arrow keys move within it), as browsers do.
    controls = page.evaluate("""() => { const seen = new Set();
        return [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
          .filter(e => e.offsetParent !== null && !e.disabled)
          .filter(e => e.type !== 'radio' || (!seen.has(e.name) && seen.add(e.name))).length; }""")
    reached = set()
    for _ in range(controls + 5):
        key = page.evaluate("""() => { const e = document.activeElement; if (!e || e === document.body) return 'body';
            const s = getComputedStyle(e);
            if (s.outlineStyle === 'none' && s.boxShadow === 'none') throw new Error('no focus ring on ' + e.outerHTML.slice(0, 80));
            return e.outerHTML.slice(0, 120) + '#' + [...document.querySelectorAll('*')].indexOf(e); }""")
        reached.add(key)
        page.keyboard.press("Tab")
    reached.discard("body")
    assert len(reached) >= controls, f"{name}: the keyboard reached {len(reached)} of {controls} controls"


def test_console_in_a_real_browser(team, stack, oidc):
    from playwright.sync_api import expect, sync_playwright

    os.makedirs(ARTIFACTS, exist_ok=True)
    console = stack["MUSTER_API"] + "/console"
    viewer = token_for(stack, team["teamId"], "viewer")
    admin = API(stack["MUSTER_API"], stack["MUSTER_ADMIN_TOKEN"])
    other_team = admin.post("/v1/teams", {"name": f"browser-b-{uuid.uuid4().hex[:6]}"}, expect=201)
    outsider = token_for(stack, other_team["id"], "viewer")

    # Apply the demo plan with the CLI, as a newcomer would.
    env = dict(os.environ, MUSTER_API=stack["MUSTER_API"], MUSTER_TOKEN=team["token"])
    applied = subprocess.run([os.path.join(ROOT, ".build/debug/muster"), "apply", "-f", "deploy/demo/muster.yaml"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    def shot(page, name):
        page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"), full_page=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            # The operator signs in through the identity provider (code + PKCE; groups map to team and role).
            oidc.next_user = {"sub": "olivia", "groups": ["staff", "e2e-operators"]}
            page.goto(f"{console}/sign-in")
            audit(page, "sign-in")
            page.get_by_role("link", name="Sign in with your identity provider").click()
            expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
            expect(page.locator("header .who")).to_contain_text("olivia")
            expect(page.locator("[data-role=operator]")).to_have_count(1)
            cookie = next(c for c in context.cookies() if c["name"] == "muster_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

            page.get_by_role("link", name="Plans").click()
            audit(page, "plans")
            page.get_by_role("link", name="Orders three-tier").click()
            expect(page.locator("svg.dag g.node")).to_have_count(3)
            expect(page.locator("svg.dag path.edge")).to_have_count(2)
            expect(page.locator("figcaption")).to_contain_text("Wave 2 Application after Database")
            shot(page, "plan-dag")
            audit(page, "plan")
            keyboard_reaches_every_control(page, "plan")

            # Start a drill: the confirmation names the plan and the type.
            page.get_by_label("Drill (isolated test; instances cleaned up afterwards)").check()
            page.get_by_role("button", name="Start…").click()
            expect(page.locator("form.confirm")).to_contain_text("Start a DRILL of plan Orders three-tier?")
            page.get_by_role("button", name="Start DRILL").click()
            expect(page.locator("#execution-status")).to_be_visible()
            execution_url = page.url
            assert "/console/executions/" in execution_url
            expect(page.locator("body[data-stream=open]")).to_have_count(1)
            shot(page, "execution-running")

            # Pause and resume through the buttons (each is a form post; the page comes back).
            page.locator("#action-pause").click()
            expect(page.locator("#execution-status")).to_have_attribute("data-status", "PAUSED")
            page.locator("#action-resume").click()
            expect(page.locator("#execution-status")).not_to_have_attribute("data-status", "PAUSED")
            expect(page.locator("body[data-stream=open]")).to_have_count(1)
            # The dashboard, in a second tab, while the drill runs.
            dashboard = context.new_page()
            dashboard.goto(console)
            expect(dashboard.locator("main")).to_contain_text("Orders three-tier")
            shot(dashboard, "dashboard")
            audit(dashboard, "dashboard")
            dashboard.close()

            # From here on no navigation: the page updates from the event stream alone.
            page.evaluate("window.__sameDocument = true")
            expect(page.locator("#execution-status")).to_have_attribute("data-status", "COMPLETED", timeout=120_000)
            assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
            assert int(page.evaluate("document.body.dataset.refreshes")) >= 1
            expect(page.locator("[data-wave-status=COMPLETED]")).to_have_count(3)
            expect(page.locator("svg.timeline line.rto")).to_have_count(0)  # a 60-min RTO is far past a 1-minute drill
            shot(page, "execution-completed")
            # DRS's job log, per server: every server row has its items (JOB_START is job-wide).
            rows = page.locator("tr[data-server]")
            assert rows.count() >= 3
            expect(page.locator("tr[data-server] details.joblog")).to_have_count(rows.count())
            first = page.locator("tr[data-server] details.joblog").first
            first.locator("summary").focus()
            page.keyboard.press("Enter")  # a disclosure opens from the keyboard
            expect(first).to_have_attribute("open", "")
            expect(first.locator("li")).to_contain_text(["JOB_START"])
            audit(page, "execution")
            keyboard_reaches_every_control(page, "execution")

            page.get_by_role("link", name="Audit").click()
            expect(page.locator("main table")).to_contain_text("execution.pause")
            shot(page, "audit")
            audit(page, "audit")
            page.get_by_role("link", name="Protection groups").click()
            expect(page.locator("main")).to_contain_text("Database")
            shot(page, "protection-groups")
            audit(page, "protection groups")
            page.set_viewport_size({"width": 420, "height": 900})
            page.goto(execution_url)
            shot(page, "execution-narrow")
            audit(page, "execution (narrow)")

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
            page.goto(execution_url)
            expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
            context.close()

            # A viewer, signing in with an API token (the link carries it in the fragment; the page's
            # script submits it), sees the execution without action buttons.
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{console}/sign-in#token={viewer}")
            expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
            page.goto(execution_url)
            expect(page.locator("#execution-status")).to_have_attribute("data-status", "COMPLETED")
            expect(page.locator("form button[id^=action-]")).to_have_count(0)
            shot(page, "execution-viewer")
            context.close()

            # Another team's person gets 404 on this team's execution URL.
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{console}/sign-in#token={outsider}")
            expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
            response = page.goto(execution_url)
            assert response.status == 404
            expect(page.get_by_role("heading", name="Not found", level=1)).to_be_visible()
            context.close()
        finally:
            browser.close()

    if os.environ.get("MUSTER_UPDATE_SCREENSHOTS"):
        for name in os.listdir(ARTIFACTS):
            shutil.copy(os.path.join(ARTIFACTS, name), os.path.join(ROOT, "docs", "console", name))
