#!/usr/bin/env bash
# Fuzzes the decoders of untrusted input with libFuzzer: client frames (JSON, Protobuf), the JSON parser and the
# fossil delta decoder. Usage: scripts/fuzz.sh [SECONDS per target, default 20] [target ...]
# Builds Sources/ProtocolFuzz with -sanitize=fuzzer,address in its own scratch folder (.build-fuzz), runs each
# target for SECONDS and prints how many inputs it executed. A crash leaves its input in .build-fuzz/crashes/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_PER_TARGET="${1:-20}"
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(json protobuf jsonvalue fossil)

swift build -c debug --scratch-path .build-fuzz --product ProtocolFuzz --sanitize=fuzzer --sanitize=address
BIN="$(swift build -c debug --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address --show-bin-path)/ProtocolFuzz"

mkdir -p .build-fuzz/crashes
status=0
for target in "${TARGETS[@]}"; do
  corpus=".build-fuzz/corpus/$target"
  mkdir -p "$corpus"
  # Seeds: real frames, so the fuzzer starts from the shapes clients send.
  if [[ "$target" == json || "$target" == jsonvalue ]]; then
    printf '{"id":1,"connect":{"token":"x","name":"py"}}' > "$corpus/seed-connect"
    printf '{"id":2,"subscribe":{"channel":"chat:a","recover":true,"offset":5,"epoch":"e","delta":"fossil"}}\n{"id":3,"publish":{"channel":"c","data":{"a":[1,2.5e3,"\\u00e9",null,true]}}}' > "$corpus/seed-batch"
    printf '{}' > "$corpus/seed-ping"
  fi
  if [[ "$target" == protobuf ]]; then
    # varint length 4, then Command{id=1 (field 1), connect (field 4) = {}}.
    printf '\x04\x08\x01\x22\x00' > "$corpus/seed-connect"
  fi
  if [[ "$target" == fossil ]]; then
    printf '\x80{"items":[1,2,3],"v":1}{"items":[1,2,3,4],"v":2}' > "$corpus/seed-json"
  fi
  log=".build-fuzz/$target.log"
  echo "==> fuzz $target for ${SECONDS_PER_TARGET}s"
  if FUZZ_TARGET="$target" "$BIN" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 \
       -artifact_prefix=".build-fuzz/crashes/$target-" -print_final_stats=1 >"$log" 2>&1; then
    runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')"
    echo "    $target: $runs inputs, no crash"
  else
    echo "    $target: FAILED — see $log and .build-fuzz/crashes/"
    tail -40 "$log"
    status=1
  fi
done
exit "$status"
