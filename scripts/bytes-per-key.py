#!/usr/bin/env python3
"""Measures memory per key: INFO used_memory growth after loading N string keys, divided by N.

    scripts/bytes-per-key.py --port 7601                 # 1M keys, 16-byte keys and values
    scripts/bytes-per-key.py --port 7601 --ttl 100000    # the same with a TTL on every key
    scripts/bytes-per-key.py --port 7601 --type hash     # small hashes: 4 fields of 8+8 bytes
    scripts/bytes-per-key.py --port 7601 --type set      # small sets: 4 members of 8 bytes

Keys are `key:%012d` (16 bytes), values `value:%010d` (16 bytes, not integers). Loading is
pipelined. The server is flushed first. Standard library only.
"""

import argparse
import socket
import sys


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.buf = b""

    def read_line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self.read_line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 20)
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if line[:1] == b"-":
            raise RuntimeError(line.decode())
        return line[1:]

    def call(self, *args):
        self.sock.sendall(command(*args))
        return self.read()


def used_memory(conn):
    for line in conn.call("INFO", "memory").decode().splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise KeyError("used_memory")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--keys", type=int, default=1_000_000)
    p.add_argument("--ttl", type=int, default=0, help="seconds of TTL on every key (0: none)")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--type", choices=["string", "hash", "set"], default="string")
    a = p.parse_args()
    conn = Conn(a.host, a.port)
    conn.call("CONFIG", "SET", "maxmemory", "0")
    conn.call("FLUSHALL")
    before = used_memory(conn)
    for start in range(0, a.keys, a.batch):
        n = min(a.batch, a.keys - start)
        cmds = []
        for i in range(start, start + n):
            key = "key:%012d" % i
            if a.type == "hash":
                args = ["HSET", key] + [x for j in range(4) for x in ("field:%02d" % j, "val:%04d" % j)]
            elif a.type == "set":
                args = ["SADD", key] + ["mem:%04d" % j for j in range(4)]
            else:
                args = ["SET", key, "value:%010d" % i]
            if a.ttl and a.type == "string":
                args += ["EX", str(a.ttl)]
            cmds.append(command(*args))
        conn.sock.sendall(b"".join(cmds))
        for _ in range(n):
            conn.read()
    after = used_memory(conn)
    dbsize = int(conn.call("DBSIZE"))
    print(
        "type=%s keys=%d ttl=%s used_memory_delta=%d bytes_per_key=%.1f"
        % (a.type, dbsize, a.ttl or "none", after - before, (after - before) / max(1, dbsize))
    )
    conn.call("FLUSHALL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
