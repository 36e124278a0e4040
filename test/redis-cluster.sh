#!/usr/bin/env bash
# A local 3-master Redis Cluster on loopback, for tests and CI, made with the
# redis-server and redis-cli already on the machine. Nothing is persisted:
# each node keeps only its cluster config (nodes.conf) in a temporary dir.
#
#   test/redis-cluster.sh start [FIRST_PORT]   start (or reuse) the cluster on
#                                              FIRST_PORT..FIRST_PORT+2 (default
#                                              7001) and print its Gatehouse URL
#   test/redis-cluster.sh stop [FIRST_PORT]    stop it and remove its dir
#   test/redis-cluster.sh stop-node PORT [FIRST_PORT]   kill one node
#   test/redis-cluster.sh start-node PORT [FIRST_PORT]  start it again, with
#                                              its cluster config, empty
#
# Each node also uses its port + 10000 (the cluster bus). The dir is
# ${TMPDIR:-/tmp}/gatehouse-redis-cluster-FIRST_PORT unless
# REDIS_CLUSTER_DIR says otherwise.
set -euo pipefail

cmd="${1:-}"
case "$cmd" in
  start | stop) first="${2:-7001}" ;;
  stop-node | start-node)
    node="${2:?usage: $0 $cmd PORT [FIRST_PORT]}"
    first="${3:-7001}"
    ;;
  *)
    echo "usage: $0 start|stop [FIRST_PORT] | stop-node|start-node PORT [FIRST_PORT]" >&2
    exit 2
    ;;
esac
ports=("$first" "$((first + 1))" "$((first + 2))")
dir="${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/gatehouse-redis-cluster-$first}"

url() { echo "redis://127.0.0.1:${ports[0]}?addr=127.0.0.1:${ports[1]}&addr=127.0.0.1:${ports[2]}"; }

answers() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }

cluster_ok() {
  for p in "${ports[@]}"; do
    redis-cli -h 127.0.0.1 -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

# wait_for tries a check every 0.1 s for up to $2 s.
wait_for() {
  local check="$1" limit="$2" i
  for ((i = 0; i < limit * 10; i++)); do
    if eval "$check"; then return 0; fi
    sleep 0.1
  done
  return 1
}

start_node() {
  local p="$1"
  mkdir -p "$dir/$p"
  # A short node timeout: a lost master is noticed (cluster_state:fail) in
  # about a second, so the failover test stays short.
  redis-server --port "$p" --bind 127.0.0.1 --daemonize yes \
    --dir "$dir/$p" --logfile "$dir/$p/redis.log" --pidfile "$dir/$p/redis.pid" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
    --save "" --appendonly no --maxmemory-policy noeviction
  wait_for "answers $p" 10 || {
    echo "redis node $p did not start (is $p or its bus port $((p + 10000)) taken?):" >&2
    tail -n 5 "$dir/$p/redis.log" >&2 || true
    exit 1
  }
}

stop_node() {
  local p="$1"
  redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true
  wait_for "! answers $p" 10 || { echo "redis node $p did not stop" >&2; exit 1; }
}

case "$cmd" in
  start)
    if cluster_ok; then url; exit 0; fi
    mkdir -p "$dir"
    for p in "${ports[@]}"; do answers "$p" || start_node "$p"; done
    if ! redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info | grep -q '^cluster_slots_assigned:16384'; then
      redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 ||
        { cat "$dir/create.log" >&2; exit 1; }
    fi
    wait_for cluster_ok 30 || { echo "the cluster did not reach cluster_state:ok" >&2; exit 1; }
    url
    ;;
  stop)
    for p in "${ports[@]}"; do stop_node "$p"; done
    rm -rf "$dir"
    ;;
  stop-node) stop_node "$node" ;;
  start-node) start_node "$node" ;;
esac
