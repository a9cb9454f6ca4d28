# SPDX-License-Identifier: GPL-2.0-only
"""Room boot: stubinit as PID 1, before and beside QEMU.

Mounts and capabilities, the module list, reaping orphans, SIGTERM and SIGPWR, the configuration
(kernel command line and options), a log nobody reads, the target domain, waiting for xenstore,
running as a subreaper, the static binary in an empty root, --version, --help and README's key
table.
"""
import os
import re
import signal
import subprocess
import tempfile
import time

from runner import check, eq, test
from stubinit import DOMID, TARGET, Stubinit

from .common import BUILD, INSTRUMENTED, REPO, STATUS, Env, orphans, powered_off, wait_status

# The version the Makefile built in (from git describe, or a release tarball's VERSION file).
with open(os.path.join(BUILD, 'version')) as _f:
    VERSION = _f.read().strip()


@test
def boots_as_pid1():
    with Env() as xsd, Stubinit(BUILD, xsd) as s:
        s.wait_log(r'stubinit %s starting as PID 1' % re.escape(VERSION))
        mounts = (('proc', '/proc'), ('sysfs', '/sys'), ('devtmpfs', '/dev'),
                  ('devpts', '/dev/pts'), ('tmpfs', '/run'))
        if os.environ.get('STUBINIT_VALGRIND') == '1':
            mounts = mounts[1:]  # the harness mounted /proc for valgrind
        for fs, where in mounts:
            s.wait_log(r'boot: mounted %s on %s$' % (fs, where))
        s.wait_log(r'stubdomain %d serves guest %d' % (DOMID, TARGET))
        s.wait_log(r'modules: no list at /etc/stubinit/modules; nothing to load')
        wait_status(xsd, 'running', timeout=30)
        eq(xsd.read(STATUS + '/pid'), '1', 'status pid')
        # After boot PID 1 keeps only the rights it still needs: no module loading, no raw I/O.
        s.wait_log(r'boot: kept \d+ capabilities, dropped \d+ \(module loading among them\)')
        st = open('/proc/%d/status' % s.pid()).read()
        for field in ('CapEff', 'CapPrm', 'CapBnd'):
            caps = int(re.search(r'^%s:\s+([0-9a-f]+)$' % field, st, re.M).group(1), 16)
            for bit, name in ((16, 'CAP_SYS_MODULE'), (17, 'CAP_SYS_RAWIO'),
                              (19, 'CAP_SYS_PTRACE')):
                check(not caps & (1 << bit), '%s still has %s' % (field, name))
            check(caps & (1 << 22), '%s lost CAP_SYS_BOOT' % field)
        eq(xsd.read(STATUS + '/version'), VERSION, 'status version')
        eq(xsd.read(STATUS + '/error'), '', 'status error')
        # lo was brought up with libnl, in its own network namespace.
        r = s.in_ns('ip', '-o', 'link', 'show', 'lo', ns='-n')
        check(',UP' in r.stdout or '<LOOPBACK,UP' in r.stdout, 'lo not up: ' + r.stdout)
        check(s.proc.poll() is None, 'stubinit exited')


@test
def static_binary_boots_in_an_empty_root():
    # build/stubinit.static (musl) in a root with nothing else: no /usr, no libraries, no shell.
    static = os.path.join(REPO, 'build', 'stubinit.static')
    check(os.path.exists(static), 'build/stubinit.static missing (make static)')
    with Env() as xsd, Stubinit(os.path.dirname(static), xsd, exe='stubinit.static',
                                bind_usr=False, args=['--on-qemu-exit=stay']) as s:
        s.wait_log(r'stubinit %s starting as PID 1' % re.escape(VERSION))
        s.wait_log(r'boot: mounted devtmpfs on /dev$')
        s.wait_log(r'netlink: link lo up')
        s.wait_log(r'config: 11 QEMU arguments from /vm/\S+/image/dm-argv')
        # Its whole way up to exec: the empty root has no QEMU to run.
        s.wait_log(r'cannot execute /usr/libexec/qemu-system-i386: No such file or directory')
        wait_status(xsd, 'qemu-died')
        eq(xsd.read(STATUS + '/pid'), '1', 'status pid')
        s.signal(signal.SIGTERM)
        eq(powered_off(s, 5), -signal.SIGINT, 'unshare exit')


