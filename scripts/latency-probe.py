#!/usr/bin/env python3
"""Latency seen by a light client beside a benchmark load: one connection sends PING, waits for
the reply, sleeps INTERVAL ms, and repeats until SIGTERM/SIGINT; then prints
`p50 p99 p999 max count` in milliseconds on one line.

    scripts/latency-probe.py PORT [INTERVAL_MS]

A pipelined load's own latency is mostly queueing (with 50 connections x 16 requests in
flight, a request waits behind the other 799 however fast the server is); the probe shows
what a non-pipelined client gets, and so whether a background job (BGSAVE) stalls the server.
"""
import signal
import socket
import sys
import time

port = int(sys.argv[1])
interval = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.001
sock = socket.create_connection(("127.0.0.1", port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
samples = []
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
while running:
    start = time.perf_counter()
    sock.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = sock.recv(64)
        if not chunk:
            running = False
            break
        reply += chunk
    samples.append((time.perf_counter() - start) * 1000)
    time.sleep(interval)

samples.sort()
if not samples:
    print("0 0 0 0 0")
else:
    pick = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))]
    print("%.2f %.2f %.2f %.2f %d" % (pick(0.5), pick(0.99), pick(0.999), samples[-1], len(samples)))
