#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing, starts a
# throwaway PostgreSQL and broker on loopback, builds, runs the Swift test
# suites, the boto3 conformance tests against drs-sim and the end-to-end
# tests over the five running processes, and stops everything it started,
# whatever happens.
#   scripts/test.sh [extra `swift test` arguments, e.g. --filter KafkaTests]
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
swift test --skip-build "$@" || status=$?

if [[ $# -eq 0 ]]; then
  echo "[test] boto3 conformance against drs-sim" >&2
  DRS_SIM_BIN="$ROOT/.build/debug/drs-sim" "$MUSTER_VENV/bin/python" -m pytest -q Tests/conformance || status=$?
  echo "[test] end to end: drs-sim and the four services as processes" >&2
  "$MUSTER_VENV/bin/python" -m pytest -q Tests/e2e || status=$?
fi
exit $status
