"""docs/events/asyncapi.json is a valid AsyncAPI 3.0.0 document: validated
against the specification's own JSON Schema (fixtures/asyncapi-3.0.0.schema.json,
copied unchanged from asyncapi/spec-json-schemas, Apache-2.0). Needs no running
service; the Swift side (AsyncAPIDocumentTests) holds it to the Swift types."""
import copy
import json
import os

import jsonschema_rs

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load(relative):
    with open(os.path.join(ROOT, relative)) as handle:
        return json.load(handle)


def validator():
    return jsonschema_rs.validator_for(load("Tests/e2e/fixtures/asyncapi-3.0.0.schema.json"))


def test_asyncapi_document_is_valid():
    errors = [str(error) for error in validator().iter_errors(load("docs/events/asyncapi.json"))]
    assert errors == []


def test_validator_refuses_a_broken_document():
    broken = copy.deepcopy(load("docs/events/asyncapi.json"))
    del broken["channels"]["executionEvents"]["messages"]["executionStarted"]["$ref"]
    broken["channels"]["executionEvents"]["messages"]["executionStarted"]["payload"] = 3
    broken["operations"]["receiveExecutionEvents"]["action"] = "publish"  # AsyncAPI 2 wording, not 3
    assert len(list(validator().iter_errors(broken))) >= 2


def test_a_message_payload_pins_its_type():
    document = load("docs/events/asyncapi.json")
    body = document["components"]["schemas"]["ExecutionEvent"]
    sample = {"version": 1, "type": "wave.started", "executionId": "6f1c0c1e-0000-4000-8000-000000000001",
              "executionType": "DRILL", "executionStatus": "RUNNING", "planId": "p", "planName": "n", "teamId": "t",
              "initiatedBy": "alice", "occurredAt": "2026-01-01T00:00:00.000Z"}
    message = document["components"]["messages"]["waveStarted"]
    schema = {"$defs": document["components"]["schemas"], "allOf": [
        {"$ref": "#/$defs/ExecutionEvent"}, message["payload"]["allOf"][1]]}
    check = jsonschema_rs.validator_for(schema)
    missing = [key for key in body["required"] if key not in sample]
    assert missing == [], "the sample lacks required fields: %s" % missing
    assert check.is_valid(sample)
    assert not check.is_valid(dict(sample, type="execution.started"))
