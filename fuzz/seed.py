#!/usr/bin/env python3
"""Seeds fuzz/corpus/restore_payload with DUMP payloads of every key in an RDB file, as
produced by a real redis-server (default: tests/fixtures/rdb/redis-7.0.15.rdb).
   fuzz/seed.py [redis-server] [port] [rdb]"""
import os, shutil, socket, subprocess, sys, tempfile, time

server = sys.argv[1] if len(sys.argv) > 1 else "redis-server"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7611
here = os.path.dirname(os.path.abspath(__file__))
rdb = sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "..", "tests", "fixtures", "rdb", "redis-7.0.15.rdb")
out = os.path.join(here, "corpus", "restore_payload")
os.makedirs(out, exist_ok=True)
work = tempfile.mkdtemp()
shutil.copy(rdb, os.path.join(work, "dump.rdb"))
proc = subprocess.Popen([server, "--port", str(port), "--dir", work, "--save", ""], stdout=subprocess.DEVNULL)

def command(sock, *args):
    sock.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    f = sock.makefile("rb")
    line = f.readline()
    if line[:1] == b"$":
        n = int(line[1:])
        return None if n < 0 else f.read(n + 2)[:-2]
    if line[:1] == b"*":
        return [f.read(int(f.readline()[1:]) + 2)[:-2] for _ in range(int(line[1:]))]
    return line.strip()

try:
    for _ in range(100):
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.05)
    for db in range(16):
        command(sock, b"SELECT", str(db).encode())
        for key in command(sock, b"KEYS", b"*") or []:
            payload = command(sock, b"DUMP", key)
            name = "db%d-%s" % (db, key.decode(errors="replace").replace("/", "_").replace(":", "_"))
            with open(os.path.join(out, name), "wb") as fh:
                fh.write(payload)
finally:
    proc.terminate()
    proc.wait()
    shutil.rmtree(work, ignore_errors=True)
print("seeded", out)
