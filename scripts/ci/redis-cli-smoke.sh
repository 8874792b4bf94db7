#!/usr/bin/env bash
# redis-cli against Spinel, compared with the same redis-cli runs against redis-server 7.0.15:
# commands typed on stdin (raw, formatted, RESP3, CSV, JSON output), -r repeats, -x, --pipe
# with a few thousand generated commands (reply and error counts checked), --scan (with
# --pattern and --count), --bigkeys and --memkeys.
#
#   scripts/ci/redis-cli-smoke.sh        (SPINEL_BIN, PORT_RANGE as in scripts/lib/servers.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/servers.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spinel-cli-smoke.XXXXXX")
trap 'cleanup_servers; rm -rf "$WORK"' EXIT

start_server redis "$WORK/redis.log"
RP=$SERVER_PORT
start_server spinel "$WORK/spinel.log"
SP=$SERVER_PORT
echo "redis-server on $RP, spinel on $SP"
FAILED=0

fail() {
    echo "FAIL: $*"
    FAILED=1
}

# same NAME CMD...: runs CMD with "-p PORT" appended for each server, stdin from $IN (default
# nothing); outputs must be equal.
same() {
    local name=$1
    shift
    "$@" -p "$RP" <"${IN:-/dev/null}" >"$WORK/$name.redis" 2>&1 || true
    "$@" -p "$SP" <"${IN:-/dev/null}" >"$WORK/$name.spinel" 2>&1 || true
    if diff -u "$WORK/$name.redis" "$WORK/$name.spinel" >"$WORK/$name.diff"; then
        echo "ok   $name ($(wc -l <"$WORK/$name.redis") lines)"
    else
        fail "$name: redis-cli output differs (- redis, + spinel):"
        head -n 40 "$WORK/$name.diff"
    fi
}

# cli_both ARGS...: the same redis-cli command on both servers, output discarded.
cli_both() {
    redis-cli -p "$RP" "$@" >/dev/null
    redis-cli -p "$SP" "$@" >/dev/null
}

cat >"$WORK/session.txt" <<'CMDS'
FLUSHALL
PING
PING "hello world"
SET greeting "hello world"
GET greeting
APPEND greeting "!"
STRLEN greeting
GETRANGE greeting 0 4
SET counter 10
INCR counter
INCRBY counter -3
INCRBYFLOAT counter 1.5
MSET a 1 b 2 c 3
MGET a b c missing
EXISTS a b missing
DEL a b
TYPE greeting
TYPE missing
EXPIRE greeting 100
TTL greeting
PERSIST greeting
TTL greeting
SETEX temp 100 "x y"
GETEX temp PERSIST
LCS greeting temp
SELECT 1
SET indb1 yes
DBSIZE
SELECT 0
DBSIZE
ECHO "quoted \"text\" and \\ backslash"
SET bin "\x00\x01\xff"
GET bin
NOSUCHCOMMAND arg
SET
GET a b c
MULTI
INCR counter
GET counter
EXEC
SCAN 0 MATCH nothing*
CMDS

echo "--- commands on stdin"
IN=$WORK/session.txt same session-raw redis-cli
IN=$WORK/session.txt same session-formatted redis-cli --no-raw
IN=$WORK/session.txt same session-resp3 redis-cli -3 --no-raw
IN=$WORK/session.txt same session-csv redis-cli --csv
IN=$WORK/session.txt same session-json redis-cli --json
same repeat redis-cli -r 5 INCR repeated
printf 'value from\nstdin' >"$WORK/stdin-value"
same stdin-arg sh -c "redis-cli -x SET fromstdin <'$WORK/stdin-value' \"\$@\" && redis-cli GET fromstdin \"\$@\"" sh
same exit-code sh -c 'redis-cli -e NOSUCHCOMMAND "$@"; echo "exit $?"' sh

echo "--- --pipe"
# 4000 SETs, 1000 INCRs and 10 INCRs that fail (user:1 is not an integer).
awk 'BEGIN {
    for (i = 0; i < 4000; i++) {
        k = "user:" i; v = "value:" i
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
    }
    for (i = 0; i < 1000; i++) printf "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n"
    for (i = 0; i < 10; i++) printf "*2\r\n$4\r\nINCR\r\n$6\r\nuser:1\r\n"
}' >"$WORK/pipe.resp"
cli_both FLUSHALL
for port in "$RP" "$SP"; do
    # redis-cli --pipe exits with 1 when some replies were errors, as here.
    out=$(redis-cli -p "$port" --pipe <"$WORK/pipe.resp" 2>&1) || true
    if [[ $out != *"errors: 10, replies: 5010"* ]]; then
        fail "--pipe on port $port: expected 'errors: 10, replies: 5010', got: $out"
    fi
    [[ $(redis-cli -p "$port" DBSIZE) == 4001 ]] || fail "DBSIZE after --pipe on port $port: $(redis-cli -p "$port" DBSIZE)"
    [[ $(redis-cli -p "$port" GET counter) == 1000 ]] || fail "counter after --pipe on port $port"
    [[ $(redis-cli -p "$port" GET user:3999) == value:3999 ]] || fail "user:3999 after --pipe on port $port"
done
echo "ok   --pipe: errors: 10, replies: 5010 on both, DBSIZE 4001"

echo "--- --scan"
same scan-all sh -c 'redis-cli --scan "$@" | sort' sh
same scan-pattern sh -c 'redis-cli --scan --pattern "user:1*" "$@" | sort' sh
same scan-quoted-pattern sh -c 'redis-cli --scan --quoted-pattern "\"user:?\"" "$@" | sort' sh
[[ $(wc -l <"$WORK/scan-quoted-pattern.spinel") == 10 ]] || fail "--scan --quoted-pattern listed $(wc -l <"$WORK/scan-quoted-pattern.spinel") keys, not 10"
[[ $(wc -l <"$WORK/scan-all.spinel") == 4001 ]] || fail "--scan listed $(wc -l <"$WORK/scan-all.spinel") keys, not 4001"
[[ $(sort -u "$WORK/scan-all.spinel" | wc -l) == 4001 ]] || fail "--scan listed duplicates"

echo "--- --bigkeys / --memkeys"
cli_both SET biggest "$(head -c 1000 /dev/zero | tr '\0' x)"
# The progress lines come in scan order (each server's hash order); the summary must match.
same bigkeys sh -c 'redis-cli --bigkeys "$@" | sed -n "/-------- summary -------/,\$p"' sh
grep -q "Biggest string found '\"biggest\"' has 1000 bytes" "$WORK/bigkeys.spinel" || fail "--bigkeys summary"
# MEMORY USAGE figures differ by design: check the tool runs and samples every key.
for port in "$RP" "$SP"; do
    out=$(redis-cli -p "$port" --memkeys 2>&1) || fail "--memkeys exited non-zero on port $port"
    [[ $out == *"Sampled 4002 keys in the keyspace!"* ]] || fail "--memkeys on port $port: $(tail -n 5 <<<"$out")"
done
echo "ok   --memkeys sampled 4002 keys on both"

if ((FAILED)); then
    echo "redis-cli smoke: FAILED"
    exit 1
fi
echo "redis-cli smoke: ok"
