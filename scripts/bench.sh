#!/usr/bin/env bash
# Compare our broker with nginx + nchan on the same scenarios, using broker-bench (Sources/BrokerBench).
#
#   scripts/bench.sh [--engine memory|redis] [--nodes N] [--scenarios LIST] [--duration S] [--no-build] [--out DIR]
#
# Layout on a 2-core machine: the servers (broker node(s), redis-server, nginx master+worker) are pinned to CPU 0,
# broker-bench to CPU 1 with one event loop, so server CPU seconds and the generator's own CPU are both visible.
# Writes DIR/results.json (one object per scenario run), DIR/results.md (scenario | metric | ours | nchan | ratio),
# DIR/results.txt (the printed tables) and DIR/chart.png. DIR defaults to Benchmarks/.
#
# Env overrides: BROKER_BIN, BENCH_BIN (skip the build of that binary), PYTHON, SERVER_CPU (0), CLIENT_CPU (1).
# Scenario presets (broker-bench --help): fanout-1k (1,000 subs @ 50/s), fanout-10k (10,000 subs @ 20/s),
# fanout-10k-max (10,000 subs, as fast as delivered), channels-rr (10,000 subs / 1,000 channels, 2,000 pub/s round
# robin), channels-bc (same, broadcast 2 rounds/s), idle (19,000 connections), churn (32 loops), publish (64 conns).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
ENGINE=memory
NODES=1
# idle first: its RSS-per-connection is (after − before) and allocators keep memory freed by earlier runs.
SCENARIOS="idle,fanout-1k,fanout-10k,fanout-10k-max,channels-rr,channels-bc,churn,publish"
DURATION=10
BUILD=1
OUT="$ROOT/Benchmarks"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
SECRET="bench-secret-$RANDOM$RANDOM"
API_KEY="bench-key-$RANDOM$RANDOM"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --engine) ENGINE="$2"; shift 2 ;;
    --nodes) NODES="$2"; shift 2 ;;
    --scenarios) SCENARIOS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ "$ENGINE" == memory ]] && NODES=1

log() { echo "==> $*" >&2; }

# --- dependencies (installed only when missing, and only as root)
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
if [[ $(id -u) -eq 0 ]]; then
  missing=()
  command -v nginx >/dev/null || missing+=(nginx)
  [[ -f $NCHAN_MODULE ]] || missing+=(libnginx-mod-nchan)
  [[ "$ENGINE" == redis ]] && ! command -v redis-server >/dev/null && missing+=(redis-server)
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi
  "$PYTHON" -c 'import matplotlib' 2>/dev/null || { log "pip install matplotlib"; "$PYTHON" -m pip install -q matplotlib >&2; }
fi
command -v nginx >/dev/null && [[ -f $NCHAN_MODULE ]] || { echo "nginx with nchan is required" >&2; exit 2; }

# --- binaries
. "$ROOT/scripts/bench-binaries.sh"

