#!/usr/bin/env bash
# Runs a benchmark executable against throwaway local infrastructure.
#   scripts/bench.sh [muster-bench-foundation] [args…]
#   scripts/bench.sh storm     # the region-wide outage against the five real processes
#                              # (BENCH_EXECUTIONS, BENCH_REGIONS, BENCH_TIMEOUT: docs/benchmarks.md)
#   scripts/bench.sh idle      # idle CPU of the five processes (production profile,
#                              # BENCH_SECONDS=60, BENCH_WINDOWS=1), then the hand-off with the
#                              # production fetch wait (BENCH_HANDOFF=0 skips it);
#                              # BENCH_FETCH_WAITS="default 1000 2000" prices each consumer fetch
#                              # wait: idle CPU and hand-off per setting, then a table of both
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH="${1:-muster-bench-foundation}"; shift || true
scripts/setup.sh
# Release builds as the image builds them (Dockerfile): optimised for size (-Osize: the launcher's
# code is ≈ 10 % smaller, and code pages are most of a service's resident set — docs/launcher.md
# "Memory"), linked against the shared Swift runtime so the services' runtime pages are shared
# (the image links it statically: one service per container). Own scratch path, so the flags
# never flip a build of .build/release back and forth.
RELEASE=(-c release -Xswiftc -Osize --scratch-path "$ROOT/.build-osize")

if [[ "$BENCH" == storm || "$BENCH" == muster-bench-storm ]]; then
  # A PostgreSQL, broker and stack of its own (fresh every run, so earlier
  # runs' rows, topics and offsets cannot skew the figures), release builds.
  for product in drs-sim planner launcher poller notifier muster-bench-storm; do
    swift build "${RELEASE[@]}" --product "$product"
  done
  BIN="$(swift build "${RELEASE[@]}" --show-bin-path)"
  export MUSTER_INFRA_DIR="$ROOT/.local/run/storm-infra"
  export MUSTER_PG_PORT="${MUSTER_STORM_PG_PORT:-55632}" MUSTER_KAFKA_PORT="${MUSTER_STORM_KAFKA_PORT:-59392}"
  export MUSTER_STACK_DIR="$ROOT/.local/run/storm-stack" MUSTER_BIN_DIR="$BIN" MUSTER_ROOT="$ROOT"
  export MUSTER_STACK_PORT_BASE="${MUSTER_STORM_PORT_BASE:-18180}"
  scripts/infra.sh stop >/dev/null 2>&1 || true
  trap 'scripts/stack.sh stop >/dev/null 2>&1 || true; scripts/infra.sh stop || true' EXIT
  # A cluster of the previous run may still be shutting down: one retry.
  env_lines="$(scripts/infra.sh start)" || { sleep 3; scripts/infra.sh stop >/dev/null 2>&1 || true; env_lines="$(scripts/infra.sh start)"; }
  eval "$env_lines"
  nice -n "${BENCH_NICE:-10}" "$BIN/muster-bench-storm" "$@"
  exit
fi

