"""Issue 16 (part B) end to end: approval hook steps around a wave, over the
whole running system (drs-sim, planner, launcher, poller, notifier).

SSM Automation and HTTP callout steps have no transport yet (see
docs/planner.md, "Not built yet"), so these runs use approvals only."""
from conftest import finish, make_plan, start, wait_for


def steps_by_name(execution):
    return {step["name"]: step for wave in execution["waves"] for step in wave.get("steps") or []}


def waves_by_name(execution):
    return {wave["name"]: wave for wave in execution["waves"]}


def waiting(api, execution_id, step):
    def check():
        execution = api.get(f"/v1/executions/{execution_id}")
        return execution if steps_by_name(execution)[step]["status"] == "RUNNING" else None
    return wait_for(check, what=f"approval {step} to wait")


def test_before_and_after_approvals_run_in_order_around_the_launch(team, servers):
    api = team["api"]
    first, second = servers.take(1), servers.take(1)
    plan = make_plan(api, "hooked", [
        ("first", first, [], {"before": [{"name": "go-first", "kind": "APPROVAL"}],
                              "after": [{"name": "signoff-first", "kind": "APPROVAL"}]}),
        ("second", second, ["first"], {}),
    ])
    execution_id = start(api, plan)
    execution = waiting(api, execution_id, "go-first")
    assert all(s.get("jobId") is None for s in waves_by_name(execution)["first"]["servers"]), "launched before approval"
    link = steps_by_name(execution)["go-first"]["approvalLink"]
    api.post(link, {"decision": "APPROVE", "comment": "window open"}, expect=200)

    execution = waiting(api, execution_id, "signoff-first")
    wave = waves_by_name(execution)["first"]
    assert all(s["status"] == "LAUNCHED" for s in wave["servers"]), execution
    assert wave["status"] == "RUNNING" and waves_by_name(execution)["second"].get("startedAt") is None
    api.post(f"/v1/executions/{execution_id}/approvals/signoff-first", {"decision": "APPROVE"}, expect=200)

    execution = finish(api, execution_id)
    assert execution["status"] == "COMPLETED", execution
    steps, waves = steps_by_name(execution), waves_by_name(execution)
    launched = [s["launchedAt"] for s in waves["first"]["servers"]]
    assert all(steps["go-first"]["endedAt"] <= t for t in launched)
    assert all(steps["signoff-first"]["startedAt"] >= t for t in launched)
    assert waves["second"]["startedAt"] >= steps["signoff-first"]["endedAt"]
    assert steps["go-first"]["output"] == "approved: window open"
    audit = [entry["action"] for entry in api.get(f"/v1/executions/{execution_id}/audit")["items"]]
    assert audit.count("execution.approve") == 2 and audit.count("step.completed") == 2, audit
    events = [e for e in api.get(f"/v1/executions/{execution_id}/report")["waves"][0]["steps"]]
    assert [e["status"] for e in events] == ["SUCCEEDED", "SUCCEEDED"]


def test_a_declined_approval_ends_the_execution_as_configured(team, servers):
    api = team["api"]
    cancelled_servers, failed_servers = servers.take(1), servers.take(1)
    cancelling = make_plan(api, "decline-cancels", [
        ("only", cancelled_servers, [], {"before": [{"name": "go", "kind": "APPROVAL",
                                                      "approval": {"onDecline": "CANCEL"}}]}),
    ])
    failing = make_plan(api, "decline-fails", [
        ("only", failed_servers, [], {"before": [{"name": "go", "kind": "APPROVAL",
                                                   "approval": {"onDecline": "FAIL"}}]}),
    ])
    for plan, expected in ((cancelling, "CANCELLED"), (failing, "FAILED")):
        execution_id = start(api, plan)
        waiting(api, execution_id, "go")
        api.post(f"/v1/executions/{execution_id}/approvals/go", {"decision": "DECLINE", "comment": "no"}, expect=200)
        execution = finish(api, execution_id)
        assert execution["status"] == expected, execution
        assert steps_by_name(execution)["go"]["status"] == "DECLINED"
        assert all(s.get("jobId") is None and s["status"] == "FAILED"
                   for s in execution["waves"][0]["servers"]), "a declined before step launches nothing"
