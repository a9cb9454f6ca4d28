# SPDX-License-Identifier: GPL-2.0-only
"""Room qemu: QEMU under stubinit (real QEMU, TCG).

Its monitors and fdset 1, its deprivileging and seccomp, the save file, the restore stream through
hvc2, the legacy dmargs string, the policies when QEMU dies (crash-guest, poweroff, stay), the OOM
killer, the test key that kills it, a QEMU that never greets, a missing binary, dm-argv problems,
direct kernel boot from a kernel disk (an ext4 loop device at the test's /dev/xvdd), the
settings that name what only dom0 has (kernel, channel, gfx_passthru) refused.
"""
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time

from qmp import Qmp, migration_stream
from runner import Skip, check, eq, test
from stubinit import Stubinit, guest_store

from .common import (BUILD, GUEST, MACHINE, QEMU, QEMU_KEYS, STATUS, TEST_QMP, Env, MemCgroup,
                     fd_targets, powered_off, qemu_down, qemu_env, wait_status)


@test
def qemu_runs_with_its_monitors_and_fdset1():
    env, xsd, s, ptys = qemu_env()
    try:
        s.wait_log(r'console: /dev/test-hvc2 opened read-only and made raw; it was cooked')
        s.wait_log(r'console: /dev/test-hvc1 opened write-only and made raw')
        s.wait_log(r'QEMU command line: %s -chardev socket,id=stubinit-agent' % QEMU)
        s.wait_log(r'-serial /dev/test-hvc3 ')
        s.wait_log(r'monitor: QEMU greeted', timeout=30)
        wait_status(xsd, 'running', timeout=30)
        # fdset 1 is a regular file of stubinit's, visible to a QMP client.
        with Qmp(s.root_path(TEST_QMP)) as q:
            sets = q.ok('query-fdsets')
        eq([f['fdset-id'] for f in sets], [1], 'fdsets')
        check(sets[0]['fds'][0].get('opaque') == 'stubinit:save-state', 'opaque: %s' % sets)
        # QEMU got exactly stdin /dev/null, stdout+stderr to stubinit, and no fd 3 (no restore).
        qpid = s.qemu_pid()
        fds = fd_targets(qpid)
        check(fds[0].endswith('/dev/null'), 'QEMU fd 0: %s' % fds[0])
        check(fds[1].startswith('pipe:') and fds[1] == fds[2], 'QEMU fds 1, 2: %s' % fds)
        check(3 not in fds or 'test-hvc' not in fds[3], 'QEMU fd 3: %s' % fds.get(3))
        check(not any('test-hvc1' in t for t in fds.values()), 'QEMU holds hvc1')
        check(any('test-hvc1' in t for t in fd_targets(s.pid()).values()),
              'stubinit does not hold hvc1')
        # The hostile side runs deprivileged: its own user, no capabilities, no way back up,
        # under seccomp (-sandbox from stubinit.qemu-extra).
        st = open('/proc/%d/status' % qpid).read()
        check(re.search(r'^Uid:\s+65534\s+65534\s+65534\s+65534$', st, re.M), 'QEMU uid: ' + st)
        check(re.search(r'^Gid:\s+65534\s', st, re.M), 'QEMU gid')
        check(re.search(r'^CapEff:\s+0+$', st, re.M) and re.search(r'^CapPrm:\s+0+$', st, re.M),
              'QEMU capabilities')
        check(re.search(r'^NoNewPrivs:\s+1$', st, re.M), 'QEMU no_new_privs')
        check(re.search(r'^Seccomp:\s+2$', st, re.M), 'QEMU seccomp filter')
        s.wait_log(r'QEMU command line: .* -sandbox on,obsolete=deny,elevateprivileges=deny,'
                   r'spawn=deny,resourcecontrol=deny ')
        # stats for dom0, refreshed on the stats-interval period from QEMU's running on: the
        # first figures are a loaded QEMU's (before, they were read right after the fork)
        end = time.monotonic() + 10
        stats = ''
        while 'qemu-rss-kb=' not in stats or 'qemu-rss-kb=-1' in stats:
            check(time.monotonic() < end, 'no stats: %r' % stats)
            time.sleep(0.1)
            stats = xsd.read(STATUS + '/stats')
        rss = int(re.search(r'qemu-rss-kb=(\d+)', stats).group(1))
        check(rss > 8192, 'the first stats are not a loaded QEMU\'s: %s' % stats)
        check(re.search(r'qemu-rss-kb=[1-9]\d* qemu-cpu-ms=\d+ stubinit-rss-kb=[1-9]\d* '
                        r'stubinit-fds=[1-9]\d* mem-free-kb=\d+ mem-available-kb=\d+ uptime-s=\d+', stats), stats)
    finally:
        qemu_down(env, s, ptys)


