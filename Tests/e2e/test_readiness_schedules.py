"""Issue 16 (part A) end to end: readiness refuses a plan that would fail and
a forced start is audited; a leftover recovery instance blocks until cleaned
up; a scheduled drill fires on the minute and is cleaned up after its hold
time; the compliance view shows an overdue plan."""
import urllib.request
from datetime import datetime

import pytest
from conftest import ACCOUNT, REGION, finish, make_plan, start, wait_for

E16 = [f"s-0e16{i:013x}" for i in range(6)]


def seed(sim, server, state="CONTINUOUS"):
    sim.post("/admin/seed", {"accounts": [{"accountID": ACCOUNT, "regions": {REGION: {"sourceServers": [
        {"sourceServerID": server, "hostname": server, "tags": {"suite": "e16"}, "replicationState": state}]}}}]})


def inventory(api, server):
    cursor = None
    while True:
        page = api.get("/v1/source-servers?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        found = next((item for item in page["items"] if item["sourceServerId"] == server), None)
        cursor = page.get("nextCursor")
        if found or not cursor:
            return found


@pytest.fixture(scope="module")
def estate(team, sim):
    for server in E16:
        seed(sim, server)
    api = team["api"]
    wait_for(lambda: all(inventory(api, s) for s in E16), timeout=60, what="the launcher's inventory of the e16 servers")
    return api


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def checks(evaluation):
    return {check["name"]: check for check in evaluation["checks"]}


def test_a_plan_with_a_server_not_replicating_is_refused_with_reasons_and_starts_with_force(estate, sim):
    api = estate
    good, stalled = E16[0], E16[1]
    seed(sim, stalled, state="STALLED")
    wait_for(lambda: (inventory(api, stalled) or {}).get("replicationState") == "STALLED", timeout=30,
             what="the inventory to show the stalled server")
    plan = make_plan(api, "e16-stalled", [("all", [good, stalled], [], {})])
    evaluation = api.post(f"/v1/plans/{plan}/evaluate", expect=200)
    assert evaluation["verdict"] == "blocking", evaluation
    assert checks(evaluation)["servers.replicating"]["servers"] == [stalled]
    assert checks(evaluation)["servers.replicating"]["fix"]
    # The launcher answered the AWS half through Kafka (planner -> launcher -> drs-sim -> planner).
    answered = wait_for(lambda: (lambda e: e if checks(e).get("account.credentials", {}).get("status") == "ok" else None)(
        api.post(f"/v1/plans/{plan}/evaluate", expect=200)), timeout=60, what="the launcher's readiness answer")
    assert checks(answered)["launch.settings"]["status"] == "ok", answered
    assert checks(answered)["servers.noRecoveryInstance"]["status"] == "ok", answered

    refused = api.post("/v1/executions", {"planId": plan, "type": "DRILL"}, expect=409)["error"]
    assert refused["rule"] == "readiness" and stalled in refused["message"], refused
    assert not api.get(f"/v1/executions?planId={plan}")["items"], "a refused start stores nothing"

    execution = api.post("/v1/executions", {"planId": plan, "type": "DRILL", "force": True}, expect=202)["id"]
    finish(api, execution)
    entry = api.get(f"/v1/executions/{execution}/audit")["items"][0]
    assert entry["action"] == "execution.start"
    assert entry["detail"]["forced"] == "true" and stalled in entry["detail"]["readinessReasons"], entry
    seed(sim, stalled)  # leave it replicating for whoever comes next


def test_a_leftover_recovery_instance_blocks_until_the_drill_is_cleaned_up(estate):
    api = estate
    server = E16[2]
    plan = make_plan(api, "e16-leftover", [("all", [server], [], {})])
    first = finish(api, start(api, plan))
    assert first["status"] == "COMPLETED", first
    # The launcher's inventory sees the drill's instance; the plan is now blocked by it.
    wait_for(lambda: (inventory(api, server) or {}).get("recoveryInstanceId"), timeout=30,
             what="the inventory to show the recovery instance")
    evaluation = api.post(f"/v1/plans/{plan}/evaluate", expect=200)
    assert evaluation["verdict"] == "blocking", evaluation
    assert checks(evaluation)["servers.noRecoveryInstance"]["servers"] == [server]
    # DRS itself (DescribeRecoveryInstances, through the launcher) reports the leftover instance.
    wait_for(lambda: "DRS holds" in checks(api.post(f"/v1/plans/{plan}/evaluate", expect=200))[
        "servers.noRecoveryInstance"]["message"], timeout=60, what="the launcher's DRS view of the leftover instance")
    refused = api.post("/v1/executions", {"planId": plan, "type": "DRILL"}, expect=409)["error"]
    assert "servers.noRecoveryInstance" in refused["message"], refused

    api.post(f"/v1/executions/{first['id']}/cleanup", expect=202)
    wait_for(lambda: api.post(f"/v1/plans/{plan}/evaluate", expect=200)["verdict"] == "ok", timeout=60,
             what="readiness to clear once the instance is terminated")
    second = finish(api, start(api, plan))
    assert second["status"] == "COMPLETED", second
    api.post(f"/v1/executions/{second['id']}/cleanup", expect=202)


def test_a_scheduled_drill_starts_on_time_and_is_cleaned_up_after_its_hold_time(estate):
    api = estate
    server = E16[3]
    plan = make_plan(api, "e16-scheduled", [("all", [server], [], {})])
    schedule = api.post(f"/v1/plans/{plan}/schedules",
                        {"cron": "* * * * *", "timeZone": "Europe/Berlin", "cleanupAfterMinutes": 1}, expect=201)
    due = schedule["nextFireAt"]
    drill = wait_for(lambda: next(iter(api.get(f"/v1/executions?planId={plan}")["items"]), None), timeout=90,
                     interval=1, what="the scheduled drill to start")
    # One firing is enough for the test: stop the schedule before the next minute.
    api.call("DELETE", f"/v1/plans/{plan}/schedules/{schedule['id']}", expect=204)
    assert drill["initiatedBy"] == f"schedule:{schedule['id']}"
    assert drill["createdAt"] >= due, (drill["createdAt"], due)
    ended = finish(api, drill["id"])
    assert ended["status"] == "COMPLETED", ended
    cleaned = wait_for(lambda: (lambda e: e if (e.get("cleanup") or {}).get("completedAt") else None)(
        api.get(f"/v1/executions/{drill['id']}")), timeout=150, interval=1, what="the clean-up after the hold time")
    assert cleaned["cleanup"]["requestedBy"] == f"schedule:{schedule['id']}"
    held = parse(cleaned["cleanup"]["requestedAt"]) - parse(ended["endedAt"])
    assert held.total_seconds() >= 60, f"cleaned up {held} after the drill ended; the hold is 1 minute"
    actions = [entry["action"] for entry in api.get(f"/v1/executions/{drill['id']}/audit")["items"]]
    assert actions == ["execution.start", "execution.cleanup"], actions


def test_the_compliance_view_shows_an_overdue_plan_until_it_is_drilled(estate, team):
    api = estate
    server = E16[4]
    group = api.post("/v1/protection-groups", {"name": "e16-compliance", "region": REGION, "sourceServerIds": [server]},
                     expect=201)["id"]
    plan = api.post("/v1/plans", {"name": "e16-compliance", "rtoTargetMinutes": 60, "drillFrequencyDays": 7,
                                  "waves": [{"name": "all", "protectionGroupIds": [group]}]}, expect=201)["id"]

    def entry():
        return next(item for item in api.get("/v1/compliance")["items"] if item["planId"] == plan.lower())

    assert entry()["overdue"] is True and "lastSuccessfulDrill" not in entry(), entry()
    drill = finish(api, start(api, plan))
    assert drill["status"] == "COMPLETED", drill
    now = entry()
    assert now["overdue"] is False and now["daysSince"] == 0, now
    assert now["lastSuccessfulDrill"]["executionId"] == drill["id"] and now["lastSuccessfulDrill"]["rtoMet"] is True
    request = urllib.request.Request(team["stack"]["MUSTER_API"] + f"/v1/executions?format=csv&planId={plan}",
                                     headers={"Authorization": "Bearer " + team["token"]})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        lines = response.read().decode().splitlines()
    assert lines[0].startswith("id,planId,planName,type,status") and drill["id"] in lines[1], lines
    api.post(f"/v1/executions/{drill['id']}/cleanup", expect=202)
