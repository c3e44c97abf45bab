#!/usr/bin/env python3
"""What Tansu's idle CPU depends on (issue 18, round 8; docs/benchmarks.md "Idle stack").

For every case: a fresh Tansu started the way scripts/infra.sh starts it, the
case's topics created with the admin API, its idle clients (librdkafka through
confluent_kafka: the default fetch wait, enable.metrics.push=false, one
consumer group per consumer), start-up let settle, then WINDOWS windows of
SECONDS each: Tansu's utime+stime from /proc/<pid>/stat as a share of one
core, its threads' voluntary context switches per second, and the requests the
clients sent (librdkafka's own per-broker request counters, statistics every
second). Then a least-squares fit of

    cpu % = a * fetch requests/s + b * topic-fetches/s + c * partition-fetches/s
            + h * heartbeats/s

over the cases (topic-fetches: a fetch request's topics; partition-fetches: its
partitions), and its prediction for every case.

    .local/venv/bin/python scripts/tansu-idle-cost.py                 # every case
    .local/venv/bin/python scripts/tansu-idle-cost.py --cases c1-t1x12,muster
    .local/venv/bin/python scripts/tansu-idle-cost.py --fit-only results.json

--port (19600) is the first of the loopback ports used (one per case), --json
writes every window's figures, --fit-cases limits the cases the model is fitted
on (the rest are predicted only). Run it at `nice -n 19` on a shared machine.

Group timings: `session.timeout.ms` is 6000 by default (--session-timeout-ms)
instead of librdkafka's 45000 only because Tansu holds a JoinGroup for half the
session (a 23 s join per case); `heartbeat.interval.ms` stays at librdkafka's
3000 unless a case sets it, so the idle request mix is the production one.
"""
import argparse
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")

# Muster's topics (Shared/Events/Topics.swift) and which member reads which.
MUSTER_PARTITIONS = {
    "launch.requests.v1": 12, "job.poll.v1": 12, "instances.terminate.v1": 12, "hook.requests.v1": 12,
    "job.status.v1": 12, "execution.events.v1": 12, "inventory.v1": 12,
    "accounts.v1": 4, "teams.v1": 4, "callouts.v1": 4, "callout.results.v1": 4,
}
MUSTER_MEMBERS = {
    "launcher": ["launch.requests.v1", "job.poll.v1", "instances.terminate.v1", "hook.requests.v1", "accounts.v1"],
    "planner": ["job.status.v1", "inventory.v1", "callout.results.v1"],
    "notifier": ["execution.events.v1", "teams.v1", "callouts.v1"],
    "poller": ["job.status.v1"],
}


def synthetic(consumers, topics, partitions, shared=True, props=None):
    """`consumers` groups, each reading the same `topics` topics of `partitions` each."""
    names = {f"t{i}": partitions for i in range(topics)}
    return {"topics": names, "consumers": [dict(topics=list(names), props=props or {}) for _ in range(consumers)],
            "producers": 0}


def muster(partitions=None, members=None, producers=0, props_by_member=None):
    parts = dict(MUSTER_PARTITIONS, **(partitions or {}))
    mem = members or MUSTER_MEMBERS
    used = sorted({t for ts in mem.values() for t in ts})
    return {"topics": {t: parts[t] for t in used},
            "consumers": [dict(name=m, topics=ts, props=(props_by_member or {}).get(m, {})) for m, ts in mem.items()],
            "producers": producers}


MERGED_MEMBERS = dict(MUSTER_MEMBERS, launcher=["launcher.commands.v1", "accounts.v1"])
MERGED_PARTS = {"launcher.commands.v1": 12}
LOW = {"accounts.v1": 1, "teams.v1": 1, "callouts.v1": 1, "callout.results.v1": 1}

