#!/usr/bin/env python3
"""Replays a skewed (Zipf-like) key access trace as a cache would: GET, and SET on a miss.

The working set is larger than `maxmemory`, so the server must evict; the hit ratio shows how
well its policy keeps the hot keys. Run it against Spinel and redis-server with the same
arguments to compare eviction quality:

    scripts/replay-trace.py --port 7601 --policy allkeys-lru
    scripts/replay-trace.py --port 7602 --policy allkeys-lfu

The server is flushed, then `maxmemory` is set to its used_memory after the flush plus
`--budget` bytes (the same budget for both servers: a more compact server fits more keys).
The trace is deterministic for a given --seed. No dependencies beyond the standard library.
"""

import argparse
import bisect
import random
import socket
import sys


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError("unexpected reply %r" % line)

    def call(self, *args):
        self.send(*args)
        return self.read()


def info_field(conn, section, field):
    text = conn.call("INFO", section).decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    raise KeyError(field)


def zipf_trace(keys, requests, s, seed):
    rng = random.Random(seed)
    weights = [1.0 / (rank + 1) ** s for rank in range(keys)]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    # Ranks map to key ids in a random order, so hot keys are spread over the keyspace.
    ids = list(range(keys))
    rng.shuffle(ids)
    for _ in range(requests):
        rank = bisect.bisect_left(cumulative, rng.random() * total)
        yield ids[min(rank, keys - 1)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--policy", default="allkeys-lru")
    p.add_argument("--keys", type=int, default=200_000, help="distinct keys in the trace")
    p.add_argument("--requests", type=int, default=600_000)
    p.add_argument("--zipf", type=float, default=0.9, help="Zipf exponent (skew)")
    p.add_argument("--value-size", type=int, default=100)
    p.add_argument("--budget", type=int, default=8 << 20, help="bytes of maxmemory above the empty server's usage")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=float, default=0.2, help="share of the trace not counted in the steady-state ratio")
    a = p.parse_args()

    conn = Conn(a.host, a.port)
    conn.call("CONFIG", "SET", "maxmemory", "0")
    conn.call("FLUSHALL")
    conn.call("CONFIG", "SET", "maxmemory-policy", a.policy)
    base = info_field(conn, "memory", "used_memory")
    conn.call("CONFIG", "SET", "maxmemory", str(base + a.budget))
    conn.call("CONFIG", "RESETSTAT")

    value = b"v" * a.value_size
    warm = int(a.requests * a.warmup)
    hits = misses = steady_hits = steady_misses = 0
    for i, key_id in enumerate(zipf_trace(a.keys, a.requests, a.zipf, a.seed)):
        key = b"key:%012d" % key_id
        if conn.call("GET", key) is None:
            misses += 1
            if i >= warm:
                steady_misses += 1
            conn.call("SET", key, value)
        else:
            hits += 1
            if i >= warm:
                steady_hits += 1

    evicted = info_field(conn, "stats", "evicted_keys")
    used = info_field(conn, "memory", "used_memory")
    keys = conn.call("DBSIZE")
    conn.call("CONFIG", "SET", "maxmemory", "0")
    print(
        "policy=%s keys=%d requests=%d zipf=%.2f budget=%d hit_ratio=%.4f steady_hit_ratio=%.4f "
        "evicted=%d keys_held=%s used_memory_over_base=%d"
        % (
            a.policy,
            a.keys,
            a.requests,
            a.zipf,
            a.budget,
            hits / a.requests,
            steady_hits / max(1, steady_hits + steady_misses),
            evicted,
            keys.decode(),
            used - base,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
