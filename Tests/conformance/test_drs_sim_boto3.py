"""Conformance of drs-sim with an independent DRS client: boto3.

boto3/botocore build requests from the official DRS model, sign them with their own SigV4
implementation and parse errors by `x-amzn-ErrorType`. If drs-sim speaks the protocol, these
tests pass unchanged against real DRS semantics.

Run (after building drs-sim):
    DRS_SIM_BIN=/work/main/.build/debug/drs-sim /work/main/.local/venv/bin/pytest Tests/conformance -q

The fixture starts the binary on a free port with a seed file and a time scale of 600 (a
20-minute drill takes about 2 s), and resets it between tests through the admin API.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "111122223333"
REGION = "us-east-1"
ACCESS_KEY = "AKIDCONFORMANCE"
SECRET_KEY = "conformance-secret"
TIME_SCALE = 600
SERVERS = [f"s-{n:017d}" for n in range(1, 8)]
NOT_READY = "s-00000000000000099"


def _seed() -> dict:
    servers = [
        {"sourceServerID": sid, "hostname": f"app-{i}", "tags": {"muster:launchGroup": "app"}}
        for i, sid in enumerate(SERVERS, start=1)
    ]
    servers.append({"sourceServerID": NOT_READY, "hostname": "syncing", "replicationState": "INITIAL_SYNC"})
    return {
        "accounts": [
            {
                "accountID": ACCOUNT,
                "credentials": [{"accessKeyID": ACCESS_KEY, "secretAccessKey": SECRET_KEY}],
                "regions": {REGION: {"sourceServers": servers}},
            }
        ]
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DRSSim:
    """A running drs-sim process and helpers for its admin API."""

    def __init__(self, port: int):
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.endpoint}/admin/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read() or b"{}")

    def client(self, key: str = ACCESS_KEY, secret: str = SECRET_KEY, region: str = REGION):
        return boto3.client(
            "drs",
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            # No retries: every error must surface so the test sees exactly what drs-sim answered.
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> DRSSim:
    binary = os.environ.get("DRS_SIM_BIN", "/work/main/.build/debug/drs-sim")
    if not Path(binary).is_file():
        pytest.fail(f"drs-sim binary not found at {binary}; build it (swift build --product drs-sim) or set DRS_SIM_BIN")
    seed_file = tmp_path_factory.mktemp("drs-sim") / "seed.json"
    seed_file.write_text(json.dumps(_seed()))
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "DRS_SIM_PORT": str(port),
            "DRS_SIM_HOST": "127.0.0.1",
            "DRS_SIM_SEED_FILE": str(seed_file),
            "DRS_SIM_TIME_SCALE": str(TIME_SCALE),
            "DRS_SIM_RANDOM_SEED": "1234",
            "LOG_LEVEL": "warning",
        }
    )
    process = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    handle = DRSSim(port)
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{handle.endpoint}/health/ready", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"drs-sim did not become ready on port {port}:\n{output}")
        time.sleep(0.05)
    yield handle
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def drs(sim: DRSSim):
    """A boto3 DRS client against a freshly reset simulator."""
    sim.admin("POST", "reset")
    return sim.client()


def _wait_for_status(client, job_id: str, status: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        if job["status"] == status:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}, expected {status}"
        time.sleep(0.1)


def _server(job: dict, sid: str) -> dict:
    return next(s for s in job["participatingServers"] if s["sourceServerID"] == sid)


# --- the happy path ---------------------------------------------------------------------------


def test_describe_source_servers_paginates(drs):
    pages = list(drs.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 3}))
    assert len(pages) == 3
    ids = [s["sourceServerID"] for page in pages for s in page["items"]]
    assert ids == SERVERS + [NOT_READY]
    first = pages[0]["items"][0]
    assert first["arn"] == f"arn:aws:drs:{REGION}:{ACCOUNT}:source-server/{SERVERS[0]}"
    assert first["sourceProperties"]["identificationHints"]["hostname"] == "app-1"
    assert first["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    assert first["tags"] == {"muster:launchGroup": "app"}
    only = drs.describe_source_servers(filters={"sourceServerIDs": [SERVERS[2]]})["items"]
    assert [s["sourceServerID"] for s in only] == [SERVERS[2]]


def test_drill_lifecycle_logs_instances_and_termination(drs, sim):
    started = drs.start_recovery(
        isDrill=True,
        sourceServers=[{"sourceServerID": sid} for sid in SERVERS[:3]],
        tags={"muster:launchGroup": "web", "muster:executionId": "exec-1"},
    )
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 202
    job = started["job"]
    job_id = job["jobID"]
    assert job_id.startswith("drsjob-") and len(job_id) == 24
    assert job["status"] == "PENDING"
    assert job["type"] == "LAUNCH"
    assert job["initiatedBy"] == "START_DRILL"
    assert all(s["launchStatus"] == "PENDING" for s in job["participatingServers"])

    done = _wait_for_status(drs, job_id, "COMPLETED")
    assert "endDateTime" in done
    assert all(s["launchStatus"] == "LAUNCHED" for s in done["participatingServers"])
    instance_ids = {s["recoveryInstanceID"] for s in done["participatingServers"]}
    assert all(i.startswith("i-") for i in instance_ids)

    log_pages = list(drs.get_paginator("describe_job_log_items").paginate(jobID=job_id, PaginationConfig={"PageSize": 4}))
    assert len(log_pages) > 1
    events = [item["event"] for page in log_pages for item in page["items"]]
    assert events[0] == "JOB_START" and events[-1] == "JOB_END"
    for kind in ("SNAPSHOT_START", "SNAPSHOT_END", "CONVERSION_START", "CONVERSION_END", "LAUNCH_START"):
        assert events.count(kind) == 3, kind

    instances = [
        i for page in drs.get_paginator("describe_recovery_instances").paginate(PaginationConfig={"PageSize": 2})
        for i in page["items"]
    ]
    assert {i["recoveryInstanceID"] for i in instances} == instance_ids
    assert all(i["isDrill"] and i["ec2InstanceState"] == "RUNNING" and i["jobID"] == job_id for i in instances)

    terminated = drs.terminate_recovery_instances(recoveryInstanceIDs=sorted(instance_ids))["job"]
    assert terminated["type"] == "TERMINATE"
    assert terminated["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
    finished = _wait_for_status(drs, terminated["jobID"], "COMPLETED")
    assert all(s["launchStatus"] == "TERMINATED" for s in finished["participatingServers"])
    assert drs.describe_recovery_instances()["items"] == []

    counters = sim.admin("GET", "counters")
    assert counters["jobsByLaunchGroup"] == {"web": 1}
    assert counters["calls"]["StartRecovery"][ACCOUNT] == 1
    assert counters["recoveryInstancesTerminated"] == 3


def test_recovery_runs_post_launch_actions(drs):
    job_id = drs.start_recovery(isDrill=False, sourceServers=[{"sourceServerID": SERVERS[0]}])["job"]["jobID"]
    done = _wait_for_status(drs, job_id, "COMPLETED")
    assert done["initiatedBy"] == "START_RECOVERY"
    runs = _server(done, SERVERS[0])["launchActionsStatus"]["runs"]
    assert runs and all(run["status"] == "SUCCEEDED" for run in runs)
    instance = drs.describe_recovery_instances(filters={"sourceServerIDs": [SERVERS[0]]})["items"][0]
    assert instance["isDrill"] is False


def test_server_not_replicating_fails_its_launch(drs):
    job_id = drs.start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": SERVERS[0]}, {"sourceServerID": NOT_READY}]
    )["job"]["jobID"]
    done = _wait_for_status(drs, job_id, "COMPLETED")
    assert _server(done, SERVERS[0])["launchStatus"] == "LAUNCHED"
    assert _server(done, NOT_READY)["launchStatus"] == "FAILED"
    items = drs.describe_job_log_items(jobID=job_id)["items"]
    failed = [i for i in items if i["event"] == "LAUNCH_FAILED"]
    assert failed and failed[0]["eventData"]["sourceServerID"] == NOT_READY


def test_launch_configuration_get_and_update(drs):
    config = drs.get_launch_configuration(sourceServerID=SERVERS[0])
    assert config["sourceServerID"] == SERVERS[0]
    assert config["launchDisposition"] == "STARTED"
    updated = drs.update_launch_configuration(
        sourceServerID=SERVERS[0], launchDisposition="STOPPED", copyPrivateIp=True, targetInstanceTypeRightSizingMethod="NONE"
    )
    assert updated["launchDisposition"] == "STOPPED"
    assert updated["copyPrivateIp"] is True
    again = drs.get_launch_configuration(sourceServerID=SERVERS[0])
    assert again["targetInstanceTypeRightSizingMethod"] == "NONE"


# --- the errors DRS answers -----------------------------------------------------------------


def test_conflict_when_server_is_in_an_active_job(drs, sim):
    drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[0]}])
    with pytest.raises(drs.exceptions.ConflictException) as caught:
        drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[0]}])
    error = caught.value.response
    assert error["Error"]["Code"] == "ConflictException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error["resourceId"] == SERVERS[0]
    assert error["resourceType"] == "SOURCE_SERVER"
    assert sim.admin("GET", "counters")["conflicts"] == 1


def test_conflict_from_a_foreign_job(drs, sim):
    sim.admin(
        "POST",
        "faults",
        {"type": "foreignJob", "accountID": ACCOUNT, "region": REGION, "sourceServerIDs": [SERVERS[1]], "seconds": 30},
    )
    with pytest.raises(drs.exceptions.ConflictException):
        drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[1]}])


def test_service_quota_exceeded(drs, sim):
    sim.admin("PUT", "quotas", {"maxConcurrentJobs": 2, "maxServersInActiveJobs": 200, "maxServersPerJob": 200})
    drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[0]}])
    drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[1]}])
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as caught:
        drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[2]}])
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert error["quotaCode"] and error["serviceCode"] == "drs"


def test_throttling_with_retry_after(drs, sim):
    sim.admin("PUT", "rate-limit", {"requestsPerSecond": 0.5, "burst": 2})
    with pytest.raises(drs.exceptions.ThrottlingException) as caught:
        for _ in range(5):
            drs.describe_jobs()
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    retry_after = int(error["ResponseMetadata"]["HTTPHeaders"]["retry-after"])
    assert 1 <= retry_after <= 2
    assert sim.admin("GET", "counters")["throttles"] >= 1


def test_validation_exception_names_the_field(drs):
    # botocore does not check patterns client-side, so the bad id reaches drs-sim.
    with pytest.raises(drs.exceptions.ValidationException) as caught:
        drs.describe_jobs(filters={"jobIDs": ["drsjob-!!!!!!!!!!!!!!!!!"]})
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["reason"] == "fieldValidationFailed"
    assert error["fieldList"][0]["name"] == "filters.jobIDs[0]"
    with pytest.raises(drs.exceptions.ValidationException):
        drs.start_recovery(sourceServers=[{"sourceServerID": f"s-{n:017d}"} for n in range(1, 202)])


def test_resource_not_found(drs):
    with pytest.raises(drs.exceptions.ResourceNotFoundException) as caught:
        drs.get_launch_configuration(sourceServerID="s-00000000000000042")
    assert caught.value.response["resourceId"] == "s-00000000000000042"
    with pytest.raises(drs.exceptions.ResourceNotFoundException):
        drs.describe_job_log_items(jobID="drsjob-00000000000000000")


def test_uninitialized_region(sim, drs):
    other = sim.client(region="eu-west-1")
    with pytest.raises(other.exceptions.UninitializedAccountException):
        other.describe_source_servers()


def test_injected_internal_error(drs, sim):
    sim.admin("POST", "faults", {"type": "internalErrors", "rate": 1, "count": 1, "operations": ["DescribeJobs"]})
    with pytest.raises(drs.exceptions.InternalServerException) as caught:
        drs.describe_jobs()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert drs.describe_jobs()["items"] == []


def test_bad_signature_is_refused(sim, drs):
    wrong_secret = sim.client(secret="not-the-secret")
    with pytest.raises(ClientError) as caught:
        wrong_secret.describe_jobs()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    unknown_key = sim.client(key="AKIDNOBODYKNOWS")
    with pytest.raises(ClientError) as caught:
        unknown_key.describe_jobs()
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert sim.admin("GET", "counters")["authFailures"] == 2


def test_skewed_clock_is_refused(sim, drs, monkeypatch):
    import botocore.auth

    real_now = botocore.auth.get_current_datetime
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda *args, **kwargs: real_now(*args, **kwargs) - datetime.timedelta(minutes=15)
    )
    with pytest.raises(ClientError) as caught:
        drs.describe_jobs()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["Error"]["Message"].startswith("Signature expired:")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_metrics_and_health(sim, drs):
    drs.describe_jobs()
    with urllib.request.urlopen(f"{sim.endpoint}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert f'drs_sim_requests_total{{operation="DescribeJobs",account="{ACCOUNT}"}} 1' in text
    with urllib.request.urlopen(f"{sim.endpoint}/health/live", timeout=5) as response:
        assert response.status == 200
