# shellcheck shell=bash
# Helpers shared by .ci/run and scripts/*.sh: start redis-server and spinel on free ports, wait
# until they answer, and make sure every server (and background job) we started dies when the
# script exits, however it exits. Source it after `set -euo pipefail`.
#
#   PORT_RANGE=7400-7449          ports to use (default 21000-21999; never 6379)
#   SPINEL_BIN=target/release/spinel
#   SERVER_PREFIX=(taskset -c 0)  command prefix for servers (the benchmark pins them)
#   start_server redis|spinel LOGFILE [extra server args...]
#       -> sets SERVER_PORT and SERVER_PID
#   stop_server PID
#   run_child CMD...              runs CMD in the background and waits, so a signal reaches
#                                 our traps at once (bash defers traps while a foreground
#                                 child runs)

PORT_RANGE=${PORT_RANGE:-21000-21999}
PORT_FIRST=${PORT_RANGE%-*}
PORT_LAST=${PORT_RANGE#*-}
SPINEL_BIN=${SPINEL_BIN:-target/release/spinel}
REDIS_SERVER_BIN=${REDIS_SERVER_BIN:-redis-server}
SERVER_PREFIX=(${SERVER_PREFIX[@]+"${SERVER_PREFIX[@]}"})
SERVER_PIDS=()
CHILD_PIDS=()
USED_PORTS=" "
SERVER_PORT=
SERVER_PID=

if ((PORT_FIRST <= 6379 && 6379 <= PORT_LAST)); then
    echo "PORT_RANGE must not include 6379" >&2
    exit 2
fi

port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sets FREE_PORT to a port nothing listens on and we have not handed out yet.
next_free_port() {
    local p
    for ((p = PORT_FIRST; p <= PORT_LAST; p++)); do
        [[ $USED_PORTS == *" $p "* ]] && continue
        port_busy "$p" && continue
        USED_PORTS+="$p "
        FREE_PORT=$p
        return 0
    done
    echo "no free port in $PORT_RANGE" >&2
    return 1
}

# wait_ready PORT PID LOG: until the server answers PING (20 s at most).
wait_ready() {
    local port=$1 pid=$2 log=$3 i
    for ((i = 0; i < 200; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "server on port $port exited during start-up; log:" >&2
            tail -n 30 "$log" >&2 || true
            return 1
        fi
        if [[ $(redis-cli -p "$port" PING 2>/dev/null) == PONG ]]; then
            return 0
        fi
        sleep 0.1
    done
    echo "server on port $port did not answer PING in 20 s; log:" >&2
    tail -n 30 "$log" >&2 || true
    return 1
}

start_server() {
    local kind=$1 log=$2 bin attempt
    shift 2
    case $kind in
    redis) bin=$REDIS_SERVER_BIN ;;
    spinel) bin=$SPINEL_BIN ;;
    *)
        echo "start_server: redis or spinel, not $kind" >&2
        return 2
        ;;
    esac
    # A port found free may be taken before the server binds it: retry on another.
    for attempt in 1 2 3; do
        next_free_port
        local args=(--port "$FREE_PORT" --save '' --appendonly no)
        ${SERVER_PREFIX[@]+"${SERVER_PREFIX[@]}"} "$bin" "${args[@]}" "$@" >"$log" 2>&1 &
        SERVER_PID=$!
        SERVER_PIDS+=("$SERVER_PID")
        if wait_ready "$FREE_PORT" "$SERVER_PID" "$log"; then
            SERVER_PORT=$FREE_PORT
            return 0
        fi
        stop_server "$SERVER_PID"
        grep -q "Address already in use" "$log" 2>/dev/null || return 1
    done
    return 1
}

stop_server() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

run_child() {
    "$@" &
    local pid=$!
    CHILD_PIDS+=("$pid")
    local status=0
    wait "$pid" || status=$?
    return "$status"
}

cleanup_servers() {
    local pid
    for pid in ${CHILD_PIDS[@]+"${CHILD_PIDS[@]}"}; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in ${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}; do
        stop_server "$pid"
    done
    SERVER_PIDS=()
    CHILD_PIDS=()
}

# Exit on INT/TERM; the EXIT trap (set by the caller, calling cleanup_servers) does the rest.
trap 'exit 130' INT
trap 'exit 143' TERM
