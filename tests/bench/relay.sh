#!/usr/bin/env bash
# Builds and runs the relay benchmark (tests/bench/bench_relay.c) against the
# local Kafka and PostgreSQL: relay vs kcat vs a bare PostgreSQL claim/mark
# loop, for 100 B and 1 KiB payloads.   tests/bench/relay.sh [events]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUSLINE_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DBUSLINE_SANITIZE=OFF >/dev/null
cmake --build "$build" -j2 --target busline bench_relay >/dev/null
BUSLINE_BIN="$build/busline" "$build/bench_relay" "${1:-50000}"
