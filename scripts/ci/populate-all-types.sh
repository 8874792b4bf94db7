#!/usr/bin/env bash
# Fills the server on PORT with every type in every encoding (the dataset of the RDB fixtures
# and of the interop test): strings (int, embstr, raw, binary, empty), lists (one listpack
# node, many nodes, a plain node), sets (intset, hashtable), sorted sets (listpack, skiplist),
# hashes (listpack, hashtable), streams (deleted entries, a consumer group with pending
# entries and an idle consumer, an empty stream with a group), a TTL, a second database and
# a function library. Quicklist nodes and compression follow the server's own settings.
#   scripts/ci/populate-all-types.sh PORT
set -euo pipefail
PORT=$1
r() { redis-cli -p "$PORT" "$@" >/dev/null; }
big() { printf "%0${1}d" 0 | tr 0 "$2"; }

r set str:int 12345
r set str:neg -42
r set str:embstr "hello world"
r set str:raw "$(big 100 x)$(big 100 y)"
r set str:big 12345678901234567890
r set str:empty ""
printf 'SET str:bin "\\x00\\x01\\xff\\r\\n"\r\n' | redis-cli -p "$PORT" >/dev/null
r pexpireat str:embstr 4102444800000

r rpush list:lp a b c 1 2 -3
for i in $(seq 0 999); do echo "RPUSH list:big v$i"; done | redis-cli -p "$PORT" >/dev/null
r debug quicklist-packed-threshold 1000 || true
r rpush list:plain small "$(big 2000 p)" tail
r debug quicklist-packed-threshold 0 || true

r sadd set:int 1 2 3 -5 100000
r sadd set:str a b c
r sadd set:bigint $(seq 0 599)

r zadd zset:lp 1 a 2.5 b -inf c inf d
for i in $(seq 0 199); do echo "ZADD zset:skip $((i * 3))e-1 m$i"; done | redis-cli -p "$PORT" >/dev/null

r hset hash:lp f1 v1 f2 2
for i in $(seq 0 599); do echo "HSET hash:ht f$i v$i"; done | redis-cli -p "$PORT" >/dev/null
r hset hash:long f "$(big 100 z)"

r xadd stream:s 1-1 a 1 b 2
r xadd stream:s 1-2 a 3 b 4
r xadd stream:s 2-1 c 5
r xdel stream:s 1-2
r xgroup create stream:s g1 0
r xreadgroup group g1 alice count 1 streams stream:s '>'
r xgroup createconsumer stream:s g1 bob
r xadd stream:empty MAXLEN 0 5-5 x y
r xgroup create stream:empty g 0

redis-cli -p "$PORT" -n 5 set other db5 >/dev/null
r function load "#!lua name=mylib
redis.register_function('myfunc', function(keys, args) return 1 end)" || true
