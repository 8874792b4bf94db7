#!/usr/bin/env python3
"""Compares COMMAND INFO and COMMAND DOCS of every command Spinel implements with redis-server's.

    scripts/ci/command-docs-diff.py REDIS_PORT SPINEL_PORT [--host H] [--resp 2|3|both] [-v]

Starts nothing: both servers must already listen on 127.0.0.1 (or --host). The command names
come from Spinel's COMMAND LIST (subcommands included, as `config|get`); for each one the
COMMAND INFO and COMMAND DOCS replies of both servers are parsed (RESP2 and RESP3, from a raw
socket) and compared exactly, type by type, with one exception: the subcommands of a
container command, whose order Redis takes from iterating its subcommand dict (COMMAND INFO's
10th element, COMMAND DOCS's `subcommands` map), are compared as maps keyed by name.
Commands Redis does not know are listed as differences too. Subcommands Spinel does not
implement yet make their container differ, unless named with --missing-ok (then they are left
out of redis-server's replies while Spinel's COMMAND LIST lacks them).

Exit status: 0 all equal, 1 differences (printed, one block per command), 2 usage/connection.
"""

import argparse
import re
import socket
import sys


class Resp:
    """A minimal RESP2/RESP3 client over a raw socket, keeping every reply type."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2 :]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2 :]
        return data

    def read(self):
        """A reply as a (type, value) tree: containers hold lists of trees (maps: pairs)."""
        line = self._line()
        t, rest = chr(line[0]), line[1:]
        if t in "+-":
            return (t, rest)
        if t in ":(":
            return (t, int(rest))
        if t == ",":
            return (t, rest)
        if t == "#":
            return (t, rest == b"t")
        if t == "_":
            return (t, None)
        if t in "$=!":
            n = int(rest)
            return (t, None) if n < 0 else (t, self._exact(n))
        if t in "*~>":
            n = int(rest)
            return (t, None) if n < 0 else (t, [self.read() for _ in range(n)])
        if t in "%|":
            n = int(rest)
            return (t, [(self.read(), self.read()) for _ in range(n)])
        raise ValueError(f"unknown RESP type {line!r}")

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self.read()


def text(v):
    return v[1].decode("utf-8", "replace") if isinstance(v[1], bytes) else str(v[1])


def keyed(items, key_of):
    """A list of trees as a dict by name (for subcommand collections)."""
    out = {}
    for it in items:
        out[key_of(it)] = it
    return out


def diff(a, b, path, out, unordered_at):
    """Appends to `out` the differences between trees a (redis) and b (spinel)."""
    if a[0] != b[0]:
        out.append(f"{path}: type {a[0]!r} (redis) vs {b[0]!r} (spinel): {show(a)} vs {show(b)}")
        return
    t = a[0]
    if t in "%|":
        if unordered_at(path):
            da = {text(k): v for k, v in a[1]}
            db = {text(k): v for k, v in b[1]}
            diff_dicts(da, db, path, out, unordered_at)
            return
        ka = [text(k) for k, _ in a[1]]
        kb = [text(k) for k, _ in b[1]]
        if ka != kb:
            out.append(f"{path}: keys {ka} (redis) vs {kb} (spinel)")
            # Still compare the common keys to show what else differs.
        db = {text(k): v for k, v in b[1]}
        for k, v in a[1]:
            if text(k) in db:
                diff(v, db[text(k)], f"{path}.{text(k)}", out, unordered_at)
        return
    if t in "*~>":
        if a[1] is None or b[1] is None:
            if a[1] is not b[1]:
                out.append(f"{path}: {show(a)} (redis) vs {show(b)} (spinel)")
            return
        if unordered_at(path):
            # Subcommand info arrays: keyed by their name (first element).
            da = keyed(a[1], lambda it: text(it[1][0]) if it[0] == "*" and it[1] else show(it))
            db = keyed(b[1], lambda it: text(it[1][0]) if it[0] == "*" and it[1] else show(it))
            diff_dicts(da, db, path, out, unordered_at)
            return
        if len(a[1]) != len(b[1]):
            out.append(f"{path}: {len(a[1])} elements (redis) vs {len(b[1])} (spinel): {show(a)} vs {show(b)}")
            return
        for i, (x, y) in enumerate(zip(a[1], b[1])):
            diff(x, y, f"{path}[{i}]", out, unordered_at)
        return
    if a[1] != b[1]:
        out.append(f"{path}: {show(a)} (redis) vs {show(b)} (spinel)")


def diff_dicts(da, db, path, out, unordered_at):
    for k in sorted(set(da) - set(db)):
        out.append(f"{path}: {k} only in redis")
    for k in sorted(set(db) - set(da)):
        out.append(f"{path}: {k} only in spinel")
    for k in sorted(set(da) & set(db)):
        diff(da[k], db[k], f"{path}{{{k}}}", out, unordered_at)


def show(v, limit=300):
    s = plain(v)
    r = repr(s)
    return r if len(r) <= limit else r[:limit] + "..."


def plain(v):
    t, x = v
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    if t in "%|":
        return {plain(k): plain(w) for k, w in x}
    if isinstance(x, list):
        return [plain(e) for e in x]
    return x


def unordered_path(path):
    """Where Redis's order comes from a dict iteration: the subcommands of a command."""
    # COMMAND INFO x -> [ [name, arity, flags, first, last, step, acl, tips, keyspecs, subcmds] ]
    if re.search(r"INFO\[0\](\[9\]\{[^}]+\})*\[9\]$", path):
        return True
    # COMMAND DOCS x -> { x: { ..., subcommands: { name: docs } } } (RESP3; RESP2 replies are
    # normalized by sort_resp2_subcommands first)
    return path.endswith(".subcommands")