# --- temp dir and cleanup
TMP="$(mktemp -d /tmp/broker-bench.XXXXXX)"
chmod 755 "$TMP"   # nginx workers run as an unprivileged user
declare -a PIDS=()
NGINX_STARTED=0
OLD_PORT_RANGE=""
cleanup() {
  set +e
  [[ $NGINX_STARTED -eq 1 ]] && nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -s quit 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  sleep 0.5
  [[ -f "$TMP/nginx/nginx.pid" ]] && kill "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null
  [[ -n "$OLD_PORT_RANGE" ]] && sysctl -qw net.ipv4.ip_local_port_range="$OLD_PORT_RANGE"
  if [[ "${KEEP_TMP:-0}" != 1 ]]; then rm -rf "$TMP"; else echo "kept $TMP" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n "$(ulimit -Hn)"

# 19,000 loopback connections from one address: Linux's connect() prefers even ephemeral ports and slows to a crawl
# (SYN timeouts) once half of the default 28,000-port range is used. Widen the range for the run (root only) and
# put it back afterwards.
OLD_PORT_RANGE=""
if [[ $(id -u) -eq 0 ]]; then
  OLD_PORT_RANGE="$(sysctl -n net.ipv4.ip_local_port_range | tr '\t' ' ')"
  sysctl -qw net.ipv4.ip_local_port_range="10000 65000" 2>/dev/null || OLD_PORT_RANGE=""
fi
FDS=$(ulimit -n)

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() {  # url, seconds
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null "$1"; do
    (( SECONDS > deadline )) && { echo "$1 did not come up" >&2; return 1; }
    sleep 0.1
  done
}

# --- redis (only with --engine redis)
REDIS_PID=""
ENGINE_JSON='{"type":"memory"}'
if [[ "$ENGINE" == redis ]]; then
  RPORT=$(free_port)
  taskset -c "$SERVER_CPU" redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" \
    >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!; PIDS+=("$REDIS_PID")
  for _ in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  ENGINE_JSON="{\"type\":\"redis\",\"redis\":{\"address\":\"redis://127.0.0.1:$RPORT\",\"prefix\":\"bench\"}}"
fi

# --- our broker: NODES nodes, memory or redis engine, logs at warn
cat >"$TMP/broker.json" <<JSON
{
  "http_server": {"address": "127.0.0.1"},
  "log": {"level": "warn"},
  "client": {"token": {"hmac_secret_key": "$SECRET"}, "allowed_origins": ["*"]},
  "http_api": {"key": "$API_KEY"},
  "health": {"enabled": true},
  "channel": {"without_namespace": {"allow_subscribe_for_client": true}},
  "engine": $ENGINE_JSON
}
JSON
OURS="name=ours"
API_PORT=""
for n in $(seq 1 "$NODES"); do
  port=$(free_port)
  taskset -c "$SERVER_CPU" "$BROKER_BIN" serve -c "$TMP/broker.json" --port "$port" >"$TMP/broker-$n.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/health" 30
  if [[ $n -eq 1 ]]; then OURS+=",centrifugo=ws://127.0.0.1:$port/connection/websocket"; API_PORT=$port
  else OURS+=",ws=ws://127.0.0.1:$port/connection/websocket"; fi
  OURS+=",pid=$pid"
done
OURS+=",api=http://127.0.0.1:$API_PORT,key=$API_KEY,secret=$SECRET"
[[ -n "$REDIS_PID" ]] && OURS+=",pid=$REDIS_PID"
log "broker: $NODES node(s), engine $ENGINE"

# --- nginx + nchan, one worker, everything in $TMP
NPORT=$(free_port)
mkdir -p "$TMP/nginx"
NGINX_FDS=$(( FDS < 20000 ? FDS : 20000 ))
# worker_connections counts nginx's connection slots, not only its sockets: at 20,000 slots nchan dropped 252 of
# the 19,000 idle subscribers ("worker_connections are not enough, reusing connections"). Slots beyond the fd
# limit only draw a warning.
NGINX_CONNS=$(( NGINX_FDS * 2 ))
cat >"$TMP/nginx/nginx.conf" <<CONF
load_module $NCHAN_MODULE;
worker_processes 1;
worker_rlimit_nofile $NGINX_FDS;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections $NGINX_CONNS; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  # Publishers keep their connections: never close a keep-alive connection during a run.
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  # Channels (1,000 for channels-*, 19,000 for idle) and their buffered messages live in shared memory.
  nchan_shared_memory_size 512m;
  server {
    listen 127.0.0.1:$NPORT backlog=4096;
    location ~ ^/sub/(.+)\$ {
      nchan_subscriber websocket;
      nchan_channel_id \$1;
      # A new subscriber waits for the next message (like a Centrifugo subscription without recovery).
      nchan_subscriber_first_message newest;
    }
    location ~ ^/pub/(.+)\$ {
      nchan_publisher http;
      nchan_channel_id \$1;
      # Messages go to every connected subscriber as they are published; the buffer only serves late joiners.
      # Keep it large and long-lived enough that nothing expires while a fan-out is still being written.
      nchan_message_buffer_length 100;
      nchan_message_timeout 60s;
    }
  }
}
CONF
taskset -c "$SERVER_CPU" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" 2>"$TMP/nginx/start.log"
NGINX_STARTED=1
for _ in $(seq 50); do [[ -s "$TMP/nginx/nginx.pid" ]] && break; sleep 0.1; done
NGINX_MASTER=$(cat "$TMP/nginx/nginx.pid")
sleep 0.3
NCHAN="name=nchan,nchan=http://127.0.0.1:$NPORT,pid=$NGINX_MASTER"
for w in $(pgrep -P "$NGINX_MASTER"); do NCHAN+=",pid=$w"; done
log "nginx+nchan on :$NPORT (master $NGINX_MASTER, workers $(pgrep -P "$NGINX_MASTER" | tr '\n' ' '))"

# --- run
mkdir -p "$OUT"
log "broker-bench --compare over $SCENARIOS, ${DURATION}s each (generator on CPU $CLIENT_CPU)"
taskset -c "$CLIENT_CPU" "$BENCH_BIN" --compare --server "$OURS" --server "$NCHAN" \
  --scenarios "$SCENARIOS" --duration "$DURATION" \
  --json "$OUT/results.json" --markdown "$OUT/results.md" | tee "$OUT/results.txt"

for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || echo "WARNING: server process $p died during the run" >&2; done
"$PYTHON" "$ROOT/scripts/bench_chart.py" "$OUT/results.json" "$OUT/chart.png"
log "wrote $OUT/results.json $OUT/results.md $OUT/results.txt $OUT/chart.png"