CASES = {
    "empty": {"topics": dict(MUSTER_PARTITIONS), "consumers": [], "producers": 0},
    "producer": {"topics": {"t0": 12}, "consumers": [], "producers": 1},
    "c1-t1x1": synthetic(1, 1, 1),
    "c1-t1x12": synthetic(1, 1, 12),
    "c1-t1x48": synthetic(1, 1, 48),
    "c1-t4x12": synthetic(1, 4, 12),
    "c1-t12x12": synthetic(1, 12, 12),
    "c1-t12x1": synthetic(1, 12, 1),
    "c2-t1x12": synthetic(2, 1, 12),
    "c4-t1x12": synthetic(4, 1, 12),
    "c1-t1x12-hb500": synthetic(1, 1, 12, props={"heartbeat.interval.ms": "500"}),
    # Muster's layout: 4 members, 5/3/3/1 topics, 52/28/20/12 partitions.
    "muster": muster(),
    "muster+4producers": muster(producers=4),
    # (a) the launcher's four co-partitioned command topics merged into one (12 partitions).
    "muster-merged": muster(MERGED_PARTS, MERGED_MEMBERS),
    # (b) the 4-partition low-traffic topics at 1 partition.
    "muster-low1": muster(LOW),
    # (a) + (b)
    "muster-merged-low1": muster(dict(MERGED_PARTS, **LOW), MERGED_MEMBERS),
    # (c) a longer fetch wait on the notifier's member only (librdkafka's wait is per client, not per topic).
    "muster-notifier5s": muster(props_by_member={"notifier": {"fetch.wait.max.ms": "5000"}}),
    # (d) every member at a 1 s wait; (a) + (b) with the notifier at 5 s; (a) + (b) + every member at 1 s.
    "muster-wait1s": muster(props_by_member={m: {"fetch.wait.max.ms": "1000"} for m in MUSTER_MEMBERS}),
    "muster-wait2s": muster(props_by_member={m: {"fetch.wait.max.ms": "2000"} for m in MUSTER_MEMBERS}),
    "muster-merged-low1-notifier5s": muster(dict(MERGED_PARTS, **LOW), MERGED_MEMBERS,
                                            props_by_member={"notifier": {"fetch.wait.max.ms": "5000"}}),
    "muster-merged-low1-wait1s": muster(dict(MERGED_PARTS, **LOW), MERGED_MEMBERS,
                                        props_by_member={m: {"fetch.wait.max.ms": "1000"} for m in MUSTER_MEMBERS}),
}
DEFAULT_ORDER = ["empty", "producer", "c1-t1x1", "c1-t1x12", "c1-t1x48", "c1-t4x12", "c1-t12x12", "c1-t12x1",
                 "c2-t1x12", "c4-t1x12", "c1-t1x12-hb500", "muster", "muster+4producers", "muster-merged",
                 "muster-low1", "muster-merged-low1", "muster-notifier5s"]
# Fitted on the synthetic cases only, so the Muster-layout cases test the model.
DEFAULT_FIT = ["c1-t1x1", "c1-t1x12", "c1-t1x48", "c1-t4x12", "c1-t12x12", "c1-t12x1", "c2-t1x12", "c4-t1x12",
               "c1-t1x12-hb500"]


