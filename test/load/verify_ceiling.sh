#!/usr/bin/env bash
# GET /verify against the ceiling server's /redis route (one rueidis GET
# behind Echo routing, ../shared/bench/ceiling), as PAIRS interleaved pairs
# of wrk runs on PostgreSQL + Redis, loopback only and bounded in time. The
# order inside a pair alternates, so drift of this shared machine hits both
# sides alike. Gatehouse runs as in production: the access log on at its
# default level (info, written to a file), metrics on, tracing off.
# Prints every pair's req/s and ratio, then the median ratio; and, steadier
# on a shared machine, each server's CPU time per request and their ratio.
# It does so on one Redis, then on the 3-master test cluster
# (test/redis-cluster.sh, started when not running), where the ceiling
# server reads through one node (rueidis finds the others).
#
#   bash test/load/verify_ceiling.sh                  # 5 pairs of 10 s runs, both
#   PAIRS=7 DURATION=15s ON=redis bash test/load/verify_ceiling.sh
#
# Env: ON (both, redis or cluster); GATEHOUSE_TEST_DATABASE_URL,
# GATEHOUSE_TEST_REDIS_URL, GATEHOUSE_TEST_REDIS_CLUSTER_URL (as the tests);
# CEILING_REDIS (host:port the ceiling server reads on one Redis, default
# the host of GATEHOUSE_TEST_REDIS_URL); LOAD_PORT (18081),
# CEILING_PORT (18080), METRICS_PORT (18082); PAIRS (5); DURATION (10s);
# CONNECTIONS (32); GATEHOUSE_BIN (a prebuilt binary instead of this tree's);
# GATEHOUSE_* settings pass through to Gatehouse (e.g.
# GATEHOUSE_LOG_LEVEL=warn to measure without the access log). TARGET (0.9)
# is what the medians are compared with; MIN_RATIO, when set, makes the
# script exit 1 when a median is below it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH="${BENCH_DIR:-$ROOT/../shared/bench}"
PORT="${LOAD_PORT:-18081}"
CPORT="${CEILING_PORT:-18080}"
MPORT="${METRICS_PORT:-18082}"
PAIRS="${PAIRS:-5}"
DURATION="${DURATION:-10s}"
CONNS="${CONNECTIONS:-32}"
TARGET="${TARGET:-0.9}"
DB_URL="${GATEHOUSE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
REDIS_URL="${GATEHOUSE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
CEILING_REDIS="${CEILING_REDIS:-$(printf '%s' "$REDIS_URL" | sed -E 's#^[a-z+]+://([^@/]*@)?([^/?]+).*#\2#')}"
ON="${ON:-both}"
EMAIL="load@example.com"
PASSWORD="load-Password-42"

case "$ON" in both | redis | cluster) ;; *) echo "ON must be both, redis or cluster" >&2; exit 2 ;; esac
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

TMP="$(mktemp -d)"
PIDS=()
SCHEMA="gh_vc_$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PREFIX="${SCHEMA}:"
NODES=() # host:port of every Redis node the rounds wrote to
stop_servers() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
cleanup() {
  stop_servers
  psql -q "$DB_URL" -c "DROP SCHEMA IF EXISTS \"$SCHEMA\" CASCADE" >/dev/null 2>&1 || true
  for n in "${NODES[@]:-}"; do
    [ -n "$n" ] || continue
    redis-cli -h "${n%:*}" -p "${n##*:}" --scan --pattern "${PREFIX}*" 2>/dev/null \
      | xargs -r -n 500 redis-cli -h "${n%:*}" -p "${n##*:}" unlink >/dev/null 2>&1 || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

echo "== build"
if [ -n "${GATEHOUSE_BIN:-}" ]; then
  cp "$GATEHOUSE_BIN" "$TMP/gatehouse" # another build, e.g. to compare with a baseline
else
  (cd "$ROOT" && go build -o "$TMP/gatehouse" ./cmd/gatehouse)
fi
cp -r "$BENCH/ceiling" "$TMP/ceiling-src"
(cd "$TMP/ceiling-src" && GOFLAGS=-mod=mod go build -o "$TMP/ceiling" .)
psql -q "$DB_URL" -c "CREATE SCHEMA \"$SCHEMA\"" >/dev/null
sep='?'; case "$DB_URL" in *\?*) sep='&';; esac
BASE="http://127.0.0.1:$PORT"

# cpu PID prints the CPU time (user + system) the process has used, in
# clock ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# rps NAME PID URL [wrk args...] runs wrk once and prints its req/s and the
# server's CPU time per request in microseconds (steadier than req/s on a
# shared machine: it does not depend on what else runs). A run with any
# non-2xx answer or socket error fails the script.
rps() {
  local name=$1 pid=$2 url=$3; shift 3
  local out="$TMP/wrk-$name.txt" before after
  before=$(cpu "$pid")
  wrk -t2 -c"$CONNS" -d"$DURATION" "$@" "$url" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
  after=$(cpu "$pid")
  if grep -qE 'Non-2xx|Socket errors' "$out"; then cat "$out" >&2; exit 1; fi
  awk -v b="$before" -v a="$after" -v tick="$TICK" '
    /^Requests\/sec:/ { rps = $2 }
    / requests in / { n = $1 }
    END { printf "%s %.1f\n", rps, (a - b) / tick * 1e6 / n }' "$out"
}
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
BELOW=0