@test
def qemu_without_seccomp_runs_without_sandbox():
    # Debian's qemu-system-xen has no seccomp and refuses -sandbox; so does this shell wrapper
    # (it holds no libseccomp), standing in for such a build.
    env, xsd, s, ptys = qemu_env(extra='stubinit.qemu=/usr/bin/qemu-system-i386')
    try:
        s.wait_log(r'QEMU /usr/bin/qemu-system-i386 has no seccomp support: it runs without '
                   r'-sandbox \(deprivileged all the same\)')
        wait_status(xsd, 'running', timeout=30)
        cmdline = s.wait_log(r'QEMU command line: (.*)').group(1)
        check('-sandbox' not in cmdline, '-sandbox on the command line: ' + cmdline)
    finally:
        qemu_down(env, s, ptys)


@test
def a_command_line_longer_than_a_log_line_says_what_it_left_out():
    # 60 more "-boot order=cda" (QEMU merges them) make the command line longer than one log
    # line: the line shows whole arguments, and how many of QEMU's real ones it left out.
    env, xsd, s, ptys = qemu_env(args=GUEST + MACHINE + ['-boot', 'order=cda'] * 60)
    try:
        wait_status(xsd, 'running', timeout=30)
        m = s.wait_log(r'QEMU command line: (.*) \.\.\. \((\d+) more arguments\)')
        argv = [a.decode() for a in
                open('/proc/%d/cmdline' % s.qemu_pid(), 'rb').read().split(b'\0')[:-1]]
        shown = m.group(1).split(' ')
        eq(shown, argv[:len(shown)], 'the arguments the log line shows')
        eq(int(m.group(2)), len(argv) - len(shown), 'the arguments it left out')
        check(len(m.group(0)) < 1024, 'the log line has %d bytes' % len(m.group(0)))
    finally:
        qemu_down(env, s, ptys)


@test
def save_lands_in_the_fdset_file():
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        with Qmp(s.root_path(TEST_QMP)) as q:
            q.ok('stop')
            q.ok('xen-save-devices-state', filename='/dev/fdset/1', live=False)
        with open(s.root_path('/run/stubinit/save-state'), 'rb') as f:
            data = f.read()
        check(len(data) > 1000, 'save file has %d bytes' % len(data))
        eq(data[:4], b'QEVM', 'device-state magic')
    finally:
        qemu_down(env, s, ptys)


@test
def restore_stream_through_hvc2_reaches_qemu_unchanged():
    stream = tempfile.mktemp(prefix='stubinit-stream-')
    # A real migration stream of the same machine: any byte the tty layer touched breaks it.
    migration_stream(QEMU, GUEST[:7] + ['-serial', 'null', '-device', 'cirrus-vga,vgamem_mb=8']
                     + MACHINE, stream)
    data = open(stream, 'rb').read()
    os.unlink(stream)
    check(b'\r' in data and b'\x03' in data and b'\n' in data, 'stream lacks tty-special bytes')
    args = GUEST[:7] + ['-serial', '/dev/hvc3', '-device', 'cirrus-vga,vgamem_mb=8',
                        '-incoming', '$STUBDOM_RESTORE_INCOMING_ARG'] + MACHINE
    env, xsd, s, ptys = qemu_env(args=args, restore=True)
    try:
        s.wait_log(r'config: guest 7 .*, restoring')
        s.wait_log(r'console: /dev/test-hvc2 opened read-only and made raw')
        s.wait_log(r'-incoming fd:3 ')
        s.wait_log(r'monitor: QEMU greeted', timeout=30)
        # While it waits for the stream, QEMU holds hvc2 as fd 3; stubinit let go of it.
        qpid = s.qemu_pid()
        check('test-hvc2' in fd_targets(qpid).get(3, ''), 'QEMU fd 3 is not hvc2')
        check(not any('test-hvc2' in t for t in fd_targets(s.pid()).values()),
              'stubinit still holds hvc2')
        m = ptys.master[2]
        view = memoryview(data)
        while view:
            n = os.write(m, view[:4096])
            view = view[n:]
        with Qmp(s.root_path(TEST_QMP)) as q:
            end = time.monotonic() + 30
            while q.ok('query-status')['status'] != 'running':
                check(time.monotonic() < end, 'QEMU never ran the restored state: '
                      + s.log()[-1500:])
                time.sleep(0.1)
        # Nothing came back out of console 2: no echo into dom0's file.
        os.set_blocking(m, False)
        try:
            echoed = os.read(m, 4096)
        except (BlockingIOError, OSError):
            # EAGAIN, or EIO once QEMU closed the slave: either way nothing is queued.
            echoed = b''
        eq(echoed, b'', 'echo from hvc2')
    finally:
        qemu_down(env, s, ptys)