def tansu_binary():
    local = os.path.join(ROOT, ".local", "tansu")
    if os.access(local, os.X_OK):
        return local
    sys.exit("no .local/tansu: run scripts/setup.sh")


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_tansu(port, logdir):
    os.makedirs(logdir, exist_ok=True)
    log = open(os.path.join(logdir, f"tansu-{port}.log"), "wb")
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen([tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    for _ in range(200):
        if port_open(port):
            return proc
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"tansu did not come up on {port}")


def stop_tansu(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def note(text):
    print(time.strftime("%H:%M:%S ") + text, file=sys.stderr, flush=True)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def wakeups(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


class Client:
    """One idle librdkafka client with its latest statistics."""

    def __init__(self, kind, conf, topics=(), partitions=0):
        self.kind, self.topics, self.partitions = kind, list(topics), partitions
        self.stats = None
        self.lock = threading.Lock()
        conf = dict(conf, **{"statistics.interval.ms": 1000, "stats_cb": self._on_stats})
        self.handle = Consumer(conf) if kind == "consumer" else Producer(conf)
        if kind == "consumer":
            self.handle.subscribe(self.topics)

    def _on_stats(self, text):
        s = json.loads(text)
        req = {}
        for b in s.get("brokers", {}).values():
            for k, v in b.get("req", {}).items():
                req[k] = req.get(k, 0) + v
        with self.lock:
            self.stats = (s["ts"] / 1e6, req)

    def poll(self):
        if self.kind == "consumer":
            msg = self.handle.poll(0.1)
            if msg is not None and msg.error() is None:
                print(f"unexpected record on {msg.topic()}", file=sys.stderr)
        else:
            self.handle.poll(0.1)

    def assigned(self):
        return self.kind != "consumer" or len(self.handle.assignment()) == self.partitions

    def snapshot(self):
        with self.lock:
            return self.stats

    def close(self):
        if self.kind == "consumer":
            self.handle.close()
        else:
            self.handle.flush(1)


def run_case(name, spec, port, args):
    bootstrap = f"127.0.0.1:{port}"
    proc = start_tansu(port, args.logdir)
    clients = []
    try:
        base = {"bootstrap.servers": bootstrap, "enable.metrics.push": "false", "log_level": 4}
        admin = AdminClient(base)
        futures = admin.create_topics([NewTopic(t, num_partitions=n, replication_factor=1)
                                       for t, n in spec["topics"].items()], operation_timeout=10)
        for f in futures.values():
            f.result(15)
        del admin, futures  # its connection is not part of the idle mix
        note(f"{name}: Tansu pid {proc.pid} on {port}, {len(spec['topics'])} topics created")
        for i, c in enumerate(spec["consumers"]):
            conf = dict(base, **{"group.id": f"idle-cost-{name}-{i}", "enable.auto.commit": "false",
                                 "auto.offset.reset": "earliest",
                                 "session.timeout.ms": str(args.session_timeout_ms)}, **c["props"])
            clients.append(Client("consumer", conf, c["topics"], sum(spec["topics"][t] for t in c["topics"])))
        for i in range(spec["producers"]):
            clients.append(Client("producer", dict(base, **{"enable.idempotence": "true", "acks": "all"})))

        def pump(seconds, until=None):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for c in clients:
                    c.poll()
                if until is not None and until():
                    return True
            return until is None

        if not pump(120, lambda: all(c.assigned() for c in clients)):
            raise RuntimeError(f"{name}: group assignment took over 120 s")
        joined = time.time()
        note(f"{name}: {len(clients)} clients ready")
        pump(args.settle)
        windows = []
        for _ in range(args.windows):
            before = [c.snapshot() for c in clients]
            t0, c0, w0 = time.monotonic(), cpu_ticks(proc.pid), wakeups(proc.pid)
            pump(args.seconds)
            t1, c1, w1 = time.monotonic(), cpu_ticks(proc.pid), wakeups(proc.pid)
            after = [c.snapshot() for c in clients]
            fetch = topic_f = part_f = hb = other = 0.0
            for c, b, a in zip(clients, before, after):
                if not b or not a or a[0] <= b[0]:
                    continue
                dt = a[0] - b[0]
                rate = {k: (a[1].get(k, 0) - b[1].get(k, 0)) / dt for k in a[1]}
                f = rate.get("Fetch", 0.0)
                fetch += f
                topic_f += f * len(c.topics)
                part_f += f * c.partitions
                hb += rate.get("Heartbeat", 0.0)
                other += sum(v for k, v in rate.items() if k not in ("Fetch", "Heartbeat"))
            windows.append({
                "cpu_pct": 100.0 * (c1 - c0) / TICKS / (t1 - t0), "seconds": t1 - t0,
                "wakeups_per_s": (w1 - w0) / (t1 - t0), "fetch_per_s": fetch, "topic_fetch_per_s": topic_f,
                "partition_fetch_per_s": part_f, "heartbeat_per_s": hb, "other_req_per_s": other,
                "loadavg": open("/proc/loadavg").read().split()[:3],
            })
        return {"case": name, "members": len(spec["consumers"]), "producers": spec["producers"],
                "topics_fetched": sum(len(c["topics"]) for c in spec["consumers"]),
                "partitions_fetched": sum(spec["topics"][t] for c in spec["consumers"] for t in c["topics"]),
                "windows": windows, "joined_at": joined}
    finally:
        for c in clients:
            try:
                c.close()
            except Exception:
                pass
            c.handle = None  # the stats callback holds the client: break the cycle so it is freed now
        clients.clear()
        gc.collect()
        stop_tansu(proc)


def lstsq(rows, ys):
    """Ordinary least squares by the normal equations (no numpy in the venv)."""
    n = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(n)] + [sum(r[i] * y for r, y in zip(rows, ys))]
         for i in range(n)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[piv] = a[piv], a[col]
        for r in range(n):
            if r != col and a[col][col]:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col])]
    return [a[i][n] / a[i][i] if abs(a[i][i]) > 1e-12 else 0.0 for i in range(n)]


