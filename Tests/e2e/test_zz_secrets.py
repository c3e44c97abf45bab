"""Runs after the other end-to-end tests (file order): no secret the run
handled appears in any process's log, written at trace level."""
import glob
import os

from conftest import ROOT

DEMO_SECRET = "muster-demo-drs-sim-secret-not-a-real-key"
WEBHOOK_SECRET = "e2e-webhook-secret-0123456789abcdef"


def test_no_secret_in_any_service_log_at_trace_level(team):
    logs = sorted(glob.glob(os.path.join(ROOT, ".local/run/stack/*.log")))
    names = {os.path.basename(path) for path in logs}
    assert {"drs-sim.log", "planner.log", "launcher.log", "poller.log", "notifier.log"} <= names, names
    secrets = {"the demo secret access key": DEMO_SECRET, "the webhook secret": WEBHOOK_SECRET,
               "the admin token": team["stack"]["MUSTER_ADMIN_TOKEN"], "a team token": team["token"],
               "the ops admin token": team["stack"]["MUSTER_OPS_ADMIN_TOKEN"]}
    traced = 0
    for path in logs:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        traced += text.count('"trace"') + text.count('"debug"')
        for what, secret in secrets.items():
            assert secret not in text, f"{what} appears in {os.path.basename(path)}"
    assert traced > 0, "the logs were not written at trace level, so this test would prove nothing"
