"""Conformance of drs-sim's SSM Automation subset (issue 16) with boto3's `ssm` client.

botocore serialises these requests from the official SSM model (AWS JSON 1.1: `POST /`,
`X-Amz-Target: AmazonSSM.<Operation>`), signs them for service `ssm` and parses the JSON
answers and `__type` errors. drs-sim dispatches on the SigV4 signing name, so the same
endpoint serves DRS, EC2 and SSM. Durations are simulated seconds (time scale 600).
Uses the module-scoped `sim` fixture of test_drs_sim_boto3.py.
"""

from __future__ import annotations

import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from test_drs_sim_boto3 import ACCESS_KEY, REGION, SECRET_KEY, sim  # noqa: F401  (fixture)


@pytest.fixture
def ssm(sim):  # noqa: F811
    sim.admin("POST", "reset")
    sim.admin("PUT", "behaviour", {
        "ssmDocuments": {
            "Muster-Quick": {"outcome": "Success", "durationSeconds": 600, "outputs": {"check.Result": ["ok"]}},
            "Muster-Broken": {"outcome": "Failed", "durationSeconds": 600, "failureMessage": "Step check failed"},
            "Muster-Slow": {"outcome": "Success", "durationSeconds": 86400},
        },
        "ssmMissingDocuments": ["Muster-Missing"],
    })
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.client("ssm", region_name=REGION, endpoint_url=sim.endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=config)


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def wait_status(ssm, execution_id: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        execution = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]
        if execution["AutomationExecutionStatus"] not in ("Pending", "InProgress") or time.monotonic() > deadline:
            return execution
        time.sleep(0.1)


def test_start_runs_until_success_with_outputs(ssm):
    started = ssm.start_automation_execution(
        DocumentName="Muster-Quick", Parameters={"InstanceId": ["i-0123456789abcdef0"]}, ClientToken=str(uuid.uuid4()))
    execution_id = started["AutomationExecutionId"]
    assert len(execution_id) == 36
    first = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]
    assert first["AutomationExecutionStatus"] == "InProgress"
    assert first["DocumentName"] == "Muster-Quick"
    assert first["Parameters"] == {"InstanceId": ["i-0123456789abcdef0"]}
    assert first["ExecutionStartTime"].year >= 2000  # botocore parsed a timestamp
    # 600 simulated seconds at scale 600: about one wall-clock second.
    done = wait_status(ssm, execution_id)
    assert done["AutomationExecutionStatus"] == "Success"
    assert done["Outputs"] == {"check.Result": ["ok"]}
    assert done["ExecutionEndTime"] >= done["ExecutionStartTime"]


def test_client_token_makes_start_idempotent(ssm, sim):  # noqa: F811
    token = str(uuid.uuid4())
    first = ssm.start_automation_execution(DocumentName="Muster-Quick", ClientToken=token)["AutomationExecutionId"]
    again = ssm.start_automation_execution(DocumentName="Muster-Quick", ClientToken=token)["AutomationExecutionId"]
    assert again == first
    other = ssm.start_automation_execution(DocumentName="Muster-Quick", ClientToken=str(uuid.uuid4()))
    assert other["AutomationExecutionId"] != first
    counters = sim.admin("GET", "counters")
    assert counters["ssmAutomationsStarted"] == 2
    assert counters["ssmIdempotentStarts"] == 1
    with pytest.raises(ClientError) as mismatch:
        ssm.start_automation_execution(DocumentName="Muster-Broken", ClientToken=token)
    assert error_code(mismatch) == "IdempotentParameterMismatch"


def test_failed_outcome_carries_the_failure_message(ssm):
    execution_id = ssm.start_automation_execution(DocumentName="Muster-Broken")["AutomationExecutionId"]
    done = wait_status(ssm, execution_id)
    assert done["AutomationExecutionStatus"] == "Failed"
    assert done["FailureMessage"] == "Step check failed"


def test_stop_cancels_a_running_automation_and_refuses_a_finished_one(ssm):
    execution_id = ssm.start_automation_execution(DocumentName="Muster-Slow")["AutomationExecutionId"]
    ssm.stop_automation_execution(AutomationExecutionId=execution_id, Type="Cancel")
    stopped = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]
    assert stopped["AutomationExecutionStatus"] == "Cancelled"
    with pytest.raises(ClientError) as again:
        ssm.stop_automation_execution(AutomationExecutionId=execution_id)
    assert error_code(again) == "InvalidAutomationStatusUpdateException"


def test_errors_use_ssm_types(ssm):
    with pytest.raises(ClientError) as missing:
        ssm.start_automation_execution(DocumentName="Muster-Missing")
    assert error_code(missing) == "AutomationDefinitionNotFoundException"
    with pytest.raises(ClientError) as unknown:
        ssm.get_automation_execution(AutomationExecutionId=str(uuid.uuid4()))
    assert error_code(unknown) == "AutomationExecutionNotFoundException"
    with pytest.raises(ClientError) as bad_token:
        # botocore validates the length only; SSM (and drs-sim) the UUID form.
        ssm.start_automation_execution(DocumentName="Muster-Quick", ClientToken="x" * 36)
    assert error_code(bad_token) == "ValidationException"



def test_describe_document_answers_known_documents_and_invalid_document_for_missing(ssm):
    document = ssm.describe_document(Name="Muster-Quick")["Document"]
    assert document["Name"] == "Muster-Quick"
    assert document["DocumentType"] == "Automation"
    assert document["Status"] == "Active"
    assert document["CreatedDate"].year >= 2000  # botocore parsed a timestamp
    # A name without settings runs with the default behaviour, so it exists too.
    assert ssm.describe_document(Name="Team-Runbook", DocumentVersion="$LATEST")["Document"]["DocumentVersion"] == "1"
    with pytest.raises(ClientError) as missing:
        ssm.describe_document(Name="Muster-Missing")
    assert error_code(missing) == "InvalidDocument"
    assert "Muster-Missing" in missing.value.response["Error"]["Message"]
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as version:
        ssm.describe_document(Name="Muster-Quick", DocumentVersion="7")
    assert error_code(version) == "InvalidDocumentVersion"
