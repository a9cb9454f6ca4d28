# SPDX-License-Identifier: GPL-2.0-only
"""Room qmp: dom0's QMP path.

libxl's sessions through stubinit's socket, the firewall (allow-list, negotiation, ids, events),
the reconnect marker, one connection to QEMU for every session, garbage, oversize, half-closed,
slow and stalled clients, and the save through console 1.
"""
import json
import os
import re
import socket
import time

from runner import check, eq, test
from stubinit import DOMID, Stubinit, guest_store

from .common import (BUILD, GUEST, INSTRUMENTED, MACHINE, QEMU_KEYS, STATUS, VALGRIND, Collector,
                     Env, Ptys, compact, dom0, fd_list, fds_back_to, orphans, qemu_down, qemu_env,
                     session_ends, wait_stats, wait_status)


@test
def qmp_libxl_shaped_session():
    env, xsd, s, ptys = qemu_env()
    try:
        s.wait_log(r'qmp: serving dom0\'s QMP on unix socket /run/stubinit/dom0-qmp.sock')
        wait_status(xsd, 'running', timeout=30)
        q = dom0(s)
        check('QMP' in q.greeting, 'greeting: %s' % q.greeting)
        for i, cmd in enumerate(['qmp_capabilities', 'query-version', 'query-cpus-fast', 'stop',
                                 'cont'], 1):
            r = q.cmd(cmd, id=i)
            eq(r.get('id'), i, '%s id' % cmd)
            check('return' in r, '%s: %s' % (cmd, r))
        eq(r['return'], {}, 'cont')
        # Compact, CRLF-terminated, and no event (STOP and RESUME happened) ever arrives.
        check(all(compact(line) for line in q.lines), 'not compact: %s' % q.lines)
        eq(q.events, [], 'events reached the client')
        # A command that is not libxl's is refused by stubinit, with its id; the session goes on.
        r = q.cmd('quit', id=99)
        eq(r.get('id'), 99, 'refusal id')
        check("command 'quit' is not allowed" in r['error']['desc'], 'refusal: %s' % r)
        eq(q.cmd('query-status', id=100)['return']['status'], 'running', 'QEMU alive')
        q.close()
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_sessions_back_to_back_and_no_fd_growth():
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        # QEMU's session monitor connected at its start: every session shares that one
        # connection, and no session adds an fd for good.
        s.wait_log(r"qmp: QEMU's session monitor connected")
        fds0 = fd_list(s.pid())
        for i in range(1000):
            q = dom0(s)
            check('QMP' in q.greeting, 'session %d: no greeting' % i)
            if i < 200:
                eq(q.cmd('qmp_capabilities', id=1).get('return'), {}, 'capabilities %d' % i)
            q.close()
        # The server is ready at once after the last session, and leaked nothing.
        q = dom0(s)
        q.close()
        fds_back_to(s.pid(), fds0, 'stubinit fds after 1000 sessions')
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_reconnect_marker():
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        # At the start: skipped, never forwarded (QEMU would reject the byte).
        q = dom0(s, marker=True)
        eq(q.cmd('qmp_capabilities', id=1).get('return'), {}, 'after a leading marker')
        eq(q.cmd('query-status', id=2).get('id'), 2, 'query-status')
        # In the middle: a new session, so a new greeting (on the same connection to QEMU).
        q.s.sendall(b'\x01')
        g = q.recv()
        check('QMP' in g, 'no new greeting after the marker: %s' % g)
        eq(q.cmd('qmp_capabilities', id=3).get('return'), {}, 'second capabilities')
        eq(q.cmd('query-version', id=4).get('id'), 4, 'second session works')
        q.close()
        s.wait_log(r'qmp: reconnect marker: new session')
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_sessions_share_one_qemu_connection():
    """Every dom0 session rides one connection to QEMU, which stubinit negotiates itself: QEMU
    7.2 corrupts its heap when a QMP client closes while its output is in flight (measured: a
    client that asks and closes at once crashes it within 30 s), and with a connection per
    session, libxl's sessions did that to QEMU on about one create in ten under emulated Xen."""
    env, xsd, s, ptys = qemu_env(extra='stubinit.qmp-allow=*')
    try:
        wait_status(xsd, 'running', timeout=30)
        qemu = s.qemu_pid()
        q = dom0(s)
        eq(q.greeting['QMP']['capabilities'], [], 'capabilities offered to the client')
        check('qemu' in q.greeting['QMP']['version'], 'greeting: %s' % q.greeting)
        # Before, twice, and with a capability: answered as QEMU answers them.
        r = q.cmd('query-status', id='early')
        eq((r.get('id'), r.get('error', {}).get('class')), ('early', 'CommandNotFound'),
           'a command before qmp_capabilities')
        r = q.cmd('qmp_capabilities', id=1, enable=['oob'])
        check('error' in r and 'oob' in r['error']['desc'], 'enable oob: %s' % r)
        eq(q.cmd('qmp_capabilities', id=2), {'return': {}, 'id': 2}, 'qmp_capabilities')
        r = q.cmd('qmp_capabilities', id=3)
        eq(r.get('error', {}).get('class'), 'CommandNotFound', 'a second qmp_capabilities')
        # A reply without an id asked for none; ids of any JSON type come back as they were.
        q.send('query-status')
        r = q.recv()
        check('id' not in r and r['return']['status'] == 'running', 'no id: %s' % r)
        eq(q.cmd('query-status', id={'a': [1, 'x']}).get('id'), {'a': [1, 'x']}, 'object id')
        q.close()
        # libxl's pattern at its worst: ask for something big, close before the reply.
        for i in range(100 if VALGRIND else 300):
            c = dom0(s)
            c.s.sendall(b'{"execute":"qmp_capabilities"}\r\n'
                        b'{"execute":"query-qmp-schema","id":7}\r\n')
            c.close()
        # The next session gets its own answer to id 7, never a departed session's schema. It
        # comes after stubinit has read and dropped every departed session's schema (about
        # 150 KB each): under memcheck that alone took over 20 s once, hence the longer bound.
        q = dom0(s, timeout=180 if INSTRUMENTED else 20)
        q.cmd('qmp_capabilities')
        r = q.cmd('query-status', id=7)
        eq((r.get('id'), r.get('return', {}).get('status')), (7, 'running'), 'reply to id 7')
        q.close()
        eq(s.qemu_pid(), qemu, 'QEMU pid after all those sessions')
        eq(len(re.findall(r"qmp: QEMU's session monitor connected", s.log())), 1,
           "connections to QEMU's session monitor")
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_garbage_and_oversize_end_the_session():
    env, xsd, s, ptys = qemu_env(extra='stubinit.qmp-max-message=64k stubinit.qmp-allow=*')
    try:
        wait_status(xsd, 'running', timeout=30)
        q = dom0(s, timeout=10)
        q.s.sendall(b'{"execute": tru}\r\n')
        check(session_ends(q), 'garbage did not end the session')
        s.wait_log(r'qmp: session \d+ ended: malformed JSON from the client')
        q.close()
        # QEMU's schema is larger than the cap: never forwarded; the command gets stubinit's
        # error instead, and the session goes on.
        q = dom0(s, timeout=10)
        q.cmd('qmp_capabilities', id=1)
        r = q.cmd('query-qmp-schema', id=2)
        eq(r.get('id'), 2, 'id of the refused reply')
        check("QEMU's reply was refused: over the size cap" in r['error']['desc'], str(r))
        check(all(len(line) < 65536 for line in q.lines), 'an oversized line got through')
        s.wait_log(r'qmp: a message from QEMU refused: over the size cap')
        eq(q.cmd('query-status', id=3)['return']['status'], 'running', 'the session goes on')
        q.close()
        # And the next session is as good as new.
        q = dom0(s)
        eq(q.cmd('qmp_capabilities', id=1).get('return'), {}, 'next session')
        q.close()
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_half_closed_and_slow_clients():
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        # Half-closed: everything asked before the shutdown is answered, then the end.
        q = dom0(s)
        q.send('qmp_capabilities', id=1)
        q.send('query-version', id=2)
        q.s.shutdown(socket.SHUT_WR)
        eq(q.recv().get('id'), 1, 'reply 1 after half-close')
        eq(q.recv().get('id'), 2, 'reply 2 after half-close')
        check(session_ends(q), 'session did not end after the half-close was answered')
        q.close()
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_stalled_client_is_bounded():
    env, xsd, s, ptys = qemu_env(extra='stubinit.qmp-allow=*')
    try:
        wait_status(xsd, 'running', timeout=30)
        rss = lambda: int(re.search(r'stubinit-rss-kb=(\d+)',  # noqa: E731
                                    wait_stats(xsd)).group(1))
        rss0 = rss()
        # 100 requests whose replies (QEMU's schema, ~150 KB each) total ~15 MB, and a client
        # that reads none of them: only its own session may stall.
        slow = dom0(s)
        slow.cmd('qmp_capabilities', id=1)
        n = 100
        slow.s.sendall(b''.join(b'{"execute":"query-qmp-schema","id":%d}\r\n' % i
                                for i in range(2, n + 2)))
        # Meanwhile the loop serves everything else: status refreshes (eight, so that QEMU has
        # produced most of the 15 MB by the time we look), orphans are reaped.
        for _ in range(8):
            before = xsd.read(STATUS + '/stats')
            end = time.monotonic() + 10
            while xsd.read(STATUS + '/stats') == before:
                check(time.monotonic() < end, 'stats stopped while a client stalled')
                time.sleep(0.1)
        orphans(s, '(sleep 0.2; exit 5) & exit 0')
        s.wait_log(r'exited with status 5')
        # Bounded by the cap, not by what QEMU would send: 15 MB would show. (Under ASan its
        # quarantine of freed memory makes RSS say nothing about stubinit's buffers.)
        grown = rss() - rss0
        if not INSTRUMENTED:
            check(grown < 6 * 1024, 'stubinit grew by %d kB behind a stalled client' % grown)
        # Now it reads: every answer, in order, none lost.
        for i in range(2, n + 2):
            r = json.loads(slow.raw_line())
            if r.get('id') != i:
                eq(r.get('id'), i, 'reply order')
        slow.close()
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_client_that_never_reads_is_not_read():
    """stubinit's own answers count against the client's cap too: 8 MiB of commands it refuses
    (or answers itself), from a client that reads none of the answers, make stubinit stop reading
    that client once its answers pile up; they never grow the heap to match (they took it to 65 MB
    before)."""
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        rss = lambda: int(re.search(r'^VmRSS:\s+(\d+) kB',  # noqa: E731
                                    open('/proc/%d/status' % s.pid()).read(), re.M).group(1))
        rss0 = rss()
        c = dom0(s)
        c.cmd('qmp_capabilities', id=1)
        refused = b'{"execute":"quit","id":"%08d"}\r\n'
        c.s.settimeout(5)
        sent = 0
        try:
            while sent < (8 << 20):
                sent += c.s.send(b''.join(refused % (sent + i) for i in range(100)))
        except socket.timeout:
            pass
        # It stopped taking them long before 8 MiB: the kernel's buffers and the cap hold them.
        check(sent < (8 << 20), 'stubinit read all %d bytes of a client that reads nothing' % sent)
        grown = rss() - rss0
        if not INSTRUMENTED:
            check(grown < 6 * 1024, 'stubinit grew by %d kB behind a client that never reads'
                  % grown)
        # The loop serves everything else meanwhile.
        orphans(s, '(sleep 0.2; exit 6) & exit 0')
        s.wait_log(r'exited with status 6')
        c.close()
        q = dom0(s)
        eq(q.cmd('qmp_capabilities', id=1).get('return'), {}, 'the next session')
        q.close()
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_save_through_console1():
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        hvc1 = Collector(ptys.master[1])
        hvc1.start()
        q = dom0(s)
        q.cmd('qmp_capabilities', id=1)
        q.cmd('stop', id=2)
        states = []
        for n in range(2):
            if n == 1:
                # A second save of this life: dom0's file still holds the first, and a toolstack
                # without feature-repeated-save reads from its start. Refused, nothing sent.
                r = q.cmd('xen-save-devices-state', id=20, filename='/dev/fdset/1', live=False)
                desc = r.get('error', {}).get('desc', '')
                check('save refused' in desc and 'feature-repeated-save' in desc and
                      '(%d bytes)' % len(states[0]) in desc, 'second save: %s' % r)
                eq(r.get('id'), 20, 'the refusal answers its command')
                time.sleep(0.3)
                eq(hvc1.take(), b'', 'a refused save sends nothing to console 1')
                eq(os.path.getsize(s.root_path('/run/stubinit/save-state')), 0,
                   'the refused state is not kept')
                # The toolstack's flag, in the stubdomain's path, written by dom0 only.
                flag = '/local/domain/%d/feature-repeated-save' % DOMID
                xsd.write(flag, '1')
                xsd.chmod(flag, 'n0', 'r%d' % DOMID)
            r = q.cmd('xen-save-devices-state', id=10 + n, filename='/dev/fdset/1', live=False)
            t_return = time.monotonic()
            eq(r, {'return': {}, 'id': 10 + n}, 'save reply')
            m = s.wait_log(r'^\[\s*(\d+\.\d+)\] .*save: (\d+) bytes of device state reached '
                           r'console 1', count=n + 1)
            # stubinit logs on CLOCK_MONOTONIC, as time.monotonic() reads: the copy and its
            # drain were done before the return was sent.
            check(float(m.group(1)) <= t_return, 'return before the state reached console 1')
            size = int(m.group(2))
            end = time.monotonic() + 5
            got = b''
            while len(got) < size and time.monotonic() < end:
                got += hvc1.take()
                time.sleep(0.02)
            got += hvc1.take()
            eq(len(got), size, 'bytes on console 1')
            eq(got[:4], b'QEVM', 'each save starts with the device-state magic')
            states.append(got)
        # Exactly one state each time: no stale bytes, no hole from a shared offset.
        eq(len(states[0]), len(states[1]), 'two saves, two equal-sized states')
        # And the bytes are what QEMU writes: the same stopped VM saved to a plain file.
        q.ok('xen-save-devices-state', filename='/run/stubinit/qemu/direct', live=False)
        with open(s.root_path('/run/stubinit/qemu/direct'), 'rb') as f:
            eq(states[1], f.read(), 'console 1 bytes vs a direct save')
        q.close()
    finally:
        qemu_down(env, s, ptys)


@test
def qmp_save_without_console1_is_an_error_reply():
    env = Env(guest=None)
    xsd = env.__enter__()
    guest_store(xsd, args=GUEST[:7] + MACHINE, consoles=(2,))
    ptys = Ptys(ns=(2,))
    s = Stubinit(BUILD, xsd, cmdline='console=hvc0 ' + QEMU_KEYS, consoles=ptys.path)
    s.start()
    try:
        s.wait_log(r'console: no /dev/test-hvc1 \(No such file or directory\): no save stream possible')
        wait_status(xsd, 'running', timeout=30)
        q = dom0(s)
        q.cmd('qmp_capabilities', id=1)
        r = q.cmd('xen-save-devices-state', id=2, filename='/dev/fdset/1', live=False)
        eq(r.get('id'), 2, 'error reply id')
        check('did not reach console 1: console 1 is not open' in r['error']['desc'],
              'error: %s' % r)
        q.close()
    finally:
        qemu_down(env, s, ptys)
