#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c; CMake's BUSLINE_FUZZ=ON,
# with clang, + ASan and UBSan), replays every saved crash (regressions/),
# then fuzzes each target from its seed corpus (corpus/<target>/).
#   tests/fuzz/run.sh [seconds]           each target for seconds (default 20)
#   tests/fuzz/run.sh --minutes M         each target for M minutes (a long run)
#   tests/fuzz/run.sh --target NAME ...   only that target (repeatable)
#   tests/fuzz/run.sh --build-only        build (scripts/test does it first)
# A crash leaves its input in $BUSLINE_FUZZ_DIR/crashes/; copy it to
# regressions/<target>/ with the fix, so it is replayed on every run.
# It needs clang and libclang-rt-N-dev (scripts/setup installs both); CMake
# names a missing one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${BUSLINE_FUZZ_DIR:-$root/build-fuzz}
command -v clang >/dev/null || { echo "fuzz: clang missing: install the Debian package clang (scripts/setup does)" >&2; exit 1; }

seconds=20 build_only= targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --build-only) build_only=1 ;;
    --minutes) seconds=$(( $2 * 60 )); shift ;;
    --target) targets+=("$2"); shift ;;
    [0-9]*) seconds=$1 ;;
    *) echo "usage: tests/fuzz/run.sh [seconds | --minutes M] [--target NAME]... | --build-only" >&2; exit 2 ;;
  esac
  shift
done
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$here"/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi

cmake -S "$root" -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DBUSLINE_FUZZ=ON >/dev/null
cmake --build "$out" -j "$(nproc)" --target "${targets[@]}" -- --no-print-directory >/dev/null
[ -n "$build_only" ] && exit 0

# The error part of a report (its last lines alone are ASan's shadow legend).
report() { grep -m1 -A40 -E '^==[0-9]+==ERROR|runtime error|deadly signal|^fuzz: ' "$1" >&2 || tail -n 60 "$1" >&2; }

mkdir -p "$out/crashes" "$out/logs"
failed=0
for t in "${targets[@]}"; do
  log=$out/logs/$t.log
  if [ -d "$here/regressions/$t" ] && [ -n "$(ls -A "$here/regressions/$t")" ]; then
    if ! (cd "$out" && "./$t" "$here/regressions/$t"/* >"$log" 2>&1); then
      echo "fuzz: $t fails a saved regression input; the report ($log):" >&2
      report "$log"; failed=1; continue
    fi
  fi
  # A working corpus beside the build, seeded from the repository's; the
  # fuzzer adds what it finds there, never in the checkout.
  work=$out/corpus/$t
  mkdir -p "$work"
  [ -d "$here/corpus/$t" ] && cp -n "$here/corpus/$t"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s" >&2
  if ! (cd "$out" && "./$t" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
          -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" "$work" >"$log" 2>&1); then
    echo "fuzz: $t crashed; the input is in $out/crashes/, the report ($log):" >&2
    report "$log"; failed=1; continue
  fi
  printf 'fuzz: %s: %s runs, peak RSS %s MB\n' "$t" \
    "$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")" \
    "$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")" >&2
done
exit $failed
