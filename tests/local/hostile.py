# SPDX-License-Identifier: GPL-2.0-only
"""Room hostile: a QEMU that attacks stubinit (tests/local/hostile-qemu), one test per attack.

The fake runs where QEMU runs: stubinit's child, as QEMU's user, with no capabilities, on QEMU's
sockets and with QEMU's xenstore. Every test asserts, besides what the attack is about: PID 1
alive, its RSS within RSS_BOUND_KB, its fd count back where it was, and a dom0 QMP probe (a
session asking query-status) answered within PROBE_S during the attack and after it. stubinit
runs in a memory cgroup of 128 MiB (CGROUP_BYTES), as a stubdomain of libxl's default size would
hold it, except under ASan and valgrind, whose own memory would not fit it.
"""
import json
import os
import re
import socket
import time

from runner import check, eq, test
from stubinit import Stubinit, guest_store

from .common import (BUILD, HERE, INSTRUMENTED, STATUS, Env, MemCgroup, Ptys, dom0,
                     fd_count, wait_status)
from .hotplug import DM, command, wait_dm_state

HOSTILE = '/build-tests/hostile-qemu'
# stubinit's RSS at most, whatever the attack (the dynamic test build: about 5 MB at rest).
RSS_BOUND_KB = 16 * 1024
CGROUP_BYTES = 128 << 20
# A dom0 QMP probe's answer, at the latest (ASan and valgrind run stubinit many times slower).
PROBE_S = 5.0 if INSTRUMENTED else 1.0
DOM0_VNC = '/run/stubinit/dom0-vnc.sock'


class Hostile:
    """stubinit whose QEMU is the hostile fake, told to attack @mode."""

    def __init__(self, mode, extra='', consoles=None, **kw):
        self.env = Env(guest=None)
        self.xsd = self.env.__enter__()
        guest_store(self.xsd, args=['-name', 'hostile:' + mode, '-machine', 'pc'],
                    consoles=(1,) if consoles else ())
        self.cg = None if INSTRUMENTED else MemCgroup(CGROUP_BYTES)
        if self.cg is not None and not self.cg.path:
            self.cg = None
            raise AssertionError('no memory cgroup can be made here to hold stubinit to 128 MiB')
        self.s = Stubinit(BUILD, self.xsd, consoles=consoles,
                          cmdline='console=hvc0 stubinit.qemu=%s stubinit.on-qemu-exit=stay '
                                  'stubinit.qemu-extra= stubinit.stats-interval=0 %s'
                                  % (HOSTILE, extra),
                          extra_binds={'/build-tests': HERE},
                          cgroup=self.cg.procs() if self.cg else None, **kw)
        self.s.start()
        self.fds0 = None

    def running(self):
        # QEMU connects both monitors at its start: by "running" every fd of QEMU's is there.
        wait_status(self.xsd, 'running', timeout=30)
        time.sleep(0.2)
        self.fds0 = fd_count(self.s.pid())

    def rss_kb(self):
        st = open('/proc/%d/status' % self.s.pid()).read()
        return int(re.search(r'^VmRSS:\s+(\d+) kB', st, re.M).group(1))

    def hwm_kb(self):
        st = open('/proc/%d/status' % self.s.pid()).read()
        return int(re.search(r'^VmHWM:\s+(\d+) kB', st, re.M).group(1))

    def probe(self):
        """One dom0 session: greeting, qmp_capabilities, query-status; how long it took."""
        t0 = time.monotonic()
        q = dom0(self.s, timeout=PROBE_S + 5)
        try:
            eq(q.cmd('qmp_capabilities', id=1).get('return'), {}, 'probe: qmp_capabilities')
            eq(q.cmd('query-status', id=2).get('return', {}).get('status'), 'running',
               'probe: query-status')
        finally:
            q.close()
        took = time.monotonic() - t0
        check(took < PROBE_S, 'the dom0 probe took %.2f s (at most %.1f s)' % (took, PROBE_S))
        return took

    def probe_while(self, done, at_least=0.0):
        """Probes every 0.2 s until done() (and at least @at_least s); the slowest probe."""
        slowest, t0 = 0.0, time.monotonic()
        while not done() or time.monotonic() - t0 < at_least:
            check(time.monotonic() - t0 < 60, 'the attack never ended')
            slowest = max(slowest, self.probe())
            time.sleep(0.2)
        return slowest

    def said(self, pattern):
        return re.search(pattern, self.s.log()) is not None

    def survived(self, closed=0):
        """PID 1 alive, RSS within its bound, fds back where they were (but for @closed that the
        attack made stubinit close), and the probe."""
        check(self.s.proc.poll() is None, 'PID 1 exited')
        check(self.s.pid() > 1 and os.path.exists('/proc/%d' % self.s.pid()), 'PID 1 is gone')
        eq(self.xsd.read(STATUS + '/state'), 'running', 'status state')
        self.probe()
        if not INSTRUMENTED:
            rss, hwm = self.rss_kb(), self.hwm_kb()
            print('    stubinit after the attack: RSS %d kB, peak %d kB' % (rss, hwm))
            check(hwm < RSS_BOUND_KB, 'stubinit RSS peaked at %d kB (at most %d kB)'
                  % (hwm, RSS_BOUND_KB))
        # The probe's session ends as its client leaves: wait for that, not for a coincidence.
        end = time.monotonic() + 5
        while fd_count(self.s.pid()) != self.fds0 - closed and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.3)
        eq(fd_count(self.s.pid()), self.fds0 - closed, 'stubinit fds after the attack')

    def close(self):
        try:
            self.s.stop()
        finally:
            self.env.__exit__()
            if self.cg:
                self.cg.close()


