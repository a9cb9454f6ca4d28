# SPDX-License-Identifier: GPL-2.0-only
"""Room faults: the fault suite. PID 1 alive, a clear log line, the status key, no fd growth.

A QEMU that misbehaves on cue (tests/local/fake-qemu, where a real QEMU cannot be made to fail at a
precise point), faults on the QMP path, xenstore lost, long values, no hvc2 for a restore, a full
/run.
"""
import os
import signal
import socket
import subprocess
import time

from runner import check, eq, test
from stubinit import Stubinit, guest_store

from .common import (BUILD, DOM0_QMP, GUEST, HERE, INSTRUMENTED, MACHINE, QEMU_KEYS, STATUS, Env,
                     dom0, fd_count, fd_list, fds_back_to, powered_off, qemu_down, qemu_env,
                     session_ends, wait_status)


FAKE = '/build-tests/fake-qemu'
# Long enough for the fake's flood under valgrind, short enough for the garbage case.
GREET = '8s' if INSTRUMENTED else '2s'


def fds_now(s):
    return fd_count(s.pid())


def fault_env(mode, extra=''):
    """stubinit with the misbehaving QEMU of tests/local/fake-qemu, told to misbehave @mode."""
    env = Env(guest=None)
    xsd = env.__enter__()
    guest_store(xsd, args=['-name', 'fault:' + mode, '-machine', 'pc'], consoles=())
    s = Stubinit(BUILD, xsd, cmdline='console=hvc0 stubinit.qemu=%s stubinit.on-qemu-exit=stay '
                 'stubinit.qemu-greeting-timeout=%s stubinit.qemu-extra= %s' % (FAKE, GREET, extra),
                 extra_binds={'/build-tests': HERE})
    s.start()
    return env, xsd, s


FAULTS = [
    # mode, the log line it must produce, the status error's start. "exit" and "flood" reach
    # running (the hot-plug watches are set up then); the others die before it.
    ('exit', r'device model died: QEMU killed by signal 9', 'QEMU killed by signal 9'),
    ('before-greeting', r'device model died: QEMU killed by signal 9',
     'QEMU killed by signal 9'),
    ('during-capabilities', r'monitor: permanent monitor closed: closed by QEMU',
     'QEMU killed by signal 9'),
    ('during-add-fd', r'monitor: permanent monitor closed: closed by QEMU',
     'QEMU killed by signal 9'),
    ('garbage', r'monitor: permanent monitor closed: malformed JSON',
     'QEMU did not greet on the permanent monitor within ' + GREET),
    ('flood', r'log: \d+ lines dropped while the log output was not draining|'
              r'device model died', 'QEMU killed by signal 9'),
]


@test
def faults_leave_pid1_alive_with_a_clear_report():
    baseline = {}
    for mode, line, error in FAULTS:
        env, xsd, s = fault_env('idle' if mode == 'exit' else mode)
        try:
            if mode in ('exit', 'flood'):
                wait_status(xsd, 'running', timeout=30)
                kids = s.children()
                eq(len(kids), 1, 'the fake QEMU as stubinit\'s only child')
                os.kill(int(kids[0]), signal.SIGKILL)
            s.wait_log(line, timeout=30)
            wait_status(xsd, 'qemu-died', timeout=30)
            err = xsd.read(STATUS + '/error')
            check(err.startswith(error), '%s: status error %r' % (mode, err))
            check(s.proc.poll() is None, '%s: PID 1 exited' % mode)
            # Faults that end in the same place leave the same fds: QEMU's are all gone.
            time.sleep(0.3)
            n = fds_now(s)
            group = mode in ('exit', 'flood')
            baseline.setdefault(group, n)
            eq(n, baseline[group], '%s: stubinit fds after the fault' % mode)
        finally:
            s.stop()
            env.__exit__()


