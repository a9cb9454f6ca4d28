# SPDX-License-Identifier: GPL-2.0-only
"""What the local tier's rooms share.

The test xenstored with the keys libxl writes (Env), stubinit's end and status (powered_off,
wait_status), orphans in its PID namespace, QEMU under stubinit (qemu_env, qemu_down, Ptys,
fd_targets, the guest's arguments), dom0's QMP socket (dom0, compact, session_ends, fd_count,
fds_back_to), a memory cgroup for QEMU (MemCgroup) and dom0's side of console 1 (Collector). No
tests here.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

from qmp import Qmp
from runner import eq
from stubinit import DOMID, TARGET, Stubinit, guest_store, stubdom_store
from xsd import Xenstored

HERE = os.path.dirname(os.path.abspath(__file__))  # tests/local, fake-qemu's home
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get('BUILD', os.path.join(REPO, 'build'))
STATUS = '/local/domain/%d/device-model/%d/stubinit' % (DOMID, TARGET)
# The pass with stubinit under valgrind memcheck (make check runs it once).
VALGRIND = os.environ.get('STUBINIT_VALGRIND') == '1'
# The memory and timing checks that sanitizers and valgrind make meaningless.
INSTRUMENTED = VALGRIND or os.environ.get('SANITIZE') == '1'


# The smallest guest a TCG QEMU runs: for tests about stubinit itself, not about QEMU.
MINIMAL = ['-no-shutdown', '-nodefaults', '-no-user-config', '-name', 'g', '-display', 'none',
           '-machine', 'pc,accel=tcg', '-m', '32']


class Env:
    """A fresh test xenstored with the keys libxl writes for a stubdomain and its guest."""

    def __init__(self, target=TARGET, guest=MINIMAL):
        self.dir = tempfile.mkdtemp(prefix='stubinit-xsd-')
        self.xsd = Xenstored(os.path.join(BUILD, 'test-xenstored'), self.dir)
        self.target = target
        self.guest = guest

    def __enter__(self):
        self.xsd.start()
        stubdom_store(self.xsd, self.target)
        if self.target is not None and self.guest is not None:
            guest_store(self.xsd, args=self.guest, consoles=())
        return self.xsd

    def __exit__(self, *exc):
        self.xsd.stop()
        subprocess.run(['rm', '-rf', self.dir])


def powered_off(s, timeout=10):
    """PID 1's end: the namespace's init killed by SIGINT, as reboot(RB_POWER_OFF) does in a PID
    namespace. Memcheck has no reboot(2): there the failed call is the end."""
    if getattr(s, 'vg_log', None):
        s.wait_log(r'power off failed; staying up: Function not implemented', timeout)
        return -signal.SIGINT
    return s.wait_exit(timeout)


def wait_status(xsd, state, timeout=10):
    end = time.monotonic() + timeout
    got = None
    while time.monotonic() < end:
        try:
            got = xsd.read(STATUS + '/state')
        except Exception:
            got = None
        if got == state:
            return
        time.sleep(0.02)
    raise AssertionError('status state %r, expected %r' % (got, state))


def wait_stats(xsd, timeout=10):
    """The stats key: written from QEMU's running on, the first time a moment after the state."""
    end = time.monotonic() + timeout
    while True:
        try:
            return xsd.read(STATUS + '/stats')
        except Exception:
            if time.monotonic() > end:
                raise
        time.sleep(0.02)


def orphans(s, script):
    """Runs @script with sh inside stubinit's PID namespace; its background jobs are orphaned
    to stubinit when the shell exits."""
    r = s.in_ns('sh', '-c', script, capture=False)
    eq(r.returncode, 0, 'nsenter sh')


# ---- QEMU under stubinit (real QEMU, TCG) --------------------------------------------------------

QEMU = '/usr/libexec/qemu-system-i386'
# libxl 4.17's dm-argv for an HVM guest (protocol section 4), with the Xen-only arguments replaced
# so that a TCG QEMU runs: no -xen-domid, pc with TCG instead of xenfv, no disks or NICs.
GUEST = ['-no-shutdown', '-nodefaults', '-no-user-config', '-name', 'win', '-display', 'none',
         '-serial', '/dev/hvc3', '-device', 'cirrus-vga,vgamem_mb=8', '-boot', 'order=cda',
         '-smp', '2,maxcpus=2']
MACHINE = ['-machine', 'pc,accel=tcg,suppress-vmdesc=on', '-m', '64']
# The tests' own look into QEMU: a QMP server of QEMU's, beside the two monitors QEMU connects to
# stubinit with (those are stubinit's alone).
TEST_QMP = '/run/stubinit/qemu/test-qmp.sock'
QEMU_KEYS = ('stubinit.qemu=%s stubinit.stats-interval=500ms '
             'stubinit.qemu-extra="-qmp unix:%s,server=on,wait=off"' % (QEMU, TEST_QMP))


