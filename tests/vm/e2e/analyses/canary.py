# SPDX-License-Identifier: LGPL-2.1-or-later
# A loopback echo service and its probe: "serve PORT" answers every line with "pong"; "probe PORT SECONDS"
# pings once every 50 ms over one connection and prints "count lost max_ms median_ms" (a ping left
# unanswered for 2 s counts as lost).
import socket
import sys
import time


def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4)
    while True:
        c, _ = s.accept()
        f = c.makefile("rwb", buffering=0)
        for _ in f:
            f.write(b"pong\n")
        c.close()


def connect(port):
    c = socket.create_connection(("127.0.0.1", port), timeout=2)
    return c, c.makefile("rwb", buffering=0)


def probe(port, seconds):
    lat, lost = [], 0
    c, f = connect(port)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        try:
            f.write(b"ping\n")
            ok = f.readline() == b"pong\n"
        except OSError:
            ok = False
        if ok:
            lat.append((time.monotonic() - t) * 1000)
        else:
            lost += 1
            c.close()
            c, f = connect(port)
        time.sleep(0.05)
    lat.sort()
    worst = round(lat[-1], 1) if lat else -1
    median = round(lat[len(lat) // 2], 1) if lat else -1
    print(len(lat) + lost, lost, worst, median)


if sys.argv[1] == "serve":
    serve(int(sys.argv[2]))
else:
    probe(int(sys.argv[2]), float(sys.argv[3]))
