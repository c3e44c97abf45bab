"""The API documents cannot drift: schemathesis (every check enabled) against
the running planner and notifier, each reading the document the service itself
serves at /openapi.json. Any 5xx, any answer the document does not allow, any
valid request refused or invalid request accepted, any undeclared method not
answered 405 with Allow fails the run. Settings that are not defaults, and why,
are in Tests/e2e/schemathesis.toml. Named zy so it runs after the behaviour
tests (it adds arbitrary resources to its own team) and before test_zz_secrets."""
import json
import os
import subprocess
import sys
import urllib.request
import uuid

from conftest import API, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
# Cases per operation and phase: enough for the coverage phase's boundary values
# plus a fuzzed sample (about 10 minutes for the planner on a loaded 2-core machine);
# MUSTER_SCHEMATHESIS_EXAMPLES raises it for a deeper run.
EXAMPLES = os.environ.get("MUSTER_SCHEMATHESIS_EXAMPLES", "10")


def schemathesis(base, token, name):
    """Runs `st run` against base's own /openapi.json; returns (exit code, output)."""
    st = os.path.join(os.path.dirname(sys.executable), "st")
    report = os.path.abspath(os.path.join(HERE, "..", "..", ".local", "run", f"schemathesis-{name}"))
    command = [st, "--config-file", os.path.join(HERE, "schemathesis.toml"), "--no-color",
               "run", base + "/openapi.json", "--checks", "all", "--workers", "1", "--seed", "17",
               "--max-examples", EXAMPLES, "--header", f"Authorization: Bearer {token}",
               "--report", "junit", "--report-dir", report, "--generation-database", "none"]
    os.makedirs(report, exist_ok=True)
    # Run inside the report folder: schemathesis keeps a cache folder in its working directory.
    run = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=report)
    return run.returncode, run.stdout + run.stderr


def fresh_team(stack):
    admin = API(stack["MUSTER_API"], stack["MUSTER_ADMIN_TOKEN"])
    team = admin.post("/v1/teams", {"name": f"contract-{uuid.uuid4().hex[:8]}"}, expect=201)
    token = admin.post(f"/v1/teams/{team['id']}/tokens",
                       {"name": "schemathesis", "subject": "schemathesis", "role": "admin"}, expect=201)["token"]
    return team, token


def test_documents_are_served_as_json_and_html(stack):
    for base in (stack["MUSTER_API"], stack["MUSTER_NOTIFIER_API"]):
        with urllib.request.urlopen(base + "/openapi.json", timeout=10) as response:
            document = json.loads(response.read())
            assert response.headers["Content-Type"].startswith("application/json")
        assert document["openapi"].startswith("3.1")
        with urllib.request.urlopen(base + "/docs", timeout=10) as response:
            page = response.read().decode()
            assert response.headers["Content-Type"].startswith("text/html")
        # The page lists every documented operation.
        for path, item in document["paths"].items():
            assert path.replace("&", "&amp;") in page, path


def test_planner_behaves_as_its_document_says(stack):
    _, token = fresh_team(stack)
    code, output = schemathesis(stack["MUSTER_API"], token, "planner")
    assert code == 0, "schemathesis found differences between the planner and its document:\n" + output[-20000:]


def test_notifier_behaves_as_its_document_says(stack):
    _, token = fresh_team(stack)
    notifier = API(stack["MUSTER_NOTIFIER_API"], token)
    # The token reaches the notifier through teams.v1.
    wait_for(lambda: _authorised(notifier), timeout=60, interval=0.5, what="the token to reach the notifier")
    code, output = schemathesis(stack["MUSTER_NOTIFIER_API"], token, "notifier")
    assert code == 0, "schemathesis found differences between the notifier and its document:\n" + output[-20000:]


def _authorised(api):
    try:
        api.get("/v1/subscriptions")
        return True
    except AssertionError:
        return False
