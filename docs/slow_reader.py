#!/usr/bin/env python3
"""A peer that sends a lot and reads late, to make a server's send buffer fill.

    python3 docs/slow_reader.py app  HOST PORT   # 50,000 pipelined searches
    python3 docs/slow_reader.py echo HOST PORT   # 8 MB of bytes to echo

It sends from a thread and waits a second before reading, so the server's
answers pile up in the kernel's buffers; the server's --trace then shows the
interest switch (`modify fd=N interest=WRITE`) and the way back to READ.
Blocking sockets on purpose: this is the test peer, not the lesson.
"""
import json
import socket
import struct
import sys
import threading
import time

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def request(action, value):
    """One request, framed as libclient.py frames it."""
    content = json.dumps({"action": action, "value": value}, ensure_ascii=False).encode()
    header = json.dumps({"byteorder": sys.byteorder, "content-type": "text/json",
                         "content-encoding": "utf-8", "content-length": len(content)},
                        ensure_ascii=False).encode()
    return struct.pack(">H", len(header)) + header + content


if mode == "app":
    count = 50_000
    payload = request("search", "morpheus") * count
else:
    count = 8_000_000
    payload = bytes(i % 251 for i in range(count))

sock = socket.create_connection((host, port))
sender = threading.Thread(target=sock.sendall, args=(payload,))
sender.start()
time.sleep(1)  # read nothing yet

buf, got = b"", 0
while got < count:
    data = sock.recv(65536)
    if not data:
        sys.exit(f"server closed after {got} of {count}")
    if mode == "echo":
        got += len(data)
        continue
    buf += data  # (fine for a test; see the tutorial on why a server can't do this)
    while len(buf) >= 2:  # process_protoheader, process_jsonheader, content
        hdrlen = struct.unpack(">H", buf[:2])[0]
        if len(buf) < 2 + hdrlen:
            break
        clen = json.loads(buf[2:2 + hdrlen])["content-length"]
        if len(buf) < 2 + hdrlen + clen:
            break
        buf = buf[2 + hdrlen + clen:]
        got += 1
sender.join()
sock.close()
print(f"{mode}: got all {count} {'answers' if mode == 'app' else 'bytes'} back")
