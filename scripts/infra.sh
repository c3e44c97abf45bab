#!/usr/bin/env bash
# Starts and stops Muster's throwaway local infrastructure on loopback:
# a PostgreSQL cluster and the Tansu Kafka-protocol broker, both under
# .local/run/ inside the project. Everything it starts, it stops.
#
#   scripts/infra.sh start   # idempotent; prints `export …` lines for eval
#   scripts/infra.sh stop    # stops both, removes their state
#   scripts/infra.sh env     # prints the `export …` lines again
#   scripts/infra.sh status
#   scripts/infra.sh running # exit status 0 when both are up
#
# Ports: MUSTER_PG_PORT (default 55432), MUSTER_KAFKA_PORT (default 59092).
# Broker: MUSTER_BROKER=tansu (default) or noida (noida-db, a second,
# independent Kafka-protocol implementation; docs/brokers.md).
# MUSTER_INFRA_BROKER_ONLY=1: start/stop only the broker (a second broker
# beside an already running PostgreSQL on MUSTER_PG_PORT).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
# MUSTER_INFRA_DIR: a separate state folder for a second, isolated pair
# (the end-to-end tests use one, on other ports).
RUN="${MUSTER_INFRA_DIR:-$LOCAL/run}"
PG_PORT="${MUSTER_PG_PORT:-55432}"
KAFKA_PORT="${MUSTER_KAFKA_PORT:-59092}"
BROKER="${MUSTER_BROKER:-tansu}"
case "$BROKER" in tansu|noida) ;; *) echo "MUSTER_BROKER must be tansu or noida, not '$BROKER'" >&2; exit 2 ;; esac
PG_DIR="$RUN/pg"
KAFKA_DIR="$RUN/kafka"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"

log() { printf '[infra] %s\n' "$*" >&2; }

env_lines() {
  cat <<EOT
export MUSTER_DATABASE_URL='postgresql://postgres@127.0.0.1:$PG_PORT/muster'
export MUSTER_KAFKA_BROKERS='127.0.0.1:$KAFKA_PORT'
export LD_LIBRARY_PATH='$LOCAL/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export MUSTER_VENV='$LOCAL/venv'
export MUSTER_BROKER='$BROKER'
EOT
}

pg_ctl() { (cd "$PG_DIR" && runuser -u postgres -- "$PGBIN/pg_ctl" "$@"); }
pg_running() { [[ -f "$PG_DIR/data/postmaster.pid" ]] && pg_ctl -D "$PG_DIR/data" status >/dev/null 2>&1; }
kafka_running() {
  [[ -f "$KAFKA_DIR/pid" ]] && kill -0 "$(cat "$KAFKA_DIR/pid")" 2>/dev/null
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_pg() {
  if pg_running; then log "PostgreSQL already running on $PG_PORT"; return; fi
  # Anything left here is a stale, half-started cluster: throw it away.
  if [[ -d "$PG_DIR/data" ]]; then pg_ctl -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$PG_DIR"
  install -d -o postgres -g postgres -m 700 "$PG_DIR"
  pg_ctl_init=("$PGBIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync)
  (cd "$PG_DIR" && runuser -u postgres -- "${pg_ctl_init[@]}" >"$PG_DIR/initdb.log" 2>&1) \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  # fsync=off & co. are for this throwaway test cluster only.
  pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; exit 1; }
  runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE muster' >/dev/null
  log "PostgreSQL up on 127.0.0.1:$PG_PORT"
}

start_kafka() {
  if kafka_running; then log "broker already running on $KAFKA_PORT"; return; fi
  rm -rf "$KAFKA_DIR"; mkdir -p "$KAFKA_DIR"
  # setsid: the broker must not share our process group (CI kills that).
  if [[ "$BROKER" == noida ]]; then
    [[ -x "$LOCAL/noida-db" ]] || { log "noida-db not installed: run scripts/setup.sh"; exit 1; }
    (cd "$KAFKA_DIR" && exec setsid "$LOCAL/noida-db" start --only kafka --kafka-port "$KAFKA_PORT" \
      >"$KAFKA_DIR/broker.log" 2>&1 < /dev/null) &
  else
    [[ -x "$LOCAL/tansu" ]] || { log "broker not installed: run scripts/setup.sh"; exit 1; }
    setsid "$LOCAL/tansu" broker --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
      --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
      >"$KAFKA_DIR/broker.log" 2>&1 < /dev/null &
  fi
  echo $! >"$KAFKA_DIR/pid"
  for _ in $(seq 1 200); do port_open "$KAFKA_PORT" && break; sleep 0.05; done
  port_open "$KAFKA_PORT" || { cat "$KAFKA_DIR/broker.log" >&2; log "broker did not come up"; exit 1; }
  log "$BROKER broker up on 127.0.0.1:$KAFKA_PORT"
}

stop_pg() {
  if [[ -d "$PG_DIR/data" ]]; then pg_ctl -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$PG_DIR"
}
stop_kafka() {
  if kafka_running; then
    pid="$(cat "$KAFKA_DIR/pid")"; kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$KAFKA_DIR"
}

BROKER_ONLY="${MUSTER_INFRA_BROKER_ONLY:-}"
case "${1:-}" in
  start) mkdir -p "$RUN"; [[ -n "$BROKER_ONLY" ]] || start_pg; start_kafka; env_lines >"$RUN/infra.env"
    [[ -n "${MUSTER_INFRA_DIR:-}" ]] || cp "$RUN/infra.env" "$LOCAL/infra.env"; env_lines ;;
  stop) stop_kafka; [[ -n "$BROKER_ONLY" ]] || stop_pg; rm -f "$RUN/infra.env"
    [[ -n "${MUSTER_INFRA_DIR:-}" ]] || rm -f "$LOCAL/infra.env"; log "stopped" ;;
  env) env_lines ;;
  running) { [[ -n "$BROKER_ONLY" ]] || pg_running; } && kafka_running ;;
  status)
    pg_running && log "PostgreSQL: running on $PG_PORT" || log "PostgreSQL: stopped"
    kafka_running && log "broker: running on $KAFKA_PORT" || log "broker: stopped" ;;
  *) echo "usage: $0 start|stop|env|status|running" >&2; exit 2 ;;
esac
