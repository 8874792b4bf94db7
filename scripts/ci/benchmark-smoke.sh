#!/usr/bin/env bash
# A short redis-benchmark run against Spinel: every test in SMOKE_TESTS with and without
# pipelining, plus a random-key run and a custom command. Checks that each test reports a rate,
# that no error comes back, and that the keyspace holds what the run wrote. Not a measurement
# (see scripts/bench.sh).
#
#   SMOKE_TESTS=ping,set,get,incr,mset scripts/ci/benchmark-smoke.sh
# Families add their redis-benchmark tests (lpush, sadd, hset, zadd, xadd...) to SMOKE_TESTS.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/servers.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spinel-bench-smoke.XXXXXX")
trap 'cleanup_servers; rm -rf "$WORK"' EXIT

SMOKE_TESTS=${SMOKE_TESTS:-ping,set,get,incr,mset}
start_server spinel "$WORK/spinel.log"
SP=$SERVER_PORT
FAILED=0

# expect_rates NAME EXPECTED_LINES OUTPUT_FILE
expect_rates() {
    local name=$1 want=$2 file=$3 got
    # Progress updates end in \r; keep the final lines only.
    tr '\r' '\n' <"$file" | grep "requests per second" >"$file.rates" || true
    got=$(wc -l <"$file.rates")
    if [[ $got != "$want" ]] || grep -qi "error" "$file"; then
        echo "FAIL: $name: expected $want result lines and no error, got:"
        cat "$file"
        FAILED=1
    else
        echo "ok   $name"
        sed 's/^/       /' "$file.rates"
    fi
}

# redis-benchmark prints one line per test; "ping" runs PING_INLINE and PING_MBULK.
lines=$(tr ',' '\n' <<<"$SMOKE_TESTS" | awk '$0 == "ping" { n += 2; next } { n++ } END { print n }')
for pipeline in 1 16; do
    out=$WORK/P$pipeline.txt
    redis-benchmark -p "$SP" -n 2000 -c 10 -P "$pipeline" -q -t "$SMOKE_TESTS" >"$out" 2>&1 || true
    expect_rates "-t $SMOKE_TESTS -P $pipeline" "$lines" "$out"
done
redis-benchmark -p "$SP" -n 2000 -c 10 -r 1000 -q -t set >"$WORK/random.txt" 2>&1 || true
expect_rates "-t set -r 1000" 1 "$WORK/random.txt"
redis-benchmark -p "$SP" -n 2000 -c 10 -q SETEX "bench:__rand_int__" 100 v >"$WORK/custom.txt" 2>&1 || true
expect_rates "custom command SETEX" 1 "$WORK/custom.txt"

keys=$(redis-cli -p "$SP" DBSIZE)
if ((keys < 2)); then
    echo "FAIL: DBSIZE after the runs is $keys"
    FAILED=1
fi
[[ $(redis-cli -p "$SP" EXISTS key:__rand_int__ counter:__rand_int__) == 2 ]] || {
    echo "FAIL: the keys redis-benchmark writes without -r are missing"
    FAILED=1
}
if ((FAILED)); then
    echo "redis-benchmark smoke: FAILED"
    exit 1
fi
echo "redis-benchmark smoke: ok ($keys keys written)"
