#!/usr/bin/env bash
# Benchmark of the Scrumble facade, in one command:
#
#   scripts/facade-bench.sh [--no-build] [--no-relay] [facade_bench.py flags...]
#     e.g. scripts/facade-bench.sh --duration 15 --connections 8 --e2e-count 300
#
# Measures (see scripts/facade_bench.py for the phases):
#   - GET /v1/workspaces/{id}/feed on 10,000 seeded posts (first page and a deep page): req/s, p50/p90/p99
#   - POST .../posts/{id}/comments under wrk load: req/s, p50/p90/p99, and the outbox backlog it leaves
#   - comment creation end to end: request -> 201 and request -> publication received by a
#     centrifuge-python subscriber (workspace channel and the post author's personal channel), idle and
#     while wrk creates comments
#   - CPU of the facade, PostgreSQL, the broker and wrk during every wrk run
#   - then (unless --no-relay) scripts/relay_bench.py on the same binaries, on a fresh stack: outbox rows/s
#     relayed to the broker, and commit -> subscriber latency at a fixed comment rate, with one and with two
#     facade processes (RELAY_BENCH_ARGS adds flags, e.g. "--rows 20000 --rate 500")
#
# FACADE_BENCH_BIN_DIR=dir uses the facade/broker binaries in dir instead of building.
#
# Steps: installs wrk (apt) and centrifuge-python/aiohttp (pip) if missing; builds RELEASE binaries in a
# separate scratch path (.build-bench, so it never touches .build); starts a throwaway PostgreSQL cluster,
# the broker and the facade; runs the Python part; stops and deletes everything on exit.
#
# CPU pinning (2-core machine): the server side (PostgreSQL, facade, broker) runs on SERVER_CPUS
# (default 0), the load generators (wrk and the Python subscriber/probe) on LOADGEN_CPUS (default 1), so
# the generator never steals server CPU. SERVER_CPUS=0,1 LOADGEN_CPUS=0,1 runs everything unpinned.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
SCRATCH="${FACADE_BENCH_SCRATCH:-$ROOT/.build-bench}"
SERVER_CPUS="${SERVER_CPUS:-0}"
LOADGEN_CPUS="${LOADGEN_CPUS:-1}"
BUILD=1
RELAY=1
declare -a ARGS=()
for a in "$@"; do
  case "$a" in
    --no-build) BUILD=0 ;;
    --no-relay) RELAY=0 ;;
    *) ARGS+=("$a") ;;
  esac
done

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# --- tools ------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y wrk >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi
if ! "$PYTHON" -c 'import centrifuge, aiohttp, requests' >/dev/null 2>&1; then
  log "pip-installing centrifuge-python aiohttp requests"
  "$PYTHON" -m pip install -q centrifuge-python aiohttp requests
fi

# --- release binaries (own scratch path: another build may be running in .build) ----------------------
if [[ -n "${FACADE_BENCH_BIN_DIR:-}" ]]; then
  BUILD=0   # prebuilt binaries (e.g. to try the script quickly with a debug build)
fi
if [[ $BUILD -eq 1 ]]; then
  log "building release binaries in $SCRATCH (first time: ~10 min)"
  swift build -c release --scratch-path "$SCRATCH" --product facade >&2
  swift build -c release --scratch-path "$SCRATCH" --product broker >&2
fi
BIN="${FACADE_BENCH_BIN_DIR:-$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)}"
for b in facade broker; do [[ -x "$BIN/$b" ]] || { echo "missing $BIN/$b (run without --no-build)" >&2; exit 2; }; done

# --- processes, cleaned up on any exit ---------------------------------------------------------------
WORK="$(mktemp -d /tmp/facade-bench.XXXXXX)"
chmod 755 "$WORK"   # the cluster belongs to the postgres OS user when running as root
PG_DIR="$WORK/pg"
FACADE_PID=""; BROKER_PID=""
cleanup() {
  local rc=$?
  set +e
  [[ -n "$FACADE_PID" ]] && kill "$FACADE_PID" 2>/dev/null && wait "$FACADE_PID" 2>/dev/null
  [[ -n "$BROKER_PID" ]] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  "$ROOT/scripts/pg-stop.sh" "$PG_DIR" --purge >/dev/null 2>&1 || true
  if [[ $rc -ne 0 ]]; then
    log "failed (rc=$rc); last lines of the logs:"
    tail -n 20 "$WORK"/facade.log "$WORK"/broker.log >&2 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # url pid name
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited:" >&2; cat "$WORK/$3.log" >&2; return 1; }
    sleep 0.1
  done
  echo "$3 did not become healthy" >&2; return 1
}

