# Sourced by the benchmark scripts: sets BROKER_BIN and BENCH_BIN to release binaries, building them in
# .build-bench (never touching .build) unless given in the environment or BUILD=0. Needs ROOT and log().
if [[ -z "${BROKER_BIN:-}" || -z "${BENCH_BIN:-}" ]] && [[ "${BUILD:-1}" -eq 1 ]]; then
  log "swift build -c release --scratch-path .build-bench (broker, broker-bench)"
  (cd "$ROOT" && swift build -c release --scratch-path .build-bench --product broker >&2 \
     && swift build -c release --scratch-path .build-bench --product broker-bench >&2)
fi
BROKER_BIN="${BROKER_BIN:-$ROOT/.build-bench/release/broker}"
BENCH_BIN="${BENCH_BIN:-$ROOT/.build-bench/release/broker-bench}"
for b in "$BROKER_BIN" "$BENCH_BIN"; do [[ -x "$b" ]] || { echo "missing binary $b" >&2; exit 2; }; done
