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

# 0. System packages: libhiredis-dev (linked by the broker), redis-server (Redis tests start their own).
step "install system packages" bash scripts/install-system-deps.sh
# 1. Python deps (quiet, idempotent).
step "install python deps" "$PYTHON" -m pip install -q -r Tests/Interop/requirements.txt
# 2. Build. Without a binary the interop suite cannot run.
step "swift build" swift build
if [[ $FAILED -ne 0 ]]; then
  summary
  exit 1
fi
# 3. Swift unit tests.
step "swift test" swift test
# 4. Interop suite against the debug build.
export BROKER_BIN="${BROKER_BIN:-$ROOT/.build/debug/broker}"
step "interop (pytest, BROKER_BIN=$BROKER_BIN)" \
  "$PYTHON" -m pytest -q -p no:cacheprovider Tests/Interop

# 5. centrifuge-python's own server tests (tests/test_client.py of its sdist), JSON and Protobuf.
step "centrifuge-python sdist tests/test_client.py" "$PYTHON" scripts/sdk_suite.py

summary
exit "$FAILED"
