#!/usr/bin/env bash
# RDB, DUMP/RESTORE and AOF interoperability with redis-server 7.0.15, both ways:
#   1. redis-server holds every type in every encoding and saves dump.rdb;
#      spinel loads it: same contents (scripts/ci/keyspace-dump.py, byte for byte).
#   2. spinel saves; redis-check-rdb accepts the file; redis-server loads it: same contents.
#   3. every key DUMPed by redis-server RESTOREs in spinel and the other way round.
#   4. spinel's multi-part AOF (RDB base + incremental file) loads in redis-server, and
#      redis-server's AOF loads in spinel.
# Usage: scripts/ci/rdb-interop.sh [spinel-binary] [first-port]
#   With first-port, the 4 ports from it are used; without, 4 free ports of $PORT_RANGE
#   (scripts/lib/servers.sh; .ci/run's `interop` step runs it so).
set -euo pipefail
cd "$(dirname "$0")/../.."
SPINEL=${1:-${SPINEL_BIN:-target/release/spinel}}
if [[ -n ${2:-} ]]; then
    R1=$2; S1=$(($2 + 1)); R2=$(($2 + 2)); S2=$(($2 + 3))
else
    source scripts/lib/servers.sh
    next_free_port; R1=$FREE_PORT
    next_free_port; S1=$FREE_PORT
    next_free_port; R2=$FREE_PORT
    next_free_port; S2=$FREE_PORT
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_up() { for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; return 1; }
start_redis() { # port dir [args...]
    local port=$1 dir=$2; shift 2
    mkdir -p "$dir"
    redis-server --port "$port" --dir "$dir" --save '' --logfile "$dir/redis.log" "$@" &
    PIDS+=($!); wait_up "$port"
}
start_spinel() { # port dir [args...]
    local port=$1 dir=$2; shift 2
    mkdir -p "$dir"
    "$SPINEL" --port "$port" --dir "$dir" --save '' --enable-debug-command yes "$@" > "$dir/spinel.log" 2>&1 &
    PIDS+=($!); wait_up "$port"
}
stop() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true; sleep 0.2; }
same() { # label file-a file-b
    if ! diff -u "$2" "$3" > "$WORK/diff"; then
        echo "FAIL: $1"; head -40 "$WORK/diff"; exit 1
    fi
    echo "ok: $1 ($(wc -l < "$2") keys)"
}
dump() { scripts/ci/keyspace-dump.py "$1" > "$2"; }

# 1. redis-server -> spinel (RDB)
start_redis "$R1" "$WORK/r1" --list-max-listpack-size 16 --list-compress-depth 1 --enable-debug-command yes
scripts/ci/populate-all-types.sh "$R1"
redis-cli -p "$R1" save >/dev/null
dump "$R1" "$WORK/redis.txt"
cp "$WORK/r1/dump.rdb" "$WORK/from-redis.rdb"
mkdir -p "$WORK/s1" && cp "$WORK/from-redis.rdb" "$WORK/s1/dump.rdb"
start_spinel "$S1" "$WORK/s1"
dump "$S1" "$WORK/spinel.txt"
same "redis-server's dump.rdb loads in spinel" "$WORK/redis.txt" "$WORK/spinel.txt"

# 2. spinel -> redis-server (RDB)
redis-cli -p "$S1" save >/dev/null
redis-check-rdb "$WORK/s1/dump.rdb" | tail -1
mkdir -p "$WORK/r2" && cp "$WORK/s1/dump.rdb" "$WORK/r2/dump.rdb"
start_redis "$R2" "$WORK/r2"
dump "$R2" "$WORK/redis-from-spinel.txt"
same "spinel's dump.rdb loads in redis-server" "$WORK/redis.txt" "$WORK/redis-from-spinel.txt"

# 3. DUMP/RESTORE both ways (db 0 keys into db 9 of the other server)
python3 - "$R1" "$S1" "$R2" <<'PY'
import socket, sys
def conn(port):
    s = socket.create_connection(("127.0.0.1", int(port))); return s, s.makefile("rb")
def cmd(c, *args):
    s, f = c
    args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    def read():
        line = f.readline(); t, rest = line[:1], line[1:-2]
        if t == b"$":
            n = int(rest); return None if n < 0 else f.read(n + 2)[:-2]
        if t == b"*": return [read() for _ in range(int(rest))]
        if t == b"-": raise RuntimeError(rest.decode())
        return rest
    return read()
redis, spinel, redis2 = conn(sys.argv[1]), conn(sys.argv[2]), conn(sys.argv[3])
for src, dst, name in ((redis, spinel, "redis-server -> spinel"), (spinel, redis2, "spinel -> redis-server")):
    cmd(src, "SELECT", 0); cmd(dst, "SELECT", 9); cmd(dst, "FLUSHDB")
    keys = cmd(src, "KEYS", "*")
    for k in keys:
        payload = cmd(src, "DUMP", k)
        cmd(dst, "RESTORE", k, 0, payload)
    print("ok: DUMP/RESTORE %s (%d keys)" % (name, len(keys)))
PY
for pair in "$S1:spinel" "$R2:redis"; do
    port=${pair%%:*}
    redis-cli -p "$port" -n 9 --raw keys '*' | sort > "$WORK/keys9-${pair##*:}.txt"
done
redis-cli -p "$R1" -n 0 --raw keys '*' | sort > "$WORK/keys0.txt"
same "restored key sets" "$WORK/keys0.txt" "$WORK/keys9-spinel.txt"
same "restored key sets (back)" "$WORK/keys0.txt" "$WORK/keys9-redis.txt"
stop "$S1"; stop "$R2"

# 4. AOF both ways: spinel writes a multi-part AOF that redis-server loads, and back.
start_spinel "$S2" "$WORK/s2" --appendonly yes --appendfsync always
scripts/ci/populate-all-types.sh "$S2"
redis-cli -p "$S2" bgrewriteaof >/dev/null
for _ in $(seq 100); do [[ $(redis-cli -p "$S2" info persistence | tr -d '\r' | grep aof_rewrite_in_progress:) == *:0 ]] && break; sleep 0.1; done
redis-cli -p "$S2" set after:rewrite yes >/dev/null
dump "$S2" "$WORK/spinel-aof.txt"
stop "$S2"
start_redis "$R2" "$WORK/s2" --appendonly yes
dump "$R2" "$WORK/redis-aof.txt"
same "spinel's AOF loads in redis-server" "$WORK/spinel-aof.txt" "$WORK/redis-aof.txt"
redis-cli -p "$R2" set after:redis yes >/dev/null
redis-cli -p "$R2" bgrewriteaof >/dev/null
sleep 1
redis-cli -p "$R2" set after:redis-rewrite yes >/dev/null
dump "$R2" "$WORK/redis-aof2.txt"
stop "$R2"
start_spinel "$S2" "$WORK/s2" --appendonly yes
dump "$S2" "$WORK/spinel-aof2.txt"
same "redis-server's AOF loads in spinel" "$WORK/redis-aof2.txt" "$WORK/spinel-aof2.txt"
stop "$S2"
echo "interop: all ok"
