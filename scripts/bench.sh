#!/usr/bin/env bash
# Runs a benchmark executable against throwaway local infrastructure.
#   scripts/bench.sh [muster-bench-foundation] [args…]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH="${1:-muster-bench-foundation}"; shift || true
scripts/setup.sh
# Stop on exit only what this run started (a developer's running stack stays).
if ! scripts/infra.sh running; then trap 'scripts/infra.sh stop || true' EXIT; fi
eval "$(scripts/infra.sh start)"
swift build -c release --product "$BENCH"
"$(swift build -c release --show-bin-path)/$BENCH" "$@"
