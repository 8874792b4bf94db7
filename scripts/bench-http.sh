#!/usr/bin/env bash
# Spinel's REST API against webdis (Debian's C HTTP gateway to Redis) in front of redis-server
# 7.0.15, on loopback, with wrk (docs: ../shared/DESIGN.md "Benchmarks", docs/REST-API.md).
#
#   scripts/bench-http.sh [options]
#
# One key, bench:key, holds a 16-byte value on both sides; every request reads it once:
#   spinel pipeline  POST /pipeline  body [["GET","bench:key"]] (what the SDKs send: they
#                    auto-pipeline ordinary calls as one-element arrays); Authorization: Bearer
#   spinel path      GET /get/bench:key (the path form), for comparison
#   webdis           GET /GET/bench:key
# Every endpoint is checked with curl first: the body must be the expected one and a second
# request must reuse the connection (keep-alive), so only real answers are timed. A wrk run
# that reports non-2xx/3xx responses, or connect/read/write socket errors, stops the script;
# wrk timeouts (no answer in 2 s: a starved server) are reported on stderr.
#
# Pinning: each side gets one core. Spinel runs alone on CPU 0; webdis and its redis-server
# both run on CPU 0 (webdis is a gateway and redis-server the store behind it, so together
# they are what spinel does alone); wrk runs on CPU 1 (taskset -c 1). Both sides stay up
# for the whole run; the idle one only runs its timers. Every case runs at every connection
# count, ROUNDS times, alternating the order; the table shows the median requests/s and the
# ratio spinel/webdis, both of the medians and the median of each round's ratio (adjacent
# runs share the machine's state: on a shared host a side's speed drifts by 20% and more
# between rounds even with nothing else running in this machine). Each run also reads /proc
# for the server side (spinel; webdis + redis-server): its CPU use (near 100% = the side is
# the bottleneck), the time its threads waited for a CPU (other load on CPU 0: the machine is
# shared, and a side starved of CPU says nothing about its speed) and requests per
# CPU-second (its efficiency, which other load disturbs less than requests/s). Under other
# load on CPU 0 the scheduler also favours the webdis side, whose two processes get two
# shares of the core against spinel's one.
#
# webdis: "threads" 1 by default (--webdis-threads): with one core for webdis and redis-server,
# a second worker thread only adds context switches; pass --webdis-threads 2 to compare.
# Its connection pool to redis-server keeps webdis's default size.
#
# Options:
#   --rounds N            rounds per case (default 5)
#   --connections LIST    wrk -c values, comma-separated (default 10,50,200)
#   --threads N           wrk -t (default 1; wrk has one CPU)
#   --duration S          seconds per run (default 10)
#   --webdis-threads N    webdis.json "threads" (default 1)
#   --base64              also time /pipeline with Upstash-Encoding: base64 (the SDKs' default)
#   --spinel PATH         spinel binary (default target/release/spinel, built with cargo build
#                         --release unless --no-build)
#   --no-build
# Environment: PORT_RANGE (default 21000-21999), REDIS_SERVER_BIN, WEBDIS_BIN (default webdis),
# WRK_BIN (default wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=5
CONNECTIONS=10,50,200
THREADS=1
DURATION=10
WEBDIS_THREADS=1
BASE64=0
BUILD=1
SPINEL_BIN=${SPINEL_BIN:-$ROOT/target/release/spinel}
WEBDIS_BIN=${WEBDIS_BIN:-webdis}
WRK_BIN=${WRK_BIN:-wrk}
TOKEN=bench-http-token
KEY=bench:key
VALUE=0123456789abcdef # 16 bytes

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while (($#)); do
    case $1 in
    --rounds) ROUNDS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --webdis-threads) WEBDIS_THREADS=$2; shift ;;
    --base64) BASE64=1 ;;
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

for tool in "$WEBDIS_BIN" "$WRK_BIN" curl; do
    command -v "$tool" >/dev/null || {
        echo "$tool not found (apt-get install webdis wrk curl)" >&2
        exit 2
    }
done

source scripts/lib/servers.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spinel-bench-http.XXXXXX")
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

