#!/usr/bin/env bash
# Spinel against redis-server 7.0.15 on the same machine (docs: ../shared/DESIGN.md "Benchmarks").
#
#   scripts/bench.sh [throughput|memory|all] [options]
#
# throughput (default): both servers run with --save "" --appendonly no, pinned to CPU 0
#   (taskset -c 0); redis-benchmark runs on CPU 1 (taskset -c 1) with -c 50. Both keyspaces are
#   pre-filled with KEYS keys of 16-byte name and 16-byte value ("key:%012d", the names
#   redis-benchmark's -r 1000000 draws), so GET hits and SET overwrites. Every test runs at every
#   pipeline depth, ROUNDS times, alternating which server goes first; the table shows the
#   median requests/s of each server and the ratio spinel/redis.
# memory: loads KEYS keys (16 B name, 16 B value) into a fresh server of each kind, without and
#   with a TTL on every key, and reports INFO used_memory and process RSS per key.
#
# Options:
#   --rounds N          rounds per test (default 5)
#   --tests LIST        tests, comma-separated (default get,set): redis-benchmark -t names
#                       (get,set,lpush,rpop,sadd,hset,zadd,lrange_100,...) and the cases below
#   --command 'CMD...'  also benchmark a custom command (repeatable), e.g.
#                       --command 'XADD bench:stream * field __rand_int__'
#
# Cases beyond redis-benchmark -t (each prepares its own keys; loadgen is this repo's
# crates/difftest/src/bin/loadgen.rs, for loads redis-benchmark cannot express):
#   zrangebyscore   ZRANGEBYSCORE bench:zset (R +inf LIMIT 0 10 on a 1,000-member zset
#   blpop           BLPOP ping-pong: per connection pair, one side RPUSH ping / BLPOP pong,
#                   the other BLPOP ping / RPUSH pong (loadgen; rate = round trips/s)
#   xadd            XADD bench:stream * field R
#   xreadgroup      a work queue per connection: XADD an entry, XREADGROUP it (>), XACK it
#                   (loadgen; rate = messages/s)
#   publish         PUBLISH bench:chan R with PUBLISH_SUBSCRIBERS (default 10) subscribers
#                   reading everything (loadgen)
#   evalsha         EVALSHA of "return redis.call('GET', KEYS[1])" on a pre-filled key
#   multi           MULTI; GET key:R; SET key:R R; INCR bench:counter; EXEC (loadgen; rate =
#                   transactions/s)
#   --pipelines LIST    pipeline depths (default 16,1)
#   --clients N         redis-benchmark -c (default 50)
#   --keys N            keys to pre-fill / load (default 1000000)
#   --requests N        requests per run without pipelining (default 300000); pipelined runs
#                       send PIPELINED_FACTOR (default 8) times as many
#   --spinel PATH       spinel binary (default target/release/spinel, built with cargo build
#                       --release unless --no-build)
#   --no-build
# Environment: PORT_RANGE (default 21000-21999), REDIS_SERVER_BIN, LOADGEN_BIN (default
# target/release/loadgen, built with spinel), PUBLISH_SUBSCRIBERS.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=throughput
ROUNDS=5
TESTS=get,set
COMMANDS=()
PIPELINES=16,1
CLIENTS=50
KEYS=1000000
REQUESTS=300000
PIPELINED_FACTOR=${PIPELINED_FACTOR:-8}
BUILD=1
SPINEL_BIN=${SPINEL_BIN:-$ROOT/target/release/spinel}
LOADGEN_BIN=${LOADGEN_BIN:-$ROOT/target/release/loadgen}
PUBLISH_SUBSCRIBERS=${PUBLISH_SUBSCRIBERS:-10}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while (($#)); do
    case $1 in
    throughput | memory | all) MODE=$1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --tests) TESTS=$2; shift ;;
    --command) COMMANDS+=("$2"); shift ;;
    --pipelines) PIPELINES=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    --keys) KEYS=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    --spinel) SPINEL_BIN=$2; BUILD=0; shift ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage 0 ;;
    *)
        echo "unknown argument $1" >&2
        usage 2
        ;;
    esac
    shift
done
export SPINEL_BIN

source scripts/lib/servers.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spinel-bench.XXXXXX")
trap 'cleanup_servers; rm -rf "$WORK"' EXIT

CPUS=$(nproc)
if ((CPUS >= 2)) && command -v taskset >/dev/null; then
    SERVER_PREFIX=(taskset -c 0)
    CLIENT=(taskset -c 1)
else
    echo "warning: fewer than 2 CPUs or no taskset: running unpinned" >&2
    SERVER_PREFIX=()
    CLIENT=()
