#!/usr/bin/env bash
# Bounded loopback load test of Gatehouse, measured back to back with the
# ceiling server of ../shared/bench/ceiling (its /redis route: one rueidis
# GET behind Echo routing). Each wrk run lasts 10 s.
#
#   test/load/run.sh                          # in-memory stores
#   GATEHOUSE_LOAD_STORES=real test/load/run.sh   # PostgreSQL + Redis
#
# Env: GATEHOUSE_TEST_DATABASE_URL, GATEHOUSE_TEST_REDIS_URL (as the tests),
# LOAD_PORT (default 18081), CEILING_PORT (default 18080), DURATION (10s).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH="${BENCH_DIR:-$ROOT/../shared/bench}"
STORES="${GATEHOUSE_LOAD_STORES:-memory}"
PORT="${LOAD_PORT:-18081}"
CPORT="${CEILING_PORT:-18080}"
DURATION="${DURATION:-10s}"
DB_URL="${GATEHOUSE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
REDIS_URL="${GATEHOUSE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
EMAIL="load@example.com"
PASSWORD="load-Password-42"

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

TMP="$(mktemp -d)"
PIDS=()
SCHEMA=""
PREFIX=""
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  if [ -n "$SCHEMA" ]; then
    psql -q "$DB_URL" -c "DROP SCHEMA IF EXISTS \"$SCHEMA\" CASCADE" >/dev/null 2>&1 || true
  fi
  if [ -n "$PREFIX" ]; then
    redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" 2>/dev/null \
      | xargs -r -n 500 redis-cli -u "$REDIS_URL" unlink >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

wait_http() { # url
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

echo "== build"
(cd "$ROOT" && go build -o "$TMP/gatehouse" ./cmd/gatehouse)
if [ ! -x /tmp/ceiling ]; then
  cp -r "$BENCH/ceiling" "$TMP/ceiling-src"
  (cd "$TMP/ceiling-src" && GOFLAGS=-mod=mod go build -o "$TMP/ceiling" .)
  CEILING="$TMP/ceiling"
else
  CEILING=/tmp/ceiling
fi

echo "== start gatehouse ($STORES)"
export GATEHOUSE_HTTP_ADDR="127.0.0.1:$PORT"
export GATEHOUSE_SECRET="load-test-secret-that-is-at-least-32-bytes"
export GATEHOUSE_BOOTSTRAP_EMAIL="$EMAIL"
export GATEHOUSE_BOOTSTRAP_PASSWORD="$PASSWORD"
export GATEHOUSE_LOG_LEVEL="${GATEHOUSE_LOG_LEVEL:-warn}"
# Login load: 64 accounts, so that 200 connections fit under the per-account
# cap of attempts in flight; loopback is whitelisted like an office NAT
# would be, since every connection comes from one IP.
ACCOUNTS=64
for i in $(seq 1 $ACCOUNTS); do
  printf -- '- email: load%d@example.com\n  password: %s\n' "$i" "$PASSWORD"
done >"$TMP/seed.yaml"
export GATEHOUSE_SEED_FILE="$TMP/seed.yaml"
export GATEHOUSE_IP_WHITELIST="127.0.0.1/32"
if [ "$STORES" = "real" ]; then
  SCHEMA="gh_load_$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  PREFIX="${SCHEMA}:"
  psql -q "$DB_URL" -c "CREATE SCHEMA \"$SCHEMA\"" >/dev/null
  sep='?'; case "$DB_URL" in *\?*) sep='&';; esac
  export GATEHOUSE_DATABASE_URL="${DB_URL}${sep}search_path=${SCHEMA}"
  export GATEHOUSE_REDIS_URL="$REDIS_URL"
  export GATEHOUSE_REDIS_KEY_PREFIX="$PREFIX"
  export GATEHOUSE_MIGRATE_ON_START=true
fi
"$TMP/gatehouse" serve >"$TMP/gatehouse.log" 2>&1 &
PIDS+=($!)
BASE="http://127.0.0.1:$PORT"
wait_http "$BASE/healthz" || { cat "$TMP/gatehouse.log"; exit 1; }

echo "== start ceiling"
"$CEILING" -addr "127.0.0.1:$CPORT" -tokens "$TMP/ceiling-tokens.txt" >"$TMP/ceiling.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CPORT/bare" || true)
  [ "$code" = 204 ] && break
  sleep 0.1
done