def attack(mode, body, **kw):
    h = Hostile(mode, **kw)
    try:
        body(h)
    finally:
        h.close()


@test
def hostile_nulls_and_wrong_types_on_the_permanent_monitor():
    # {"event":null}, DEVICE_DELETED with data or device null, an object, a number; greetings
    # of the wrong shape; replies with null, string, negative and fractional ids; an error whose
    # desc is null. Each one a SIGSEGV of PID 1 before the typed accessors.
    def body(h):
        h.running()
        h.s.wait_log(r'hostile: null-fields sent')
        h.s.wait_log(r'monitor: event \{"event":"DEVICE_DELETED","data":\{"device":7\}\}')
        h.survived()
        check(not h.said(r'network: QEMU unplugged'), 'a malformed DEVICE_DELETED was acted on')
    attack('null-fields', body)


@test
def hostile_query_pci_replies_of_every_wrong_shape():
    # QEMU starts this path itself when it can write the command protocol's keys; here dom0
    # does. query-pci answers with an object for a list, a null qdev_id, slot 99, a function that
    # is a string, devices null, buses that are not objects, an error without a description; then
    # device_add fails without one.
    def body(h):
        h.running()
        for i in range(8):
            command(h.xsd, 'pci-ins', '0000:00:03.0@18,msitranslate=0,power_mgmt=0')
            eq(wait_dm_state(h.xsd, ('pci-insert-failed', 'pci-inserted')), 'pci-insert-failed',
               'pci-ins %d' % i)
            h.xsd.write(DM + '/state', '')
        h.s.wait_log(r"query-pci does not list pci-pt-00_03\.0: not found", count=6)
        h.s.wait_log(r"device_add: error without a description")
        h.survived()
    attack('query-pci', body, extra='stubinit.command-timeout=3s')


@test
def hostile_amplification_on_the_permanent_monitor():
    # 1 MiB of `{}` is 350,000 empty objects: 270 MB of json-c, had it been parsed.
    def body(h):
        h.running()
        h.probe_while(lambda: h.said(r'hostile: amplify-monitor sent'))
        h.s.wait_log(r'monitor: a message from QEMU refused: over the allocation budget', count=5)
        h.s.wait_log(r'monitor: a message from QEMU refused: over the size cap \(65536 bytes\)')
        h.survived()
    attack('amplify-monitor', body)


@test
def hostile_amplification_on_the_session_monitor():
    # A reply of 300,000 `{}` (900 KB, within qmp-max-message) to dom0's query-version.
    def body(h):
        h.running()
        q = dom0(h.s, timeout=20)
        q.cmd('qmp_capabilities', id=1)
        r = q.cmd('query-version', id=2)
        eq(r.get('id'), 2, 'id of the refused reply')
        check("QEMU's reply was refused: over the allocation budget" in
              r.get('error', {}).get('desc', ''), str(r)[:300])
        eq(q.cmd('query-status', id=3)['return']['status'], 'running', 'the session goes on')
        q.close()
        h.survived()
    attack('amplify-session', body)


