#!/usr/bin/env bash
# Builds the libFuzzer target fuzz_api_request (CMake's BUSLINE_FUZZ=ON, with
# clang, + ASan and UBSan) and runs it briefly over seeded requests.
#   tests/fuzz/run.sh [seconds, default 20]   build and run
#   tests/fuzz/run.sh --build-only            build (scripts/test does it first)
# It needs clang and libclang-rt-N-dev (scripts/setup installs both); CMake
# names a missing one.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${BUSLINE_FUZZ_DIR:-$root/build-fuzz}
command -v clang >/dev/null || { echo "fuzz: clang missing: install the Debian package clang (scripts/setup does)" >&2; exit 1; }

cmake -S "$root" -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DBUSLINE_FUZZ=ON >/dev/null
cmake --build "$out" -j "$(nproc)" --target fuzz_api_request -- --no-print-directory >/dev/null
[ "${1:-}" = "--build-only" ] && exit 0
seconds=${1:-20}

mkdir -p "$out/corpus"
# Seeds: a valid risk, a wrong type, a deep array.
printf '\x0c%s\0%s' 'Content-Type: application/json' \
  '{"risk_id":"r","project_id":"p","title":"t","description":"d","severity":"HIGH","probability":1,"impact":2}' \
  > "$out/corpus/seed-risk"
printf '\x05%s\0%s' 'Content-Type: application/json' '{"project_id":7,"name":null}' > "$out/corpus/seed-type"
printf '\x00%s\0%s' 'Content-Type: application/json' '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]' \
  > "$out/corpus/seed-deep"
echo "fuzz: running fuzz_api_request for ${seconds}s" >&2
# The whole report goes to a log; on a crash the error part is printed (the
# last lines alone are only ASan's shadow legend).
log=$out/fuzz.log
if ! (cd "$out" && ./fuzz_api_request -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 corpus >"$log" 2>&1); then
  echo "fuzz: crash; the report ($log):" >&2
  grep -m1 -A40 -E '^==[0-9]+==ERROR|runtime error|deadly signal' "$log" >&2 || tail -n 60 "$log" >&2
  exit 1
fi
tail -n 6 "$log"
