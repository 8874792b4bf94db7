#!/usr/bin/env bash
# Regenerates tests/fixtures/rdb/*.rdb: RDB files written by a real redis-server holding every
# type in every encoding (the contents are listed in crates/engine/src/persist/fixtures.rs).
#   scripts/ci/rdb-fixtures.sh [redis-server] [port] [output-name]
# Defaults: redis-server from PATH (7.0.15), port 7610, redis-<version>.rdb.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVER=${1:-redis-server}
PORT=${2:-7610}
VERSION=$("$SERVER" --version | sed -E 's/.*v=([0-9.]+).*/\1/')
OUT=${3:-redis-$VERSION.rdb}
WORK=$(mktemp -d)
trap 'redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$SERVER" --port "$PORT" --dir "$WORK" --save '' --appendonly no --daemonize yes \
    --logfile "$WORK/log" --list-max-listpack-size 16 --list-compress-depth 1 --enable-debug-command yes
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
scripts/ci/populate-all-types.sh "$PORT"
if [[ $VERSION == 7.4* || $VERSION == 8* ]]; then
    # Hash field TTLs (7.4): a listpack hash and a hashtable hash with one field that expires.
    redis-cli -p "$PORT" hset hash:ttl f1 v1 f2 v2 >/dev/null
    redis-cli -p "$PORT" hpexpireat hash:ttl 4102444800000 fields 1 f1 >/dev/null
    for i in $(seq 0 599); do echo "HSET hash:ttlbig f$i v$i"; done | redis-cli -p "$PORT" >/dev/null
    redis-cli -p "$PORT" hpexpireat hash:ttlbig 4102444800000 fields 1 f0 >/dev/null
fi
redis-cli -p "$PORT" save >/dev/null
cp "$WORK/dump.rdb" "tests/fixtures/rdb/$OUT"
echo "wrote tests/fixtures/rdb/$OUT"