fi

if ((BUILD)); then
    echo "== cargo build --release"
    cargo build --release 2>&1 | tail -n 1
fi
if [[ ! -x $LOADGEN_BIN ]]; then
    echo "== cargo build --release -p spinel-difftest (loadgen)"
    cargo build --release -p spinel-difftest 2>&1 | tail -n 1
fi

# Machine and versions, for the note that quotes the figures.
describe() {
    echo "== Setup"
    echo "date:           $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "host:           $(uname -srm), $CPUS CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "load average:   $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "redis-server:   $("$REDIS_SERVER_BIN" --version)"
    echo "spinel:         $("$SPINEL_BIN" --version 2>/dev/null | head -n 1) (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "redis-benchmark: $(redis-benchmark --version 2>/dev/null || echo '?')"
    echo "pinning:        servers ${SERVER_PREFIX[*]:-unpinned}, client ${CLIENT[*]:-unpinned}"
}

# gen_load DIR N [TTL]: N SET commands in RESP, key:%012d -> val:%012d (16 + 16 bytes), each
# with EX TTL when given, in files of LOAD_BATCH commands (one redis-cli --pipe each), so a
# server that buffers a whole pipeline before answering is not measured on a 59 MB request
# stream (Spinel before bca9d5e rescanned its input buffer per line and stalled on one).
LOAD_BATCH=${LOAD_BATCH:-20000}
gen_load() {
    local dir=$1 n=$2 ttl=${3:-}
    mkdir -p "$dir"
    awk -v n="$n" -v ttl="$ttl" -v batch="$LOAD_BATCH" -v dir="$dir" 'BEGIN {
        if (ttl == "") { head = "*3\r\n$3\r\nSET\r\n"; tail = "" }
        else { head = "*5\r\n$3\r\nSET\r\n"; tail = sprintf("$2\r\nEX\r\n$%d\r\n%s\r\n", length(ttl), ttl) }
        for (i = 0; i < n; i++) {
            if (i % batch == 0) {
                if (file != "") close(file)
                file = sprintf("%s/%08d.resp", dir, i / batch)
            }
            printf "%s$16\r\nkey:%012d\r\n$16\r\nval:%012d\r\n%s", head, i, i, tail > file
        }
    }'
}

# load PORT DIR N: pipes every batch of DIR into the server and checks that it holds N keys.
load() {
    local port=$1 dir=$2 n=$3 out file total=0 replies
    for file in "$dir"/*.resp; do
        out=$(${CLIENT[@]+"${CLIENT[@]}"} redis-cli -p "$port" --pipe <"$file" 2>&1) || true
        replies=$(sed -n 's/.*errors: 0, replies: \([0-9]*\).*/\1/p' <<<"$out")
        if [[ -z $replies ]]; then
            echo "loading $file into port $port failed: $out" >&2
            return 1
        fi
        total=$((total + replies))
    done
    local size
    size=$(redis-cli -p "$port" DBSIZE)
    if [[ $total != "$n" || $size != "$n" ]]; then
        echo "port $port: $total replies, DBSIZE $size after loading $n keys" >&2
        return 1
    fi
}

