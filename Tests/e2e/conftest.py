"""End-to-end fixtures: the whole running system — drs-sim, planner,
launcher, poller, notifier — started by scripts/stack.sh against the
PostgreSQL and broker that scripts/test.sh started, driven over HTTP."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ACCOUNT = "111122223333"
REGION = "us-east-1"


class API:
    """A tiny JSON client for the planner / notifier / drs-sim admin APIs."""

    def __init__(self, base, token=None):
        self.base = base
        self.token = token

    def call(self, method, path, body=None, expect=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        payload = json.loads(raw) if raw else None
        if expect is not None:
            assert status == expect, f"{method} {path} → {status}: {payload}"
        elif status >= 400:
            raise AssertionError(f"{method} {path} → {status}: {payload}")
        return payload

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.call("POST", path, {} if body is None else body, **kwargs)


def wait_for(condition, timeout=60.0, interval=0.2, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_for_notifier_token(notifier):
    """Waits until the notifier knows the team's token (401 until teams.v1 brought its digest)."""
    def knows_token():
        try:
            notifier.get("/v1/subscriptions")
            return True
        except AssertionError:
            return False
    wait_for(knows_token, what="the notifier to know the team's token", timeout=30)


# Source servers seeded for the whole e2e session; each test takes its own (Servers.take).
ESTATE_SERVERS = 48


def server_id(index):
    return f"s-0e2e{index:013x}"


def exports(text):
    settings = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            settings[key] = value.strip("'")
    return settings


TEAM_NAME = "e2e-console"