@test
def module_list_failures_are_named_and_survived():
    modules = ('# the image\'s load order\n'
               '\n'
               '/mods/bogus.ko unrestricted=1\n'
               'kernel/drivers/xen/xen-nosuch.ko\n')
    files = {'/etc/stubinit/modules': (modules, 0o644),
             '/mods/bogus.ko': ('not an ELF module\n', 0o644)}
    with Env() as xsd, Stubinit(BUILD, xsd, files=files) as s:
        # The kernel refuses a file that is no module; the errno text follows the name.
        s.wait_log(r'error: module bogus unrestricted=1: finit_module: \S')
        s.wait_log(r'error: module xen-nosuch \(/etc/stubinit/modules line 4\): cannot open '
                   r'/lib/modules/[^/]+/kernel/drivers/xen/xen-nosuch.ko: No such file')
        s.wait_log(r'modules: 0 loaded, 2 failed \(from /etc/stubinit/modules\)')
        wait_status(xsd, 'running', timeout=30)


@test
def image_keys_file_before_the_command_line():
    # An image builder's keys (Qubes passes no stubdomain_cmdline): /etc/stubinit/keys, the
    # command line's syntax over lines, comments allowed; the command line wins, then options.
    keys = ('# the image\'s keys\n'
            'stubinit.stats-interval=7s stubinit.log-buffer=96k\n'
            '   # indented comment stubinit.log-level=error\n'
            'stubinit.shutdown-timeout=3s stubinit.nosuch=1\n')
    files = {'/etc/stubinit/keys': (keys, 0o644)}
    with Env() as xsd, Stubinit(BUILD, xsd, files=files, args=['--shutdown-timeout=4s'],
                                cmdline='console=hvc0 stubinit.log-buffer=128k') as s:
        s.wait_log(r'configuration: stats-interval=7s \(/etc/stubinit/keys\)')
        s.wait_log(r'configuration: log-buffer=128k \(kernel command line\)')
        s.wait_log(r'configuration: shutdown-timeout=4s \(option\)')
        s.wait_log(r"stubinit.nosuch|'nosuch'")
        wait_status(xsd, 'running', timeout=30)
        check(not any('log-level' in l for l in s.lines if 'configuration:' in l),
              'a commented key was read: %s' % s.log())


@test
def gntalloc_limit_raised():
    # Qubes' GUI needs more grant pages than gntalloc's 1024: raised at boot unless the key is 0.
    param = '/fake-sys/module/xen_gntalloc/parameters/limit'
    for cmdline, want in (('console=hvc0', '1073741823'),
                          ('console=hvc0 stubinit.gntalloc-limit=0', '1024\n')):
        with Env() as xsd, Stubinit(BUILD, xsd, cmdline=cmdline, files={param: ('1024\n', 0o644)},
                                    sys_from='/fake-sys') as s:
            wait_status(xsd, 'running', timeout=30)
            if want != '1024\n':
                s.wait_log(r'boot: gntalloc limit=%s$' % want)
            with open(s.root_path(param)) as f:
                eq(f.read(), want, 'xen_gntalloc limit with %r' % cmdline)


@test
def reaps_orphaned_grandchildren():
    with Env() as xsd, Stubinit(BUILD, xsd) as s:
        wait_status(xsd, 'running', timeout=30)
        orphans(s, '(sleep 0.2; exit 7) & (sleep 0.3; kill -9 $$$$ 2>/dev/null; sleep 5) & '
                   'sh -c "sleep 0.2; exit 3" & exit 0')
        s.wait_log(r'reaped orphan pid \d+: exited with status 7')
        s.wait_log(r'reaped orphan pid \d+: exited with status 3')
        # The long sleeper is still there; nothing else is, not even a zombie.
        end = time.monotonic() + 5
        while time.monotonic() < end and len(s.orphans()) > 1:
            time.sleep(0.05)
        kids = s.orphans()
        eq(len(kids), 1, 'children of stubinit besides QEMU (%s)' % kids)
        state = open('/proc/%s/stat' % kids[0]).read().split(') ')[1][0]
        check(state != 'Z', 'zombie left')


