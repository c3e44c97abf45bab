"""Issue 16 (part B) end to end: approval and SSM Automation hook steps around
a wave, over the whole running system (drs-sim, planner, launcher, poller,
notifier). SSM steps run in drs-sim's SSM subset (outcome and simulated
duration per document, set through /admin/behaviour)."""
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


def ssm_documents(sim, documents):
    sim.call("PUT", "/admin/behaviour", {"ssmDocuments": documents}, expect=200)


def test_a_before_ssm_step_runs_then_the_approval_then_the_launch(team, servers, sim):
    api = team["api"]
    # 300 simulated seconds: half a wall-clock second at the stack's time scale.
    ssm_documents(sim, {"Muster-E2E-Prepare": {"outcome": "Success", "durationSeconds": 300,
                                               "outputs": {"prepare.Result": ["ready"]}}})
    started_before = sim.get("/admin/counters").get("ssmAutomationsStarted", 0)
    only = servers.take(1)
    plan = make_plan(api, "ssm-then-approval", [
        ("only", only, [], {"before": [
            {"name": "prepare", "kind": "SSM_AUTOMATION", "timeoutSeconds": 300, "onFailure": "FAIL_WAVE",
             "ssm": {"documentName": "Muster-E2E-Prepare", "parameters": {"Mode": ["drill"]}}},
            {"name": "go", "kind": "APPROVAL"},
        ]}),
    ])
    execution_id = start(api, plan)
    execution = waiting(api, execution_id, "go")
    steps = steps_by_name(execution)
    assert steps["prepare"]["status"] == "SUCCEEDED", steps["prepare"]
    assert "Success" in steps["prepare"]["output"] and "prepare.Result=ready" in steps["prepare"]["output"]
    assert steps["prepare"]["endedAt"] <= steps["go"]["startedAt"]
    assert all(s.get("jobId") is None for s in execution["waves"][0]["servers"]), "launched before approval"
    api.post(f"/v1/executions/{execution_id}/approvals/go", {"decision": "APPROVE"}, expect=200)
    execution = finish(api, execution_id)
    assert execution["status"] == "COMPLETED", execution
    steps = steps_by_name(execution)
    assert all(steps["go"]["endedAt"] <= s["launchedAt"] for s in execution["waves"][0]["servers"])
    assert sim.get("/admin/counters")["ssmAutomationsStarted"] == started_before + 1


def test_a_failed_ssm_step_with_fail_wave_fails_the_wave_without_launching(team, servers, sim):
    api = team["api"]
    ssm_documents(sim, {"Muster-E2E-Broken": {"outcome": "Failed", "durationSeconds": 120,
                                              "failureMessage": "Step check failed: target not ready"}})
    only = servers.take(1)
    plan = make_plan(api, "ssm-fails", [
        ("only", only, [], {"before": [
            {"name": "check", "kind": "SSM_AUTOMATION", "timeoutSeconds": 300, "onFailure": "FAIL_WAVE",
             "ssm": {"documentName": "Muster-E2E-Broken"}},
            {"name": "never", "kind": "APPROVAL"},
        ]}),
    ])
    execution_id = start(api, plan)
    execution = finish(api, execution_id)
    assert execution["status"] == "FAILED", execution
    steps = steps_by_name(execution)
    assert steps["check"]["status"] == "FAILED"
    assert "target not ready" in steps["check"]["output"]
    assert steps["never"]["status"] == "SKIPPED"
    assert execution["waves"][0]["status"] == "FAILED"
    assert all(s.get("jobId") is None and s["status"] == "FAILED" for s in execution["waves"][0]["servers"])
