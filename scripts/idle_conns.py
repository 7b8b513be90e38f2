#!/usr/bin/env python3
"""Idle cost of a server: open N connections, make one exchange on each (so
every connection has been through a read and a write), then let them sit.
Prints one JSON line: the server's RSS growth per connection, and its CPU
time while the connections sit idle.

Used by scripts/bench.sh; runs against 127.0.0.1 only."""
import argparse
import json
import os
import resource
import socket
import time

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=["echo", "app"], required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--pid", type=int, required=True)
parser.add_argument("--conns", type=int, required=True)
parser.add_argument("--server", required=True)
parser.add_argument("--idle-seconds", type=float, default=3.0)
args = parser.parse_args()

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

here = os.path.dirname(os.path.abspath(__file__))
if args.mode == "app":
    with open(os.path.join(here, "..", "proto", "tests", "data", "app-protocol.jsonl")) as f:
        vector = next(json.loads(line) for line in f if '"search-morpheus"' in line)
    request = bytes.fromhex(vector["request_hex"])
    response = bytes.fromhex(vector["response_hex"])
else:
    request = response = bytes(range(64))


def rss_kib():
    with open(f"/proc/{args.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds():
    with open(f"/proc/{args.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds():
    return len(os.listdir(f"/proc/{args.pid}/fd"))


def recv_exactly(sock, n):
    got = b""
    while len(got) < n:
        chunk = sock.recv(n - len(got))
        if not chunk:
            raise RuntimeError("server closed the connection")
        got += chunk
    return got


# One exchange first, so that what every server allocates once (a thread's
# read buffer, say) is in the baseline: what follows is the cost of a
# connection.
fds_before = open_fds()
warm = socket.create_connection(("127.0.0.1", args.port), timeout=10)
warm.sendall(request)
recv_exactly(warm, len(response))
warm.close()
settle = time.monotonic() + 5
while open_fds() > fds_before and time.monotonic() < settle:
    time.sleep(0.02)

base_rss, base_fds = rss_kib(), open_fds()
socks = []
deadline = time.monotonic() + 120
for _ in range(args.conns):
    s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(request)
    if recv_exactly(s, len(response)) != response:
        raise RuntimeError("wrong answer")
    socks.append(s)
    if time.monotonic() > deadline:
        raise RuntimeError("opening connections took too long")
# Every connection answered, so the server holds them all; wait (bounded)
# until its descriptor count says so too.
while open_fds() < base_fds + args.conns and time.monotonic() < deadline:
    time.sleep(0.05)
rss = rss_kib()
cpu_before = cpu_seconds()
time.sleep(args.idle_seconds)
idle_cpu = cpu_seconds() - cpu_before
print(json.dumps({
    "server": args.server,
    "mode": args.mode,
    "conns": args.conns,
    "rss_base_kib": base_rss,
    "rss_kib": rss,
    "kib_per_conn": round((rss - base_rss) / args.conns, 3),
    "idle_seconds": args.idle_seconds,
    "idle_cpu_seconds": round(idle_cpu, 3),
}))
for s in socks:
    s.close()
