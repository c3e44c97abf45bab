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
import re
import socket
import subprocess
import time
import urllib.error
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
            # Timestamps as real DRS writes them; trace logging so the log can be checked for secrets.
            "DRS_SIM_TIMESTAMP_FORMAT": "aws",
            "MUSTER_LOG_LEVEL": "trace",
        }
    )
    log_path = seed_file.parent / "drs-sim.log"
    log_file = open(log_path, "wb")
    process = subprocess.Popen([binary], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    handle = DRSSim(port)
    handle.log_path = log_path
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
            output = log_path.read_text(errors="replace")
            pytest.fail(f"drs-sim did not become ready on port {port}:\n{output}")
        time.sleep(0.05)
    yield handle
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log_file.close()


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


def _wait_for_runs(client, job_id: str, sid: str, timeout: float = 15.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        job = client.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        runs = _server(job, sid).get("launchActionsStatus", {}).get("runs", [])
        if runs and all(run["status"] == "SUCCEEDED" for run in runs):
            return runs
        assert time.monotonic() < deadline, f"post-launch runs of {sid} not finished: {runs}"
        time.sleep(0.05)


def test_recovery_runs_post_launch_actions_after_the_job_ends_by_default(drs):
    job_id = drs.start_recovery(isDrill=False, sourceServers=[{"sourceServerID": SERVERS[0]}])["job"]["jobID"]
    done = _wait_for_status(drs, job_id, "COMPLETED", timeout=30)
    assert done["initiatedBy"] == "START_RECOVERY"
    runs = _wait_for_runs(drs, job_id, SERVERS[0])
    assert all(run["runId"] and run["action"]["actionId"] for run in runs)
    later = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
    assert later["status"] == "COMPLETED" and later["endDateTime"] == done["endDateTime"]
    # after-job: the SSM agent registered (and the runs started) only after JOB_END.
    discovered = _server(later, SERVERS[0])["launchActionsStatus"]["ssmAgentDiscoveryDatetime"]
    assert discovered > done["endDateTime"], (discovered, done["endDateTime"])
    instance = drs.describe_recovery_instances(filters={"sourceServerIDs": [SERVERS[0]]})["items"][0]
    assert instance["isDrill"] is False


def test_recovery_runs_post_launch_actions_before_the_job_ends_when_set(drs, sim):
    assert sim.admin("PUT", "behaviour", {"postLaunchOrder": "before-job"})["postLaunchOrder"] == "before-job"
    job_id = drs.start_recovery(isDrill=False, sourceServers=[{"sourceServerID": SERVERS[0]}])["job"]["jobID"]
    job = _wait_for_status(drs, job_id, "COMPLETED", timeout=30)
    status = _server(job, SERVERS[0])["launchActionsStatus"]
    assert status["runs"] and all(run["status"] == "SUCCEEDED" for run in status["runs"]), job
    assert status["ssmAgentDiscoveryDatetime"] < job["endDateTime"], "the runs ran before JOB_END"


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
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith("ThrottlingException")
    assert UUID.match(error["ResponseMetadata"]["RequestId"])
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


# --- nearer to DRS: request ids, timestamps, order, pagination, quotas, secrets ---------------

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
AWS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$")


def _raw(sim, path: str, body: bytes = b"{}", headers: dict | None = None):
    request = urllib.request.Request(f"{sim.endpoint}{path}", data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_every_response_carries_a_request_id(sim, drs):
    ok = drs.describe_jobs()["ResponseMetadata"]["RequestId"]
    drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[0]}])
    with pytest.raises(drs.exceptions.ConflictException) as caught:
        drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[0]}])
    conflict = caught.value.response["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as caught:
        sim.client(secret="wrong").describe_jobs()
    refused = caught.value.response["ResponseMetadata"]["RequestId"]
    ids = [ok, conflict, refused]
    assert all(UUID.match(i) for i in ids), ids
    assert len(set(ids)) == 3, "a fresh id per response"


def test_front_door_errors_name_their_type(sim):
    status, headers, body = _raw(sim, "/DescribeJobs")
    assert status == 403
    assert headers.get("x-amzn-ErrorType", "").startswith("MissingAuthenticationTokenException")
    assert UUID.match(headers.get("x-amzn-RequestId", ""))
    status, headers, _ = _raw(sim, "/DescribeJobs", headers={"Authorization": "AWS4-HMAC-SHA256 nonsense"})
    assert status == 403 and headers.get("x-amzn-ErrorType", "").startswith("IncompleteSignatureException")


def test_timestamps_have_the_real_form_and_filters_accept_it(drs):
    job = drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[0]}])["job"]
    created = job["creationDateTime"]
    assert AWS_TIME.match(created), created
    done = _wait_for_status(drs, job["jobID"], "COMPLETED")
    assert AWS_TIME.match(done["endDateTime"]), done["endDateTime"]
    items = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    assert all(AWS_TIME.match(item["logDateTime"]) for item in items)
    # Both forms in filters: the offset form DRS writes and the Z form.
    listed = drs.describe_jobs(filters={"fromDate": created})["items"]
    assert [j["jobID"] for j in listed] == [job["jobID"]]
    zulu = created[:23] + "Z"
    assert [j["jobID"] for j in drs.describe_jobs(filters={"fromDate": zulu})["items"]] == [job["jobID"]]
    before = "2000-01-01T00:00:00.000000+00:00"
    assert drs.describe_jobs(filters={"toDate": before})["items"] == []
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_jobs(filters={"fromDate": "2024-13-45T99:99:99Z"})


