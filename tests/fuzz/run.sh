#!/usr/bin/env bash
# Builds tests/fuzz/fuzz_api_request.c with clang's libFuzzer (+ ASan and
# UBSan) straight from the library sources and runs it briefly.
#   tests/fuzz/run.sh [seconds, default 20]
# scripts/test calls it; it needs clang (scripts/setup installs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-20}
out=${BUSLINE_FUZZ_DIR:-$root/build-fuzz}
mkdir -p "$out/corpus"
command -v clang >/dev/null || { echo "fuzz: clang missing (run scripts/setup)" >&2; exit 1; }

sources=("$root"/core/*.c "$root"/schemas/*.c "$root"/producers/pmo_uuid.c
         "$root"/producers/command_envelope.c "$root"/api/input.c
         "$root"/api/command_bus.c "$root"/api/command_routes.c)
deps="rdkafka libpq avro-c libcurl openssl libmicrohttpd jansson libjwt"
# shellcheck disable=SC2046
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" -DBUSLINE_SOURCE_DIR="\"$root\"" $(pkg-config --cflags $deps) \
  "$root/tests/fuzz/fuzz_api_request.c" "${sources[@]}" \
  $(pkg-config --libs $deps) -lpthread -lm -o "$out/fuzz_api_request"

# Seeds: a valid risk, a wrong type, a deep array.
printf '\x0c%s\0%s' 'Content-Type: application/json' \
  '{"risk_id":"r","project_id":"p","title":"t","description":"d","severity":"HIGH","probability":1,"impact":2}' \
  > "$out/corpus/seed-risk"
printf '\x05%s\0%s' 'Content-Type: application/json' '{"project_id":7,"name":null}' > "$out/corpus/seed-type"
printf '\x00%s\0%s' 'Content-Type: application/json' '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]' \
  > "$out/corpus/seed-deep"
echo "fuzz: running fuzz_api_request for ${seconds}s" >&2
"$out/fuzz_api_request" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$out/corpus" 2>&1 | tail -n 12
