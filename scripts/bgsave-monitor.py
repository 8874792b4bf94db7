#!/usr/bin/env python3
"""scripts/bench-bgsave.sh's poller: every 50 ms, the server's memory (PSS of the server and
any forked child, shared pages counted once) and, with --saves, a BGSAVE whenever none is in
progress. Runs until SIGTERM/SIGINT, then prints `saves peak_kib` on one line.

    scripts/bgsave-monitor.py PORT PID [--saves]

One process with one connection: spawning redis-cli, awk and tr every 50 ms cost a saturated
server ~9 % of its throughput when they landed on its CPU, and delayed the load generator's
threads when they landed on the client's.
"""
import os
import signal
import socket
import sys
import time

port, pid = int(sys.argv[1]), int(sys.argv[2])
issue_saves = "--saves" in sys.argv[3:]
sock = socket.create_connection(("127.0.0.1", port))
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)


def command(*words):
    """Sends one command; returns its reply's payload (a bulk string's bytes, else the line)."""
    sock.sendall(b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words))
    buf = b""
    while b"\r\n" not in buf:
        buf += sock.recv(65536)
    head, _, rest = buf.partition(b"\r\n")
    if not head.startswith(b"$"):
        return head
    size = int(head[1:])
    while len(rest) < size + 2:
        rest += sock.recv(65536)
    return rest[:size]


def pss_kib(p):
    try:
        with open("/proc/%d/smaps_rollup" % p) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(p):
    try:
        with open("/proc/%d/task/%d/children" % (p, p)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


saves = peak = 0
while running:
    peak = max(peak, pss_kib(pid) + sum(pss_kib(c) for c in children(pid)))
    # INFO in both modes, so a run without saves pays for the same polling.
    info = command(b"INFO", b"persistence")
    if issue_saves and b"rdb_bgsave_in_progress:0" in info and command(b"BGSAVE").startswith(b"+"):
        saves += 1
    time.sleep(0.05)
print(saves, peak)
