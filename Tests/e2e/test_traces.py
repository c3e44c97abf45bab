"""One drill is one trace (issue 18): the stack exports to the OTLP/HTTP
receiver of conftest's `otlp` fixture; a three-wave drill with a webhook
subscription must yield one connected trace rooted at the API request that
started it, holding spans of all four services — the launcher's StartRecovery
of every wave (the last included), the poller's DescribeJobs polls and the
launcher's DescribeJobs, the notifier's webhook POSTs — with every span's
parent in the trace. The launcher's log lines of that work carry the trace id."""
import json
import os
import time

from conftest import ROOT, finish, make_plan, start, subscribe, wait_for
from test_end_to_end import Receiver

SERVICES = {"planner", "launcher", "poller", "notifier"}


def test_a_three_wave_drill_is_one_connected_trace_across_all_four_services(team, servers, otlp):
    api = team["api"]
    receiver = Receiver()
    try:
        subscribe(team, receiver, ["*"], "e2e-traces-secret-0123456789abcdef")
        plan = make_plan(api, "traces", [("one", servers.take(1), [], {}), ("two", servers.take(1), ["one"], {}),
                                         ("three", servers.take(1), ["two"], {})])
        before = time.time_ns()
        execution_id = start(api, plan)
        after = time.time_ns()
        assert finish(api, execution_id)["status"] == "COMPLETED"

        def completed_delivered():
            for _, body in receiver.deliveries:
                event = json.loads(body)
                data = event.get("data", event)
                if data.get("executionId") == execution_id and data.get("type") == "execution.completed":
                    return True
            return False
        wait_for(completed_delivered, timeout=30, what="the execution.completed webhook")
    finally:
        receiver.close()

    # The root: the planner's server span of this POST /v1/executions (tests run one at a time).
    def root_span():
        roots = [s for s in otlp.snapshot() if s["service"] == "planner" and s["name"] == "POST /v1/executions"
                 and s["kind"] == 2 and before <= s["start"] <= after]
        return roots[0] if len(roots) == 1 else None
    root = wait_for(root_span, timeout=30, what="the span of the request that started the execution")
    assert root["parentSpanId"] is None, root
    trace_id = root["traceId"]

    def trace():
        return [s for s in otlp.snapshot() if s["traceId"] == trace_id]

    def named(spans, service, name):
        return [s for s in spans if s["service"] == service and s["name"] == name]

    state = {}

    def complete():
        spans = trace()
        ids = {s["spanId"] for s in spans}
        state["spans"] = spans
        state["orphans"] = [s for s in spans if s is not root and s["parentSpanId"] not in ids]
        state["services"] = {s["service"] for s in spans}
        webhook_posts = [s for s in spans if s["service"] == "notifier" and s["name"] == "HTTP POST"
                         and s["parentSpanId"] in {d["spanId"] for d in named(spans, "notifier", "deliver webhook")}]
        state["counts"] = {
            "StartRecovery": len(named(spans, "launcher", "StartRecovery")),
            "DescribeJobs": len(named(spans, "launcher", "DescribeJobs")),
            "DescribeJobs observation": len(named(spans, "launcher", "DescribeJobs observation")),
            "DescribeJobs poll": len(named(spans, "poller", "DescribeJobs poll")),
            "webhook POST": len(webhook_posts),
        }
        return (not state["orphans"] and SERVICES <= state["services"] and state["counts"]["StartRecovery"] == 3
                and all(state["counts"].values()))
    try:
        wait_for(complete, timeout=60, interval=0.5, what="the drill's trace to be complete and connected")
    except AssertionError:
        raise AssertionError(
            f"trace {trace_id}: services {sorted(state.get('services', []))}, counts {state.get('counts')}, "
            f"{len(state.get('spans', []))} spans, orphans "
            f"{[(s['service'], s['name'], s['parentSpanId']) for s in state.get('orphans', [])][:20]}")
    spans = state["spans"]
    assert not otlp.rejected, otlp.rejected

    # One StartRecovery per wave (one server each), the last wave's included, and the last
    # one descends from the earlier ones: the launcher's look at the previous wave's job
    # (DescribeJobs observation) → job.observed → the planner's consumer → the next wave.
    by_id = {s["spanId"]: s for s in spans}
    starts = sorted(named(spans, "launcher", "StartRecovery"), key=lambda s: s["start"])
    assert len({s["attributes"].get("muster.launch_group") for s in starts}) == 3, starts

    def ancestors(span):
        chain, seen = [], set()
        while span["parentSpanId"] is not None:
            assert span["spanId"] not in seen, "a cycle in the trace"
            seen.add(span["spanId"])
            span = by_id[span["parentSpanId"]]
            chain.append(span)
        return chain
    chain = ancestors(starts[2])
    assert chain[-1] is root
    assert starts[0] in chain and starts[1] in chain, "the last wave's StartRecovery does not continue the earlier waves'"
    assert sum(1 for s in chain if s["service"] == "launcher" and s["name"] == "DescribeJobs observation") >= 2
    assert sum(1 for s in chain if s["service"] == "planner" and s["name"] == "consume job.observed") >= 2
    # The real DRS call of each StartRecovery is its child.
    for span in starts:
        calls = [s for s in spans if s["parentSpanId"] == span["spanId"] and s["name"] == "HTTP POST"]
        assert calls, f"StartRecovery {span['spanId']} has no HTTP call under it"
    # Every span descends from the root (no second root, no cycle).
    for span in spans:
        assert span is root or ancestors(span)[-1] is root, f"{span['service']} {span['name']} is not under the request"

    # The launcher's log lines of that loop work carry the trace id (JSON logs, trace level in e2e).
    stack_dir = os.environ.get("MUSTER_STACK_DIR", os.path.join(ROOT, ".local/run/stack"))
    with open(os.path.join(stack_dir, "launcher.log"), encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle if line.startswith("{") and trace_id in line]
    calls = [line for line in lines if line.get("msg") == "DRS call"]
    assert any("startrecovery" in str(line.get("operation", "")).lower() for line in calls), \
        f"no StartRecovery log line carries trace {trace_id}: {[line.get('msg') for line in lines][:20]}"
    assert all(line.get("trace_id") == trace_id for line in lines)
