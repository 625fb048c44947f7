#!/usr/bin/env bash
# Runs the facade's Swift Testing suites against a throwaway PostgreSQL cluster.
# Usage: scripts/facade-test.sh [extra swift test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

PG_DIR="$(mktemp -d /tmp/facade-test-pg.XXXXXX)"
cleanup() { scripts/pg-stop.sh "$PG_DIR" --purge || true; }
trap cleanup EXIT

eval "$(scripts/pg-start.sh "$PG_DIR")"
export FACADE_TEST_DATABASE_URL="$DATABASE_URL"
swift test --filter FacadeTests "$@"
