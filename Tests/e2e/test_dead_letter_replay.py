"""A parked record replayed end to end, as an operator would (issue 11,
docs/consumers.md): a record the planner's inventory consumer cannot store is
parked; the operator lists it on the planner's ops port, removes the cause,
replays it with the `muster dead-letters` CLI and sees it handled once — a
second replay is refused — and discards another one for good.

The cause is one an operator meets and can remove: a table constraint that
refuses the record (here one the test adds, like an over-strict migration),
so PostgreSQL answers 23514 (check violation, a deterministic failure: parked
at once). The records go straight onto `inventory.v1` like the launcher's."""
import json
import os
import subprocess
import uuid
from datetime import datetime, timezone

from confluent_kafka import Producer

from conftest import ACCOUNT, API, REGION, ROOT, wait_for

CONSTRAINT = "e2e_replay_refuses_hostnames"


def psql(stack, sql):
    done = subprocess.run(["psql", stack["MUSTER_DATABASE_URL"], "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def observe(stack, server, hostname):
    """Produces one source-server.observed for `server` as the launcher does; returns its ce_id."""
    event_id = str(uuid.uuid4())
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    payload = {"endpoint": {"accountId": ACCOUNT, "region": REGION}, "sourceServerId": server, "hostname": hostname,
               "replicationState": "CONTINUOUS", "lastLaunchResult": "NOT_STARTED", "tags": {"e2e": "replay"},
               "observedAt": now}
    headers = [("ce_id", event_id), ("ce_source", "/muster/launcher"), ("ce_type", "source-server.observed"),
               ("ce_specversion", "1.0"), ("ce_time", now), ("ce_subject", server),
               ("content-type", "application/json")]
    producer = Producer({"bootstrap.servers": stack["MUSTER_KAFKA_BROKERS"], "enable.idempotence": True})
    producer.produce("inventory.v1", key=f"{ACCOUNT}/{REGION}", value=json.dumps(payload).encode(), headers=headers)
    assert producer.flush(30) == 0, "the record was not delivered"
    return event_id


def listed(api, path="/v1/source-servers?limit=100"):
    seen, cursor = {}, None
    while True:
        page = api.get(path + (f"&cursor={cursor}" if cursor else ""))
        seen.update({item["sourceServerId"]: item for item in page["items"]})
        cursor = page.get("nextCursor")
        if not cursor:
            return seen


def muster(stack, *arguments):
    """The CLI against the planner, with the ops admin token (docs/consumers.md)."""
    env = dict(os.environ, MUSTER_API=stack["MUSTER_API"], MUSTER_TOKEN=stack["MUSTER_OPS_ADMIN_TOKEN"])
    done = subprocess.run([os.path.join(ROOT, ".build/debug/muster"), "dead-letters", *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_a_parked_record_is_replayed_once_after_its_cause_is_removed_and_another_is_discarded(team):
    stack, api = team["stack"], team["api"]
    ops = API(stack["MUSTER_API"], stack["MUSTER_OPS_ADMIN_TOKEN"])
    assert API(stack["MUSTER_API"]).get("/admin/dead-letters", expect=401)["error"]["code"] == "unauthenticated"
    suffix = uuid.uuid4().hex[:12]
    fixed, given_up = f"s-0e2ea{suffix}", f"s-0e2eb{suffix}"
    hostnames = {fixed: f"replay-{suffix}.e2e", given_up: f"discard-{suffix}.e2e"}

    # The cause: the planner's table refuses these two hostnames (NOT VALID: existing rows are not checked).
    psql(stack, f"ALTER TABLE planner.source_servers ADD CONSTRAINT {CONSTRAINT}_{suffix} CHECK "
                f"(hostname IS NULL OR hostname NOT IN ('{hostnames[fixed]}', '{hostnames[given_up]}')) NOT VALID")
    try:
        events = {server: observe(stack, server, hostnames[server]) for server in (fixed, given_up)}

        def parked():
            items = ops.get("/admin/dead-letters?consumer=planner.inventory&limit=1000")["items"]
            found = {item["eventId"]: item for item in items if item.get("eventId") in events.values()}
            return found if len(found) == 2 else None
        letters = wait_for(parked, timeout=60, what="both records to be parked by planner.inventory")
        letter = letters[events[fixed]]
        other = letters[events[given_up]]
        for item in (letter, other):
            assert item["consumer"] == "planner.inventory" and item["topic"] == "inventory.v1"
            assert item["status"] == "parked" and item["reason"] == "deterministic", item
            assert "23514" in item["error"] or "check" in item["error"].lower(), item["error"]
        assert json.loads(letter["value"])["hostname"] == hostnames[fixed]
        # Parked, not stored: the consumer moved on without them.
        assert fixed not in listed(api) and given_up not in listed(api)

        # The CLI lists the same record.
        page = muster(stack, "list", "--consumer", "planner.inventory", "--limit", "1000")
        assert letter["id"] in [item["id"] for item in page["items"]]

        # Give one up: kept, listed as discarded, never replayed.
        assert muster(stack, "discard", str(other["id"])) == {"id": other["id"], "status": "discarded"}
        refused = ops.post(f"/admin/dead-letters/{other['id']}/replay", expect=409)
        assert refused["error"]["code"] == "already_discarded"
        assert ops.post(f"/admin/dead-letters/{other['id']}/discard", expect=409)["error"]["code"] == "already_discarded"

        # A replay before the fix fails and leaves the record parked (one more attempt recorded).
        again = ops.post(f"/admin/dead-letters/{letter['id']}/replay", expect=409)
        assert again["error"]["code"] == "replay_failed"
    finally:
        # Remove the cause.
        psql(stack, f"ALTER TABLE planner.source_servers DROP CONSTRAINT IF EXISTS {CONSTRAINT}_{suffix}")

    after_failed = next(item for item in ops.get("/admin/dead-letters?consumer=planner.inventory&limit=1000")["items"]
                        if item["id"] == letter["id"])
    assert after_failed["status"] == "parked" and after_failed["attempts"] == letter["attempts"] + 1

    # Replay with the CLI: handled, the server appears with what the record said.
    assert muster(stack, "replay", str(letter["id"])) == {"id": letter["id"], "status": "replayed"}
    servers = listed(api)
    assert fixed in servers, "the replayed record was handled"
    assert servers[fixed].get("hostname") == hostnames[fixed], servers[fixed]

    # Once: a second replay is refused, and replaying everything parked leaves both alone.
    assert ops.post(f"/admin/dead-letters/{letter['id']}/replay", expect=409)["error"]["code"] == "already_replayed"
    everything = ops.post("/admin/dead-letters/replay?consumer=planner.inventory")
    assert letter["id"] not in everything["replayed"] and other["id"] not in everything["replayed"]
    assert given_up not in listed(api), "a discarded record is never handled"

    statuses = {item["id"]: item for item in ops.get("/admin/dead-letters?status=all&limit=1000")["items"]}
    assert statuses[letter["id"]]["status"] == "replayed" and "replayedAt" in statuses[letter["id"]]
    assert statuses[other["id"]]["status"] == "discarded" and "discardedAt" in statuses[other["id"]]
    discarded = ops.get("/admin/dead-letters?status=discarded&limit=1000")["items"]
    assert [item["id"] for item in discarded if item["id"] in (letter["id"], other["id"])] == [other["id"]]
    parked_now = ops.get("/admin/dead-letters?status=parked&limit=1000")["items"]
    assert not {letter["id"], other["id"]} & {item["id"] for item in parked_now}