@test
def hostile_event_flood():
    # Events as fast as QEMU can write them, for 3 s: the loop keeps serving dom0, and the log
    # says how many it held back instead of a line each.
    def body(h):
        h.running()
        slowest = h.probe_while(lambda: h.said(r'hostile: event-flood sent'), at_least=2)
        print('    slowest probe during the flood: %.3f s' % slowest)
        h.s.wait_log(r'monitor: events: \d+ more suppressed')
        h.survived()
    attack('event-flood', body)


@test
def hostile_stdout_flood_keeps_stubinit_own_lines():
    # Nobody reads the console while QEMU floods its stdout for 3 s: QEMU's lines fill their share
    # of the log buffer and the rest are dropped; stubinit's own warning, sent in the middle of
    # the flood, still has room.
    h = Hostile('stdout-flood', read_log=False, pipe_size=4096)
    try:
        h.running()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 4:
            h.probe()
            time.sleep(0.2)
        h.s.start_reader()
        h.s.wait_log(r'warn: monitor: a message from QEMU refused: over the size cap')
        h.s.wait_log(r'log: \d+ lines dropped while the log output was not draining')
        h.survived()
    finally:
        h.close()


@test
def hostile_xenstore_writes_through_the_filter():
    # What QEMU may do in xenstore (its state), what it may not (the vchan nodes dom0 trusts,
    # stubinit's status, the command protocol, a path with '..', introduce, /vm), a request over
    # the payload limit, a flood of refused writes and of connections.
    def body(h):
        ring = '/local/domain/5/device-model/7/qmp-vchan/ring-ref'
        h.xsd.write(ring, '42')
        h.xsd.chmod('/local/domain/5/device-model/7/qmp-vchan', 'n5', 'r0', recurse=True)
        h.running()
        slowest = h.probe_while(lambda: h.said(r'hostile: xenstore connections answered'))
        print('    slowest probe during the xenstore attack: %.3f s' % slowest)
        log = h.s.log()
        check(re.search(r'hostile: xenstore state ok OK', log), 'QEMU could not write its state')
        eq(h.xsd.read('/local/domain/5/device-model/7/state'), 'running', 'QEMU\'s state')
        check(re.search(r'hostile: xenstore domid ok 5', log), 'QEMU could not read its domid')
        for path in ('device-model/7/qmp-vchan/ring-ref',
                     '/local/domain/5/device-model/7/qmp-vchan/event-channel',
                     'device-model/7/stubinit/state', 'device-model/7/command',
                     'device-model/7/parameter'):
            check(re.search(r'hostile: xenstore write %s error EACCES' % re.escape(path), log),
                  'a write to %s was not refused' % path)
        check(re.search(r'hostile: xenstore write device-model/7/state/\.\./command error '
                        r'EINVAL', log), 'a path with .. was not refused as malformed')
        for what in ('rm', 'introduce', 'read vm'):
            check(re.search(r'hostile: xenstore %s error EACCES' % what, log),
                  '%s was not refused' % what)
        check(re.search(r'hostile: xenstore oversize closed', log), 'an oversized request passed')
        eq(h.xsd.read(ring), '42', 'the vchan ring-ref')
        eq(h.xsd.read(STATUS + '/state'), 'running', 'stubinit/state')
        check(not h.said(r'command: pci-ins'), 'a command QEMU wrote was run')
        m = re.search(r'hostile: xenstore connections answered (\d+) of (\d+)', log)
        check(m and int(m.group(1)) <= 16, 'connections beyond the limit answered: %s'
              % (m.group(0) if m else 'none'))
        h.s.wait_log(r'xenstore: refusals: \d+ more suppressed')
        h.s.wait_log(r'xenstore: refused a connection from pid \d+ \(QEMU is \d+; 16 of 16')
        h.survived()
    attack('xenstore', body)