@test
def sigterm_terminates_children_and_powers_off():
    with Env() as xsd, Stubinit(BUILD, xsd) as s:
        wait_status(xsd, 'running', timeout=30)
        orphans(s, 'sleep 100 & exit 0')
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        rc = powered_off(s, 5)
        took = time.monotonic() - t0
        s.wait_log(r'shutdown: SIGTERM from pid 0')
        s.wait_log(r'reaped orphan pid \d+: killed by signal 15')
        s.wait_log(r'shutdown: all children have exited')
        s.wait_log(r'power off$')
        eq(xsd.read(STATUS + '/state'), 'shutting-down', 'status state')
        # In a PID namespace, reboot(RB_POWER_OFF) ends its init with SIGINT: exactly that.
        eq(rc, -signal.SIGINT, 'unshare exit (killed by the signal its init got)')
        check(took < 2 or INSTRUMENTED, 'gone %.1f s after SIGTERM' % took)


@test
def sigterm_kills_stubborn_child_after_bound():
    ready = tempfile.mktemp(prefix='stubinit-stubborn-')
    with Env() as xsd, Stubinit(BUILD, xsd, args=['--shutdown-timeout=300ms']) as s:
        wait_status(xsd, 'running', timeout=30)
        orphans(s, "sh -c 'trap \"\" TERM; touch %s; while :; do sleep 1; done' & exit 0"
                % ready)
        # Only once it ignores SIGTERM is it stubborn.
        end = time.monotonic() + 5
        while not os.path.exists(ready) and time.monotonic() < end:
            time.sleep(0.02)
        os.unlink(ready)
        s.signal(signal.SIGPWR)
        rc = powered_off(s, 5)
        s.wait_log(r'shutdown: SIGPWR')
        s.wait_log(r'shutdown: children still running after 300 ms; sending SIGKILL')
        s.wait_log(r'power off$')
        eq(rc, -signal.SIGINT, 'unshare exit')


@test
def garbage_on_command_line_is_reported_and_survived():
    cmdline = ('console=hvc0 stubinit.nosuch=1 stubinit.log-level=purple stubinit.log-buffer '
               'stubinit.shutdown-timeout=forever quiet "stubinit.xenstore-timeout=5s" \x01junk')
    with Env() as xsd, Stubinit(BUILD, xsd, cmdline=cmdline,
                                args=['--bogus=1', 'stray', '--log-level', 'debug']) as s:
        s.wait_log(r'key stubinit\.nosuch \(kernel command line\): unknown key, ignored')
        s.wait_log(r'key stubinit\.log-level=purple \(kernel command line\): invalid value, '
                   r'expected one of: error warn info debug; keeping info')
        s.wait_log(r'key stubinit\.log-buffer \(kernel command line\): malformed')
        s.wait_log(r'key stubinit\.shutdown-timeout=forever .*expected a duration')
        s.wait_log(r'key --bogus \(option\): unknown key, ignored')
        s.wait_log(r"argument 'stray' \(option\): not an option of stubinit, ignored")
        s.wait_log(r'configuration: 6 problem\(s\) reported above; booting on')
        # The good words still took effect, the option over the kernel command line.
        s.wait_log(r'configuration: log-level=debug \(option\)')
        s.wait_log(r'configuration: xenstore-timeout=5s \(kernel command line\)')
        wait_status(xsd, 'running', timeout=30)
        check(s.proc.poll() is None, 'stubinit exited')


@test
def stalled_log_never_stops_the_loop():
    # Nobody reads stubinit's console: a 4 KiB pipe and a 4 KiB log buffer fill at once.
    with Env() as xsd, Stubinit(BUILD, xsd, args=['--log-buffer=4096'], read_log=False,
                                pipe_size=4096) as s:
        wait_status(xsd, 'running', timeout=30)
        # 300 orphans that outlive their shell, so stubinit reaps (and logs) every one.
        orphans(s, 'i=0; while [ $i -lt 300 ]; do (sleep 0.5; exit 0) & i=$((i+1)); done; '
                   'exit 0')
        # The loop kept reaping although every log write would block.
        end = time.monotonic() + 10
        while s.orphans() and time.monotonic() < end:
            time.sleep(0.05)
        eq(s.orphans(), [], 'children left while the log is stalled')
        # The console drains: the dropped lines are counted in the log.
        s.start_reader()
        s.wait_log(r'log: \d+ lines dropped while the log output was not draining')
        # And SIGTERM is still served.
        s.signal(signal.SIGTERM)
        eq(powered_off(s, 5), -signal.SIGINT, 'unshare exit')


