#!/usr/bin/env python3
"""Hostile clients for the soak: every way a peer can misbehave, in a loop,
bounded in time. Runs against 127.0.0.1 only.

Kinds (each a thread keeping up to --per-kind sockets busy):
  garbage    random bytes; the app server must close (framing) or answer
  truncated  half a request, then close
  oversized  a header claiming a content-length above the server's limit;
             the server must close without waiting for the content
  slowloris  connect and send nothing; the idle timeout must close it
  reset      half a request, then an abortive close (SO_LINGER 0: RST)
  noread     pipelines requests and never reads, so the server's send
             buffer fills; closes after a while

Prints one JSON line of counts at the end. Exit status 0 unless the
driver itself failed."""
import argparse
import json
import os
import random
import socket
import struct
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--mode", choices=["echo", "app"], required=True)
parser.add_argument("--seconds", type=float, required=True)
parser.add_argument("--per-kind", type=int, default=20)
args = parser.parse_args()

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "proto", "tests", "data", "app-protocol.jsonl")) as f:
    REQUEST = bytes.fromhex(next(json.loads(l) for l in f if '"search-morpheus"' in l)["request_hex"])

end = time.monotonic() + args.seconds
counts = {}
lock = threading.Lock()


def count(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1


def connect():
    s = socket.create_connection(("127.0.0.1", args.port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_server(s, wait):
    """Whether the server closes within `wait` seconds (reading past any answer)."""
    s.settimeout(wait)
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            if not s.recv(65536):
                return True
    except (socket.timeout, ConnectionResetError):
        return False
    return False


def header(content_length, content_type="text/json"):
    h = json.dumps({"byteorder": "little", "content-type": content_type,
                    "content-encoding": "utf-8", "content-length": content_length}).encode()
    return struct.pack(">H", len(h)) + h


def garbage():
    s = connect()
    s.sendall(os.urandom(random.randint(1, 4096)))
    if args.mode == "app":
        # Random bytes break the framing almost always; a server that waits
        # for more is also right (the idle timeout ends it), so only count.
        count("garbage_closed" if closed_by_server(s, 2) else "garbage_waited")
    else:
        count("garbage")
    s.close()


def truncated():
    s = connect()
    s.sendall(REQUEST[: random.randint(1, len(REQUEST) - 1)])
    s.close()
    count("truncated")


def oversized():
    s = connect()
    s.sendall(header(2**40) + b"x")
    if args.mode == "app":
        count("oversized_closed" if closed_by_server(s, 5) else "oversized_NOT_CLOSED")
    else:
        count("oversized")
    s.close()


def slowloris():
    s = connect()
    count("slowloris_closed_by_idle_timeout" if closed_by_server(s, max(0.1, end - time.monotonic()))
          else "slowloris_held")
    s.close()


def reset():
    s = connect()
    s.sendall(REQUEST[: len(REQUEST) // 2])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    count("reset")


def noread():
    s = connect()
    s.setblocking(False)
    sent = 0
    stop = min(end, time.monotonic() + 3)
    while time.monotonic() < stop:
        try:
            sent += s.send(REQUEST * 64)
        except BlockingIOError:
            time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            break
    count("noread")
    s.close()


def run(kind):
    def loop():
        while time.monotonic() < end:
            try:
                kind()
            except OSError as e:
                count(f"{kind.__name__}_error_{type(e).__name__}")
                time.sleep(0.05)
    return loop


threads = [threading.Thread(target=run(k), daemon=True)
           for k in (garbage, truncated, oversized, slowloris, reset, noread)
           for _ in range(args.per_kind)]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=max(0.0, end - time.monotonic()) + 10)
print(json.dumps(dict(sorted(counts.items()))))