@test
def hostile_path_swaps_come_to_nothing():
    # stubinit's directory is root's: QEMU can swap none of its sockets or its save file; what it
    # plants in its own directory (a "VNC socket" pointing at dom0's QMP socket) is never looked
    # at: the display goes through a socketpair handed to QEMU.
    def body(h):
        h.running()
        h.s.wait_log(r'hostile: paths planted')
        # (The monitors' sockets are gone once QEMU has connected: nothing there to swap.)
        for op, path, why in (('unlink', 'session.sock', 'No such file or directory'),
                              ('unlink', 'agent.sock', 'No such file or directory'),
                              ('unlink', 'xenstore.sock', 'Permission denied'),
                              ('unlink', 'save-state', 'Permission denied'),
                              ('rename', 'dom0-qmp.sock', 'Permission denied'),
                              ('symlink', 'evil', 'Permission denied'),
                              ('rename', 'save-state', 'Permission denied')):
            h.s.wait_log(r'hostile: paths %s /run/stubinit/%s refused %s'
                         % (op, re.escape(path), why))
        # A viewer: stubinit hands QEMU a connection (getfd, add_client), connects to nothing.
        v = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        v.connect(h.s.root_path(DOM0_VNC))
        h.s.wait_log(r'vnc: session 1 begins')
        # Were stubinit connected to dom0's QMP socket, that session would hold the server.
        h.probe()
        v.close()
        h.s.wait_log(r'vnc: session 1 ended')
        h.survived()
    attack('paths', body, extra='stubinit.vnc=1')


@test
def hostile_forged_and_late_ids():
    # Around every reply, replies with ids stubinit never gave, with none, and a duplicate: dom0
    # gets one reply per command, its own id on it, QEMU's real answer in it.
    def body(h):
        h.running()
        q = dom0(h.s, timeout=10)
        eq(q.cmd('qmp_capabilities', id='a').get('return'), {}, 'qmp_capabilities')
        for i in range(5):
            r = q.cmd('query-status', id={'n': i})
            eq(r, {'return': {'status': 'running'}, 'id': {'n': i}}, 'reply %d' % i)
        q.s.settimeout(1)
        try:
            extra = q.raw_line()
        except socket.timeout:
            extra = None
        eq(extra, None, 'a line more than was asked')
        q.close()
        h.survived()
    attack('forged-ids', body)


@test
def hostile_endless_greeting():
    # A greeting that never ends: refused at the monitor's cap, skipped, and QEMU killed when the
    # greeting bound passes; stubinit's memory never follows the stream.
    h = Hostile('endless-greeting', extra='stubinit.qemu-greeting-timeout=3s')
    try:
        h.s.wait_log(r'monitor: a message from QEMU refused: over the size cap')
        time.sleep(1)
        if not INSTRUMENTED:
            check(h.rss_kb() < RSS_BOUND_KB, 'RSS %d kB while QEMU greets for ever' % h.rss_kb())
        h.s.wait_log(r'QEMU did not greet on the permanent monitor within 3s', timeout=20)
        wait_status(h.xsd, 'qemu-died', timeout=20)
        check(h.s.proc.poll() is None, 'PID 1 exited')
    finally:
        h.close()


@test
def hostile_fds_passed_with_scm_rights():
    # 100 messages with 200 fds each on the monitors: stubinit reads with read(), so the kernel
    # closes them; none lands in stubinit's table.
    def body(h):
        h.running()
        h.s.wait_log(r'hostile: scm-rights sent')
        h.survived()
    attack('scm-rights', body)


@test
def hostile_deep_nesting():
    # 100,000 levels of [: refused by what they would cost, and skipped; then 40 levels, past
    # QMP_MAX_DEPTH: malformed, the permanent monitor ends; PID 1 and dom0's path go on.
    def body(h):
        h.running()
        h.s.wait_log(r'monitor: a message from QEMU refused: over the allocation budget')
        h.s.wait_log(r'monitor: permanent monitor closed: malformed JSON from QEMU')
        h.survived(closed=1)  # the permanent monitor's connection
    attack('deep', body)


def replies_refused(h, why):
    """A dom0 session whose query-version and query-name (answered by the hostile QEMU with what
    cannot reach dom0) each get stubinit's error saying @why, with the command's id."""
    h.running()
    q = dom0(h.s, timeout=10)
    q.cmd('qmp_capabilities', id=1)
    for i, cmd in ((2, 'query-version'), (3, 'query-name')):
        r = q.cmd(cmd, id=i)
        eq(r.get('id'), i, '%s id' % cmd)
        check(why in r.get('error', {}).get('desc', ''), str(r))
    return q


