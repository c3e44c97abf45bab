#!/usr/bin/env bash
# Starts and stops Muster's five processes locally — drs-sim (seeded) and
# planner, launcher, poller, notifier — against the infrastructure of
# scripts/infra.sh, with settings suited to drs-sim's accelerated clock.
#   scripts/stack.sh start   # needs `eval "$(scripts/infra.sh start)"` first and built binaries
#   scripts/stack.sh stop
#   scripts/stack.sh env     # prints MUSTER_API, MUSTER_ADMIN_TOKEN, MUSTER_OPS_ADMIN_TOKEN, … for the CLI
# Ports: MUSTER_STACK_PORT_BASE (default 18080): planner +0, launcher +1,
# poller +2, notifier +3, drs-sim +9. Logs: .local/run/stack/<name>.log
# (MUSTER_STACK_DIR: another folder, for a second stack in one checkout).
# Other settings from the environment: DRS_SIM_TIME_SCALE (600),
# MUSTER_DEMO_SEED (drs-sim's seed file), MUSTER_BIN_DIR (.build/debug),
# MUSTER_STACK_LAUNCHER_ACCOUNTS (the launcher's MUSTER_LAUNCHER_ACCOUNTS;
# default: the demo account in us-east-1), MUSTER_STACK_INVENTORY_INTERVAL
# (2s). Any other MUSTER_* variable reaches every service unchanged.
# MUSTER_OPS_ADMIN_TOKEN (default: generated once into $RUN/ops-admin-token)
# enables every service's /admin/dead-letters; `muster dead-letters` uses it
# as MUSTER_TOKEN.
# MUSTER_STACK_LOG_LEVEL (info) sets every process's log level (the e2e run
# uses trace); DRS_SIM_POST_LAUNCH_ORDER (after-job) and DRS_SIM_TIMESTAMP_FORMAT
# (aws) are passed to drs-sim (Services/DRSSim/README.md).
# MUSTER_STACK_PROFILE=production starts the services with their production
# defaults (librdkafka's fetch wait and group timings, the default scheduler,
# tick and relay intervals) instead of the short latency-sensitive settings
# below; the idle benchmark (scripts/bench.sh idle) measures that profile.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${MUSTER_STACK_DIR:-$ROOT/.local/run/stack}"
BASE="${MUSTER_STACK_PORT_BASE:-18080}"
BIN="${MUSTER_BIN_DIR:-$ROOT/.build/debug}"
SEED="${MUSTER_DEMO_SEED:-$ROOT/deploy/demo/seed.json}"
TIME_SCALE="${DRS_SIM_TIME_SCALE:-600}"
# Log level of all five processes (the e2e run uses trace and greps the logs for secrets).
LOG_LEVEL="${MUSTER_STACK_LOG_LEVEL:-info}"
# drs-sim's choices where real DRS is undocumented (Services/DRSSim/README.md);
# timestamps in the form real DRS sends.
POST_LAUNCH_ORDER="${DRS_SIM_POST_LAUNCH_ORDER:-after-job}"
TIMESTAMP_FORMAT="${DRS_SIM_TIMESTAMP_FORMAT:-aws}"
# Throwaway demo credentials: drs-sim knows them from the demo seed file;
# the launcher signs with them. They open nothing but drs-sim.
DEMO_ACCOUNT=111122223333
DEMO_KEY_ID=AKIDMUSTERDEMO000001
DEMO_SECRET=muster-demo-drs-sim-secret-not-a-real-key
ADMIN_TOKEN_FILE="$RUN/admin-token"
# The ops admin token of every service's /admin/dead-letters (docs/consumers.md),
# generated like the planner's admin token; passed in the environment, never logged.
OPS_TOKEN_FILE="$RUN/ops-admin-token"

log() { printf '[stack] %s\n' "$*" >&2; }

port_of() {
  case "$1" in planner) echo $((BASE)) ;; launcher) echo $((BASE + 1)) ;; poller) echo $((BASE + 2)) ;;
    notifier) echo $((BASE + 3)) ;; drs-sim) echo $((BASE + 9)) ;; esac
}

running() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start_one() {
  local name="$1"; shift
  if running "$name"; then log "$name already running"; return; fi
  [[ -x "$BIN/$name" ]] || { log "$BIN/$name not built: run swift build"; exit 1; }
  env "$@" MUSTER_HTTP_HOST=127.0.0.1 MUSTER_HTTP_PORT="$(port_of "$name")" \
    setsid "$BIN/$name" >"$RUN/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN/$name.pid"
}

wait_ready() {
  local name="$1" port; port="$(port_of "$1")"
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then log "$name ready on $port"; return; fi
    running "$name" || { log "$name exited:"; tail -20 "$RUN/$name.log" >&2; exit 1; }
    sleep 0.2
  done
  log "$name not ready after 60 s:"; tail -20 "$RUN/$name.log" >&2; exit 1
}

start() {
  : "${MUSTER_DATABASE_URL:?run eval \"\$(scripts/infra.sh start)\" first}"
  : "${MUSTER_KAFKA_BROKERS:?run eval \"\$(scripts/infra.sh start)\" first}"
  mkdir -p "$RUN"
  [[ -s "$ADMIN_TOKEN_FILE" ]] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$ADMIN_TOKEN_FILE"
  [[ -s "$OPS_TOKEN_FILE" ]] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$OPS_TOKEN_FILE"
  # Tansu holds a JoinGroup for session/2, hence the short session; brokers that
  # enforce Kafka's minimum session (6 s, e.g. noida) refuse it (docs/brokers.md).
  local session=2000; [[ "${MUSTER_BROKER:-tansu}" == noida ]] && session=6000
  # Latency-sensitive settings for tests and demos with drs-sim's accelerated
  # clock: a 10 ms fetch wait (Tansu answers an empty fetch only after the full
  # wait), short group timings, and the launcher's and poller's short periods.
  local kafka_props="session.timeout.ms=$session,heartbeat.interval.ms=500,fetch.wait.max.ms=10"
  local launcher_dev=(MUSTER_LAUNCHER_SCHEDULER_INTERVAL=200ms)
  local poller_dev=(MUSTER_POLLER_FIRST_POLL_DELAY=300ms MUSTER_POLLER_PENDING_INTERVAL=1s
    MUSTER_POLLER_STARTED_INTERVAL=500ms MUSTER_POLLER_MIN_GAP=250ms MUSTER_POLLER_BATCH_WINDOW=250ms
    MUSTER_POLLER_TICK=200ms MUSTER_POLLER_MAX_POLLS_PER_ENDPOINT_PER_MINUTE=240 MUSTER_POLLER_FINAL_GRACE=5s
    MUSTER_POLLER_SWEEP_STEP=50ms MUSTER_POLLER_SWEEP_STEP_PER_JOB=15ms MUSTER_POLLER_WATCH_INTERVAL=5s)
  local inventory="${MUSTER_STACK_INVENTORY_INTERVAL:-2s}"
  local scheduler="${MUSTER_STACK_SCHEDULER_INTERVAL:-2}" ssm_poll="${MUSTER_STACK_SSM_POLL_INTERVAL:-1s}"
  if [[ "${MUSTER_STACK_PROFILE:-dev}" == production ]]; then
    # The services' own defaults (the planner's schedule look every 15 s, SSM polls every 10 s).
    kafka_props=""; launcher_dev=(); poller_dev=(); inventory="${MUSTER_STACK_INVENTORY_INTERVAL:-300s}"
    scheduler="${MUSTER_STACK_SCHEDULER_INTERVAL:-15}"; ssm_poll="${MUSTER_STACK_SSM_POLL_INTERVAL:-10s}"
  fi
  start_one drs-sim DRS_SIM_SEED_FILE="$SEED" DRS_SIM_TIME_SCALE="$TIME_SCALE" MUSTER_LOG_FORMAT=json \
    MUSTER_LOG_LEVEL="$LOG_LEVEL" DRS_SIM_POST_LAUNCH_ORDER="$POST_LAUNCH_ORDER" DRS_SIM_TIMESTAMP_FORMAT="$TIMESTAMP_FORMAT"
  wait_ready drs-sim
  local common=(MUSTER_KAFKA_PROPERTIES="$kafka_props" MUSTER_LOG_FORMAT=json MUSTER_LOG_LEVEL="$LOG_LEVEL"
    MUSTER_KAFKA_GROUP_PREFIX="${MUSTER_KAFKA_GROUP_PREFIX:-muster}"
    MUSTER_OPS_ADMIN_TOKEN="${MUSTER_OPS_ADMIN_TOKEN:-$(cat "$OPS_TOKEN_FILE")}")
  # The console is served over plain http on loopback here, so its cookie cannot be Secure.
  start_one planner "${common[@]}" MUSTER_PLANNER_ADMIN_TOKEN="$(cat "$ADMIN_TOKEN_FILE")" \
    MUSTER_CONSOLE_SECURE_COOKIES="${MUSTER_CONSOLE_SECURE_COOKIES:-false}" \
    MUSTER_PLANNER_SCHEDULER_INTERVAL_SECONDS="$scheduler" \
    MUSTER_PLANNER_CALLBACK_BASE_URL="http://127.0.0.1:$(port_of planner)"
  local accounts="[{\"accountId\":\"$DEMO_ACCOUNT\",\"regions\":[\"us-east-1\"],\"keyPair\":\"DEMO\"}]"
  start_one launcher "${common[@]}" \
    MUSTER_LAUNCHER_ACCOUNTS="${MUSTER_STACK_LAUNCHER_ACCOUNTS:-$accounts}" \
    MUSTER_KEY_DEMO_AWS_ACCESS_KEY_ID="$DEMO_KEY_ID" MUSTER_KEY_DEMO_AWS_SECRET_ACCESS_KEY="$DEMO_SECRET" \
    MUSTER_DRS_ENDPOINT="http://127.0.0.1:$(port_of drs-sim)" MUSTER_EC2_ENDPOINT="http://127.0.0.1:$(port_of drs-sim)" \
    MUSTER_SSM_ENDPOINT="http://127.0.0.1:$(port_of drs-sim)" MUSTER_LAUNCHER_SSM_POLL_INTERVAL="$ssm_poll" \
    MUSTER_LAUNCHER_INVENTORY_INTERVAL="$inventory" \
    MUSTER_LAUNCHER_CONFLICT_SCALE=0.05 ${launcher_dev[@]+"${launcher_dev[@]}"}
  start_one poller "${common[@]}" MUSTER_POLLER_DRS_TIME_SCALE="$TIME_SCALE" ${poller_dev[@]+"${poller_dev[@]}"}
  start_one notifier "${common[@]}" MUSTER_NOTIFIER_ALLOW_HTTP=true
  for name in planner launcher poller notifier; do wait_ready "$name"; done
  env_lines
}

env_lines() {
  cat <<EOT
export MUSTER_API='http://127.0.0.1:$(port_of planner)'
export MUSTER_CONSOLE='http://127.0.0.1:$(port_of planner)/console'
export MUSTER_NOTIFIER_API='http://127.0.0.1:$(port_of notifier)'
export MUSTER_ADMIN_TOKEN='$(cat "$ADMIN_TOKEN_FILE" 2>/dev/null)'
export MUSTER_OPS_ADMIN_TOKEN='${MUSTER_OPS_ADMIN_TOKEN:-$(cat "$OPS_TOKEN_FILE" 2>/dev/null)}'
export MUSTER_DRS_SIM='http://127.0.0.1:$(port_of drs-sim)'
export MUSTER_DEMO_ACCOUNT='$DEMO_ACCOUNT'
EOT
}

stop() {
  # Services first (they drain), drs-sim last.
  for name in planner launcher poller notifier drs-sim; do
    if running "$name"; then
      pid="$(cat "$RUN/$name.pid")"; kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/$name.pid"
  done
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
