#!/usr/bin/env bash
# Our broker's CPU cost per delivered message on each engine, side by side in one broker-bench --compare run:
# the memory engine, Redis (one server), Redis through Sentinel (a master and one sentinel) and Redis Cluster
# (three masters made with redis-cli --cluster create).
#
#   scripts/engine-bench.sh [--scenarios LIST] [--duration S] [--engines LIST] [--no-build] [--out DIR]
#
# One broker node per engine. Every server process (the broker and the Redis processes behind it) is pinned to
# CPU 0 and counted in that engine's server CPU; broker-bench runs on CPU 1. The first engine listed is the
# reference of broker-bench's ratio columns. Writes DIR/results.json, DIR/results.md and DIR/results.txt
# (DIR defaults to Benchmarks/engines).
#
# Env overrides: BROKER_BIN, BENCH_BIN (skip the build of that binary), SERVER_CPU (0), CLIENT_CPU (1).
# Default scenarios: fan-out to 1,000 subscribers as fast as delivered, and broadcasts to 10,000 channels with
# one subscriber each (broker-bench's /api/broadcast; 2 rounds per second).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCENARIOS="fanout:subs=1000,rate=max,pubconns=2,channels:subs=10000,channels=10000,rate=2,mode=broadcast"
ENGINES="memory,redis,sentinel,cluster"
DURATION=10
BUILD=1
OUT="$ROOT/Benchmarks/engines"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
SECRET="bench-secret-$RANDOM$RANDOM"
API_KEY="bench-key-$RANDOM$RANDOM"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --scenarios) SCENARIOS="$2"; shift 2 ;;
    --engines) ENGINES="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { echo "==> $*" >&2; }
command -v redis-server >/dev/null || { echo "redis-server is required (scripts/install-system-deps.sh --test)" >&2; exit 2; }

. "$ROOT/scripts/bench-binaries.sh"

TMP="$(mktemp -d /tmp/engine-bench.XXXXXX)"
declare -a PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [[ "${KEEP_TMP:-0}" != 1 ]]; then rm -rf "$TMP"; else echo "kept $TMP" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() { for _ in $(seq 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }
wait_http() {
  local deadline=$((SECONDS + 30))
  until curl -fs -o /dev/null "$1"; do (( SECONDS > deadline )) && { echo "$1 did not come up" >&2; return 1; }; sleep 0.1; done
}

# redis-server on CPU 0; its PID is appended to REDIS_PIDS.
REDIS_PIDS=""
redis() {  # port, extra args...
  local port=$1; shift
  mkdir -p "$TMP/r$port"
  taskset -c "$SERVER_CPU" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP/r$port" \
    --logfile "$TMP/r$port/log" "$@" &
  PIDS+=("$!"); REDIS_PIDS+=",pid=$!"
  wait_ping "$port"
}

# Sets ENGINE to the engine section for engine $1, starting its Redis processes (not in a subshell: their PIDs
# must reach PIDS, and a command substitution would wait for the servers' stdout to close).
engine_json() {
  case "$1" in
    memory) ENGINE='{"type":"memory"}' ;;
    redis)
      local p; p=$(free_port); redis "$p"
      ENGINE="{\"type\":\"redis\",\"redis\":{\"address\":\"127.0.0.1:$p\",\"prefix\":\"bench\"}}" ;;
    sentinel)
      local m s; m=$(free_port); s=$(free_port); redis "$m"
      printf 'port %s\nbind 127.0.0.1\nsentinel monitor bench 127.0.0.1 %s 1\n' "$s" "$m" >"$TMP/sentinel.conf"
      taskset -c "$SERVER_CPU" redis-server "$TMP/sentinel.conf" --sentinel --logfile "$TMP/sentinel.log" &
      PIDS+=("$!"); REDIS_PIDS+=",pid=$!"
      wait_ping "$s"
      ENGINE="{\"type\":\"redis\",\"redis\":{\"sentinel_address\":[\"127.0.0.1:$s\"],\"sentinel_master_name\":\"bench\",\"prefix\":\"bench\"}}" ;;
    cluster)
      local ports=() p
      for _ in 1 2 3; do p=$(free_port); redis "$p" --cluster-enabled yes --cluster-port "$(free_port)" \
        --cluster-config-file nodes.conf --cluster-node-timeout 1000; ports+=("127.0.0.1:$p"); done
      redis-cli --cluster create "${ports[@]}" --cluster-yes >"$TMP/cluster-create.log" 2>&1
      for a in "${ports[@]}"; do
        until redis-cli -p "${a##*:}" cluster info | grep -q cluster_state:ok; do sleep 0.1; done
      done
      ENGINE="{\"type\":\"redis\",\"redis\":{\"cluster_address\":[\"${ports[0]}\"],\"prefix\":\"bench\"}}" ;;
    *) echo "unknown engine $1" >&2; exit 2 ;;
  esac
}

declare -a SERVERS=()
IFS=, read -r -a ENGINE_LIST <<<"$ENGINES"
for e in "${ENGINE_LIST[@]}"; do
  REDIS_PIDS=""
  engine_json "$e"
  cat >"$TMP/$e.json" <<JSON
{
  "http_server": {"address": "127.0.0.1"},
  "log": {"level": "warn"},
  "client": {"token": {"hmac_secret_key": "$SECRET"}, "allowed_origins": ["*"]},
  "http_api": {"key": "$API_KEY"},
  "health": {"enabled": true},
  "channel": {"without_namespace": {"allow_subscribe_for_client": true}},
  "engine": $ENGINE
}
JSON
  port=$(free_port)
  taskset -c "$SERVER_CPU" "$BROKER_BIN" serve -c "$TMP/$e.json" --port "$port" >"$TMP/$e.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/health"
  SERVERS+=(--server "name=$e,centrifugo=ws://127.0.0.1:$port/connection/websocket,api=http://127.0.0.1:$port,key=$API_KEY,secret=$SECRET,pid=$pid$REDIS_PIDS")
  log "$e: broker on :$port (pid $pid${REDIS_PIDS:+, redis ${REDIS_PIDS//,pid=/ }})"
done

mkdir -p "$OUT"
log "broker-bench --compare over $SCENARIOS, ${DURATION}s each (generator on CPU $CLIENT_CPU)"
taskset -c "$CLIENT_CPU" "$BENCH_BIN" --compare "${SERVERS[@]}" --scenarios "$SCENARIOS" --duration "$DURATION" \
  --json "$OUT/results.json" --markdown "$OUT/results.md" | tee "$OUT/results.txt"
for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || echo "WARNING: server process $p died during the run" >&2; done
log "wrote $OUT/results.json $OUT/results.md $OUT/results.txt"