if [[ "$BENCH" == idle || "$BENCH" == muster-bench-idle ]]; then
  # Its own PostgreSQL, broker and stack with production settings (release
  # builds; BENCH_CONFIG=debug measures the debug binaries, an upper bound;
  # BENCH_BIN_DIR=… measures binaries built elsewhere, e.g. the image's
  # static build in .build-release, and builds nothing).
  # BENCH_FETCH_WAITS="default 1000 2000" measures the trade-off: one fresh
  # stack per consumer fetch wait (ms; `default` is librdkafka's 500 ms, the
  # production default), its idle CPU and then the hand-off at that wait, and
  # a table of both at the end.
  CONFIG="${BENCH_CONFIG:-release}"
  if [[ "$CONFIG" == release ]]; then BUILD=("${RELEASE[@]}"); else BUILD=(-c "$CONFIG"); fi
  if [[ -n "${BENCH_BIN_DIR:-}" ]]; then
    BIN="$BENCH_BIN_DIR"
  else
    for product in drs-sim planner launcher poller notifier muster-bench-idle muster-bench-handoff; do
      swift build "${BUILD[@]}" --product "$product"
    done
    BIN="$(swift build "${BUILD[@]}" --show-bin-path)"
  fi
  export MUSTER_INFRA_DIR="$ROOT/.local/run/idle-infra"
  export MUSTER_PG_PORT="${MUSTER_IDLE_PG_PORT:-55633}" MUSTER_KAFKA_PORT="${MUSTER_IDLE_KAFKA_PORT:-59393}"
  export MUSTER_STACK_DIR="$ROOT/.local/run/idle-stack" MUSTER_BIN_DIR="$BIN" MUSTER_STACK_PROFILE=production
  export MUSTER_STACK_PORT_BASE="${MUSTER_IDLE_PORT_BASE:-18280}"
  trap 'scripts/stack.sh stop >/dev/null 2>&1 || true; scripts/infra.sh stop >/dev/null 2>&1 || true' EXIT
  SUMMARY="$(mktemp)"
  # One case: a fresh PostgreSQL, broker and stack (no offsets, rows or groups of
  # an earlier case), the idle windows, then the hand-off at the same fetch wait.
  idle_case() {
    local wait="$1" properties=""
    [[ "$wait" == default ]] || properties="fetch.wait.max.ms=$wait"
    echo "== consumers' fetch.wait.max.ms: ${wait/default/default (500 ms)} =="
    scripts/stack.sh stop >/dev/null 2>&1 || true
    scripts/infra.sh stop >/dev/null 2>&1 || true
    eval "$(scripts/infra.sh start)"
    MUSTER_KAFKA_CONSUMER_PROPERTIES="$properties" scripts/stack.sh start >/dev/null
    # Let start-up work (group joins, first inventory, migrations) settle before sampling.
    sleep "${BENCH_SETTLE:-20}"
    # BENCH_WINDOWS (1) consecutive windows of BENCH_SECONDS: their spread is the noise.
    local totals=()
    for _ in $(seq 1 "${BENCH_WINDOWS:-1}"); do
      local out; out="$("$BIN/muster-bench-idle")"; echo "$out"
      totals+=("$(awk '/^total: 4 services \+ broker/ { print $(NF-3) }' <<<"$out")")
      echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    done
    scripts/stack.sh stop >/dev/null 2>&1 || true
    local handoff="not measured (BENCH_HANDOFF=0)"
    if [[ "${BENCH_HANDOFF:-1}" != 0 ]]; then
      echo
      echo "hand-off at this fetch wait:"
      local hout
      hout="$(BENCH_FETCH_WAIT=default BENCH_KAFKA_PROPERTIES="$properties" BENCH_ONLY="${BENCH_HANDOFF_ONLY:-light}" \
              nice -n "${BENCH_NICE:-10}" "$BIN/muster-bench-handoff")"
      echo "$hout"
      handoff="$(grep -m1 '^hand-off (DRS complete' <<<"$hout" | sed 's/^hand-off (DRS complete → next StartRecovery): //')"
    fi
    printf '%s\t%s %%\t%s\n' "${wait/default/500 (default)}" "$(IFS=/; echo "${totals[*]}" | sed 's#/# / #g')" "$handoff" >>"$SUMMARY"
    echo
  }
  for wait in ${BENCH_FETCH_WAITS:-default}; do idle_case "$wait"; done
  echo "== the trade-off: idle CPU of the four services + broker (per window) and the wave hand-off =="
  printf '%-16s  %-22s  %s\n' "fetch wait (ms)" "idle, % of a core" "hand-off (DRS complete → next StartRecovery)"
  while IFS=$'\t' read -r wait idle handoff; do printf '%-16s  %-22s  %s\n' "$wait" "$idle" "$handoff"; done <"$SUMMARY"
  echo "target: idle < 2 % of one core; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
  rm -f "$SUMMARY"
  exit
fi

# Stop on exit only what this run started (a developer's running stack stays).
if ! scripts/infra.sh running; then trap 'scripts/infra.sh stop || true' EXIT; fi
eval "$(scripts/infra.sh start)"
if [[ "$BENCH" == muster-bench-shutdown ]]; then
  # It boots the four services as processes: release builds of them too.
  for product in planner launcher poller notifier; do swift build "${RELEASE[@]}" --product "$product"; done
  export MUSTER_BIN_DIR="$(swift build "${RELEASE[@]}" --show-bin-path)"
fi
swift build "${RELEASE[@]}" --product "$BENCH"
"$(swift build "${RELEASE[@]}" --show-bin-path)/$BENCH" "$@"
