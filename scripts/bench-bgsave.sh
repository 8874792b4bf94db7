#!/usr/bin/env bash
# BGSAVE under load, spinel next to redis-server (fork-based BGSAVE): 1M keys, a pipelined
# SET load (-P 16) on the same keys, and BGSAVEs back to back for the whole load window.
# Reports, for each server and each round: throughput and p99 without and during saves, the
# number of saves completed, and peak memory (PSS of the server and of redis-server's forked
# child: pages they share count once). scripts/bgsave-monitor.py polls memory and issues the
# BGSAVEs; scripts/latency-probe.py (one connection, PING every 1 ms) gives the latency a
# non-pipelined client sees. Both run on the client's CPU.
#   [CLIENTS=N] [GEN=loadgen] [RATE=N] [SERVERS=...] \
#       scripts/bench-bgsave.sh [spinel-binary] [port] [rounds] [requests]
# CLIENTS (default 50, redis-benchmark's default) sets the load's connections. With 50 x 16
# requests in flight a request queues behind ~800 others, so the load's p99 is several ms on
# any server whatever a save does; CLIENTS=4 (64 in flight) still saturates the server and
# leaves p99 to it. GEN=loadgen drives the load with this repo's loadgen (LOADGEN_BIN, default
# target/release/loadgen), which keeps a server busier than redis-benchmark does. RATE=N paces
# loadgen at N SET/s, latency counted from when each batch was due (see
# crates/difftest/src/bin/loadgen.rs); on a 2-core box the paced client shares its CPU with
# the probe and the poller and falls behind its own schedule, so its p99 there measures the
# client. SERVERS (default "redis spinel") picks the servers.
# Servers run on CPU 0 (taskset -c 0), the load generator on CPU 1. Use a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
SPINEL=${1:-target/release/spinel}
PORT=${2:-7640}
ROUNDS=${3:-3}
REQUESTS=${4:-8000000}
CLIENTS=${CLIENTS:-50}
SERVERS=${SERVERS:-redis spinel}
GEN=${GEN:-redis-benchmark}
RATE=${RATE:-0}
LOADGEN_BIN=${LOADGEN_BIN:-target/release/loadgen}
KEYS=1000000
WORK=$(mktemp -d)
PID=""
cleanup() { [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start() { # name
    rm -rf "$WORK/data" && mkdir -p "$WORK/data"
    case $1 in
        redis) taskset -c 0 redis-server --port "$PORT" --dir "$WORK/data" --save '' --appendonly no \
                   --logfile "$WORK/redis.log" & ;;
        spinel) taskset -c 0 "$SPINEL" --port "$PORT" --dir "$WORK/data" --save '' --appendonly no \
                   > "$WORK/spinel.log" 2>&1 & ;;
    esac
    PID=$!
    for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    # The keys redis-benchmark -r 1000000 writes (key:000000000000 …), 16-byte values.
    awk -v n=$KEYS 'BEGIN { for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$16\r\nxxxxxxxxxxxxxxxx\r\n", i }' \
        | redis-cli -p "$PORT" --pipe >/dev/null
}
stop() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; wait "$PID" 2>/dev/null || true; PID=""; }

# Memory of the server and any forked child, in KiB: PSS (shared pages counted once).
memory() {
    local total=0 p
    for p in $PID $(pgrep -P "$PID" 2>/dev/null); do
        local pss
        pss=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
        total=$((total + ${pss:-0}))
    done
    echo "$total"
}

load() { # -> "rps p99"
    if [[ $GEN == loadgen ]]; then
        taskset -c 1 "$LOADGEN_BIN" --port "$PORT" -c "$CLIENTS" -P 16 -n "$REQUESTS" -r $KEYS --rate "$RATE" \
            --unit 'SET key:__rand_int__ xxxxxxxxxxxxxxxx' \
            | awk '/^latency_ms/ { p99 = $7 } END { rate = $1; printf "%.0f %s\n", rate, p99 }'
        return
    fi
    taskset -c 1 redis-benchmark -p "$PORT" -t set -n "$REQUESTS" -r $KEYS -P 16 -d 16 -c "$CLIENTS" --csv 2>/dev/null \
        | awk -F'"' '/^"SET"/ { print $4, $14 }'
}

measure() { # name with_saves -> "rps p99 saves peak_kib base_kib probe_p99 probe_max"
    local base
    base=$(memory)
    taskset -c 1 python3 scripts/bgsave-monitor.py "$PORT" "$PID" $([[ $2 == yes ]] && echo --saves) \
        > "$WORK/monitor.out" &
    local mp=$!
    taskset -c 1 python3 scripts/latency-probe.py "$PORT" 1 > "$WORK/probe.out" &
    local pp=$!
    local result
    result=$(load)
    kill -TERM "$pp" "$mp"; wait "$pp" || true; wait "$mp" || true
    local saves=0 peak=0 probe_p99="" probe_max=""
    read -r saves peak < "$WORK/monitor.out" || true
    read -r _ probe_p99 _ probe_max _ < "$WORK/probe.out" || true
    ((peak > base)) || peak=$base

    # Let the last save finish before the next measurement.
    while [[ $(redis-cli -p "$PORT" info persistence | tr -d '\r' | awk -F: '/^rdb_bgsave_in_progress/ {print $2}') != 0 ]]; do sleep 0.1; done
    echo "$result $saves $peak $base ${probe_p99:-?} ${probe_max:-?}"
}

printf '%-7s %-5s %10s %8s %6s %10s %10s %10s %10s\n' server saves rps p99_ms n peak_MiB base_MiB \
    probe_p99 probe_max
for round in $(seq "$ROUNDS"); do
    for server in $SERVERS; do
        start "$server"
        for mode in no yes; do
            read -r rps p99 saves peak base probe_p99 probe_max < <(measure "$server" "$mode")
            printf '%-7s %-5s %10s %8s %6s %10.1f %10.1f %10s %10s\n' "$server" "$mode" "$rps" "$p99" "$saves" \
                "$(echo "$peak / 1024" | bc -l)" "$(echo "$base / 1024" | bc -l)" "$probe_p99" "$probe_max"
        done
        stop
    done
done
