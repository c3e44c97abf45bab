"""Issue 7 end-to-end behaviour over the whole running system."""
import hashlib
import hmac
import http.server
import json
import threading
import time

import pytest
from conftest import finish, make_plan, start, wait_for, wait_for_notifier_token


def waves_by_name(execution):
    return {wave["name"]: wave for wave in execution["waves"]}


def launch_times(execution):
    return {s["sourceServerId"]: s for w in execution["waves"] for s in w["servers"]}


def test_diamond_drill_completes_in_dependency_order(team, servers):
    api = team["api"]
    a, b, c, d = (servers.take(1) for _ in range(4))
    plan = make_plan(api, "diamond", [
        ("A", a, [], {}), ("B", b, ["A"], {}), ("C", c, ["A"], {}), ("D", d, ["B", "C"], {}),
    ])
    execution = finish(api, start(api, plan))
    assert execution["status"] == "COMPLETED", execution
    waves = waves_by_name(execution)
    for wave, deps in {"B": ["A"], "C": ["A"], "D": ["B", "C"]}.items():
        for dep in deps:
            assert waves[wave]["startedAt"] >= waves[dep]["endedAt"], f"{wave} started before {dep} ended"
    assert all(s["status"] == "LAUNCHED" and s["recoveryInstanceId"]
               for w in execution["waves"] for s in w["servers"])


def test_two_concurrent_executions_sharing_servers_complete_without_conflicts(team, servers, sim, drs):
    api = team["api"]
    shared = servers.take(2)
    group = api.post("/v1/protection-groups", {"name": "shared", "region": "us-east-1", "sourceServerIds": shared},
                     expect=201)["id"]
    plans = [api.post("/v1/plans", {"name": f"shared-{n}", "waves": [{"name": "only", "protectionGroupIds": [group]}]},
                      expect=201)["id"] for n in (1, 2)]
    conflicts_before = sim.get("/admin/counters")["conflicts"]
    first, second = start(api, plans[0]), start(api, plans[1])
    results = [finish(api, first), finish(api, second)]
    assert [r["status"] for r in results] == ["COMPLETED", "COMPLETED"], results
    assert sim.get("/admin/counters")["conflicts"] == conflicts_before, "Muster caused a DRS ConflictException"
    # As DRS saw it: the second job on the shared servers was created only
    # after the first had ended (the per-server lease).
    job_ids = sorted({s["jobId"] for r in results for w in r["waves"] for s in w["servers"]})
    assert len(job_ids) == 2, job_ids
    jobs = sorted(drs.describe_jobs(filters={"jobIDs": job_ids})["items"], key=lambda j: j["creationDateTime"])
    assert jobs[1]["creationDateTime"] >= jobs[0]["endDateTime"], jobs


def test_a_failing_server_yields_partial_and_the_report_names_it(team, servers, sim):
    api = team["api"]
    good, bad = servers.take(2)
    sim.post("/admin/faults", {"type": "launchFailure", "sourceServerID": bad, "count": 1,
                               "message": "injected by e2e"}, expect=201)
    plan = make_plan(api, "partial", [("only", [good, bad], [], {})])
    execution_id = start(api, plan)
    execution = finish(api, execution_id)
    assert execution["status"] == "PARTIAL", execution
    report = api.get(f"/v1/executions/{execution_id}/report")
    rows = {s["sourceServerId"]: s for w in report["waves"] for s in w["servers"]}
    assert rows[bad]["status"] == "FAILED" and rows[bad].get("failureReason"), report
    assert rows[good]["status"] == "LAUNCHED", report
    assert report["waves"][0]["serversFailed"] == 1


def test_pause_stops_new_waves_and_resume_continues(team, servers):
    api = team["api"]
    first, second = servers.take(1), servers.take(1)
    plan = make_plan(api, "pausable", [("first", first, [], {}), ("second", second, ["first"], {})])
    execution_id = start(api, plan)
    api.post(f"/v1/executions/{execution_id}/pause", expect=200)
    wait_for(lambda: waves_by_name(api.get(f"/v1/executions/{execution_id}"))["first"]["status"] == "COMPLETED",
             what="the running wave to finish while paused")
    time.sleep(3)  # long enough for the second wave to have started, were it not paused
    paused = api.get(f"/v1/executions/{execution_id}")
    assert paused["status"] == "PAUSED"
    assert waves_by_name(paused)["second"].get("startedAt") is None, paused
    api.post(f"/v1/executions/{execution_id}/resume", expect=200)
    execution = finish(api, execution_id)
    assert execution["status"] == "COMPLETED"
    assert waves_by_name(execution)["second"].get("startedAt") is not None


