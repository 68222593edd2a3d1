#!/usr/bin/env bash
# Runs every bench of tests/bench against the local Kafka and PostgreSQL
# (BUSLINE_PG_URL, BUSLINE_KAFKA_BROKERS), each BENCH_RUNS times (3), and
# ends with the table of issue 17 filled in from the medians, then one
# machine-readable `ratio <path> <value>` line per path (medians too).
#   tests/bench/all.sh            # BENCH_RUNS=3 BENCH_SOAK_SECONDS=600 BENCH_SCALE="1 100 10000"
# The soak (webhook roles' RSS over time at 2,000 events/s) runs once; 0 skips it.
# Every bench exits non-zero when what it counted did not verify (a bad
# signature, a lost event): then this script says so and exits 1.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${BENCH_RUNS:-3}
soak=${BENCH_SOAK_SECONDS:-600}
scale=${BENCH_SCALE:-1 100 10000}
out=$(mktemp -d /tmp/busline-bench-all-XXXXXX)
failed=0

run() { # name, command...: appends the bench's output to $out/<name>
    local name=$1
    shift
    echo "== $name: $* (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    if ! "$@" >>"$out/$name" 2>>"$out/$name.err"; then
        echo "   $name failed (see $out/$name.err)" >&2
        failed=1
    fi
}

for i in $(seq 1 "$runs"); do
    run relay "$here/relay.sh" 50000
    run api "$here/api.sh"
    run webhooks "$here/webhooks.sh" 20000 2000 10 1
    run webhooks2 "$here/webhooks.sh" 20000 2000 5 2
done
if [ "$soak" -gt 0 ]; then
    run soak "$here/webhooks.sh" 2000 2000 "$soak" 1
fi
build=${BUSLINE_BENCH_BUILD:-$here/../../build-bench}
cmake --build "$build" -j 2 --target bench_webhook_scale bench_e2e busline -- --no-print-directory >/dev/null
# shellcheck disable=SC2086
run scale "$build/bench_webhook_scale" $scale
# the whole path, every role a process on its own cluster (3 s per rate)
for i in $(seq 1 "$runs"); do
    BUSLINE_BIN="$build/busline" BUSLINE_SOURCE_DIR="$here/../.." run e2e "$build/bench_e2e" 3
done

# median of the values on stdin, one a line
median() { sort -g | awk '{v[NR]=$1} END{if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# median of field key=value (or of the last field when key is empty) over lines starting with prefix in file
fig() { # file prefix key
    grep -h "^$2" "$out/$1" 2>/dev/null | tr ' ' '\n' | grep "^$3=" | cut -d= -f2 | median
}
# the machine-readable lines only: "ratio <path> <number>" (the benches' tables have a "ratio ..." row too)
ratio() { grep -h "^ratio $2 " "$out/$1" 2>/dev/null | awk 'NF == 3 && $3 ~ /^[0-9.]+$/ {print $3}' | median; }

dps1=$(grep -h "^figure webhook_deliveries_per_s workers=1 " "$out/webhooks" | awk '{print $4}' | median)
dps2=$(grep -h "^figure webhook_deliveries_per_s workers=2 " "$out/webhooks2" | awk '{print $4}' | median)
r_wh=$(ratio webhooks webhook_deliveries)
p50=$(fig webhooks "figure webhook_latency" p50_ms)
p99=$(fig webhooks "figure webhook_latency" p99_ms)
p99_worst=$(grep -h "^figure webhook_latency" "$out/webhooks" | tr ' ' '\n' | grep '^p99_ms=' | cut -d= -f2 | sort -g | tail -1)
rss_max=$(fig soak "figure webhook_rss" worker_max_kib)
rss_slope=$(fig soak "figure webhook_rss" worker_slope_kib_per_min)
self_max=$(fig soak "figure webhook_rss" self_max_kib)
self_slope=$(fig soak "figure webhook_rss" self_slope_kib_per_min)
two=$(awk -v a="$dps1" -v b="$dps2" 'BEGIN{print (a > 0 ? sprintf("%.3f", b / a) : "nan")}')

echo
echo "## issue 17, medians of $runs runs ($(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| path | busline | ratio | goal |"
echo "|---|---|---|---|"
echo "| POST /v1/risks -> Kafka ack | see api | $(ratio api api_post_risks) | >= 0.5 |"
echo "| GET /v1/projects | see api | $(ratio api api_get_projects) | >= 0.5 |"
echo "| signed webhook deliveries/s (1 worker) | $dps1/s | $r_wh | >= 0.6 |"
echo "| outbox commit -> webhook received at 2,000 events/s | p50 $p50 ms, p99 $p99 ms (worst run p99 $p99_worst ms) | - | p99 < 25 ms, no run above 50 ms |"
echo "| relay outbox -> Kafka, 100 B / 1 KiB | see relay | $(ratio relay relay_100B) / $(ratio relay relay_1024B) | >= 0.7 |"
echo "| RSS per role over ${soak} s at 2,000 events/s | deliver max ${rss_max} KiB, slope ${rss_slope} KiB/min; relay+fan-out process max ${self_max} KiB, slope ${self_slope} KiB/min | - | < 64 MiB, flat |"
echo "| two delivery workers in one group | $dps2/s vs $dps1/s | $two | ~2 |"
for rate in 500 1000 2000; do
    echo "| POST /v1/risks -> signed webhook at $rate/s (bench_e2e) | p50 $(fig e2e "figure e2e_latency rate=$rate " p50_ms) ms, p99 $(fig e2e "figure e2e_latency rate=$rate " p99_ms) ms | p99 vs one Kafka hop $(ratio e2e "e2e_p99_$rate") | - |"
done
echo
grep -h "^scale " "$out/scale" 2>/dev/null
echo
for name in relay api webhooks webhooks2 scale e2e; do
    grep -h "^ratio " "$out/$name" 2>/dev/null | awk 'NF == 3 && $3 ~ /^[0-9.]+$/ {print $2}' | sort -u | while read -r path; do
        echo "ratio $path $(ratio "$name" "$path")"
    done
done
echo "ratio webhook_two_workers_vs_one $two"
echo "ratio webhook_latency_p99_ms_at_2000 $p99"
echo "ratio webhook_soak_worker_rss_slope_kib_per_min $rss_slope"
echo "(raw outputs in $out)"
exit $failed
