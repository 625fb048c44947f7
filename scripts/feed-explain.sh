#!/usr/bin/env bash
# Seeds 10,000 posts in a throwaway database and prints EXPLAIN ANALYZE of the feed query
# (first page and a page after 100 posts). Uses the same PostgreSQL setup as the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_DIR="$(mktemp -d /tmp/facade-explain-pg.XXXXXX)"
cleanup() { scripts/pg-stop.sh "$PG_DIR" --purge || true; }
trap cleanup EXIT

eval "$(scripts/pg-start.sh "$PG_DIR")"
export FACADE_TEST_DATABASE_URL="$DATABASE_URL"
export FACADE_PRINT_EXPLAIN=1
swift test --filter "FacadeTests.FeedExplainTests" 2>&1 | sed -n '/===== EXPLAIN/,/Execution Time/p;/Test run/p'
