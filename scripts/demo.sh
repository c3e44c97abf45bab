#!/usr/bin/env bash
# Muster's main job in one command: on a fresh machine, install what is
# missing, start PostgreSQL, the broker, drs-sim (a seeded 3-tier estate) and
# the four services; create the protection groups and the plan
# Database → Application → Web through the API; run a DRILL and show it
# live; print the report; clean up the drill instances; stop everything.
# With drs-sim's time scale (600×) it takes about a minute.
#   scripts/demo.sh
# With MUSTER_DEMO_STACK=external it only drives an already running stack
# (docker compose's `demo` service): MUSTER_API, MUSTER_ADMIN_TOKEN and
# MUSTER_CLI come from the environment.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '\n== %s\n' "$*"; }

if [[ "${MUSTER_DEMO_STACK:-local}" == external ]]; then
  : "${MUSTER_API:?}" "${MUSTER_ADMIN_TOKEN:?}"
  MUSTER="${MUSTER_CLI:-muster}"
else
  say "installing what is missing"
  scripts/setup.sh
  say "building"
  swift build 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
  swift build >/dev/null  # fails here, after showing the errors, if the build is broken
  MUSTER="$ROOT/.build/debug/muster"

  say "starting PostgreSQL, the broker, drs-sim and the services"
  # A fresh PostgreSQL and broker of the demo's own, so it runs the same
  # every time, beside any other local stack.
  export MUSTER_INFRA_DIR="$ROOT/.local/run/demo-infra" MUSTER_PG_PORT="${MUSTER_DEMO_PG_PORT:-55532}"
  export MUSTER_KAFKA_PORT="${MUSTER_DEMO_KAFKA_PORT:-59292}"
  trap 'scripts/stack.sh stop; scripts/infra.sh stop' EXIT
  scripts/infra.sh stop >/dev/null 2>&1 || true
  eval "$(scripts/infra.sh start)"
  eval "$(scripts/stack.sh start)"
fi

say "creating a team and an operator token (bootstrap admin token)"
TEAM="$(MUSTER_TOKEN="$MUSTER_ADMIN_TOKEN" "$MUSTER" team create "demo-$(date +%s)")"
export MUSTER_TOKEN
MUSTER_TOKEN="$(MUSTER_TOKEN="$MUSTER_ADMIN_TOKEN" "$MUSTER" team token "$TEAM" --subject demo-operator --role admin)"

say "registering the account; waiting for the launcher's inventory of the 6 source servers"
"$MUSTER" apply -f deploy/demo/account.yaml
for _ in $(seq 1 150); do
  count="$("$MUSTER" list servers --json | grep -c '"sourceServerId"' || true)"
  [[ "$count" -ge 6 ]] && break
  sleep 0.2
done
"$MUSTER" list servers

say "protection groups and the plan Database → Application → Web"
"$MUSTER" apply -f deploy/demo/muster.yaml
"$MUSTER" list plans

say "the operator console"
CONSOLE="${MUSTER_CONSOLE:-$MUSTER_API/console}"
echo "Console:  $CONSOLE"
# The token rides in the URL fragment, which the browser never sends to the server (or its logs).
echo "Sign in:  $CONSOLE/sign-in#token=$MUSTER_TOKEN"
echo "(open it now to watch the drill live; the demo stops everything when it ends,"
echo " set MUSTER_DEMO_HOLD=SECONDS to keep the stack up that long afterwards)"

say "running a DRILL"
EXECUTION="$("$MUSTER" start "Orders three-tier" --type drill | awk '{print $NF}')"
status=0
"$MUSTER" watch "$EXECUTION" || status=$?

say "report"
"$MUSTER" report "$EXECUTION"

say "cleaning up the drill's recovery instances"
"$MUSTER" cleanup "$EXECUTION"
for _ in $(seq 1 150); do
  "$MUSTER" show executions "$EXECUTION" | grep -q '"completedAt" : "' && break
  sleep 0.2
done
"$MUSTER" show executions "$EXECUTION" | sed -n '/"cleanup"/,/}/p'

if [[ -n "${MUSTER_DEMO_HOLD:-}" ]]; then
  say "holding the stack for $MUSTER_DEMO_HOLD s: $CONSOLE"
  sleep "$MUSTER_DEMO_HOLD"
fi

say "stopping everything"
exit $status
