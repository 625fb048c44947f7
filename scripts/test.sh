#!/usr/bin/env bash
# The project's single test command: Swift build + unit tests, then the Python
# interop suite (official Centrifugo clients against the broker binary).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_ROOT_USER_ACTION=ignore
export PYTHONDONTWRITEBYTECODE=1

PYTHON="${PYTHON:-python3}"
declare -a RESULTS=()
FAILED=0

step() {
  local name="$1"; shift
  echo
  echo "==> ${name}"
  local start=$SECONDS
  if "$@"; then
    RESULTS+=("PASS  ${name} ($((SECONDS - start))s)")
  else
    local rc=$?
    RESULTS+=("FAIL  ${name} (exit ${rc}, $((SECONDS - start))s)")
    FAILED=1
    return 0
  fi
}

summary() {
  echo
  echo "================ test summary ================"
  local r
  for r in "${RESULTS[@]}"; do echo "  $r"; done
  if [[ $FAILED -ne 0 ]]; then
    echo "RESULT: FAILED"
  else
    echo "RESULT: OK"
  fi
}

# 0. System packages: libhiredis-dev (linked by the broker), and what only the tests need (redis-server, chromium…).
step "install system packages" bash scripts/install-system-deps.sh --test
# 1. Python deps (quiet, idempotent).
step "install python deps" "$PYTHON" -m pip install -q -r Tests/Interop/requirements.txt
# 2. Build. Without a binary the interop suite cannot run.
step "swift build" swift build
if [[ $FAILED -ne 0 ]]; then
  summary
  exit 1
fi
# 3. A throwaway PostgreSQL 15 cluster for the facade's tests (initdb/pg_ctl from PATH), removed at exit.
PG_DIR="$(mktemp -d /tmp/scrumble-test-pg.XXXXXX)"
trap 'scripts/pg-stop.sh "$PG_DIR" --purge >/dev/null 2>&1 || true' EXIT
start_postgres() {
  local out
  out="$(scripts/pg-start.sh "$PG_DIR")" || return 1
  eval "$out"
  export FACADE_TEST_DATABASE_URL="$DATABASE_URL"
}
step "start PostgreSQL" start_postgres
# 4. Swift tests: protocol and broker (incl. a real redis-server), then the facade's (on that PostgreSQL).
#    Two runs, so the facade's CPU-heavy suites (bcrypt, 10,000-post seeding) do not starve the broker's timing.
step "swift test (protocol, broker)" swift test --skip FacadeTests
step "swift test (facade)" swift test --filter FacadeTests
# 5. Interop suite against the debug build (broker binary; facade end to end on the same PostgreSQL).
export BROKER_BIN="${BROKER_BIN:-$ROOT/.build/debug/broker}"
export FACADE_BIN="${FACADE_BIN:-$ROOT/.build/debug/facade}"
# The console's browser tests must run here, not skip: chromium was installed in step 0.
export ADMIN_BROWSER_REQUIRED=1
step "interop (pytest, BROKER_BIN=$BROKER_BIN)" \
  "$PYTHON" -m pytest -q -p no:cacheprovider Tests/Interop

# 6. centrifuge-python's own server tests (tests/test_client.py of its sdist), JSON and Protobuf.
step "centrifuge-python sdist tests/test_client.py" "$PYTHON" scripts/sdk_suite.py

# 7. schemathesis against the facade's /openapi.json: no server error, no response outside the schema.
step "schemathesis (facade OpenAPI)" bash scripts/schemathesis.sh

# 8. The README's commands, verbatim and in order, as a newcomer pastes them (scripts/start.sh included): every
#    ```sh block carries a directive saying how it is checked. On the debug build this run already has.
step "README (its commands, verbatim)" env SCRUMBLE_BUILD=debug "$PYTHON" scripts/readme_check.py

# 9. A short libFuzzer run over the decoders of untrusted input (client frames, JSON, fossil deltas).
step "fuzz (libFuzzer, 15 s per target)" bash scripts/fuzz.sh 15

summary
exit "$FAILED"