# round LABEL REDIS_URL CEILING_ADDR starts Gatehouse on PostgreSQL + the
# Redis of REDIS_URL and the ceiling on CEILING_ADDR, logs in, measures
# PAIRS interleaved pairs, prints the medians and stops both servers.
round() {
  local label=$1 redis_url=$2 ceiling_addr=$3
  echo "== $label: start gatehouse (log level ${GATEHOUSE_LOG_LEVEL:-info}, metrics on) and the ceiling (Redis at $ceiling_addr)"
  GATEHOUSE_HTTP_ADDR="127.0.0.1:$PORT" \
  GATEHOUSE_METRICS_ADDR="127.0.0.1:$MPORT" \
  GATEHOUSE_SECRET="load-test-secret-that-is-at-least-32-bytes" \
  GATEHOUSE_BOOTSTRAP_EMAIL="$EMAIL" \
  GATEHOUSE_BOOTSTRAP_PASSWORD="$PASSWORD" \
  GATEHOUSE_DATABASE_URL="${DB_URL}${sep}search_path=${SCHEMA}" \
  GATEHOUSE_REDIS_URL="$redis_url" \
  GATEHOUSE_REDIS_KEY_PREFIX="$PREFIX" \
  GATEHOUSE_MIGRATE_ON_START=true \
  OTEL_EXPORTER_OTLP_ENDPOINT='' OTEL_EXPORTER_OTLP_TRACES_ENDPOINT='' \
    "$TMP/gatehouse" serve >"$TMP/gatehouse-$label.log" 2>&1 &
  PIDS=($!)
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
    sleep 0.1
  done
  curl -fsS -o /dev/null "$BASE/healthz" || { cat "$TMP/gatehouse-$label.log"; exit 1; }
  "$TMP/ceiling" -addr "127.0.0.1:$CPORT" -redis "$ceiling_addr" -tokens "$TMP/ceiling-tokens.txt" >"$TMP/ceiling-$label.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CPORT/redis" || true)" = 204 ] && break
    sleep 0.1
  done

  local jar="$TMP/jar-$label" xsrf code token
  curl -fsS -c "$jar" -o /dev/null "$BASE/"
  xsrf=$(awk '$6=="XSRF-TOKEN"{print $7}' "$jar")
  code=$(curl -sS -b "$jar" -c "$jar" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-XSRF-TOKEN: $xsrf" -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/login")
  [ "$code" = 204 ] || { echo "POST /login = $code" >&2; exit 1; }
  token=$(awk '$6=="TOKEN"{print $7}' "$jar")
  [ -n "$token" ] || { echo "no TOKEN cookie" >&2; exit 1; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$BASE/verify")" = 204 ] ||
    { echo "GET /verify did not answer 204" >&2; exit 1; }

  verify() { WRK_TOKEN="$token" rps verify "${PIDS[0]}" "$BASE/verify" -s "$BENCH/wrk/bearer-get.lua"; }
  ceiling() { rps ceiling "${PIDS[1]}" "http://127.0.0.1:$CPORT/redis"; }

  echo "== $label: $PAIRS interleaved pairs, $DURATION each, wrk -t2 -c$CONNS, $(nproc) cores shared with wrk"
  # Warm both up (connections, caches and pools), unmeasured.
  DURATION=2s verify >/dev/null
  DURATION=2s ceiling >/dev/null
  local ratios=() cpuratios=() i v c vr vcpu cr ccpu r cr2
  for i in $(seq 1 "$PAIRS"); do
    if (( i % 2 )); then v=$(verify); c=$(ceiling); else c=$(ceiling); v=$(verify); fi
    read -r vr vcpu <<<"$v"
    read -r cr ccpu <<<"$c"
    r=$(awk -v v="$vr" -v c="$cr" 'BEGIN { printf "%.3f", v / c }')
    cr2=$(awk -v v="$vcpu" -v c="$ccpu" 'BEGIN { printf "%.3f", c / v }')
    ratios+=("$r")
    cpuratios+=("$cr2")
    printf '%s pair %d: verify %9s req/s %6s us cpu/req   ceiling /redis %9s req/s %6s us cpu/req   ratio %s (cpu %s)\n' \
      "$label" "$i" "$vr" "$vcpu" "$cr" "$ccpu" "$r" "$cr2"
  done
  local med cpumed lines dropped
  med=$(median "${ratios[@]}")
  cpumed=$(median "${cpuratios[@]}")
  lines=$(grep -c '"msg":"request"' "$TMP/gatehouse-$label.log" || true)
  dropped=$(curl -fsS "http://127.0.0.1:$MPORT/metrics" | awk '/^gatehouse_access_log_dropped_total/{print $2}')
  echo "$label: median verify/ceiling over $PAIRS pairs: $med (target $TARGET)"
  echo "$label: median ceiling/verify server CPU per request: $cpumed (1 = as cheap as the ceiling)"
  echo "$label: access log lines written: $lines; dropped: ${dropped:-n/a}"
  if [ -n "${MIN_RATIO:-}" ] && awk -v m="$med" -v t="$MIN_RATIO" 'BEGIN { exit !(m < t) }'; then
    echo "$label: median below $MIN_RATIO" >&2
    BELOW=1
  fi
  stop_servers
}

if [ "$ON" != cluster ]; then
  NODES+=("$CEILING_REDIS")
  round redis "$REDIS_URL" "$CEILING_REDIS"
fi
if [ "$ON" != redis ]; then
  CLUSTER_URL="${GATEHOUSE_TEST_REDIS_CLUSTER_URL:-$(bash "$ROOT/test/redis-cluster.sh" start 7001)}"
  # redis://host:port?addr=host:port&addr=...: every node named in it.
  read -r -a named <<<"$(printf '%s' "$CLUSTER_URL" | sed -E 's#^[a-z+]+://([^@/]*@)?##; s#[/?&]addr=# #g; s#[/?].*##; s#&[^ ]*##g')"
  NODES+=("${named[@]}")
  round cluster "$CLUSTER_URL" "${named[0]}"
fi
exit "$BELOW"
