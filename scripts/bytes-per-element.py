#!/usr/bin/env python3
"""Memory per collection element, redis-server next to spinel: INFO used_memory (and process
RSS) growth after loading a case into a fresh server, divided by the elements loaded.

    scripts/bytes-per-element.py                          # every case, both servers
    scripts/bytes-per-element.py --cases hash5,stream     # some cases
    scripts/bytes-per-element.py --scale 0.1              # a tenth of every size (quick look)
    scripts/bytes-per-element.py --spinel /tmp/spinel-mem --port-range 27500-27999

Cases (sizes at --scale 1):
    hash5     1M hashes `h:%d`, fields f1..f5, 8-byte values       (per field; per hash)
    hash4     1M hashes `key:%012d`, 4 fields `field:%02d` = `val:%04d` (bytes-per-key.py's)
    intset    one set of the integers 0..1M-1 (past 512 members: hashtable in both)
    set4      1M sets `key:%012d` of 4 members `mem:%04d`              (bytes-per-key.py's)
    zset8     100k sorted sets `z:%d` of 8 members `m1`..`m8`, integer scores
    zset8f    the same with fractional scores (`1.5`, `2.25`, ...)
    stream    one stream, 1M `XADD s * f1 <8 bytes> f2 <8 bytes>`

Each server is started by this script for each case (`--save "" --appendonly no`) on a free
port of --port-range, loaded with pipelining, measured and stopped, so every figure comes from
a fresh process. B/elem is used_memory growth / elements; B/key the same per key; RSS is the
growth of the process's resident set (allocator pages, fragmentation) per element. ratio is
spinel / redis B/elem (below 1: spinel uses less). Standard library only.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

CASES = ["hash5", "hash4", "intset", "set4", "zset8", "zset8f", "stream"]


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

    def fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk

    def read_line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self.read_line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.fill()
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if line[:1] == b"-":
            raise RuntimeError(line.decode())
        return line[1:]

    def call(self, *args):
        self.sock.sendall(command(*args))
        return self.read()

    def pipeline(self, cmds):
        """Sends encoded commands in one write and reads one reply each."""
        self.sock.sendall(b"".join(cmds))
        for _ in cmds:
            self.read()


def info_field(conn, name):
    for line in conn.call("INFO", "memory").decode().splitlines():
        if line.startswith(name + ":"):
            return int(line.split(":")[1])
    raise KeyError(name)


def rss_bytes(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def port_free(host, port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) != 0


class Ports:
    """Hands out ports of a range that nothing listens on, never the same one twice."""

    def __init__(self, spec, host):
        first, last = (int(x) for x in spec.split("-"))
        if first <= 6379 <= last:
            sys.exit("--port-range must not include 6379")
        self.next, self.last, self.host = first, last, host

    def take(self):
        while self.next <= self.last:
            p = self.next
            self.next += 1
            if port_free(self.host, p):
                return p
        sys.exit("no free port left in the range")


class Server:
    """A redis-server or spinel process on a free port, stopped on exit."""

    def __init__(self, binary, ports, host):
        self.host = host
        self.log = tempfile.TemporaryFile()
        for _ in range(3):
            self.port = ports.take()
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--save", "", "--appendonly", "no"],
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            if self.wait_ready():
                return
            self.stop()
        sys.exit("%s did not start; last log:\n%s" % (binary, self.log_text()))

    def log_text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def wait_ready(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                c = Conn(self.host, self.port)
                if c.call("PING") == b"PONG":
                    c.sock.close()
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def batches(n, size):
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def load(conn, case, scale, batch):
    """Loads a case; returns (elements, keys)."""
    if case in ("hash5", "hash4", "set4"):
        keys = int(1_000_000 * scale)
        per = {"hash5": 5, "hash4": 4, "set4": 4}[case]
        for part in batches(keys, batch):
            cmds = []
            for i in part:
                if case == "hash5":
                    args = ["HSET", "h:%d" % i] + [x for j in range(1, 6) for x in ("f%d" % j, "v%07d" % (i % 10_000_000))]
                elif case == "hash4":
                    args = ["HSET", "key:%012d" % i] + [x for j in range(4) for x in ("field:%02d" % j, "val:%04d" % j)]
                else:
                    args = ["SADD", "key:%012d" % i] + ["mem:%04d" % j for j in range(4)]
                cmds.append(command(*args))
            conn.pipeline(cmds)
        return keys * per, keys
    if case == "intset":
        members = int(1_000_000 * scale)
        per_cmd = 100
        for part in batches(members // per_cmd + (members % per_cmd > 0), batch):
            cmds = []
            for c in part:
                lo, hi = c * per_cmd, min(members, (c + 1) * per_cmd)
                cmds.append(command("SADD", "s", *[str(n) for n in range(lo, hi)]))
            conn.pipeline(cmds)
        return members, 1
    if case in ("zset8", "zset8f"):
        keys = int(100_000 * scale)
        for part in batches(keys, batch):
            cmds = []
            for i in part:
                args = ["ZADD", "z:%d" % i]
                for j in range(1, 9):
                    score = "%d" % (j * 10) if case == "zset8" else repr(j + j / 4)
                    args += [score, "m%d" % j]
                cmds.append(command(*args))
            conn.pipeline(cmds)
        return keys * 8, keys
    if case == "stream":
        entries = int(1_000_000 * scale)
        for part in batches(entries, batch):
            conn.pipeline([command("XADD", "s", "*", "f1", "a%07d" % i, "f2", "b%07d" % i) for i in part])
        return entries, 1
    raise ValueError(case)


def measure(binary, case, a, ports):
    server = Server(binary, ports, a.host)
    try:
        conn = Conn(a.host, server.port)
        conn.call("FLUSHALL")
        used0, rss0 = info_field(conn, "used_memory"), rss_bytes(server.proc.pid)
        elements, keys = load(conn, case, a.scale, a.batch)
        used1, rss1 = info_field(conn, "used_memory"), rss_bytes(server.proc.pid)
        dbsize = int(conn.call("DBSIZE"))
        if dbsize != keys:
            sys.exit("%s %s: DBSIZE %d, expected %d" % (binary, case, dbsize, keys))
        conn.sock.close()
        return {
            "elem": (used1 - used0) / elements,
            "key": (used1 - used0) / keys,
            "rss": (rss1 - rss0) / elements,
            "elements": elements,
            "keys": keys,
        }
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port-range", default=os.environ.get("PORT_RANGE", "21000-21999"))
    p.add_argument("--spinel", default="target/release/spinel")
    p.add_argument("--redis", default=os.environ.get("REDIS_SERVER_BIN", "redis-server"))
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated, of: " + " ".join(CASES))
    p.add_argument("--servers", default="redis,spinel", help="redis, spinel or both")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every case's size")
    p.add_argument("--batch", type=int, default=1000, help="commands per pipelined write")
    a = p.parse_args()
    cases = a.cases.split(",")
    for c in cases:
        if c not in CASES:
            sys.exit("unknown case %s (cases: %s)" % (c, " ".join(CASES)))
    kinds = a.servers.split(",")
    binaries = {"redis": a.redis, "spinel": a.spinel}
    ports = Ports(a.port_range, a.host)

    print(
        "%-7s %9s %7s  %9s %9s %6s  %9s %9s  %8s %8s"
        % ("case", "elements", "keys", "redis", "spinel", "ratio", "redis", "spinel", "redis", "spinel")
    )
    print("%-7s %9s %7s  %9s %9s %6s  %9s %9s  %8s %8s" % ("", "", "", "B/elem", "B/elem", "", "B/key", "B/key", "RSS/el", "RSS/el"))
    for case in cases:
        r = {k: measure(binaries[k], case, a, ports) for k in kinds}
        first = r[kinds[0]]

        def col(kind, field, fmt="%9.1f"):
            if kind not in r or (field == "key" and first["keys"] == 1):
                return "%9s" % "-"
            return fmt % r[kind][field]

        ratio = "%6.2f" % (r["spinel"]["elem"] / r["redis"]["elem"]) if len(r) == 2 and r["redis"]["elem"] else "%6s" % "-"
        print(
            "%-7s %9d %7d  %s %s %s  %s %s  %s %s"
            % (
                case,
                first["elements"],
                first["keys"],
                col("redis", "elem"),
                col("spinel", "elem"),
                ratio,
                col("redis", "key"),
                col("spinel", "key"),
                col("redis", "rss", "%8.1f"),
                col("spinel", "rss", "%8.1f"),
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