@test
def missing_target_powers_off_with_clear_error():
    with Env(target=None) as xsd, Stubinit(BUILD, xsd) as s:
        rc = powered_off(s, 10)
        s.wait_log(r'xenstore: target: cannot read: No such file or directory')
        s.wait_log(r'config: target missing or not a domain id')
        s.wait_log(r'shutdown: target missing or not a domain id')
        s.wait_log(r'power off$')
        eq(rc, -signal.SIGINT, 'unshare exit')


@test
def garbled_target_powers_off_with_clear_error():
    with Env() as xsd:
        xsd.write('/local/domain/%d/target' % DOMID, '7x')
        with Stubinit(BUILD, xsd) as s:
            rc = powered_off(s, 10)
            s.wait_log(r"xenstore: target: '7x' is not a domain id")
            eq(rc, -signal.SIGINT, 'unshare exit')


@test
def waits_for_xenstore_to_appear():
    d = tempfile.mkdtemp(prefix='stubinit-xs-')
    sock = os.path.join(d, 'later.sock')
    with Env() as xsd, Stubinit(BUILD, xs_socket=sock, args=['--xenstore-timeout=20s']) as s:
        s.wait_log(r'xenstore: not reachable \(socket /xs/later\.sock, device '
                   r'/dev/xen/xenbus\): .*; waiting up to 20000 ms')
        # xenstored appears, with everything libxl writes already there.
        os.link(xsd.path('stubdom'), sock)
        # Woken by inotify when the socket appears, not by a poll.
        s.wait_log(r'xenstore: reachable now, connected')
        s.wait_log(r'stubdomain %d serves guest %d' % (DOMID, TARGET))
        wait_status(xsd, 'running', timeout=30)
    subprocess.run(['rm', '-rf', d])


@test
def no_xenstore_within_bound_powers_off():
    d = tempfile.mkdtemp(prefix='stubinit-xsd-')
    with Stubinit(BUILD, xs_socket=os.path.join(d, 'none.sock'),
                  args=['--xenstore-timeout=300ms']) as s:
        rc = powered_off(s, 10)
        s.wait_log(r'xenstore: still not reachable .* after the xenstore-timeout bound')
        s.wait_log(r'shutdown: boot failed: no xenstore')
        eq(rc, -signal.SIGINT, 'unshare exit')
    os.rmdir(d)


@test
def not_pid1_is_subreaper_and_exits():
    with Env() as xsd, Stubinit(BUILD, xsd, pid1=False) as s:
        s.wait_log(r'starting as a child subreaper \(not PID 1\)')
        wait_status(xsd, 'running', timeout=30)
        check('mounted' not in s.log(), 'mounted something while not PID 1')
        eq(xsd.read(STATUS + '/pid'), str(s.proc.pid), 'status pid')
        s.signal(signal.SIGTERM)
        eq(s.wait_exit(5), 0, 'exit status')
        s.wait_log(r'exit with status 0 \(not PID 1, so no power-off\)')
    with Env(target=None) as xsd, Stubinit(BUILD, xsd, pid1=False) as s:
        eq(s.wait_exit(5), 1, 'exit status after a boot failure')


@test
def version_help_and_readme_key_table():
    exe = os.path.join(BUILD, 'stubinit')
    r = subprocess.run([exe, '--version'], capture_output=True, text=True, timeout=10)
    eq((r.returncode, r.stdout), (0, 'stubinit %s\n' % VERSION), '--version')
    r = subprocess.run([exe, '--help'], capture_output=True, text=True, timeout=10)
    eq(r.returncode, 0, '--help exit')
    table = subprocess.run([exe, '--keys-markdown'], capture_output=True, text=True,
                           timeout=10).stdout
    readme = open(os.path.join(REPO, 'README.md')).read()
    for line in table.splitlines():
        check(line in readme, 'README key table lacks: ' + line)
        if line.startswith('| `stubinit.'):
            key = line.split('`')[1][len('stubinit.'):]
            check('--%s=' % key in r.stdout, '--help lacks --%s' % key)