def test_cancel_stops_the_plan(team, servers):
    api = team["api"]
    first, second = servers.take(1), servers.take(1)
    plan = make_plan(api, "cancellable", [("first", first, [], {}), ("second", second, ["first"], {})])
    execution_id = start(api, plan)
    api.post(f"/v1/executions/{execution_id}/cancel", {"terminateInstances": True}, expect=200)
    execution = finish(api, execution_id)
    assert execution["status"] == "CANCELLED", execution
    assert waves_by_name(execution)["second"].get("startedAt") is None
    assert all(s["status"] != "LAUNCHED" for s in waves_by_name(execution)["second"]["servers"])


@pytest.mark.parametrize("order", ["after-job", "before-job"])
def test_recovery_waits_for_post_launch_actions(team, servers, sim, drs, order):
    """AWS documents no order between JOB_END and the post-launch runs: the
    recovery completes, gated on the runs, whichever comes first."""
    api = team["api"]
    # after-job: the agent registers 600 simulated seconds (1 s here) after
    # JOB_END, so Muster surely sees the job COMPLETED with no runs at all.
    delay = 600 if order == "after-job" else 30
    sim.call("PUT", "/admin/behaviour", {"postLaunchOrder": order, "ssmAgentDelaySeconds": delay}, expect=200)
    try:
        plan = make_plan(api, f"recovery-{order}", [("first", servers.take(2), [], {}),
                                                    ("second", servers.take(1), ["first"], {})])
        # Two waves take seconds here.
        execution = finish(api, start(api, plan, kind="RECOVERY"), timeout=40)
    finally:
        sim.call("PUT", "/admin/behaviour", {"postLaunchOrder": "after-job", "ssmAgentDelaySeconds": 30}, expect=200)
    assert execution["status"] == "COMPLETED", execution
    for server in execution["waves"][0]["servers"] + execution["waves"][1]["servers"]:
        assert server["postLaunch"] == "SUCCEEDED", server
        assert server["status"] == "LAUNCHED"
    # As DRS saw it: the first wave's job ended before (after-job) or after
    # (before-job) its last run, and the second wave started only after it.
    first_job = execution["waves"][0]["servers"][0]["jobId"]
    job = drs.describe_jobs(filters={"jobIDs": [first_job]})["items"][0]
    runs = [run for s in job["participatingServers"] for run in s["launchActionsStatus"]["runs"]]
    assert runs and all(run["status"] == "SUCCEEDED" for run in runs), job
    waves = waves_by_name(execution)
    assert waves["second"]["startedAt"] >= waves["first"]["endedAt"]


class Receiver:
    """A webhook endpoint on loopback that records every delivery."""

    def __init__(self):
        self.deliveries = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.deliveries.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def verify_signature(secret, headers, body):
    header = {k.lower(): v for k, v in headers.items()}["x-muster-signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_a_webhook_receiver_gets_every_event_once_in_order_with_valid_signatures(team, servers):
    from conftest import API
    api = team["api"]
    notifier = API(team["stack"]["MUSTER_NOTIFIER_API"], team["token"])
    receiver = Receiver()
    try:
        secret = "e2e-webhook-secret-0123456789abcdef"
        wait_for_notifier_token(notifier)
        notifier.post("/v1/subscriptions", {"url": receiver.url, "eventTypes": ["*"], "secret": secret}, expect=201)
        plan = make_plan(api, "webhooks", [("first", servers.take(1), [], {}), ("second", servers.take(1), ["first"], {})])
        execution_id = start(api, plan)
        assert finish(api, execution_id)["status"] == "COMPLETED"

        def events():
            mine = []
            for headers, body in receiver.deliveries:
                event = json.loads(body)
                data = event.get("data", event)
                if data.get("executionId") == execution_id:
                    mine.append((headers, body, data))
            return mine if mine and mine[-1][2]["type"] == "execution.completed" else None
        delivered = wait_for(events, timeout=30, what="the execution.completed webhook")
        types = [data["type"] for _, _, data in delivered]
        assert types[0] == "execution.started", types
        assert types[-1] == "execution.completed", types
        assert types.count("wave.completed") == 2, types
        assert types.index("wave.completed") < len(types) - 1 - types[::-1].index("wave.started"), types
        ids = [{k.lower(): v for k, v in h.items()}.get("x-muster-event-id") for h, _, _ in delivered]
        assert len(ids) == len(set(ids)), "an event was delivered twice"
        assert all(verify_signature(secret, h, b) for h, b, _ in delivered)
        times = [data["occurredAt"] for _, _, data in delivered]
        assert times == sorted(times), "events arrived out of order"
    finally:
        receiver.close()