class Ptys:
    """Console ptys: stubinit gets the slave paths; the test keeps the masters."""

    def __init__(self, ns=(1, 2, 3)):
        self.master = {}
        self.path = {}
        for n in ns:
            m, s = os.openpty()
            self.master[n] = m
            self.path[n] = os.ttyname(s)
            os.close(s)

    def close(self):
        for m in self.master.values():
            os.close(m)


def qemu_env(args=GUEST + MACHINE, extra='', restore=False, dmargs=None, **kw):
    """A started Env + Stubinit running QEMU; returns (env, xsd, stubinit, ptys)."""
    env = Env(guest=None)
    xsd = env.__enter__()
    guest_store(xsd, args=args if dmargs is None else None, dmargs=dmargs, restore=restore)
    ptys = Ptys()
    s = Stubinit(BUILD, xsd, cmdline='console=hvc0 %s %s' % (QEMU_KEYS, extra),
                 consoles=ptys.path, **kw)
    s.start()
    return env, xsd, s, ptys


def qemu_down(env, s, ptys):
    s.stop()
    ptys.close()
    env.__exit__()


def fd_targets(pid):
    out = {}
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            out[int(fd)] = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            pass
    return out


# ---- a memory limit for QEMU, and dom0's side of a console ---------------------------------------

class MemCgroup:
    """A memory cgroup (v1 or v2) with a limit, or None where this kernel has none to give."""

    def __init__(self, limit):
        self.path = None
        for base, knob in (('/sys/fs/cgroup/memory', 'memory.limit_in_bytes'),
                           ('/sys/fs/cgroup', 'memory.max'),
                           ('/sys/fs/cgroup/unified', 'memory.max')):
            p = os.path.join(base, 'stubinit-test-%d' % os.getpid())
            try:
                os.mkdir(p)
            except OSError:
                continue
            try:
                with open(os.path.join(p, knob), 'w') as f:
                    f.write(str(limit))
                if knob == 'memory.limit_in_bytes':
                    with open(os.path.join(p, 'memory.memsw.limit_in_bytes'), 'a'):
                        pass
                self.path = p
                break
            except OSError:
                os.rmdir(p)

    def procs(self):
        return os.path.join(self.path, 'cgroup.procs')

    def close(self):
        if self.path:
            for _ in range(50):
                try:
                    os.rmdir(self.path)
                    return
                except OSError:
                    time.sleep(0.1)


class Collector(threading.Thread):
    """Reads a pty master (dom0's side of console 1) into a buffer."""

    def __init__(self, fd):
        super().__init__(daemon=True)
        self.fd = fd
        self.data = bytearray()
        self.lock = threading.Lock()

    def run(self):
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def take(self):
        with self.lock:
            d = bytes(self.data)
            self.data.clear()
            return d


# ---- dom0's QMP path -----------------------------------------------------------------------------

DOM0_QMP = '/run/stubinit/dom0-qmp.sock'


def dom0(s, **kw):
    return Qmp(s.root_path(DOM0_QMP), **kw)


def compact(line):
    """What stubinit sends: compact JSON, CRLF-terminated."""
    obj = json.loads(line)
    return line == (json.dumps(obj, separators=(',', ':')) + '\r\n').encode()


def fd_list(pid):
    """stubinit's fds as 'N -> target', without the /proc files the stats refresh holds for a
    moment (under valgrind a refresh lasts long enough to be caught) and, under valgrind, its own
    fds, which sit above the client's limit."""
    out = []
    for f in sorted(os.listdir('/proc/%d/fd' % pid), key=int):
        if VALGRIND and int(f) >= 900:
            continue
        try:
            # (seen from outside its root: /tmp/stubinit-root-*/proc/uptime)
            target = os.readlink('/proc/%d/fd/%s' % (pid, f))
        except OSError:
            continue  # closed meanwhile
        if '/proc/' not in target:
            out.append('%s -> %s' % (f, target))
    return out


def fd_count(pid):
    return len(fd_list(pid))


def fds_back_to(pid, before, what, timeout=5):
    """Waits until stubinit has as many fds as `before` (an fd_list) and asserts it, the verdict
    taken from the read that ended the wait, with the fds that differ named."""
    end = time.monotonic() + timeout
    fds = fd_list(pid)
    while len(fds) != len(before) and time.monotonic() < end:
        time.sleep(0.05)
        fds = fd_list(pid)
    eq(len(fds), len(before), '%s (new: %s; gone: %s)' % (
        what, sorted(set(fds) - set(before)), sorted(set(before) - set(fds))))


def session_ends(q):
    try:
        while True:
            q.raw_line()
    except ConnectionError:
        return True
    except socket.timeout:
        return False
