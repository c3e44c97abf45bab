#!/usr/bin/env bash
# Runs a benchmark executable against throwaway local infrastructure.
#   scripts/bench.sh [muster-bench-foundation] [args…]
#   scripts/bench.sh storm     # the region-wide outage against the five real processes
#                              # (BENCH_EXECUTIONS, BENCH_REGIONS, BENCH_TIMEOUT: docs/benchmarks.md)
#   scripts/bench.sh idle      # idle CPU of the five processes (production profile,
#                              # BENCH_SECONDS=60, BENCH_WINDOWS=1), then the hand-off with the
#                              # production fetch wait (BENCH_HANDOFF=0 skips it)
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
  # builds; BENCH_CONFIG=debug measures the debug binaries, an upper bound).
  CONFIG="${BENCH_CONFIG:-release}"
  if [[ "$CONFIG" == release ]]; then BUILD=("${RELEASE[@]}"); else BUILD=(-c "$CONFIG"); fi
  for product in drs-sim planner launcher poller notifier muster-bench-idle muster-bench-handoff; do
    swift build "${BUILD[@]}" --product "$product"
  done
  BIN="$(swift build "${BUILD[@]}" --show-bin-path)"
  export MUSTER_INFRA_DIR="$ROOT/.local/run/idle-infra"
  export MUSTER_PG_PORT="${MUSTER_IDLE_PG_PORT:-55633}" MUSTER_KAFKA_PORT="${MUSTER_IDLE_KAFKA_PORT:-59393}"
  export MUSTER_STACK_DIR="$ROOT/.local/run/idle-stack" MUSTER_BIN_DIR="$BIN" MUSTER_STACK_PROFILE=production
  export MUSTER_STACK_PORT_BASE="${MUSTER_IDLE_PORT_BASE:-18280}"
  scripts/infra.sh stop >/dev/null 2>&1 || true
  trap 'scripts/stack.sh stop >/dev/null 2>&1 || true; scripts/infra.sh stop || true' EXIT
  eval "$(scripts/infra.sh start)"
  scripts/stack.sh start >/dev/null
  # Let start-up work (group joins, first inventory, migrations) settle before sampling.
  sleep "${BENCH_SETTLE:-20}"
  # BENCH_WINDOWS (1) consecutive windows of BENCH_SECONDS: their spread is the noise.
  for _ in $(seq 1 "${BENCH_WINDOWS:-1}"); do "$BIN/muster-bench-idle"; echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; done
  scripts/stack.sh stop >/dev/null 2>&1 || true
  [[ "${BENCH_HANDOFF:-1}" == 0 ]] && exit
  echo
  echo "hand-off with the production fetch wait (librdkafka default):"
  BENCH_FETCH_WAIT=default BENCH_ONLY="${BENCH_HANDOFF_ONLY:-light}" nice -n "${BENCH_NICE:-10}" "$BIN/muster-bench-handoff"
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
