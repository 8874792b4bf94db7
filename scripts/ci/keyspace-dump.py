#!/usr/bin/env python3
"""Prints a server's whole dataset in a canonical text form (one line per key, members of
sets/hashes/zsets sorted, stream entries, groups, consumers and pending entries without their
times), so that two servers' contents can be compared with diff.
   scripts/ci/keyspace-dump.py PORT [--dbs 16]"""
import socket, sys

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return self.read()

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t in (b"+",):
            return rest
        if t == b"-":
            raise RuntimeError(rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("unexpected reply %r" % line)

def q(b):
    return repr(b)[1:] if isinstance(b, bytes) else repr(b)

def main():
    port = int(sys.argv[1])
    dbs = 16
    c = Conn(port)
    out = []
    for db in range(dbs):
        c.cmd("SELECT", db)
        cursor, keys = b"0", []
        while True:
            cursor, batch = c.cmd("SCAN", cursor, "COUNT", 1000)
            keys += batch
            if cursor == b"0":
                break
        for key in sorted(set(keys)):
            t = c.cmd("TYPE", key).decode()
            ttl = c.cmd("PEXPIRETIME", key)
            head = "db%d %s %s ttl=%s" % (db, q(key), t, "yes" if ttl >= 0 else "no")
            if t == "string":
                body = q(c.cmd("GET", key))
            elif t == "list":
                body = " ".join(q(x) for x in c.cmd("LRANGE", key, 0, -1))
            elif t == "set":
                body = " ".join(q(x) for x in sorted(c.cmd("SMEMBERS", key)))
            elif t == "zset":
                r = c.cmd("ZRANGE", key, 0, -1, "WITHSCORES")
                body = " ".join("%s=%s" % (q(r[i]), r[i + 1].decode()) for i in range(0, len(r), 2))
            elif t == "hash":
                r = c.cmd("HGETALL", key)
                body = " ".join(sorted("%s=%s" % (q(r[i]), q(r[i + 1])) for i in range(0, len(r), 2)))
            elif t == "stream":
                entries = c.cmd("XRANGE", key, "-", "+")
                body = " ".join("%s{%s}" % (e[0].decode(), ",".join(q(x) for x in e[1])) for e in entries)
                info = c.cmd("XINFO", "STREAM", key)
                meta = dict(zip(info[0::2], info[1::2]))
                body += " last=%s maxdel=%s added=%s" % (meta[b"last-generated-id"].decode(), meta[b"max-deleted-entry-id"].decode(), meta[b"entries-added"])
                for g in c.cmd("XINFO", "GROUPS", key):
                    g = dict(zip(g[0::2], g[1::2]))
                    name = g[b"name"]
                    body += " group=%s last=%s read=%s" % (q(name), g[b"last-delivered-id"].decode(), g[b"entries-read"])
                    for cons in c.cmd("XINFO", "CONSUMERS", key, name):
                        cons = dict(zip(cons[0::2], cons[1::2]))
                        body += " consumer=%s pending=%s" % (q(cons[b"name"]), cons[b"pending"])
                    for p in c.cmd("XPENDING", key, name, "-", "+", 1000000):
                        body += " pel=%s/%s/%s" % (p[0].decode(), q(p[1]), p[3])
            else:
                body = "?"
            out.append(head + " " + body)
    print("\n".join(out))

main()