@test
def legacy_dmargs_string_runs_qemu():
    env, xsd, s, ptys = qemu_env(dmargs=' '.join(GUEST + MACHINE))
    try:
        s.wait_log(r'config: 19 QEMU arguments from the legacy MiniOS string '
                   r'/vm/.*/image/dmargs \(no dm-argv\)')
        wait_status(xsd, 'running', timeout=30)
    finally:
        qemu_down(env, s, ptys)


@test
def qemu_killed_crash_guest_policy():
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        os.kill(s.qemu_pid(), signal.SIGKILL)
        s.wait_log(r'device model died: QEMU killed by signal 9')
        wait_status(xsd, 'qemu-died')
        eq(xsd.read(STATUS + '/error'), 'QEMU killed by signal 9 (Killed)', 'status error')
        # No Xen here, so the shutdown(crash) call itself fails; under Xen the guest crashes.
        s.wait_log(r'policy crash-guest: guest 7: xendevicemodel_open: ')
        s.wait_log(r'policy crash-guest: the stubdomain stays up')
        time.sleep(0.2)
        check(s.proc.poll() is None, 'PID 1 exited')
    finally:
        qemu_down(env, s, ptys)


@test
def qemu_oom_kill_is_named():
    cg = MemCgroup(192 << 20)
    if not cg.path:
        raise Skip('no writable memory cgroup on this kernel to make QEMU run out of memory')
    env = Env(guest=None)
    xsd = env.__enter__()
    # 512 MiB of guest RAM, all allocated up front, in a 192 MiB cgroup: the kernel's OOM killer
    # picks QEMU, as it does in a stubdomain whose stubdomain_memory is too small.
    guest_store(xsd, args=GUEST[:7] + ['-machine', 'pc,accel=tcg', '-m', '512', '-mem-prealloc'],
                consoles=())
    s = Stubinit(BUILD, xsd, cmdline='console=hvc0 stubinit.on-qemu-exit=stay ' + QEMU_KEYS,
                 cgroup=cg.procs())
    s.start()
    try:
        s.wait_log(r"device model died: the kernel's OOM killer ended QEMU: the stubdomain is "
                   r"short of memory \(raise stubdomain_memory\) \(QEMU killed by signal 9",
                   timeout=60)
        wait_status(xsd, 'qemu-died')
        check("OOM killer" in xsd.read(STATUS + '/error'), 'status error')
        check(s.proc.poll() is None, 'PID 1 exited')
    finally:
        s.stop()
        env.__exit__()
        cg.close()


@test
def test_key_kills_qemu_for_the_xen_tier():
    env, xsd, s, ptys = qemu_env(extra='stubinit.test-kill-qemu-after=300ms '
                                       'stubinit.on-qemu-exit=stay')
    try:
        s.wait_log(r'test-kill-qemu-after: killing QEMU \(pid \d+\) as the key asks')
        s.wait_log(r'device model died: QEMU killed by signal 9')
        wait_status(xsd, 'qemu-died')
    finally:
        qemu_down(env, s, ptys)


