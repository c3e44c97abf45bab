"""Issue 16 (part B) end to end: HTTP callout hook steps over the whole
running system. The planner asks the notifier (callouts.v1) to POST the
callout, signed with the team's subscription secret; a real receiver on
loopback checks the signature and calls back on the one-time URL."""
import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.error
import urllib.request

from conftest import finish, make_plan, start, subscribe
from test_wave_hooks import steps_by_name, waiting, waves_by_name

SECRET = "e2e-callout-secret-0123456789abcdef"


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class CalloutReceiver:
    """Answers each callout 202, then calls back `result` on its callback URL
    (once), as a receiver doing work in the background would."""

    def __init__(self, result):
        self.callouts, self.callbacks = [], []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                payload = json.loads(body)
                self.send_response(202)
                self.end_headers()
                if payload.get("kind") != "callout":
                    return  # an execution event: the subscription also receives webhooks
                receiver.callouts.append((dict(self.headers), body, payload))
                if result is not None:
                    threading.Thread(target=receiver.call_back, args=(payload["callbackURL"],), daemon=True).start()

            def log_message(self, *args):
                pass

        self.result = result
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callout"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def call_back(self, url):
        time.sleep(0.2)
        self.callbacks.append(post(url, self.result))

    def close(self):
        self.server.shutdown()