FEATURES = [("a", "fetch_per_s", "per fetch request"), ("b", "topic_fetch_per_s", "per topic in a fetch"),
            ("c", "partition_fetch_per_s", "per partition in a fetch"), ("h", "heartbeat_per_s", "per heartbeat")]


def fit(results, fit_cases):
    rows, ys = [], []
    for r in results:
        if r["case"] not in fit_cases:
            continue
        for w in r["windows"]:
            rows.append([w[k] for _, k, _ in FEATURES])
            ys.append(w["cpu_pct"])
    coef = lstsq(rows, ys)
    print("\nmodel (fitted on %d windows of %s):" % (len(ys), ", ".join(c for c in fit_cases
                                                                        if any(r["case"] == c for r in results))))
    for (sym, _, what), v in zip(FEATURES, coef):
        print(f"  {sym} = {v * 10:8.4f} ms of broker CPU {what}")
    print(f"\n{'case':22} {'fit':>4} {'measured (windows)':>22} {'predicted':>9} {'fetch/s':>8} {'topic-f/s':>9} "
          f"{'part-f/s':>9} {'hb/s':>5}")
    for r in results:
        ws = r["windows"]
        mean = {k: sum(w[k] for w in ws) / len(ws) for _, k, _ in FEATURES}
        pred = sum(c * mean[k] for c, (_, k, _) in zip(coef, FEATURES))
        meas = " / ".join(f"{w['cpu_pct']:.2f}" for w in ws)
        print(f"{r['case']:22} {'yes' if r['case'] in fit_cases else '':>4} {meas:>22} {pred:9.2f} "
              f"{mean['fetch_per_s']:8.2f} {mean['topic_fetch_per_s']:9.1f} {mean['partition_fetch_per_s']:9.1f} "
              f"{mean['heartbeat_per_s']:5.2f}")
    return coef


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(DEFAULT_ORDER))
    p.add_argument("--fit-cases", default=",".join(DEFAULT_FIT))
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--windows", type=int, default=2)
    p.add_argument("--settle", type=float, default=8.0)
    p.add_argument("--port", type=int, default=19600)
    p.add_argument("--session-timeout-ms", type=int, default=6000)
    p.add_argument("--json", help="write every case's windows here (appended to as cases finish)")
    p.add_argument("--fit-only", help="fit and print the model from a --json file instead of measuring")
    p.add_argument("--logdir", default=os.path.join(ROOT, ".local", "run", "tansu-idle-cost"))
    args = p.parse_args()
    fit_cases = args.fit_cases.split(",")
    if args.fit_only:
        results = [json.loads(line) for line in open(args.fit_only) if line.strip()]
        fit(results, fit_cases)
        return
    results = []
    for i, name in enumerate(args.cases.split(",")):
        r = run_case(name, CASES[name], args.port + i, args)
        results.append(r)
        print(f"{name:22} " + "  ".join(
            f"cpu {w['cpu_pct']:.2f} % wake {w['wakeups_per_s']:.0f}/s fetch {w['fetch_per_s']:.2f}/s "
            f"hb {w['heartbeat_per_s']:.2f}/s other {w['other_req_per_s']:.2f}/s load {w['loadavg'][0]}"
            for w in r["windows"]), flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")
    if any(r["case"] in fit_cases for r in results):
        fit(results, fit_cases)


if __name__ == "__main__":
    main()
