#!/usr/bin/env bash
# Builds and runs the API benchmark (tests/bench/bench_api.c) against the
# local Kafka and Postgres: requests/s and p50/p99 of POST /v1/risks and
# GET /v1/projects beside wrk on /healthz, and peak RSS.
#   tests/bench/api.sh [seconds per phase] [client threads]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUSLINE_BENCH_BUILD:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUSLINE_SANITIZE=OFF >/dev/null
cmake --build "$build" -j 2 --target bench_api -- --no-print-directory >/dev/null
"$build/bench_api" "$@" | grep -v '^{"ts"'