info_field() { # info_field PORT FIELD
    redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

rss_bytes() { # rss_bytes PID
    awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"
}

median() { # numbers on stdin
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench PORT PIPELINE TEST-ARGS...: one redis-benchmark run, prints requests/s.
bench() {
    local port=$1 pipeline=$2 n=$REQUESTS
    shift 2
    ((pipeline > 1)) && n=$((REQUESTS * PIPELINED_FACTOR))
    ${CLIENT[@]+"${CLIENT[@]}"} redis-benchmark -p "$port" -c "$CLIENTS" -n "$n" -P "$pipeline" \
        -r "$KEYS" -d 16 --csv "$@" 2>/dev/null |
        awk -F'","' 'NR > 1 { gsub(/"/, "", $2); print $2; exit }'
}

# loadgen_rate PORT PIPELINE LOADGEN-ARGS...: one loadgen run, prints units/s.
loadgen_rate() {
    local port=$1 pipeline=$2 n=$REQUESTS
    shift 2
    ((pipeline > 1)) && n=$((REQUESTS * PIPELINED_FACTOR))
    ${CLIENT[@]+"${CLIENT[@]}"} "$LOADGEN_BIN" --port "$port" -c "$CLIENTS" -n "$n" -P "$pipeline" \
        -r "$KEYS" "$@" 2>"$WORK/loadgen.err" | tail -n 1 || { cat "$WORK/loadgen.err" >&2; return 0; }
}

cli() { redis-cli -p "$@" >/dev/null; }

# The cases beyond redis-benchmark -t: prepare_CASE PORT runs once per server after the
# pre-fill, reset_CASE PORT before every run, run_CASE PORT PIPELINE prints requests/s.
EXTRA_CASES=" zrangebyscore blpop xadd xreadgroup publish evalsha multi "

prepare_zrangebyscore() {
    local port=$1 i args=()
    for ((i = 0; i < 1000; i++)); do args+=("$((i * 1000))" "member:$i"); done
    cli "$port" ZADD bench:zset "${args[@]}"
}
run_zrangebyscore() { bench "$1" "$2" ZRANGEBYSCORE bench:zset '(__rand_int__' +inf LIMIT 0 10; }

reset_blpop() {
    local port=$1 i keys=()
    for ((i = 0; i < CLIENTS; i++)); do keys+=("bench:ping:$i" "bench:pong:$i"); done
    cli "$port" DEL "${keys[@]}"
}
run_blpop() {
    loadgen_rate "$1" "$2" --unit 'RPUSH bench:ping:__conn__ x;BLPOP bench:pong:__conn__ 0' \
        --unit 'BLPOP bench:ping:__conn__ 0;RPUSH bench:pong:__conn__ x'
}

reset_xadd() { cli "$1" DEL bench:stream; }
run_xadd() { bench "$1" "$2" XADD bench:stream '*' field __rand_int__; }

reset_xreadgroup() {
    local port=$1 i
    for ((i = 0; i < CLIENTS; i++)); do
        printf 'DEL bench:queue:%d\nXGROUP CREATE bench:queue:%d workers $ MKSTREAM\n' "$i" "$i"
    done | redis-cli -p "$port" >/dev/null
}
run_xreadgroup() {
    loadgen_rate "$1" "$2" --unit 'XADD bench:queue:__conn__ __seq__-1 job __rand_int__;XREADGROUP GROUP workers w COUNT 1 STREAMS bench:queue:__conn__ >;XACK bench:queue:__conn__ workers __seq__-1'
}

run_publish() {
    loadgen_rate "$1" "$2" --subscribers "$PUBLISH_SUBSCRIBERS" --channel bench:chan \
        --unit 'PUBLISH bench:chan __rand_int__'
}

EVALSHA_SCRIPT="return redis.call('GET', KEYS[1])"
prepare_evalsha() { cli "$1" SCRIPT LOAD "$EVALSHA_SCRIPT"; }
run_evalsha() {
    local sha
    sha=$(printf '%s' "$EVALSHA_SCRIPT" | sha1sum | cut -d' ' -f1)
    bench "$1" "$2" EVALSHA "$sha" 1 key:__rand_int__
}

run_multi() {
    loadgen_rate "$1" "$2" --unit 'MULTI;GET key:__rand_int__;SET key:__rand_int__ __rand_int__;INCR bench:counter;EXEC'
}

throughput() {
    echo
    echo "== Throughput: $ROUNDS rounds, tests ${TESTS}${COMMANDS[*]:+ + ${COMMANDS[*]}}, pipelines $PIPELINES, -c $CLIENTS, -r $KEYS -d 16, -n $REQUESTS (x$PIPELINED_FACTOR pipelined)"
    start_server redis "$WORK/redis.log"
    local rport=$SERVER_PORT
    start_server spinel "$WORK/spinel.log"
    local sport=$SERVER_PORT
    echo "redis-server on port $rport, spinel on port $sport"
    echo "pre-filling $KEYS keys (16 B key, 16 B value) into each with redis-cli --pipe, batches of $LOAD_BATCH"
    gen_load "$WORK/fill" "$KEYS"
    load "$rport" "$WORK/fill" "$KEYS"
    load "$sport" "$WORK/fill" "$KEYS"
    rm -rf "$WORK/fill"
    local t
    IFS=, read -ra tests <<<"$TESTS"
    for t in "${tests[@]}"; do
        if [[ $EXTRA_CASES == *" $t "* ]] && declare -F "prepare_$t" >/dev/null; then
            "prepare_$t" "$rport"
            "prepare_$t" "$sport"
        fi
    done
    # Warm-up, not counted.
    bench "$rport" 16 -t get >/dev/null
    bench "$sport" 16 -t get >/dev/null

    local -a cases=()
    local p c
    IFS=, read -ra pipes <<<"$PIPELINES"
    for p in "${pipes[@]}"; do
        for t in "${tests[@]}"; do
            if [[ $EXTRA_CASES == *" $t "* ]]; then cases+=("$p|case|$t"); else cases+=("$p|-t|$t"); fi
        done
        for c in ${COMMANDS[@]+"${COMMANDS[@]}"}; do cases+=("$p|cmd|$c"); done
    done
    : >"$WORK/results"
    local round kase label order server port rps
    echo
    printf '%-6s %-28s %-5s %-7s %14s\n' round test P server requests/s
    for ((round = 1; round <= ROUNDS; round++)); do
        for kase in "${cases[@]}"; do
            IFS='|' read -r p kind t <<<"$kase"
            label=$t
            [[ $kind != cmd ]] && label=${t^^}
            # Alternate which server goes first.
            if ((round % 2)); then order="redis spinel"; else order="spinel redis"; fi
            for server in $order; do
                port=$rport
                [[ $server == spinel ]] && port=$sport
                if [[ $kind == -t ]]; then
                    rps=$(bench "$port" "$p" -t "$t")
                elif [[ $kind == case ]]; then
                    if declare -F "reset_$t" >/dev/null; then "reset_$t" "$port"; fi
                    rps=$("run_$t" "$port" "$p")
                else
                    # The custom command is split into words, without glob expansion (XADD's *).
                    local -a words
                    read -ra words <<<"$t"
                    rps=$(bench "$port" "$p" "${words[@]}")
                fi
                printf '%-6s %-28s %-5s %-7s %14s\n' "$round" "${label:0:28}" "$p" "$server" "${rps:-failed}"
                echo "$label|$p|$server|${rps:-nan}" >>"$WORK/results"
            done
        done
    done
    echo
    echo "== Throughput summary (median of $ROUNDS rounds, requests/s)"
    printf '%-28s %-5s %14s %14s %14s\n' test P redis spinel spinel/redis
    local seen=" " key r s
    while IFS='|' read -r label p _ _; do
        key="$label|$p"
        [[ $seen == *" $key "* ]] && continue
        seen+="$key "
        r=$(awk -F'|' -v l="$label" -v p="$p" '$1 == l && $2 == p && $3 == "redis" { print $4 }' "$WORK/results" | median)
        s=$(awk -F'|' -v l="$label" -v p="$p" '$1 == l && $2 == p && $3 == "spinel" { print $4 }' "$WORK/results" | median)
        printf '%-28s %-5s %14.0f %14.0f %14s\n' "${label:0:28}" "$p" "$r" "$s" "$(awk -v r="$r" -v s="$s" 'BEGIN { if (r > 0) printf "%.2f", s / r; else print "n/a" }')"
    done <"$WORK/results"
    cleanup_servers
}

# memory_case KIND TTL: fresh server, load KEYS keys, print the per-key deltas.
memory_case() {
    local kind=$1 ttl=$2 file=$WORK/load
    [[ -n $ttl ]] && file=$WORK/load-ttl
    start_server "$kind" "$WORK/$kind-mem.log"
    local port=$SERVER_PORT pid=$SERVER_PID
    local used0 rss0 used1 rss1
    used0=$(info_field "$port" used_memory)
    rss0=$(rss_bytes "$pid")
    load "$port" "$file" "$KEYS"
    sleep 1 # let incremental rehashing and lazy frees settle
    used1=$(info_field "$port" used_memory)
    rss1=$(rss_bytes "$pid")
    local label=none
    [[ -n $ttl ]] && label="EX $ttl"
    printf '%-8s %-10s %14s %14s %12s %14s %14s %12s\n' "$kind" "$label" \
        "$used0" "$used1" "$(awk -v a="$used0" -v b="$used1" -v n="$KEYS" 'BEGIN { printf "%.1f", (b - a) / n }')" \
        "$rss0" "$rss1" "$(awk -v a="$rss0" -v b="$rss1" -v n="$KEYS" 'BEGIN { printf "%.1f", (b - a) / n }')"
    stop_server "$pid"
}

memory() {
    echo
    echo "== Memory: $KEYS keys of 16 B name + 16 B value loaded with redis-cli --pipe (batches of $LOAD_BATCH) into a fresh server"
    gen_load "$WORK/load" "$KEYS"
    gen_load "$WORK/load-ttl" "$KEYS" 1000000
    printf '%-8s %-10s %14s %14s %12s %14s %14s %12s\n' server ttl used_memory0 used_memory1 "B/key" rss0 rss1 "RSS B/key"
    local ttl kind
    for ttl in "" 1000000; do
        for kind in redis spinel; do
            memory_case "$kind" "$ttl"
        done
    done
    rm -rf "$WORK/load" "$WORK/load-ttl"
}

describe
case $MODE in
throughput) throughput ;;
memory) memory ;;
all)
    throughput
    memory
    ;;
esac