def signed(headers, body):
    header = {k.lower(): v for k, v in headers.items()}["x-muster-signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def subscription(team, receiver):
    return subscribe(team, receiver, ["execution.completed"], SECRET)


def test_an_after_callout_then_an_approval_run_in_order_and_the_wave_completes(team, servers):
    api = team["api"]
    receiver = CalloutReceiver({"status": "SUCCEEDED", "output": {"ticket": "CHG-1"}})
    try:
        callout = {"name": "cmdb", "kind": "HTTP_CALLOUT", "timeoutSeconds": 120,
                   "callout": {"url": receiver.url, "subscriptionId": subscription(team, receiver)}}
        plan = make_plan(api, "callout-then-approval", [
            ("only", servers.take(1), [], {"after": [callout, {"name": "cmdb-signoff", "kind": "APPROVAL"}]}),
        ])
        execution_id = start(api, plan)
        execution = waiting(api, execution_id, "cmdb-signoff")
        steps = steps_by_name(execution)
        assert steps["cmdb"]["status"] == "SUCCEEDED", steps
        assert json.loads(steps["cmdb"]["output"]) == {"ticket": "CHG-1"}
        assert len(receiver.callouts) == 1 and receiver.callbacks == [200], receiver.callbacks
        headers, body, payload = receiver.callouts[0]
        assert signed(headers, body), "the callout is signed with the subscription's secret"
        assert payload["executionId"] == execution_id and payload["stepName"] == "cmdb"
        assert payload["phase"] == "AFTER" and payload["waveName"] == "only" and payload["planName"] == "callout-then-approval"
        wave = waves_by_name(execution)["only"]
        assert all(s["status"] == "LAUNCHED" for s in wave["servers"]) and wave["status"] == "RUNNING", wave
        # The callback URL is spent.
        assert post(payload["callbackURL"], {"status": "FAILED"}) == 409

        api.post(f"/v1/executions/{execution_id}/approvals/cmdb-signoff", {"decision": "APPROVE"}, expect=200)
        execution = finish(api, execution_id)
        assert execution["status"] == "COMPLETED", execution
        steps = steps_by_name(execution)
        launched = [s["launchedAt"] for s in waves_by_name(execution)["only"]["servers"]]
        assert all(steps["cmdb"]["startedAt"] >= t for t in launched)
        assert steps["cmdb"]["endedAt"] <= steps["cmdb-signoff"]["startedAt"]
        assert waves_by_name(execution)["only"]["endedAt"] >= steps["cmdb-signoff"]["endedAt"]
        audit = api.get(f"/v1/executions/{execution_id}/audit")["items"]
        completed = [e for e in audit if e["action"] == "step.completed" and e["detail"]["step"] == "cmdb"]
        assert completed and completed[0]["detail"]["status"] == "SUCCEEDED", audit
    finally:
        receiver.close()


def test_a_callout_calling_back_failed_fails_the_wave(team, servers):
    api = team["api"]
    receiver = CalloutReceiver({"status": "FAILED", "output": {"reason": "change freeze"}})
    try:
        callout = {"name": "freeze-check", "kind": "HTTP_CALLOUT", "timeoutSeconds": 120, "onFailure": "FAIL_WAVE",
                   "callout": {"url": receiver.url, "subscriptionId": subscription(team, receiver)}}
        plan = make_plan(api, "callout-fails", [
            ("only", servers.take(1), [], {"after": [callout, {"name": "never-asked", "kind": "APPROVAL"}]}),
        ])
        execution_id = start(api, plan)
        execution = finish(api, execution_id)
        steps = steps_by_name(execution)
        assert steps["freeze-check"]["status"] == "FAILED", steps
        assert json.loads(steps["freeze-check"]["output"]) == {"reason": "change freeze"}
        assert steps["never-asked"]["status"] == "SKIPPED"
        assert waves_by_name(execution)["only"]["status"] == "FAILED", execution
        assert execution["status"] in {"FAILED", "PARTIAL"}, execution
        assert receiver.callbacks == [200]
    finally:
        receiver.close()


def test_a_before_ssm_step_an_after_callout_and_an_approval_run_in_order(team, servers, sim):
    """The issue's whole scenario in one wave: SSM Automation before the launch
    (run by the launcher in drs-sim's SSM), then the launch, then an HTTP
    callout (sent by the notifier, called back by the receiver), then an
    approval; each step's start, end and outcome in the view, the report and
    the audit trail."""
    api = team["api"]
    sim.call("PUT", "/admin/behaviour", {"ssmDocuments": {"Muster-E2E-Drain": {
        "outcome": "Success", "durationSeconds": 300, "outputs": {"drain.Result": ["drained"]}}}}, expect=200)
    receiver = CalloutReceiver({"status": "SUCCEEDED", "output": {"ticket": "CHG-2"}})
    try:
        plan = make_plan(api, "ssm-callout-approval", [
            ("only", servers.take(1), [], {
                "before": [{"name": "drain", "kind": "SSM_AUTOMATION", "timeoutSeconds": 300, "onFailure": "FAIL_WAVE",
                            "ssm": {"documentName": "Muster-E2E-Drain"}}],
                "after": [{"name": "cmdb-update", "kind": "HTTP_CALLOUT", "timeoutSeconds": 120,
                           "callout": {"url": receiver.url, "subscriptionId": subscription(team, receiver)}},
                          {"name": "owner-signoff", "kind": "APPROVAL"}]}),
        ])
        execution_id = start(api, plan)
        execution = waiting(api, execution_id, "owner-signoff")
        steps = steps_by_name(execution)
        assert steps["drain"]["status"] == "SUCCEEDED" and "drain.Result=drained" in steps["drain"]["output"], steps
        assert steps["cmdb-update"]["status"] == "SUCCEEDED", steps
        assert len(receiver.callouts) == 1 and receiver.callbacks == [200]
        api.post(f"/v1/executions/{execution_id}/approvals/owner-signoff", {"decision": "APPROVE"}, expect=200)
        execution = finish(api, execution_id)
        assert execution["status"] == "COMPLETED", execution
        steps = steps_by_name(execution)
        launched = [s["launchedAt"] for s in waves_by_name(execution)["only"]["servers"]]
        assert all(steps["drain"]["endedAt"] <= t for t in launched), "the SSM step ends before the launch"
        assert all(steps["cmdb-update"]["startedAt"] >= t for t in launched), "the callout starts after the launch"
        assert steps["cmdb-update"]["endedAt"] <= steps["owner-signoff"]["startedAt"]
        report = api.get(f"/v1/executions/{execution_id}/report")["waves"][0]["steps"]
        assert [(s["name"], s["status"]) for s in report] == [
            ("drain", "SUCCEEDED"), ("cmdb-update", "SUCCEEDED"), ("owner-signoff", "SUCCEEDED")], report
        audit = api.get(f"/v1/executions/{execution_id}/audit")["items"]
        completed = [e["detail"]["step"] for e in audit if e["action"] == "step.completed"]
        assert sorted(completed) == ["cmdb-update", "drain", "owner-signoff"], audit
    finally:
        receiver.close()