describe() {
    echo "== Setup"
    echo "date:           $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "host:           $(uname -srm), $CPUS CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "load average:   $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "redis-server:   $("$REDIS_SERVER_BIN" --version)"
    echo "webdis:         $(dpkg-query -W -f '${Version}' webdis 2>/dev/null || echo '?') (threads $WEBDIS_THREADS, default pool size)"
    echo "spinel:         $("$SPINEL_BIN" --version 2>/dev/null | head -n 1) (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "wrk:            $("$WRK_BIN" --version 2>&1 | head -n 1 | cut -d' ' -f1-2) -t $THREADS, keep-alive (HTTP/1.1)"
    echo "pinning:        spinel ${SERVER_PREFIX[*]:-unpinned}; webdis + redis-server ${SERVER_PREFIX[*]:-unpinned}; wrk ${CLIENT[*]:-unpinned}"
}

# start_webdis REDIS_PORT LOG: webdis in the foreground (so cleanup_servers stops it), on a
# free port, pinned like the servers; sets SERVER_PORT and SERVER_PID.
start_webdis() {
    local rport=$1 log=$2 i
    next_free_port
    local port=$FREE_PORT
    cat >"$WORK/webdis.json" <<EOF
{
    "redis_host": "127.0.0.1",
    "redis_port": $rport,
    "redis_auth": null,
    "http_host": "127.0.0.1",
    "http_port": $port,
    "threads": $WEBDIS_THREADS,
    "daemonize": false,
    "database": 0,
    "verbosity": 1,
    "logfile": "$log"
}
EOF
    # From the temp dir: webdis creates webdis.log in its working directory whatever the
    # configuration says.
    (cd "$WORK" && exec ${SERVER_PREFIX[@]+"${SERVER_PREFIX[@]}"} "$WEBDIS_BIN" "$WORK/webdis.json" >>"$log" 2>&1) &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    for ((i = 0; i < 200; i++)); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "webdis exited during start-up; log:" >&2
            tail -n 30 "$log" >&2 || true
            return 1
        fi
        if curl -s -o /dev/null "http://127.0.0.1:$port/PING"; then
            SERVER_PORT=$port
            return 0
        fi
        sleep 0.1
    done
    echo "webdis did not answer in 20 s" >&2
    return 1
}

# check NAME EXPECTED CURL-ARGS...: the body must be EXPECTED, and a second request on the
# same curl handle must reuse the connection.
check() {
    local name=$1 expected=$2 body trace
    shift 2
    body=$(curl -sS --max-time 5 "$@")
    if [[ $body != "$expected" ]]; then
        echo "$name: expected body $expected, got: $body" >&2
        return 1
    fi
    trace=$(curl -sS -v --max-time 5 -o /dev/null -o /dev/null "$@" "${@: -1}" 2>&1)
    if ! grep -q 'Re-using existing connection' <<<"$trace"; then
        echo "$name: the connection is not kept alive:" >&2
        echo "$trace" >&2
        return 1
    fi
    echo "checked $name: $body (keep-alive)"
}

# side_stats PID...: "CPU-ticks runqueue-wait-ns" of the processes, all threads: user + system
# clock ticks (/proc/PID/stat) and the time their threads were runnable but waiting for a CPU
# (/proc/PID/task/*/schedstat; 0 where the kernel has no schedstat).
side_stats() {
    local pid ticks=0 wait=0 f
    for pid in "$@"; do
        ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
        for f in "/proc/$pid"/task/*/schedstat; do
            [[ -r $f ]] && wait=$((wait + $(awk '{ print $2 }' "$f")))
        done
    done
    echo "$ticks $wait"
}

# run_wrk CONNS URL [wrk args...]: one timed run against the side whose processes are
# SIDE_PIDS. Prints "requests/s cpu% wait% requests-per-CPU-second". Exits the script on
# non-2xx/3xx responses or socket errors.
run_wrk() {
    local conns=$1 url=$2 out t0 t1 s0 s1 rps n
    shift 2
    s0=$(side_stats "${SIDE_PIDS[@]}")
    t0=$(date +%s%N)
    out=$(${CLIENT[@]+"${CLIENT[@]}"} "$WRK_BIN" -t "$THREADS" -c "$conns" -d "${DURATION}s" "$@" "$url" 2>&1) || {
        echo "wrk failed on $url: $out" >&2
        exit 1
    }
    t1=$(date +%s%N)
    s1=$(side_stats "${SIDE_PIDS[@]}")
    if grep -q 'Non-2xx or 3xx responses' <<<"$out" ||
        grep -q 'Socket errors: .*\(connect [1-9]\|read [1-9]\|write [1-9]\)' <<<"$out"; then
        echo "wrk on $url -c $conns reported errors, the figures are not valid:" >&2
        echo "$out" >&2
        exit 1
    fi
    if grep -q 'Socket errors' <<<"$out"; then
        echo "warning: $url -c $conns: $(grep 'Socket errors' <<<"$out" | sed 's/^ *//')" >&2
    fi
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    n=$(awk '/ requests in / { print $1 }' <<<"$out")
    if [[ -z $rps || -z $n ]]; then
        echo "no request count in wrk's output: $out" >&2
        exit 1
    fi
    awk -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" -v rps="$rps" -v n="$n" 'BEGIN {
        split(s0, a, " "); split(s1, b, " ")
        secs = (t1 - t0) / 1e9; cpu = (b[1] - a[1]) / hz
        eff = 0
        if (cpu > 0) eff = n / cpu
        printf "%.0f %.0f %.0f %.0f\n", rps, 100 * cpu / secs, 100 * (b[2] - a[2]) / 1e9 / secs, eff
    }'
}

