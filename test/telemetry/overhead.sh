#!/usr/bin/env bash
# Telemetry overhead: GET /verify and GET /user with metrics on vs off
# (tracing off), as PAIRS interleaved pairs of runs (default 5; the order
# inside a pair alternates so drift hits both sides alike). Prints every
# pair and the median of the on/off ratios per route, and exits 1 when a
# median exceeds 1.05 (API.md "Operations": at most 5 % overhead).
#
#   bash test/telemetry/overhead.sh            # 5 pairs, 2s per run
#   PAIRS=7 BENCHTIME=5s bash test/telemetry/overhead.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS=${PAIRS:-5}
BENCHTIME=${BENCHTIME:-2s}
bin=$(mktemp -d)/test.bin
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./test/

# nsop BENCH VARIANT prints the ns/op of one run.
nsop() {
  "$bin" -test.run '^$' -test.bench "^$1\$/^metrics=$2\$" -test.benchtime "$BENCHTIME" -test.count 1 |
    awk '$1 ~ /^Benchmark/ && !done { print $3; done = 1 }'
}

status=0
for bench in BenchmarkVerifyTelemetry BenchmarkGetUserTelemetry; do
  ratios=()
  for i in $(seq 1 "$PAIRS"); do
    if (( i % 2 )); then off=$(nsop "$bench" off); on=$(nsop "$bench" on)
    else on=$(nsop "$bench" on); off=$(nsop "$bench" off); fi
    ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.4f", a / b }')
    ratios+=("$ratio")
    echo "$bench pair $i: off ${off} ns/op, on ${on} ns/op, on/off ${ratio}"
  done
  median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
  verdict=ok
  if awk -v m="$median" 'BEGIN { exit !(m > 1.05) }'; then verdict="OVER 5 %"; status=1; fi
  echo "$bench median on/off over $PAIRS pairs: $median ($verdict)"
done
exit $status
