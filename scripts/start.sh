#!/usr/bin/env bash
# Starts the product with working defaults:
#   - the broker on the memory engine with broker.json (http://localhost:8000, WebSocket /connection/websocket),
#   - PostgreSQL: $DATABASE_URL when set, else a throwaway cluster from the local PostgreSQL binaries,
#   - the Scrumble facade (http://localhost:8080), publishing through the broker's server API.
# Ctrl-C stops everything (and the throwaway cluster). Installs missing system libraries first.
#
# Overrides: BROKER_CONFIG (default broker.json), DATABASE_URL, FACADE_PORT (8080), FACADE_JWT_SECRET.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONFIG="${BROKER_CONFIG:-broker.json}"

bash scripts/install-system-deps.sh
swift build -c release
BIN="$(swift build -c release --show-bin-path)"

PIDS=()
PG_DIR=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "$PG_DIR" ]]; then scripts/pg-stop.sh "$PG_DIR" --purge >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT INT TERM

if [[ -z "${DATABASE_URL:-}" ]]; then
  PG_DIR="$(mktemp -d /tmp/scrumble-pg.XXXXXX)"
  eval "$(scripts/pg-start.sh "$PG_DIR")"
  echo "PostgreSQL (throwaway): $DATABASE_URL"
fi

# The facade talks to the broker with the broker's own API key and token secret.
read -r BROKER_PORT API_KEY TOKEN_SECRET < <(python3 - "$CONFIG" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print(c.get("http_server", {}).get("port", 8000), c.get("http_api", {}).get("key", ""),
      c.get("client", {}).get("token", {}).get("hmac_secret_key", ""))
PY
)

"$BIN/broker" serve -c "$CONFIG" &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$BROKER_PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done

DATABASE_URL="$DATABASE_URL" BROKER_API_URL="http://127.0.0.1:$BROKER_PORT/api" BROKER_API_KEY="$API_KEY" \
  BROKER_TOKEN_SECRET="$TOKEN_SECRET" FACADE_PORT="${FACADE_PORT:-8080}" \
  FACADE_JWT_SECRET="${FACADE_JWT_SECRET:-dev-only-session-secret-change-me-0123456789}" \
  "$BIN/facade" serve &
PIDS+=($!)

echo "broker: http://localhost:$BROKER_PORT  (API key from $CONFIG)   facade: http://localhost:${FACADE_PORT:-8080}/openapi.json"
echo "admin console: http://localhost:$BROKER_PORT/  (admin.password from $CONFIG; CLI: broker inspect nodes -c $CONFIG)"
wait -n "${PIDS[@]}"