def test_describe_jobs_is_newest_first_across_pages(drs):
    ids = []
    for sid in SERVERS[:5]:
        ids.append(drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": sid}])["job"]["jobID"])
        time.sleep(0.01)
    pages = list(drs.get_paginator("describe_jobs").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [j["jobID"] for p in pages for j in p["items"]] == ids[::-1], "newest first, as the API reference says"
    created = [j["creationDateTime"] for p in pages for j in p["items"]]
    assert created == sorted(created, reverse=True)


def test_all_four_paginated_operations_page_without_gaps_or_repeats(drs):
    # DescribeSourceServers: see test_describe_source_servers_paginates; here with PageSize 1.
    servers = [s["sourceServerID"] for page in drs.get_paginator("describe_source_servers").paginate(
        PaginationConfig={"PageSize": 1}) for s in page["items"]]
    assert servers == SERVERS + [NOT_READY]
    job_id = drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": s} for s in SERVERS[:4]])["job"]["jobID"]
    _wait_for_status(drs, job_id, "COMPLETED")
    for name, kwargs, key in [("describe_jobs", {}, "jobID"),
                              ("describe_job_log_items", {"jobID": job_id}, None),
                              ("describe_recovery_instances", {}, "recoveryInstanceID")]:
        whole = getattr(drs, name)(**kwargs)["items"]
        paged = [item for page in drs.get_paginator(name).paginate(**kwargs, PaginationConfig={"PageSize": 3})
                 for item in page["items"]]
        assert paged == whole, name
        if key:
            assert len({item[key] for item in paged}) == len(paged), name
    assert len(drs.describe_recovery_instances()["items"]) == 4
    # A token belongs to its operation.
    token = drs.describe_job_log_items(jobID=job_id, maxResults=1)["nextToken"]
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_jobs(nextToken=token)


def test_the_21st_concurrent_job_is_refused(drs, sim):
    extra = [f"s-{n:017d}" for n in range(100, 121)]
    sim.admin("POST", "seed", {"accounts": [{"accountID": ACCOUNT, "regions": {REGION: {"sourceServers": [
        {"sourceServerID": sid, "hostname": sid} for sid in extra]}}}]})
    sim.admin("PUT", "time-scale", {"timeScale": 0.001})  # nothing finishes meanwhile
    for sid in extra[:20]:
        drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": sid}])
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as caught:
        drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": extra[20]}])
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert "20" in error["Error"]["Message"]
    assert len(drs.describe_jobs()["items"]) == 20


def test_job_log_lists_newest_first_when_set(drs, sim):
    sim.admin("PUT", "behaviour", {"logOrder": "newest-first"})
    job_id = drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": SERVERS[0]}])["job"]["jobID"]
    _wait_for_status(drs, job_id, "COMPLETED")
    items = [i for page in drs.get_paginator("describe_job_log_items").paginate(
        jobID=job_id, PaginationConfig={"PageSize": 2}) for i in page["items"]]
    assert items[0]["event"] == "JOB_END" and items[-1]["event"] == "JOB_START"
    times = [i["logDateTime"] for i in items]
    assert times == sorted(times, reverse=True)


def test_behaviour_settings_are_validated(sim):
    with pytest.raises(urllib.error.HTTPError) as caught:
        sim.admin("PUT", "behaviour", {"postLaunchOrder": "sideways"})
    assert caught.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as caught:
        sim.admin("PUT", "behaviour", {"noSuchSetting": 1})
    assert caught.value.code == 400


def test_no_secret_in_the_admin_api_or_the_trace_log(sim, drs):
    drs.describe_jobs()
    for path in ("state", "counters", "behaviour"):
        assert SECRET_KEY not in json.dumps(sim.admin("GET", path))
    log = sim.log_path.read_text(errors="replace")
    assert "drs-sim configuration" in log, "the configuration summary is logged at debug level"
    assert ACCESS_KEY in log and "redacted" in log
    assert SECRET_KEY not in log
