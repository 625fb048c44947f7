#!/usr/bin/env bash
# Fan-out benchmark wrapper: finds (or builds) the broker binary, then runs fanout_bench.py.
#
#   scripts/fanout-bench.sh [--no-build] [fanout_bench.py flags...]
#     e.g. scripts/fanout-bench.sh --subscribers 1000 --rate 50 --duration 10 --procs 4
#          scripts/fanout-bench.sh --engine redis --nodes 2   # same scenarios, two nodes sharing a redis-server
#
# Binary: --binary if given; else .build/release/broker; if that is missing, builds it with
# `swift build -c release --product broker` (~5 min the first time) unless --no-build or
# FANOUT_BENCH_NO_BUILD=1, in which case the debug binary is used (and the output says so).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
BUILD=1
[[ "${FANOUT_BENCH_NO_BUILD:-0}" == 1 ]] && BUILD=0

declare -a ARGS=()
HAVE_BINARY=0
for a in "$@"; do
  case "$a" in
    --no-build) BUILD=0 ;;
    --binary|--binary=*) HAVE_BINARY=1; ARGS+=("$a") ;;
    *) ARGS+=("$a") ;;
  esac
done

if [[ $HAVE_BINARY -eq 0 && ! -x "$ROOT/.build/release/broker" ]]; then
  if [[ $BUILD -eq 1 ]] && command -v swift >/dev/null 2>&1; then
    echo "==> no release broker binary; building it (swift build -c release --product broker)" >&2
    (cd "$ROOT" && swift build -c release --product broker) >&2
  elif [[ -x "$ROOT/.build/debug/broker" ]]; then
    echo "==> no release broker binary; using the DEBUG build" >&2
  else
    echo "no broker binary in $ROOT/.build/{release,debug}/ and not building; pass --binary" >&2
    exit 2
  fi
fi

exec "$PYTHON" "$ROOT/scripts/fanout_bench.py" ${ARGS[@]+"${ARGS[@]}"}