@test
def qemu_killed_poweroff_policy():
    env, xsd, s, ptys = qemu_env(extra='stubinit.on-qemu-exit=poweroff')
    try:
        wait_status(xsd, 'running', timeout=30)
        os.kill(s.qemu_pid(), signal.SIGKILL)
        eq(powered_off(s, 10), -signal.SIGINT, 'unshare exit')
        s.wait_log(r'device model died: QEMU killed by signal 9')
        s.wait_log(r'shutdown: QEMU killed by signal 9')
        eq(xsd.read(STATUS + '/error'), 'QEMU killed by signal 9 (Killed)', 'status error')
        eq(xsd.read(STATUS + '/state'), 'shutting-down', 'status state')
    finally:
        qemu_down(env, s, ptys)


@test
def qemu_killed_stay_policy():
    env, xsd, s, ptys = qemu_env(extra='stubinit.on-qemu-exit=stay')
    try:
        wait_status(xsd, 'running', timeout=30)
        # A crash, as a QEMU bug would end it (SIGTERM would be a clean exit with status 0).
        os.kill(s.qemu_pid(), signal.SIGSEGV)
        s.wait_log(r'device model died: QEMU killed by signal 11')
        s.wait_log(r'policy stay: the stubdomain stays up')
        wait_status(xsd, 'qemu-died')
        check(s.proc.poll() is None, 'PID 1 exited')
        check('crash-guest' not in s.log(), 'crash-guest applied')
    finally:
        qemu_down(env, s, ptys)


@test
def qemu_that_never_greets_times_out():
    fake = '#!/bin/sh\necho "fake qemu: stuck before its monitor" >&2\nexec sleep 1000\n'
    env, xsd, s, ptys = qemu_env(
        extra='stubinit.qemu=/fake-qemu stubinit.qemu-greeting-timeout=700ms '
              'stubinit.on-qemu-exit=stay', files={'/fake-qemu': (fake, 0o755)})
    try:
        s.wait_log(r'QEMU did not greet on the permanent monitor within 700ms; killing it')
        s.wait_log(r'device model died: QEMU did not greet on the permanent monitor within '
                   r'700ms \(QEMU killed by signal 9')
        s.wait_log(r"QEMU's last words: fake qemu: stuck before its monitor")
        wait_status(xsd, 'qemu-died')
        err = xsd.read(STATUS + '/error')
        check(err.startswith('QEMU did not greet'), 'status error: %r' % err)
    finally:
        qemu_down(env, s, ptys)


@test
def qemu_binary_missing():
    env, xsd, s, ptys = qemu_env(extra='stubinit.qemu=/no/such/qemu')
    try:
        s.wait_log(r'cannot execute /no/such/qemu: No such file or directory')
        wait_status(xsd, 'qemu-died')
        eq(xsd.read(STATUS + '/error'),
           'cannot execute /no/such/qemu: No such file or directory (QEMU exited with status '
           '127)', 'status error')
        s.wait_log(r'policy crash-guest: guest 7')
    finally:
        qemu_down(env, s, ptys)


@test
def dm_argv_missing():
    env = Env(guest=None)
    xsd = env.__enter__()
    guest_store(xsd, args=None)
    try:
        with Stubinit(BUILD, xsd) as s:
            eq(powered_off(s, 10), -signal.SIGINT, 'unshare exit')
            s.wait_log(r'config: neither /vm/\S+/image/dm-argv nor /vm/\S+/image/dmargs exists')
            check(xsd.read(STATUS + '/error').startswith('neither /vm/'), 'status error')
            s.wait_log(r'policy crash-guest: guest 7')
            s.wait_log(r'power off$')
    finally:
        env.__exit__()


@test
def dm_argv_garbled_key():
    env = Env(guest=None)
    xsd = env.__enter__()
    guest_store(xsd, args=['-m', '64'])
    with xsd.connect() as c:
        c.write('/vm/00000000-0000-0000-0000-00000000c0de/image/dm-argv/0x3', '-S')
    try:
        with Stubinit(BUILD, xsd, args=['--on-qemu-exit=stay']) as s:
            s.wait_log(r'config: /vm/\S+/image/dm-argv/0x3: key is not a distinct decimal '
                       r'argument number')
            s.wait_log(r'policy stay')
            check(s.proc.poll() is None, 'PID 1 exited')
    finally:
        env.__exit__()