def sort_resp2_subcommands(v):
    """RESP2 flattens maps into arrays: sorts each `subcommands` name/docs pair list by name."""
    t, x = v
    if t != "*" or not x:
        return v
    x = [sort_resp2_subcommands(e) for e in x]
    for i in range(0, len(x) - 1, 2):
        if x[i] == ("$", b"subcommands") and x[i + 1][0] == "*" and x[i + 1][1]:
            pairs = [(x[i + 1][1][j], x[i + 1][1][j + 1]) for j in range(0, len(x[i + 1][1]) - 1, 2)]
            pairs.sort(key=lambda p: p[0][1] or b"")
            x[i + 1] = ("*", [e for p in pairs for e in p])
    return (t, x)


def drop_subcommands(v, what, drop):
    """redis-server's reply without the subcommands named in `drop` (a set of `a|b` names)."""
    if not drop:
        return v
    t, x = v
    if what == "INFO":
        # [[name, ..., subcommands]] -> filter element 9 of each command, recursively.
        if t not in "*~" or not x:
            return v
        out = []
        for cmd in x:
            if cmd[0] == "*" and cmd[1] and len(cmd[1]) > 9:
                subs = [s for s in cmd[1][9][1] or [] if not (s[0] == "*" and s[1] and text(s[1][0]) in drop)]
                cmd = ("*", cmd[1][:9] + [(cmd[1][9][0], subs)] + cmd[1][10:])
            out.append(cmd)
        return (t, out)
    # DOCS: any map (or RESP2 flat array) entry `subcommands` loses the dropped names.
    if t in "%|":
        return (t, [(k, drop_docs_subs(k, w, drop)) for k, w in x])
    if t == "*" and x:
        x = [drop_subcommands(e, what, drop) for e in x]
        for i in range(0, len(x) - 1, 2):
            if x[i] == ("$", b"subcommands"):
                x[i + 1] = drop_docs_subs(x[i], x[i + 1], drop)
        return (t, x)
    return v


def drop_docs_subs(k, w, drop):
    if k[1] != b"subcommands":
        return drop_subcommands(w, "DOCS", drop)
    if w[0] in "%|":
        return (w[0], [(n, d) for n, d in w[1] if text(n) not in drop])
    if w[0] == "*" and w[1]:
        pairs = [(w[1][j], w[1][j + 1]) for j in range(0, len(w[1]) - 1, 2)]
        return ("*", [e for n, d in pairs if text(n) not in drop for e in (n, d)])
    return w


def compare(redis, spinel, resp, missing_ok):
    """Differences per command name for one protocol version."""
    names_reply = spinel.call("COMMAND", "LIST")
    names = sorted(text(n).lower() for n in names_reply[1])
    drop = set(missing_ok) - set(names)
    result = {}
    for name in names:
        out = []
        for what in ("INFO", "DOCS"):
            a = redis.call("COMMAND", what, name)
            b = spinel.call("COMMAND", what, name)
            if what == "INFO" and a[1] and a[1][0][1] is None:
                out.append("unknown to redis-server")
                break
            a = drop_subcommands(a, what, drop)
            if what == "DOCS" and resp == "2":
                a, b = sort_resp2_subcommands(a), sort_resp2_subcommands(b)
            diff(a, b, f"RESP{resp} {what}", out, unordered_path)
        if out:
            result[name] = out
    return names, result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("redis_port", type=int)
    p.add_argument("spinel_port", type=int)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--resp", choices=["2", "3", "both"], default="both")
    p.add_argument("-v", "--verbose", action="store_true", help="list every compared command")
    p.add_argument(
        "--missing-ok",
        default="",
        help="comma-separated subcommands (`memory|stats`) Spinel may lack; they are ignored while it does",
    )
    p.add_argument("--max-lines", type=int, default=20, help="differences shown per command")
    o = p.parse_args()
    try:
        redis = Resp(o.host, o.redis_port)
        spinel = Resp(o.host, o.spinel_port)
    except OSError as e:
        print(f"cannot connect: {e}", file=sys.stderr)
        return 2
    protos = ["2", "3"] if o.resp == "both" else [o.resp]
    differing = {}
    names = []
    for proto in protos:
        if proto == "3":
            for c in (redis, spinel):
                r = c.call("HELLO", "3")
                if r[0] == "-":
                    print(f"HELLO 3 failed: {text(r)}", file=sys.stderr)
                    return 2
        missing_ok = [n.strip().lower() for n in o.missing_ok.split(",") if n.strip()]
        names, result = compare(redis, spinel, proto, missing_ok)
        for name, lines in result.items():
            differing.setdefault(name, []).extend(lines)
    for name in sorted(differing):
        lines = differing[name]
        print(f"== {name}: {len(lines)} difference(s)")
        for line in lines[: o.max_lines]:
            print(f"   {line}")
        if len(lines) > o.max_lines:
            print(f"   ... {len(lines) - o.max_lines} more")
    if o.verbose:
        print("compared: " + " ".join(names))
    print(f"{len(names)} commands compared (COMMAND INFO and COMMAND DOCS, RESP{'/'.join(protos)}), "
          f"{len(differing)} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
