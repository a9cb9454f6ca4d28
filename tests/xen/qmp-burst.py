# SPDX-License-Identifier: GPL-2.0-only
"""QMP sessions back to back through libxl's vchan-socket-proxy, as fast as a client can open them.

    python3 qmp-burst.py SOCKET COUNT

Each session connects to SOCKET (libxl's /var/run/xen/qmp-libxl-<guest>, served by
vchan-socket-proxy in client mode), waits for QEMU's greeting, negotiates, asks query-status,
reads the reply and closes; the next one connects at once. The proxy then closes its vchan and
opens it again within milliseconds, the quick reconnect that a server which reuses one ring can
mistake for the previous session (no greeting: libxl times out). Prints one line per failed
session and ends with "sessions N ok N failed slowest-greeting S".
"""
import json
import socket
import sys
import time

GREETING_TIMEOUT = 15.0


def lines(sock, deadline):
    buf = b""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield line
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete message")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("the proxy closed the connection")
        buf += chunk


def session(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        t0 = time.monotonic()
        it = lines(s, t0 + GREETING_TIMEOUT)
        greet = json.loads(next(it))
        if "QMP" not in greet:
            raise ValueError("first message is not a greeting: %.80r" % greet)
        waited = time.monotonic() - t0
        it = lines(s, time.monotonic() + GREETING_TIMEOUT)
        s.sendall(b'{"execute":"qmp_capabilities","id":1}\r\n'
                  b'{"execute":"query-status","id":2}\r\n')
        got = {}
        for line in it:
            msg = json.loads(line)
            if "id" in msg:
                got[msg["id"]] = msg
                if 2 in got:
                    break
        if "return" not in got.get(1, {}) or "status" not in got[2].get("return", {}):
            raise ValueError("replies: %.200r" % got)
        return waited
    finally:
        s.close()


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    ok = failed = 0
    slowest = 0.0
    for i in range(1, count + 1):
        try:
            slowest = max(slowest, session(path))
            ok += 1
        except Exception as e:  # every failure is reported, the burst goes on
            failed += 1
            print("session %d: %s: %s" % (i, type(e).__name__, e), flush=True)
    print("sessions %d ok %d failed slowest-greeting %.3f" % (ok, failed, slowest))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