# ---- direct kernel boot (Qubes: -append in dm-argv, the kernel on a disk at xvdd) -------------

def multiboot_kernel():
    """A flat multiboot kernel (the header's address fields, no ELF): it sets EAX to 0x5354 and
    halts, so QEMU's registers show that this kernel, from the disk, is what runs."""
    magic, flags, load = 0x1BADB002, 0x00010000, 0x100000
    hdr = struct.pack('<8I', magic, flags, -(magic + flags) & 0xffffffff, load, load, 0, 0,
                      load + 32)
    return hdr + b'\xb8\x54\x53\x00\x00\xfa\xf4\xeb\xfd'  # mov $0x5354,%eax; cli; hlt; jmp .-3


class KernelDisk:
    """An ext4 image with the given files on a read-only loop device, for the test's /dev/xvdd."""

    def __init__(self, files):
        self.dir = tempfile.mkdtemp(prefix='stubinit-kdisk-')
        top = os.path.join(self.dir, 'top')
        os.makedirs(top)
        for name, data in files.items():
            with open(os.path.join(top, name), 'wb') as f:
                f.write(data)
        img = os.path.join(self.dir, 'kernel.img')
        subprocess.run(['mkfs.ext4', '-q', '-F', '-d', top, img, '4M'], check=True,
                       stdout=subprocess.DEVNULL)
        self.loop = subprocess.run(['losetup', '-f', '--show', '-r', img], check=True,
                                   capture_output=True, text=True).stdout.strip()
        self.binds = ['touch "$R/dev/xvdd"', 'mount --bind %s "$R/dev/xvdd"' % self.loop]

    def close(self):
        subprocess.run(['losetup', '-d', self.loop])
        shutil.rmtree(self.dir)


@test
def direct_kernel_boot_from_the_kernel_disk():
    disk = KernelDisk({'vmlinuz': multiboot_kernel(), 'initramfs': b'a module\n'})
    env, xsd, s, ptys = qemu_env(args=GUEST + MACHINE + ['-append', 'console=ttyS0'],
                                 pre_mounts=disk.binds)
    try:
        s.wait_log(r'boot: /dev/xvdd mounted read-only \(ext4\) at /run/stubinit/kernel for '
                   r'direct kernel boot')
        s.wait_log(r'direct kernel boot: -kernel /run/stubinit/kernel/vmlinuz -initrd '
                   r'/run/stubinit/kernel/initramfs from /dev/xvdd')
        s.wait_log(r'QEMU command line: .*-append console=ttyS0 -kernel '
                   r'/run/stubinit/kernel/vmlinuz -initrd /run/stubinit/kernel/initramfs')
        wait_status(xsd, 'running', timeout=30)
        regs = ''
        end = time.monotonic() + 20
        with Qmp(s.root_path(TEST_QMP)) as q:
            while 'EAX=00005354' not in regs:
                check(time.monotonic() < end, 'the disk\'s kernel never ran: %s' % regs[:300])
                time.sleep(0.2)
                regs = q.call('human-monitor-command',
                              {'command-line': 'info registers'}).get('return', '')
    finally:
        qemu_down(env, s, ptys)
        disk.close()


@test
def direct_kernel_boot_without_a_kernel_is_named():
    # A disk without vmlinuz, then no disk at all: each error names the key and the disk, and
    # QEMU, which would refuse -append without -kernel, never starts.
    disk = KernelDisk({'README': b'no kernel here\n'})
    try:
        for binds, why in ((disk.binds, 'direct kernel boot: no file vmlinuz on '
                                        'stubinit.kernel-disk=/dev/xvdd (/run/stubinit/kernel)'),
                           ([], 'direct kernel boot: stubinit.kernel-disk=/dev/xvdd: No such '
                                'file or directory')):
            env, xsd, s, ptys = qemu_env(args=GUEST + MACHINE + ['-append', 'console=ttyS0'],
                                         pre_mounts=binds)
            try:
                s.wait_log(re.escape(why))
                end = time.monotonic() + 10
                while why not in (xsd.read(STATUS + '/error') if xsd.exists(STATUS + '/error')
                                  else ''):
                    check(time.monotonic() < end, 'status error: %s' % xsd.ls(STATUS))
                    time.sleep(0.1)
                check('QEMU command line' not in s.log(), 'QEMU was started')
            finally:
                qemu_down(env, s, ptys)
    finally:
        disk.close()


