#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing, starts a
# throwaway PostgreSQL and broker on loopback, builds, runs the Swift test
# suites, the boto3 conformance tests against drs-sim and the end-to-end
# tests over the five running processes, and stops everything it started,
# whatever happens. The broker-facing suites then run again on the second
# broker, noida-db (the Kafka and messaging suites and an end-to-end subset;
# MUSTER_SECOND_BROKER=none skips that, docs/brokers.md says why it exists).
#   scripts/test.sh [extra `swift test` arguments, e.g. --filter KafkaTests]
# Ports of the second broker: MUSTER_NOIDA_KAFKA_PORT (59112) and
# MUSTER_NOIDA_E2E_KAFKA_PORT (59213).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

scripts/setup.sh
# Stop on exit only what this run started (a developer's running stack stays).
if ! scripts/infra.sh running; then trap 'scripts/infra.sh stop || true' EXIT; fi
eval "$(scripts/infra.sh start)"

echo "[test] building" >&2
swift build --build-tests

status=0
echo "[test] swift test" >&2
if [[ $# -eq 0 ]]; then
  # The poison-record matrices start whole services per suite; run beside every other suite
  # they load 2 cores enough to stretch unrelated count-bounded waits, so they run on their own.
  swift test --skip-build --skip 'PoisonMatrix' || status=$?
  echo "[test] swift test: poison-record matrices" >&2
  swift test --skip-build --filter 'PoisonMatrix' || status=$?
else
  swift test --skip-build "$@" || status=$?
fi

if [[ $# -eq 0 ]]; then
  echo "[test] boto3 conformance against drs-sim" >&2
  DRS_SIM_BIN="$ROOT/.build/debug/drs-sim" "$MUSTER_VENV/bin/python" -m pytest -q Tests/conformance || status=$?
  echo "[test] end to end: drs-sim and the four services as processes" >&2
  "$MUSTER_VENV/bin/python" -m pytest -q Tests/e2e || status=$?
  if [[ "${MUSTER_SECOND_BROKER:-noida}" == noida ]]; then
    echo "[test] second broker (noida-db): Kafka and messaging suites" >&2
    (
      export MUSTER_INFRA_DIR="$ROOT/.local/run/noida" MUSTER_BROKER=noida MUSTER_INFRA_BROKER_ONLY=1 \
             MUSTER_KAFKA_PORT="${MUSTER_NOIDA_KAFKA_PORT:-59112}"
      trap 'scripts/infra.sh stop >/dev/null 2>&1 || true' EXIT
      eval "$(scripts/infra.sh start)"
      swift test --skip-build --filter 'KafkaTests|MessagingTests'
    ) || status=$?
    echo "[test] second broker (noida-db): end-to-end subset" >&2
    MUSTER_BROKER=noida MUSTER_E2E_KAFKA_PORT="${MUSTER_NOIDA_E2E_KAFKA_PORT:-59213}" \
      "$MUSTER_VENV/bin/python" -m pytest -q Tests/e2e -k "diamond or webhook" || status=$?
  fi
fi
exit $status
