#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A broken RTSP 'camera' on 127.0.0.1 for robustness tests.

Modes:
  garbage   answer every request with random bytes, then close
  stall     accept the TCP connection and never say anything
  describe  answer OPTIONS and DESCRIBE properly (H.264 SDP), then never
            answer anything else (SETUP stalls)

It listens on loopback only and exits by itself after --max-lifetime
seconds, so a test that dies leaves nothing behind for long.
"""

import argparse
import json
import os
import random
import selectors
import socket
import sys
import time

SDP = (
    "v=0\r\n"
    "o=- 1 1 IN IP4 127.0.0.1\r\n"
    "s=bad camera\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "t=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;"
    "sprop-parameter-sets=Z2QAKKy0A8ARPy4CIAAAAwAgAAAGUeMGVA==,aO88sA==\r\n"
    "a=control:track1\r\n")
REQ_CAP = 64 * 1024  # a client sending more without a request end is cut
GARBAGE_BYTES = 4096


def reply(method, cseq, url):
    if method == "OPTIONS":
        return ("RTSP/1.0 200 OK\r\nCSeq: %s\r\n"
                "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"
                % cseq)
    body = SDP
    return ("RTSP/1.0 200 OK\r\nCSeq: %s\r\nContent-Base: %s/\r\n"
            "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
            % (cseq, url, len(body), body))


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.stalled = False


def handle_requests(conn, mode, rng):
    """Answer the complete requests in conn.buf; False closes."""
    while b"\r\n\r\n" in conn.buf:
        head, conn.buf = conn.buf.split(b"\r\n\r\n", 1)
        if mode == "garbage":
            conn.sock.sendall(rng.randbytes(GARBAGE_BYTES))
            return False
        if conn.stalled:
            continue
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        method = parts[0] if parts else ""
        url = parts[1] if len(parts) > 1 else ""
        cseq = "0"
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            if k.strip().lower() == "cseq":
                cseq = v.strip()
        if method in ("OPTIONS", "DESCRIBE"):
            conn.sock.sendall(reply(method, cseq, url).encode())
        else:
            conn.stalled = True  # SETUP and later: silence
    return True


def serve(lsock, mode, deadline):
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    rng = random.Random(1)
    conns = {}
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            if key.data is None:
                sock, _ = lsock.accept()
                sock.setblocking(True)
                sock.settimeout(5)
                c = Conn(sock)
                conns[sock] = c
                sel.register(sock, selectors.EVENT_READ, c)
                continue
            c = key.data
            try:
                data = c.sock.recv(4096)
            except OSError:
                data = b""
            keep = bool(data)
            if keep and mode != "stall":
                c.buf += data
                try:
                    keep = handle_requests(c, mode, rng)
                except OSError:
                    keep = False
                if len(c.buf) > REQ_CAP:
                    keep = False
            if not keep:
                sel.unregister(c.sock)
                c.sock.close()
                del conns[c.sock]
    for sock in list(conns):
        sock.close()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("garbage", "stall", "describe"),
                   required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ready-file", default="")
    p.add_argument("--max-lifetime", type=float, default=300)
    a = p.parse_args(argv)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", a.port))
    lsock.listen(16)
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    sys.stderr.write("bad_rtsp: %s on 127.0.0.1:%d\n" % (a.mode, port))
    sys.stderr.flush()
    if a.ready_file:
        with open(a.ready_file + ".tmp", "w") as f:
            json.dump({"port": port, "pid": os.getpid(),
                       "mode": a.mode}, f)
        os.rename(a.ready_file + ".tmp", a.ready_file)
    try:
        serve(lsock, a.mode, time.monotonic() + a.max_lifetime)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
