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
  swift build
  MUSTER="$ROOT/.build/debug/muster"

  say "starting PostgreSQL, the broker, drs-sim and the services"
  if ! scripts/infra.sh running; then trap 'scripts/stack.sh stop; scripts/infra.sh stop' EXIT
  else trap 'scripts/stack.sh stop' EXIT; fi
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

say "stopping everything"
exit $status
