#!/usr/bin/env bash
# A local Redis with Sentinel on loopback, for tests: a master, one replica
# and three sentinels watching them as the master set "gatehouse", made with
# the redis-server already on the machine. Nothing is persisted.
#
#   test/redis-sentinel.sh start [FIRST_PORT]  start them on FIRST_PORT (master),
#                                              +1 (replica), +2..+4 (sentinels),
#                                              default 7101, and print the
#                                              Gatehouse URL
#   test/redis-sentinel.sh stop [FIRST_PORT]   stop them and remove their dir
#
# The dir is ${TMPDIR:-/tmp}/gatehouse-redis-sentinel-FIRST_PORT unless
# REDIS_SENTINEL_DIR says otherwise. A failover is then
# `redis-cli -p SENTINEL_PORT sentinel failover gatehouse`.
set -euo pipefail

cmd="${1:-}"
first="${2:-7101}"
case "$cmd" in start | stop) ;; *)
  echo "usage: $0 start|stop [FIRST_PORT]" >&2
  exit 2
  ;;
esac
master="$first"
replica="$((first + 1))"
sentinels=("$((first + 2))" "$((first + 3))" "$((first + 4))")
dir="${REDIS_SENTINEL_DIR:-${TMPDIR:-/tmp}/gatehouse-redis-sentinel-$first}"

answers() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }

wait_for() {
  local check="$1" limit="$2" i
  for ((i = 0; i < limit * 10; i++)); do
    if eval "$check"; then return 0; fi
    sleep 0.1
  done
  return 1
}

common=(--bind 127.0.0.1 --daemonize yes --save "" --appendonly no)

start_server() {
  local p="$1"
  shift
  mkdir -p "$dir/$p"
  redis-server "${common[@]}" --port "$p" --dir "$dir/$p" --logfile "$dir/$p/redis.log" \
    --pidfile "$dir/$p/redis.pid" --maxmemory-policy noeviction "$@"
  wait_for "answers $p" 10 || { echo "redis on $p did not start; see $dir/$p/redis.log" >&2; exit 1; }
}

start_sentinel() {
  local p="$1"
  mkdir -p "$dir/$p"
  # A sentinel rewrites its config file, so each gets one of its own. Short
  # timeouts keep a failover within a few seconds.
  cat >"$dir/$p/sentinel.conf" <<EOF
sentinel monitor gatehouse 127.0.0.1 $master 2
sentinel down-after-milliseconds gatehouse 1000
sentinel failover-timeout gatehouse 10000
sentinel parallel-syncs gatehouse 1
EOF
  redis-server "$dir/$p/sentinel.conf" --sentinel "${common[@]}" --port "$p" --dir "$dir/$p" \
    --logfile "$dir/$p/sentinel.log" --pidfile "$dir/$p/sentinel.pid"
  wait_for "answers $p" 10 || { echo "sentinel on $p did not start; see $dir/$p/sentinel.log" >&2; exit 1; }
}

replica_synced() {
  redis-cli -h 127.0.0.1 -p "$replica" info replication 2>/dev/null | grep -q '^master_link_status:up'
}

sentinels_see_replica() {
  for p in "${sentinels[@]}"; do
    redis-cli -h 127.0.0.1 -p "$p" sentinel replicas gatehouse 2>/dev/null | grep -q "$replica" || return 1
  done
}

case "$cmd" in
  start)
    start_server "$master"
    start_server "$replica" --replicaof 127.0.0.1 "$master"
    wait_for replica_synced 20 || { echo "the replica did not sync" >&2; exit 1; }
    for p in "${sentinels[@]}"; do start_sentinel "$p"; done
    # A failover needs sentinels that know the replica (they learn it from
    # the master's INFO, every 10 s at first).
    wait_for sentinels_see_replica 30 || { echo "the sentinels did not find the replica" >&2; exit 1; }
    echo "redis://127.0.0.1:${sentinels[0]}?addr=127.0.0.1:${sentinels[1]}&addr=127.0.0.1:${sentinels[2]}&master_set=gatehouse"
    ;;
  stop)
    for p in "${sentinels[@]}" "$replica" "$master"; do
      redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true
    done
    for p in "${sentinels[@]}" "$replica" "$master"; do
      wait_for "! answers $p" 10 || echo "redis on $p did not stop" >&2
    done
    rm -rf "$dir"
    ;;
esac
