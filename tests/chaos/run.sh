#!/usr/bin/env bash
# The chaos run by hand (tests/chaos/README.md): builds busline and the
# driver in build/, then runs it with the given options and prints its
# figures. It starts a broker and a database of its own (scripts/kafka and
# scripts/postgres under a state folder in /tmp, on free ports), so it needs
# what scripts/setup installs and the broker jars scripts/kafka fetched.
#   tests/chaos/run.sh --events 100000 [--kill-every-ms 3000] [--drain-s 900]
# BUSLINE_CHAOS_KEEP=1 keeps the state folder (the roles' logs) afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUSLINE_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target busline test_chaos -- --no-print-directory >/dev/null
[ -f "$root/.local/kafka/jars/.complete" ] || "$root/scripts/kafka" fetch
BUSLINE_BIN=$build/busline BUSLINE_SOURCE_DIR=$root exec "$build/test_chaos" "$@"
