"""Dashboards and alerts name only metrics the running services export:
after a drill with a webhook subscription (so deliveries, launches, polls and
executions have all happened at least once), every `muster_*` metric named in
deploy/observability/ must be a family on some service's /metrics."""
import glob
import json
import os
import re
import urllib.parse
import urllib.request

from conftest import ROOT, finish, make_plan, start, subscribe, wait_for
from test_end_to_end import Receiver

OBSERVABILITY = os.path.join(ROOT, "deploy", "observability")
METRIC = re.compile(r"\bmuster_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_sum", "_count")


def referenced_metrics():
    """metric name → the files naming it, from dashboard targets and rule expressions."""
    found = {}
    for path in sorted(glob.glob(os.path.join(OBSERVABILITY, "dashboards", "*.json"))):
        with open(path, encoding="utf-8") as handle:
            board = json.load(handle)  # fails the test when a dashboard is not valid JSON
        exprs = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
        assert exprs, f"{path} has no queries"
        for expr in exprs:
            for name in METRIC.findall(expr):
                found.setdefault(name, set()).add(os.path.basename(path))
    with open(os.path.join(OBSERVABILITY, "alerts.yml"), encoding="utf-8") as handle:
        rules = [line.split("expr:", 1)[1] for line in handle if line.strip().startswith("expr:")]
    assert len(rules) >= 6, "alerts.yml lost its rules"
    for expr in rules:
        for name in METRIC.findall(expr):
            found.setdefault(name, set()).add("alerts.yml")
    return found


def family(name):
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def exported(stack):
    """The metric families of the four services (their HTTP ports: planner +0 … notifier +3)."""
    base = urllib.parse.urlparse(stack["MUSTER_API"])
    families = set()
    for offset in range(4):
        url = f"{base.scheme}://{base.hostname}:{base.port + offset}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        families |= {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    return families


def test_every_metric_on_the_dashboards_and_alerts_is_exported(team, servers):
    references = referenced_metrics()
    assert len(references) >= 20, sorted(references)
    api = team["api"]
    receiver = Receiver()
    try:
        subscribe(team, receiver, ["execution.completed"], "e2e-observability-secret-0123456789")
        execution_id = start(api, make_plan(api, "observability", [("only", servers.take(1), [], {})]))
        assert finish(api, execution_id)["status"] == "COMPLETED"
        wait_for(lambda: receiver.deliveries, timeout=30, what="a webhook delivery")
    finally:
        receiver.close()
    # Gauges set by the notifier's next depth refresh and counters of the delivery's outcome
    # appear shortly after it; wait for everything (bounded) before naming what is missing.
    missing = {}

    def all_exported():
        families = exported(team["stack"])
        missing.clear()
        missing.update({name: files for name, files in references.items() if family(name) not in families})
        return not missing
    if not wait_for_quietly(all_exported):
        raise AssertionError("named in deploy/observability but exported by no service: "
                             + ", ".join(f"{name} ({', '.join(sorted(files))})" for name, files in sorted(missing.items())))


def wait_for_quietly(condition, attempts=60):
    try:
        wait_for(condition, timeout=attempts * 0.5, interval=0.5, what="every metric")
        return True
    except AssertionError:
        return False