@test
def hostile_replies_that_are_not_utf8():
    # Bytes that are not UTF-8, and a surrogate written as bytes, in QEMU's replies: dom0 gets
    # stubinit's error for that command instead, and only UTF-8 ever.
    def body(h):
        q = replies_refused(h, 'not well-formed UTF-8')
        for line in q.lines:
            line.decode('utf-8')
        eq(q.cmd('query-status', id=4)['return']['status'], 'running', 'the session goes on')
        q.close()
        h.survived()
    attack('utf8', body, extra='stubinit.qmp-allow=*')


@test
def hostile_numbers_that_are_not_json():
    # NaN and 1e999 in QEMU's replies, and NaN in a client's command: json-c takes them and
    # would write them as NaN and Infinity, which are not JSON. dom0 gets stubinit's error for
    # those commands instead, never such a number, and the session goes on.
    def no_constants(name):
        raise AssertionError('%s reached dom0' % name)

    def body(h):
        q = replies_refused(h, 'not finite')
        r = q.call('query-status', {'a': float('nan')}, id=4)
        eq(r.get('id'), 4, 'id of the command with NaN')
        check('not finite' in r.get('error', {}).get('desc', ''), str(r))
        for line in q.lines:
            json.loads(line.decode('utf-8'), parse_constant=no_constants)
        h.s.wait_log(r"qmp: a reply of QEMU's has a number that is not finite: the client gets")
        h.s.wait_log(r'qmp: stubinit: a number that is not finite is not JSON')
        eq(q.cmd('query-status', id=5)['return']['status'], 'running', 'the session goes on')
        q.close()
        h.survived()
    attack('not-finite', body, extra='stubinit.qmp-allow=*')


@test
def hostile_error_without_description_is_a_failure():
    # add-fd answered {"error": {"class": null, "desc": null}}: a failure, never "running".
    h = Hostile('add-fd-null-desc')
    try:
        h.s.wait_log(r'add-fd of the save file into fdset 1 failed: error without a description',
                     timeout=30)
        eq(h.xsd.read(STATUS + '/error'),
           'add-fd of the save file into fdset 1 failed: error without a description',
           'status error')
        time.sleep(0.5)
        check(h.xsd.read(STATUS + '/state') != 'running', 'running after a failed add-fd')
        check(h.s.proc.poll() is None, 'PID 1 exited')
    finally:
        h.close()


@test
def hostile_held_save_reply_stays_in_its_session():
    # A save whose state (1 MiB) cannot reach console 1 (nobody reads it): its reply is held;
    # the client leaves; the next client's session gets its greeting and its own answers, never
    # the departed one's save reply, however the drain ends.
    def body(h, ptys):
        h.running()
        a = dom0(h.s, timeout=10)
        a.cmd('qmp_capabilities', id=1)
        a.send('stop', id=2)
        a.recv()
        a.send('xen-save-devices-state', id='saved', filename='/dev/fdset/1', live=False)
        # QEMU writes 1 MiB and answers; stubinit holds the answer while console 1 takes none.
        time.sleep(1)
        a.close()
        b = dom0(h.s, timeout=10)
        check('QMP' in b.greeting, 'the next session began with %s' % b.greeting)
        eq(b.cmd('qmp_capabilities', id=10).get('return'), {}, 'next session')
        h.s.wait_log(r'qmp: the held save reply is dropped: its session ended')
        h.s.wait_log(r'save: console 1 did not take the state within the bound', timeout=20)
        r = b.cmd('query-status', id=11)
        eq((r.get('id'), r.get('return', {}).get('status')), (11, 'running'),
           'the next session\'s own answer')
        check(all(b'saved' not in line for line in b.lines), 'the save reply leaked: %s'
              % b.lines)
        b.close()
        h.survived()
    ptys = Ptys(ns=(1,))
    h = Hostile('held-save', consoles=ptys.path, extra='stubinit.save-drain-timeout=3s')
    try:
        body(h, ptys)
    finally:
        h.close()
        ptys.close()
