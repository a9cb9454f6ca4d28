# SPDX-License-Identifier: GPL-2.0-only
"""Room vnc: the guest's display, QEMU's VNC relayed to dom0.

The relay's sessions and pixels, a viewer that reads nothing, and QEMU gone behind stalled QMP and
VNC clients.
"""
import json
import os
import re
import signal
import socket
import struct
import time

from rfb import PLACEHOLDER, Rfb, guest_screen, png
from runner import check, eq, test

from .common import (BUILD, INSTRUMENTED, STATUS, dom0, qemu_down, qemu_env, wait_stats,
                     wait_status)

DOM0_VNC = '/run/stubinit/dom0-vnc.sock'


@test
def vnc_display_relayed_to_dom0():
    """stubinit.vnc=1: QEMU serves VNC on its own unix socket, and a client of stubinit's socket
    (the unix transport; vchan in production) gets QEMU's RFB banner, a session, and the pixels
    of the guest's screen: SeaBIOS's text on the cirrus VGA. Sessions come one after another,
    and a client that leaves mid-stream costs nothing."""
    env, xsd, s, ptys = qemu_env(extra='stubinit.vnc=1')
    try:
        s.wait_log(r"vnc: serving the guest's display on unix socket " + DOM0_VNC)
        wait_status(xsd, 'running', timeout=30)
        check(re.search(r'-vnc none ', s.log()),
              'no -vnc in the logged command line')
        path = s.root_path(DOM0_VNC)
        c = Rfb(path)
        eq(c.banner, b'RFB 003.008\n', 'banner through stubinit')
        w, h, name = c.handshake()
        eq(name, 'QEMU (win)', 'the desktop name: QEMU and the guest name')
        rgb, n = guest_screen(c, 60)
        out = os.path.join(BUILD, 'local-vnc.png')
        with open(out, 'wb') as f:
            f.write(png(c.width, c.height, rgb))
        check(n > 1 and (c.width, c.height) != PLACEHOLDER,
              'the %dx%d screen (%s) is blank or QEMU\'s placeholder' % (c.width, c.height, out))
        # Leave in the middle of an update: the relay ends that session only.
        c.s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, c.width, c.height))
        c.close()
        s.wait_log(r'vnc: session 1 ended')
        for i in range(2, 5):
            c = Rfb(path)
            eq(c.banner, b'RFB 003.008\n', 'banner of session %d' % i)
            c.handshake()
            c.close()
        s.wait_log(r'vnc: session 4 ended')
        eq(xsd.read(STATUS + '/state'), 'running', 'status after the sessions')
    finally:
        qemu_down(env, s, ptys)


@test
def vnc_stalled_client_is_bounded():
    """A viewer that asks for 60 full screens (~70 MB of raw pixels) and reads none: stubinit
    holds at most its relay buffer, dom0's QMP goes on meanwhile, and every byte QEMU sent
    arrives, in order, once the viewer reads."""
    env, xsd, s, ptys = qemu_env(extra='stubinit.vnc=1')
    try:
        wait_status(xsd, 'running', timeout=30)
        rss = lambda: int(re.search(r'stubinit-rss-kb=(\d+)',  # noqa: E731
                                    wait_stats(xsd)).group(1))
        c = Rfb(s.root_path(DOM0_VNC))
        c.handshake()
        rgb, _ = guest_screen(c, 60)
        rss0 = rss()
        n = 60
        c.s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, c.width, c.height) * n)
        for _ in range(6):
            before = xsd.read(STATUS + '/stats')
            end = time.monotonic() + 10
            while xsd.read(STATUS + '/stats') == before:
                check(time.monotonic() < end, 'stats stopped while a viewer stalled')
                time.sleep(0.1)
        q = dom0(s)
        eq(q.cmd('qmp_capabilities', id=1).get('return'), {}, 'QMP beside a stalled viewer')
        eq(q.cmd('query-status', id=2)['return']['status'], 'running', 'QMP query-status')
        q.close()
        grown = rss() - rss0
        if not INSTRUMENTED:
            # one screen is 1.1 MB; the relay holds 64 KiB each way
            check(grown < 1024, 'stubinit grew by %d kB behind a stalled viewer' % grown)
        # Now it reads: whole, well-formed updates (a lost or doubled byte would put the RFB
        # framing out of step: an unknown message type or encoding); QEMU may merge requests.
        got = 0
        c.s.settimeout(5)
        try:
            while got < n:
                screen = c.screen()
                check(len(screen) == len(rgb), 'update %d: %d bytes of pixels, expected %d'
                      % (got + 1, len(screen), len(rgb)))
                got += 1
        except socket.timeout:
            pass
        check(got >= 1, 'no update arrived once the viewer read')
        c.close()
    finally:
        qemu_down(env, s, ptys)


def cpu_ms(pid):
    """User + system CPU time of @pid, in milliseconds."""
    f = open('/proc/%d/stat' % pid).read().rsplit(') ', 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1000 // os.sysconf('SC_CLK_TCK')


@test
def qemu_gone_behind_stalled_clients_costs_no_cpu():
    """QEMU dies while a QMP client and a viewer read nothing: QEMU's sockets hang up with unread
    bytes behind full buffers. A hang-up is reported whatever the epoll interest, so stubinit
    must stop watching them, not wake for them until the clients read (measured without that on
    the QMP path: 1990 ms of CPU in these 2 s). Then the clients read: what QEMU sent before it
    died still arrives, and the sessions end."""
    env, xsd, s, ptys = qemu_env(extra='stubinit.vnc=1 stubinit.qmp-allow=* '
                                       'stubinit.on-qemu-exit=stay')
    try:
        wait_status(xsd, 'running', timeout=30)
        q = dom0(s)
        q.cmd('qmp_capabilities', id=1)
        q.s.sendall(b''.join(b'{"execute":"query-qmp-schema","id":%d}\r\n' % i
                             for i in range(2, 42)))
        c = Rfb(s.root_path(DOM0_VNC))
        c.handshake()
        c.s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, c.width, c.height) * 20)
        time.sleep(3)  # QEMU fills both paths
        os.kill(s.qemu_pid(), signal.SIGKILL)
        s.wait_log(r'device model died: QEMU killed by signal 9')
        time.sleep(0.5)
        pid = s.pid()
        before = cpu_ms(pid)
        time.sleep(2)
        used = cpu_ms(pid) - before
        if not INSTRUMENTED:
            check(used < 200, 'stubinit used %d ms of CPU in 2 s with nothing to do' % used)
        # The clients read now: QMP's answers that were sent, then the end of the session.
        q.s.settimeout(10)
        got = 0
        try:
            while True:
                json.loads(q.raw_line())
                got += 1
        except Exception:
            pass
        check(got >= 1, 'none of the answers QEMU sent before it died arrived')
        c.s.settimeout(10)
        data = 0
        while True:
            chunk = c.s.recv(65536)
            if not chunk:
                break
            data += len(chunk)
        check(data > 65536, 'only %d bytes of the screens QEMU sent reached the viewer' % data)
        s.wait_log(r'vnc: session 1 ended')
        q.close()
        c.close()
    finally:
        qemu_down(env, s, ptys)