def qemu_device_list(drop=()):
    """This QEMU's -device drivers (names and aliases) as make image lists them for the image's
    QEMU (packaging/image/mkrootfs.py), less @drop: the file's text."""
    out = subprocess.run([QEMU, '-device', 'help'], capture_output=True, text=True,
                         check=True).stdout
    names = set()
    for m in re.finditer(r'^name "([^"]+)"(?:, bus [^,\n]+)?(?:, alias "([^"]+)")?', out, re.M):
        names.update(n for n in m.groups() if n)
    check({'ahci', 'cirrus-vga'} <= names, 'QEMU lacks ahci or cirrus-vga: %d names' % len(names))
    return ''.join(n + '\n' for n in sorted(names - set(drop)))


@test
def device_not_in_the_image_is_refused_before_qemu_starts():
    # An xl.cfg with hdtype = "ahci" against an image whose QEMU has no ahci: refused before QEMU
    # starts, the error naming the setting and the driver, the stubdomain powered off (a QEMU
    # started anyway would exit at once, its last words in the log and the guest crashed late).
    # With ahci in the list the same command line runs.
    args = GUEST + MACHINE + ['-device', 'ahci,id=ahci0']
    path = '/etc/qemu-devices'
    why = ("xl.cfg: hdtype = \"ahci\" needs QEMU device 'ahci', which this stubdomain's QEMU "
           "does not have (stubinit.qemu-devices=%s); QEMU not started" % path)
    for drop in (('ahci', 'ich9-ahci'), ()):
        env, xsd, s, ptys = qemu_env(args=args, extra='stubinit.qemu-devices=' + path,
                                     files={path: (qemu_device_list(drop), 0o644)})
        try:
            if drop:
                s.wait_log(re.escape(why))
                eq(powered_off(s, 10), -signal.SIGINT, 'unshare exit')
                eq(xsd.read(STATUS + '/error'), why, 'status error')
                s.wait_log(r'policy crash-guest: guest 7')
                check('monitor: QEMU greeted' not in s.log() and
                      'QEMU is running' not in s.log(), 'QEMU was started')
            else:
                wait_status(xsd, 'running', timeout=30)
                check('not have' not in s.log(), 'refused with ahci listed')
        finally:
            qemu_down(env, s, ptys)


@test
def dom0_only_settings_are_refused_before_qemu_starts():
    # xl.cfg settings whose arguments name what only dom0 has: a kernel file (kernel =), a
    # channel's chardev, the IGD bridge (gfx_passthru). Each is refused before QEMU starts, the
    # error naming the setting and the argument, the stubdomain powered off. The same kernel file
    # exists in the test's stubdomain: the refusal is of the setting, not of a failed open.
    cases = (
        (['-kernel', '/init'], "kernel", "-kernel /init",
         "a file in dom0, which QEMU in the stubdomain cannot open"),
        (['-chardev', 'socket,id=libxl-channel0,path=/tmp/ch0,server=on,wait=off'], "channel",
         "-chardev socket,id=libxl-channel0,path=/tmp/ch0,server=on,wait=off",
         "a channel end that would be the stubdomain's, out of dom0's reach"),
        (['-machine', 'xenfv,igd-passthru=on'], "gfx_passthru", "-machine xenfv,igd-passthru=on",
         "the host's IGD bridge, which the stubdomain does not have"),
    )
    for extra, setting, what, names in cases:
        why = ("xl.cfg: %s is not served by a stubdomain: '%s' names %s; QEMU not started"
               % (setting, what, names))
        env, xsd, s, ptys = qemu_env(args=GUEST + MACHINE + extra)
        try:
            s.wait_log(re.escape(why))
            eq(powered_off(s, 10), -signal.SIGINT, 'unshare exit')
            eq(xsd.read(STATUS + '/error'), why, 'status error')
            check('QEMU command line' not in s.log(), '%s: QEMU was started' % setting)
        finally:
            qemu_down(env, s, ptys)