# PostgreSQL: pg_ctl's children (postmaster and all backends) inherit the CPU affinity.
log "starting PostgreSQL on CPUs $SERVER_CPUS"
PG_ENV="$(taskset -c "$SERVER_CPUS" "$ROOT/scripts/pg-start.sh" "$PG_DIR")"
eval "$PG_ENV"
# pg_stat_statements lets the report split each request's time into SQL and the rest (needs a restart).
psql "$DATABASE_URL" -q -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
AS_PG=(); [ "$(id -u)" = 0 ] && AS_PG=(runuser -u postgres --)
taskset -c "$SERVER_CPUS" "${AS_PG[@]}" pg_ctl -D "$PG_DIR" -l "$PG_DIR/log" -w restart >/dev/null
psql "$DATABASE_URL" -q -c "CREATE DATABASE facade_bench"
DB_URL="${DATABASE_URL%/*}/facade_bench"
psql "$DB_URL" -q -c "CREATE EXTENSION pg_stat_statements"
POSTMASTER_PID="$(head -1 "$PG_DIR/postmaster.pid")"

# Broker: the repo's broker.json (which holds no secrets), with its own port and this run's secrets.
BROKER_PORT="$(free_port)"
cp "$ROOT/broker.json" "$WORK/broker.json"
BENCH_API_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
BENCH_TOKEN_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
log "starting broker on :$BROKER_PORT (CPUs $SERVER_CPUS)"
CENTRIFUGO_HTTP_API_KEY="$BENCH_API_KEY" CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY="$BENCH_TOKEN_SECRET" \
  CENTRIFUGO_ADMIN_ENABLED=false \
  taskset -c "$SERVER_CPUS" "$BIN/broker" serve --config "$WORK/broker.json" --port "$BROKER_PORT" >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_http "http://127.0.0.1:$BROKER_PORT/health" "$BROKER_PID" broker

# Facade (migrates the fresh database on start, runs the outbox relay in-process).
FACADE_PORT="$(free_port)"
log "starting facade on :$FACADE_PORT (CPUs $SERVER_CPUS)"
DATABASE_URL="$DB_URL" FACADE_HOST=127.0.0.1 FACADE_PORT="$FACADE_PORT" \
  BROKER_API_URL="http://127.0.0.1:$BROKER_PORT/api" BROKER_API_KEY="$BENCH_API_KEY" \
  BROKER_TOKEN_SECRET="$BENCH_TOKEN_SECRET" \
  FACADE_JWT_SECRET=facade-bench-session-secret-at-least-32-bytes FACADE_BCRYPT_COST=4 \
  taskset -c "$SERVER_CPUS" "$BIN/facade" serve >"$WORK/facade.log" 2>&1 &
FACADE_PID=$!
wait_http "http://127.0.0.1:$FACADE_PORT/health" "$FACADE_PID" facade

# --- the measurements --------------------------------------------------------------------------------
NOTE="Pinned: PostgreSQL+facade+broker on CPU(s) $SERVER_CPUS, wrk+Python probe on CPU(s) $LOADGEN_CPUS; $(nproc) CPUs, $(uname -m); pg fsync=off, pg_stat_statements loaded"
taskset -c "$LOADGEN_CPUS" "$PYTHON" "$ROOT/scripts/facade_bench.py" \
  --facade "http://127.0.0.1:$FACADE_PORT" --broker-ws "ws://127.0.0.1:$BROKER_PORT/connection/websocket" \
  --database-url "$DB_URL" --facade-pid "$FACADE_PID" --broker-pid "$BROKER_PID" \
  --postmaster-pid "$POSTMASTER_PID" --loadgen-cpus "$LOADGEN_CPUS" --pin-note "$NOTE" \
  ${ARGS[@]+"${ARGS[@]}"}

# --- the relay, on a stack of its own ------------------------------------------------------------------
if [[ $RELAY -eq 1 ]]; then
  log "stopping this stack; the relay benchmark (scripts/relay_bench.py) starts its own"
  kill "$FACADE_PID" "$BROKER_PID" 2>/dev/null || true
  wait "$FACADE_PID" "$BROKER_PID" 2>/dev/null || true
  FACADE_PID=""; BROKER_PID=""
  "$ROOT/scripts/pg-stop.sh" "$PG_DIR" --purge >/dev/null 2>&1 || true
  # shellcheck disable=SC2086
  SERVER_CPUS="$SERVER_CPUS" LOADGEN_CPUS="$LOADGEN_CPUS" taskset -c "$LOADGEN_CPUS" \
    "$PYTHON" "$ROOT/scripts/relay_bench.py" --bin-dir "$BIN" ${RELAY_BENCH_ARGS:-}
fi