@test
def faults_on_the_qmp_path():
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        s.wait_log(r"qmp: QEMU's session monitor connected")
        before = fd_list(s.pid())
        # Clients that drop mid-message, a thousand times.
        for _ in range(1000):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(s.root_path(DOM0_QMP))
            try:
                c.sendall(b'{"execute": "qmp_capab')
            except (BrokenPipeError, ConnectionResetError):
                pass  # stubinit already ended that session: as good a drop as any
            c.close()
        # A 2 MiB message: over the cap, the session ends, nothing reaches QEMU.
        q = dom0(s, timeout=20)
        q.cmd('qmp_capabilities', id=1)
        try:
            q.s.sendall(b'{"execute": "query-version", "arguments": {"x": "' + b'a' * (2 << 20)
                        + b'"}}\r\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # stubinit ended the session at the cap, before the rest was sent
        check(session_ends(q), 'a 2 MiB message did not end the session')
        q.close()
        s.wait_log(r'qmp: session \d+ ended: client message over the size cap')
        q = dom0(s)
        eq(q.cmd('qmp_capabilities', id=1).get('return'), {}, 'a session after the faults')
        q.close()
        fds_back_to(s.pid(), before, 'stubinit fds after 1000 dropped clients')
        # QEMU killed during a client session: the session ends, PID 1 reports it.
        q = dom0(s)
        q.cmd('qmp_capabilities', id=1)
        os.kill(s.qemu_pid(), signal.SIGKILL)
        check(session_ends(q), 'the session outlived QEMU')
        q.close()
        s.wait_log(r'device model died: QEMU killed by signal 9')
        wait_status(xsd, 'qemu-died')
        check(s.proc.poll() is None, 'PID 1 exited')
    finally:
        qemu_down(env, s, ptys)


@test
def fault_xenstore_lost_and_long_values():
    env = Env(guest=None)
    xsd = env.__enter__()
    # The largest value xenstore carries (4096 bytes) as one argument: read whole, passed on.
    long_arg = 'x' * 4000
    guest_store(xsd, args=GUEST[:7] + MACHINE + ['-name', long_arg], consoles=())
    s = Stubinit(BUILD, xsd, cmdline='console=hvc0 ' + QEMU_KEYS)
    s.start()
    try:
        wait_status(xsd, 'running', timeout=30)
        cmdline = open('/proc/%d/cmdline' % s.qemu_pid(), 'rb').read().split(b'\0')
        check(long_arg.encode() in cmdline, 'the 4000-byte argument did not reach QEMU whole')
        # xenstored goes away: PID 1 stays, and says so when it next writes its status.
        xsd.stop()
        s.wait_log(r'status: cannot write device-model/7/stubinit/stats', timeout=10)
        check(s.proc.poll() is None, 'PID 1 exited without xenstore')
    finally:
        s.stop()
        env.xsd.proc = None
        subprocess.run(['rm', '-rf', env.dir])


@test
def fault_missing_hvc2_for_a_restore():
    env = Env(guest=None)
    xsd = env.__enter__()
    guest_store(xsd, args=GUEST[:7] + ['-incoming', '$STUBDOM_RESTORE_INCOMING_ARG'] + MACHINE,
                consoles=(1, 3), restore=False)
    s = Stubinit(BUILD, xsd, cmdline='console=hvc0 ' + QEMU_KEYS)
    s.start()
    try:
        eq(powered_off(s, 10), -signal.SIGINT, 'unshare exit')
        s.wait_log(r'console: no /dev/hvc2 \(No such file or directory\): no restore stream possible')
        s.wait_log(r'dm-argv: \$STUBDOM_RESTORE_INCOMING_ARG is asked for \(a restore\), but '
                   r'there is no incoming stream fd')
        eq(xsd.read(STATUS + '/error'), "cannot build QEMU's command line", 'status error')
    finally:
        s.stop()
        env.__exit__()


@test
def fault_run_full():
    env = Env()
    xsd = env.__enter__()
    # A /run with room for nothing: stubinit finds it mounted and must say what failed.
    s = Stubinit(BUILD, xsd, pre_mounts=['mount -t tmpfs -o size=4k,nr_inodes=2 none "$R/run"'])
    s.start()
    try:
        eq(powered_off(s, 10), -signal.SIGINT, 'unshare exit')
        m = s.wait_log(r'(?:mkdir (/run/stubinit\S*)|cannot create the save file \S+): '
                       r'No space left on device')
        eq(xsd.read(STATUS + '/error'),
           'cannot create ' + (m.group(1) if m.group(1) else 'the save file'), 'status error')
    finally:
        s.stop()
        env.__exit__()