# An audio helper as stubinit.audio-helper runs it (`<helper> <audio VM> <socket>`): it notes its
# arguments, binds the socket late and listens later still (stubinit must wait, not give up on a
# refused connection), and exits after its first connection, so stubinit restarts it. MODE never:
# it binds and never listens.
AUDIO_HELPER = """#!/usr/bin/python3
import socket, sys, time
open('/run/audio-helper.args', 'a').write(' '.join(sys.argv[1:]) + '\\n')
s = socket.socket(socket.AF_UNIX)
time.sleep(0.3)
s.bind(sys.argv[2])
time.sleep(0.2)
if '%s' != 'never':
    s.listen(1)
    s.accept()
    sys.exit(0)
time.sleep(1000)
"""
AUDIO_ARGS = GUEST + ['-device', 'intel-hda', '-device', 'hda-duplex', '-qubes-audio:audiovm_xid=3']
FAKE_QEMU = '#!/bin/sh\nexec sleep 1000\n'


@test
def qemu_audio_helper_for_qubes_audio():
    # QEMU here is a stand-in that never greets: what is checked is stubinit's side, the helper
    # and QEMU's command line (Debian's QEMU and the stubdomain's have no PulseAudio driver).
    # (without a helper the card plays into nothing: QEMU 9.0 and later refuse it with no backend)
    NO_AUDIO = ' -audiodev none,id=stubinit-audio'
    for mode, key in (('listen', '/audio-helper'), ('never', '/audio-helper'), ('', '')):
        env, xsd, s, ptys = qemu_env(
            args=AUDIO_ARGS + MACHINE,
            extra='stubinit.qemu=/fake-qemu stubinit.qemu-greeting-timeout=60s '
                  'stubinit.on-qemu-exit=stay stubinit.audio-wait=1500ms '
                  'stubinit.audio-helper=' + key,
            files={'/fake-qemu': (FAKE_QEMU, 0o755),
                   '/audio-helper': (AUDIO_HELPER % mode, 0o755)})
        try:
            cmd = s.wait_log(r'QEMU command line: .*').group(0)
            check('qubes' not in cmd, 'a Qubes argument reached QEMU: ' + cmd)
            if mode == 'listen':
                s.wait_log(r'audio: started /audio-helper 3 /run/stubinit/audio/native')
                s.wait_log(r'audio: the helper serves /run/stubinit/audio/native; QEMU plays '
                           r'into it')
                check(' -device intel-hda -device hda-duplex,audiodev=stubinit-audio ' in cmd and
                      cmd.endswith(' -audiodev pa,id=stubinit-audio,server=unix:/run/stubinit/'
                                   'audio/native,timer-period=1000,out.buffer-length=8000,'
                                   'in.latency=80000'), cmd)
                eq(os.stat(s.root_path('/run/stubinit/audio/native')).st_mode & 0o777, 0o666,
                   'the socket reachable for QEMU')
                # the helper exited after stubinit's connection: restarted, with its arguments
                s.wait_log(r'audio: the helper /audio-helper exited with status 0; restarting '
                           r'it in 1000 ms')
                s.wait_log(r'audio: started /audio-helper 3 ', count=2, timeout=5)
                end = time.monotonic() + 5
                while time.monotonic() < end:
                    with open(s.root_path('/run/audio-helper.args')) as f:
                        lines = f.read().splitlines()
                    if len(lines) == 2:
                        break
                    time.sleep(0.1)
                eq(lines, ['3 /run/stubinit/audio/native'] * 2, 'the helper\'s arguments')
            elif mode == 'never':
                s.wait_log(r'audio: the helper.s socket /run/stubinit/audio/native took no '
                           r'connection within 1500 ms \(stubinit.audio-wait\); QEMU starts '
                           r'without audio and the helper is stopped')
                s.wait_log(r'audio: the helper killed by signal 15')
                check(cmd.endswith(NO_AUDIO) and ' hda-duplex,audiodev=stubinit-audio ' in cmd, cmd)
            else:
                s.wait_log(r'audio: the guest.s intel-hda plays nowhere: '
                           r'-qubes-audio:audiovm_xid=3 asks for audio, and '
                           r'stubinit.audio-helper names no helper in this image')
                check(cmd.endswith(NO_AUDIO) and ' hda-duplex,audiodev=stubinit-audio ' in cmd, cmd)
        finally:
            qemu_down(env, s, ptys)