@pytest.fixture(scope="session")
def oidc():
    """A tiny OpenID Connect provider (RS256, real JWKS) the planner trusts."""
    from oidc_provider import Provider
    provider = Provider()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def otlp():
    """An OTLP/HTTP JSON trace receiver every service of the stack exports to."""
    from otlp_receiver import Receiver
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def stack(oidc, otlp):
    """A PostgreSQL and broker of its own (so earlier runs' topics and rows
    cannot interfere), then the five processes; the planner trusts `oidc`;
    every service exports its spans to `otlp` (tracing on, as in production
    with a collector; a short batch delay so a test's spans arrive soon)."""
    env = dict(os.environ)
    env.update(MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT=otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY="200")
    env.update(MUSTER_INFRA_DIR=os.path.join(ROOT, ".local/run/e2e-infra"), MUSTER_PG_PORT=env.get("MUSTER_E2E_PG_PORT", "56433"),
               MUSTER_KAFKA_PORT=env.get("MUSTER_E2E_KAFKA_PORT", "59193"), MUSTER_STACK_PORT_BASE=env.get("MUSTER_STACK_PORT_BASE", "28080"))
    env.update(MUSTER_OIDC_ISSUER=oidc.issuer, MUSTER_OIDC_CLIENT_ID="muster-console", MUSTER_OIDC_API_AUDIENCE="muster-api",
               MUSTER_OIDC_REDIRECT_URL=f"http://127.0.0.1:{env['MUSTER_STACK_PORT_BASE']}/console/oidc/callback",
               MUSTER_OIDC_GROUP_MAP=f"e2e-operators={TEAM_NAME}:operator,e2e-viewers={TEAM_NAME}:viewer")
    infra = subprocess.run([os.path.join(ROOT, "scripts/infra.sh"), "start"], env=env, capture_output=True, text=True,
                           timeout=120)
    if infra.returncode != 0:
        pytest.fail("infrastructure did not start:\n" + infra.stdout + infra.stderr)
    env.update({k: v for k, v in exports(infra.stdout).items() if k.startswith("MUSTER_")})
    # Every process logs at trace level: test_zz_secrets greps the logs for secrets.
    env.setdefault("MUSTER_STACK_LOG_LEVEL", "trace")
    env["LD_LIBRARY_PATH"] = os.path.join(ROOT, ".local/lib") + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    started = subprocess.run([os.path.join(ROOT, "scripts/stack.sh"), "start"], env=env, capture_output=True,
                             text=True, timeout=240)
    if started.returncode != 0:
        subprocess.run([os.path.join(ROOT, "scripts/stack.sh"), "stop"], env=env)
        subprocess.run([os.path.join(ROOT, "scripts/infra.sh"), "stop"], env=env)
        pytest.fail("stack did not start:\n" + started.stdout + started.stderr)
    # The stack's addresses and tokens, and the infrastructure's (MUSTER_DATABASE_URL, MUSTER_KAFKA_BROKERS) for
    # the tests that produce records or change the database like an operator would.
    settings = {k: v for k, v in exports(infra.stdout).items() if k.startswith("MUSTER_")}
    settings.update(exports(started.stdout))
    yield settings
    subprocess.run([os.path.join(ROOT, "scripts/stack.sh"), "stop"], env=env, capture_output=True, timeout=120)
    subprocess.run([os.path.join(ROOT, "scripts/infra.sh"), "stop"], env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def sim(stack):
    return API(stack["MUSTER_DRS_SIM"])


@pytest.fixture(scope="session")
def drs(stack):
    """boto3 against drs-sim with the demo key (an independent view of DRS)."""
    import boto3
    return boto3.client("drs", endpoint_url=stack["MUSTER_DRS_SIM"], region_name=REGION,
                        aws_access_key_id="AKIDMUSTERDEMO000001",
                        aws_secret_access_key="muster-demo-drs-sim-secret-not-a-real-key")


@pytest.fixture(scope="session")
def team(stack, sim):
    """One team with an admin token, the demo account registered, and
    ESTATE_SERVERS extra source servers (s-0e2e…) seeded into drs-sim and inventoried."""
    servers = [{
        "sourceServerID": server_id(i), "hostname": f"e2e-{i}", "tags": {"suite": "e2e"},
        "replicationState": "CONTINUOUS",
    } for i in range(ESTATE_SERVERS)]
    sim.post("/admin/seed", {"accounts": [{"accountID": ACCOUNT, "regions": {REGION: {"sourceServers": servers}}}]})
    admin = API(stack["MUSTER_API"], stack["MUSTER_ADMIN_TOKEN"])
    created = admin.post("/v1/teams", {"name": TEAM_NAME}, expect=201)  # the OIDC group map names it
    token = admin.post(f"/v1/teams/{created['id']}/tokens",
                       {"name": "e2e", "subject": "e2e-operator", "role": "admin"}, expect=201)["token"]
    api = API(stack["MUSTER_API"], token)
    api.post("/v1/accounts", {"awsAccountId": ACCOUNT, "name": "e2e", "regions": [REGION],
                              "credentials": {"type": "KEY_PAIR", "keyPairName": "DEMO"}}, expect=201)
    wanted = {server_id(i) for i in range(ESTATE_SERVERS)}

    def inventoried():
        seen, cursor = set(), None
        while True:
            page = api.get("/v1/source-servers?limit=100" + (f"&cursor={cursor}" if cursor else ""))
            seen |= {item["sourceServerId"] for item in page["items"]}
            cursor = page.get("nextCursor")
            if not cursor:
                return wanted <= seen
    wait_for(inventoried, timeout=60, what="the launcher's inventory of the seeded servers")
    return {"api": api, "token": token, "teamId": created["id"], "stack": stack}


class Servers:
    """Hands each test its own source servers (one protection group per server)."""

    def __init__(self):
        self.next = 0

    def take(self, count):
        taken = [server_id(i) for i in range(self.next, self.next + count)]
        self.next += count
        assert self.next <= ESTATE_SERVERS, f"the e2e estate has {ESTATE_SERVERS} servers; seed more"
        return taken


@pytest.fixture(scope="session")
def servers():
    return Servers()


def subscribe(team, receiver, event_types, secret):
    """Subscribes `receiver` to the team's events once the notifier knows the team's token;
    returns the subscription's id."""
    notifier = API(team["stack"]["MUSTER_NOTIFIER_API"], team["token"])
    wait_for_notifier_token(notifier)
    return notifier.post("/v1/subscriptions", {"url": receiver.url, "eventTypes": event_types, "secret": secret},
                         expect=201)["id"]


def make_plan(api, name, waves, rto=60):
    """waves: [(waveName, [serverIds], [dependsOn], options)] → plan id."""
    body_waves = []
    for wave_name, ids, depends, options in waves:
        group = api.post("/v1/protection-groups", {"name": f"{name}-{wave_name}", "region": REGION,
                                                    "sourceServerIds": ids}, expect=201)
        body_waves.append({"name": wave_name, "protectionGroupIds": [group["id"]], "dependsOn": depends, **options})
    return api.post("/v1/plans", {"name": name, "rtoTargetMinutes": rto, "waves": body_waves}, expect=201)["id"]


def start(api, plan_id, kind="DRILL"):
    return api.post("/v1/executions", {"planId": plan_id, "type": kind}, expect=202)["id"]


FINISHED = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "TIMED_OUT"}


def finish(api, execution_id, timeout=90):
    return wait_for(lambda: (lambda e: e if e["status"] in FINISHED else None)(api.get(f"/v1/executions/{execution_id}")),
                    timeout=timeout, what=f"execution {execution_id} to finish")
