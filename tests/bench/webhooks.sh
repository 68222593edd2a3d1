#!/usr/bin/env bash
# Builds and runs the webhook delivery benchmark (tests/bench/bench_webhooks.c)
# against the local Kafka and Postgres: signed deliveries/s of one
# `busline webhooks deliver` process to a local keep-alive sink, p50/p99 from
# outbox commit to arrival at a fixed rate, wrk against the same sink, the
# worker's peak RSS and the ratio deliveries/s / wrk requests/s.
#   tests/bench/webhooks.sh [burst events, 20000] [rate/s, 500] [seconds, 10]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUSLINE_BENCH_BUILD:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUSLINE_SANITIZE=OFF >/dev/null
cmake --build "$build" -j 2 --target bench_webhooks busline -- --no-print-directory >/dev/null
BUSLINE_BIN="$build/busline" BUSLINE_LOG_LEVEL=${BUSLINE_LOG_LEVEL:-error} "$build/bench_webhooks" "$@" | grep -v '^{"ts"'