median() { # numbers on stdin
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

main() {
    describe
    echo
    start_server redis "$WORK/redis.log"
    local rport=$SERVER_PORT rpid=$SERVER_PID
    start_webdis "$rport" "$WORK/webdis.log"
    local wport=$SERVER_PORT wpid=$SERVER_PID
    next_free_port
    local hport=$FREE_PORT
    start_server spinel "$WORK/spinel.log" --http-port "$hport" --http-token "$TOKEN"
    local sport=$SERVER_PORT spid=$SERVER_PID
    echo "redis-server on port $rport, webdis on port $wport; spinel on port $sport, REST API on port $hport"
    [[ $(redis-cli -p "$rport" SET "$KEY" "$VALUE") == OK ]]
    [[ $(redis-cli -p "$sport" SET "$KEY" "$VALUE") == OK ]]

    local auth="Authorization: Bearer $TOKEN"
    local pipeline_body="[[\"GET\",\"$KEY\"]]"
    cat >"$WORK/pipeline.lua" <<EOF
wrk.method = "POST"
wrk.body = '$pipeline_body'
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
EOF
    cat "$WORK/pipeline.lua" - >"$WORK/pipeline-base64.lua" <<<'wrk.headers["Upstash-Encoding"] = "base64"'
    local webdis_url="http://127.0.0.1:$wport/GET/$KEY"
    local pipeline_url="http://127.0.0.1:$hport/pipeline"
    local path_url="http://127.0.0.1:$hport/get/$KEY"
    local b64
    b64=$(printf '%s' "$VALUE" | base64)
    check webdis "{\"GET\":\"$VALUE\"}" "$webdis_url"
    check "spinel pipeline" "[{\"result\":\"$VALUE\"}]" -X POST -H "$auth" -H 'Content-Type: application/json' \
        --data-binary "$pipeline_body" "$pipeline_url"
    check "spinel path" "{\"result\":\"$VALUE\"}" -H "$auth" "$path_url"
    if ((BASE64)); then
        check "spinel pipeline base64" "[{\"result\":\"$b64\"}]" -X POST -H "$auth" -H 'Upstash-Encoding: base64' \
            -H 'Content-Type: application/json' --data-binary "$pipeline_body" "$pipeline_url"
    fi

    # case|side|url|wrk script (spinel cases without a script get the Authorization header)
    local -a cases=("webdis|webdis|$webdis_url|" "spinel pipeline|spinel|$pipeline_url|$WORK/pipeline.lua"
        "spinel path|spinel|$path_url|")
    ((BASE64)) && cases+=("spinel pipeline b64|spinel|$pipeline_url|$WORK/pipeline-base64.lua")

    # Warm-up, not counted.
    SIDE_PIDS=("$wpid" "$rpid")
    local duration=$DURATION
    DURATION=2
    run_wrk 50 "$webdis_url" >/dev/null
    SIDE_PIDS=("$spid")
    run_wrk 50 "$pipeline_url" -s "$WORK/pipeline.lua" >/dev/null
    DURATION=$duration

    echo
    echo "== $ROUNDS rounds of ${DURATION} s, wrk -t $THREADS, connections $CONNECTIONS"
    local fmt='%-6s %-20s %6s %12s %6s %6s %12s\n'
    # shellcheck disable=SC2059 # the format is ours
    printf "$fmt" round case conns requests/s cpu% wait% req/cpu-s
    : >"$WORK/results"
    IFS=, read -ra conns_list <<<"$CONNECTIONS"
    local round conns i n=${#cases[@]} name side url script out
    for ((round = 1; round <= ROUNDS; round++)); do
        for conns in "${conns_list[@]}"; do
            for ((i = 0; i < n; i++)); do
                # Alternate the order: forwards in odd rounds, backwards in even ones.
                local k=$i
                ((round % 2)) || k=$((n - 1 - i))
                IFS='|' read -r name side url script <<<"${cases[$k]}"
                local -a extra=()
                if [[ $side == webdis ]]; then
                    SIDE_PIDS=("$wpid" "$rpid")
                else
                    SIDE_PIDS=("$spid")
                    if [[ -n $script ]]; then extra=(-s "$script"); else extra=(-H "$auth"); fi
                fi
                out=$(run_wrk "$conns" "$url" ${extra[@]+"${extra[@]}"})
                # shellcheck disable=SC2059,SC2086 # our format; four numbers into four columns
                printf "$fmt" "$round" "$name" "$conns" $out
                echo "$name|$conns|$out|$round" >>"$WORK/results"
            done
        done
    done

    # column CASE CONNS FIELD: the median of one field of a case's runs.
    column() {
        awk -F'|' -v l="$1" -v c="$2" -v f="$3" '$1 == l && $2 == c { split($3, v, " "); print v[f] }' \
            "$WORK/results" | median | awk '{ printf "%.0f\n", $1 }'
    }
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
    # paired CASE CONNS: the median over rounds of CASE's requests/s over webdis's in the same
    # round (runs of one round are minutes apart at most, so they share the machine's state).
    paired() {
        [[ $1 == webdis ]] && { echo 1.00; return; }
        awk -F'|' -v l="$1" -v c="$2" '$2 == c && ($1 == l || $1 == "webdis") {
            split($3, v, " "); if ($1 == "webdis") w[$4] = v[1]; else s[$4] = v[1] }
            END { for (r in s) if (w[r] > 0) print s[r] / w[r] }' "$WORK/results" | median |
            awk '{ printf "%.2f\n", $1 }'
    }
    echo
    echo "== Summary (medians of $ROUNDS rounds)"
    echo "cpu%: the side's CPU use (spinel; webdis + redis-server), 100 = one core. wait%: time its"
    echo "threads were runnable but waiting for a CPU: other load on CPU 0 (and, for webdis, webdis"
    echo "and redis-server waiting for each other, ~10%); high values make requests/s meaningless."
    echo "req/cpu-s: requests per CPU-second of the side (its efficiency)."
    echo "x webdis: ratio of the medians; paired: median of the ratios within each round."
    fmt='%-20s %6s %12s %8s %7s %6s %6s %12s %8s\n'
    # shellcheck disable=SC2059 # the format is ours
    printf "$fmt" case conns requests/s "x webdis" paired cpu% wait% req/cpu-s "x webdis"
    for conns in "${conns_list[@]}"; do
        local base_rps base_eff
        base_rps=$(column webdis "$conns" 1)
        base_eff=$(column webdis "$conns" 4)
        for ((i = 0; i < n; i++)); do
            IFS='|' read -r name _ <<<"${cases[$i]}"
            local rps eff
            rps=$(column "$name" "$conns" 1)
            eff=$(column "$name" "$conns" 4)
            # shellcheck disable=SC2059 # the format is ours
            printf "$fmt" "$name" "$conns" "$rps" "$(ratio "$rps" "$base_rps")" "$(paired "$name" "$conns")" \
                "$(column "$name" "$conns" 2)" "$(column "$name" "$conns" 3)" "$eff" "$(ratio "$eff" "$base_eff")"
        done
    done
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    cleanup_servers
}

main