echo "== log in"
JAR="$TMP/jar"
curl -fsS -c "$JAR" -o /dev/null "$BASE/"
XSRF=$(awk '$6=="XSRF-TOKEN"{print $7}' "$JAR")
[ -n "$XSRF" ] || { echo "no XSRF-TOKEN cookie" >&2; exit 1; }
BODY="{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}"
code=$(curl -sS -b "$JAR" -c "$JAR" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -H "X-XSRF-TOKEN: $XSRF" -d "$BODY" "$BASE/login")
[ "$code" = 204 ] || { echo "POST /login = $code" >&2; exit 1; }
TOKEN=$(awk '$6=="TOKEN"{print $7}' "$JAR")
[ -n "$TOKEN" ] || { echo "no TOKEN cookie" >&2; exit 1; }

RESULTS="$TMP/results"
: >"$RESULTS"
run() { # name, wrk args...
  local name=$1; shift
  local out="$TMP/wrk-$name.txt"
  echo "== wrk $name: $*"
  wrk "$@" >"$out" 2>&1 || { cat "$out"; exit 1; }
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
  p50=$(awk '$1=="50%"{print $2}' "$out")
  p99=$(awk '$1=="99%"{print $2}' "$out")
  bad=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$out")
  errs=$(awk '/Socket errors:/{sub(/^ *Socket errors: */,""); print}' "$out")
  printf '%s %s %s %s %s\n' "$name" "$rps" "$p50" "$p99" "${bad:-0}${errs:+ ($errs)}" >>"$RESULTS"
}

LUA="$BENCH/wrk"
WRK_TOKEN="$TOKEN" run verify -t2 -c32 -d"$DURATION" --latency -s "$LUA/bearer-get.lua" "$BASE/verify"
run ceiling-redis -t2 -c32 -d"$DURATION" --latency "http://127.0.0.1:$CPORT/redis"
WRK_TOKEN="$TOKEN" run user -t2 -c32 -d"$DURATION" --latency -s "$LUA/bearer-get.lua" "$BASE/user"
run ceiling-redis2 -t2 -c32 -d"$DURATION" --latency "http://127.0.0.1:$CPORT/redis"
WRK_ACCOUNTS=$ACCOUNTS WRK_PASSWORD="$PASSWORD" WRK_XSRF="$XSRF" run login -t2 -c16 -d"$DURATION" --latency -s "$(dirname "$0")/login.lua" "$BASE/login"
# 200 logins at once: throughput must hold and memory must stay bounded,
# because hashing runs behind a semaphore of GATEHOUSE_HASH_CONCURRENCY.
WRK_ACCOUNTS=$ACCOUNTS WRK_PASSWORD="$PASSWORD" WRK_XSRF="$XSRF" run login-200 -t2 -c200 -d"$DURATION" --latency --timeout 30s -s "$(dirname "$0")/login.lua" "$BASE/login"
PEAK_RSS_KB=$(awk '/^VmHWM:/{print $2}' "/proc/${PIDS[0]}/status")

echo "== one argon2id hash (default parameters), for the login target"
HASH_NS=$(cd "$ROOT" && go test -run '^$' -bench 'BenchmarkVerify$' -benchtime 30x ./adapters/argon2/ | awk '/^BenchmarkVerify/{print $3}')

echo
echo "== summary: stores=$STORES, $(nproc) cores shared with wrk, $DURATION per run"
printf '%-15s %12s %10s %10s  %s\n' route req/s p50 p99 non-2xx
while read -r name rps p50 p99 bad; do
  printf '%-15s %12s %10s %10s  %s\n' "$name" "$rps" "$p50" "$p99" "$bad"
done <"$RESULTS"
awk -v cores="$(nproc)" -v hash_ns="${HASH_NS:-0}" -v rss="${PEAK_RSS_KB:-0}" '
  {r[$1]=$2}
  END {
    if (hash_ns>0) {
      ideal=cores/(hash_ns/1e9)
      printf "argon2id hash %.1f ms -> cores/hash = %.1f logins/s; login = %.2f, login-200 = %.2f of it\n", hash_ns/1e6, ideal, r["login"]/ideal, r["login-200"]/ideal
    }
    printf "gatehouse peak RSS (VmHWM) after 200 concurrent logins: %.0f MiB\n", rss/1024
    c=(r["ceiling-redis"]+r["ceiling-redis2"])/2
    if (c>0) {
      printf "ceiling-redis mean %.0f req/s\n", c
      printf "verify/ceiling-redis = %.2f   user/ceiling-redis = %.2f\n", r["verify"]/c, r["user"]/c
    }
  }' "$RESULTS"
