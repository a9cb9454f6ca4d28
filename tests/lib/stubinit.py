# SPDX-License-Identifier: GPL-2.0-only
"""Local-tier harness: stubinit as PID 1 in fresh namespaces, beside the test xenstored.

stubinit runs under `unshare --pid --mount --net --uts --fork`, chrooted into a scratch root with
empty /proc, /sys, /dev and /run (so it mounts them itself), /usr bound read-only for its shared
libraries, the build directory bound at /build and the test xenstored's socket directory at /xs.
Its stderr (the log) is a pipe the harness reads line by line, or leaves unread on purpose.
"""
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time

DOMID = 5   # the stubdomain
TARGET = 7  # the guest it serves


class Stubinit:
    def __init__(self, build, xsd=None, args=(), cmdline='console=hvc0', pid1=True,
                 read_log=True, pipe_size=None, xs_socket=None, exe='stubinit', bind_usr=True,
                 consoles=None, files=None, sys_from=None, cgroup=None, extra_binds=None,
                 pre_mounts=None, cpus=None):
        self.build = build
        self.xsd = xsd
        self.args = list(args)
        self.cmdline = cmdline
        self.pid1 = pid1
        self.read_log = read_log
        self.pipe_size = pipe_size
        self.xs_socket = xs_socket
        self.exe = exe
        self.bind_usr = bind_usr
        # {n: host path}: bound at /consoles/hvc<n> (stubinit.console-prefix=/consoles/hvc)
        self.consoles = consoles or {}
        # {path in root: (text, mode)}: files put into the root before boot
        self.files = files or {}
        # a directory of the root bound at /sys before boot (a stand-in sysfs)
        self.sys_from = sys_from
        # a cgroup.procs file the namespace's processes start in
        self.cgroup = cgroup
        # {dir in root: host dir} bound read-only; shell commands run before the chroot
        self.extra_binds = extra_binds or {}
        self.pre_mounts = pre_mounts or []
        # a CPU list (taskset -c) stubinit and its children run on
        self.cpus = cpus
        self.root = tempfile.mkdtemp(prefix='stubinit-root-')
        self.lines = []
        self.cond = threading.Condition()
        self.proc = None
        self.reader = None
        self.eof = False

    # -- life ------------------------------------------------------------------------------
    def start(self):
        r = self.root
        # mkdtemp's 0700 would keep QEMU, which runs as an unprivileged user, out of its root.
        os.chmod(r, 0o755)
        for d in ('proc', 'sys', 'dev', 'run', 'usr', 'build', 'xs', 'tmp', 'etc'):
            os.makedirs(os.path.join(r, d), exist_ok=True)
        for link, to in (('lib', 'usr/lib'), ('lib64', 'usr/lib64'), ('bin', 'usr/bin'),
                         ('sbin', 'usr/sbin')):
            os.symlink(to, os.path.join(r, link))
        # Debian's QEMU (qemu-system-x86) stands in for the stubdomain's; a test's own words win.
        # and dom0's QMP comes over a unix socket (there is no vchan without Xen).
        cmdline = ('stubinit.qemu=/usr/libexec/qemu-system-i386 stubinit.qmp-transport=unix '
                   + self.cmdline)
        binds = ''
        if self.consoles:
            # QEMU takes "-serial <path>" as a tty only under /dev/, and stubinit would mount a
            # devtmpfs over an empty /dev: so /dev is a tmpfs of ours with the few nodes needed
            # and the ptys bound at /dev/test-hvc<n> (stubinit.console-prefix).
            cmdline += ' stubinit.console-prefix=/dev/test-hvc'
            binds += 'mount -t tmpfs -o mode=755 none "$R/dev"; '
            for node in ('null', 'zero', 'full', 'random', 'urandom', 'net/tun'):
                binds += ('mkdir -p "$(dirname "$R/dev/%s")"; touch "$R/dev/%s"; '
                          'mount --bind /dev/%s "$R/dev/%s"; ' % (node, node, node, node))
            for n, host in self.consoles.items():
                binds += 'touch "$R/dev/test-hvc%d"; mount --bind %s "$R/dev/test-hvc%d"; ' % (
                    n, host, n)
        for path, (text, mode) in self.files.items():
            os.makedirs(os.path.dirname(os.path.join(r, path.lstrip('/'))), exist_ok=True)
            with open(os.path.join(r, path.lstrip('/')), 'w') as f:
                f.write(text)
            os.chmod(os.path.join(r, path.lstrip('/')), mode)
        with open(os.path.join(r, 'cmdline'), 'w') as f:
            f.write(cmdline + '\n')
        env = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'}
        sock = self.xs_socket
        if sock is None and self.xsd is not None:
            sock = self.xsd.path('stubdom')
        rfd, wfd = os.pipe()
        if self.pipe_size:
            import fcntl
            fcntl.fcntl(rfd, 1031, self.pipe_size)  # F_SETPIPE_SZ
        self.log_fd = rfd
        if self.pid1:
            xsdir = os.path.dirname(sock) if sock else self.root
            if sock:
                env['XENSTORED_PATH'] = '/xs/' + os.path.basename(sock)
            argv = ['/build/' + self.exe, '--kernel-cmdline=/cmdline'] + self.args
            if os.environ.get('STUBINIT_VALGRIND') == '1' and self.bind_usr:
                # Valgrind reads /proc before stubinit runs: this root gets its /proc first.
                binds += 'mount -t proc proc "$R/proc"; '
                # Memcheck runs stubinit in its own process, so it stays PID 1. As PID 1 it
                # never exits, so errors are found by their reports, as they happen.
                self.vg_log = os.path.join(sock and os.path.dirname(sock) or r,
                                           'valgrind-%d.log' % id(self))
                argv = ['/usr/bin/valgrind', '--tool=memcheck', '--trace-children=no',
                        '--track-fds=no', '--log-file=/xs/' + os.path.basename(self.vg_log)] + argv
            if self.sys_from:
                binds += 'mount --bind "$R%s" "$R/sys"; ' % self.sys_from
            for inside, host in self.extra_binds.items():
                os.makedirs(r + inside, exist_ok=True)
                binds += 'mount --bind -o ro %s "$R%s"; ' % (host, inside)
            for cmd_ in self.pre_mounts:
                binds += cmd_ + '; '
            script = ('set -e; mount --bind "$B" "$R/build"; mount --bind "$X" "$R/xs"; '
                      + binds
                      + ('mount --bind -o ro /usr "$R/usr"; ' if self.bind_usr else '')
                      + 'exec /usr/sbin/chroot "$R" "$@"')
            cmd = ['unshare', '--pid', '--mount', '--net', '--uts', '--fork', '--kill-child', '--',
                   '/bin/sh', '-c', script, 'sh'] + argv
            env.update(R=r, B=self.build, X=xsdir)
        else:
            if sock:
                env['XENSTORED_PATH'] = sock
            cmd = [os.path.join(self.build, self.exe),
                   '--kernel-cmdline=' + os.path.join(r, 'cmdline')] + self.args
        if self.cgroup:
            env['CG'] = self.cgroup
            cmd = ['/bin/sh', '-c', 'echo $$ > "$CG" && exec "$@"', 'sh'] + cmd
        if self.cpus is not None:
            cmd = ['taskset', '-c', str(self.cpus)] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=wfd, env=env, close_fds=True)
        os.close(wfd)
        if self.read_log:
            self.start_reader()
        return self

    def start_reader(self):
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b''
        while True:
            try:
                chunk = os.read(self.log_fd, 65536)
            except OSError as e:
                end = 'read: %s' % e
                break
            if not chunk:
                end = 'EOF'
                break
            buf += chunk
            *done, buf = buf.split(b'\n')
            with self.cond:
                self.lines.extend(l.decode(errors='replace') for l in done)
                self.cond.notify_all()
        with self.cond:
            self.eof = end
            self.cond.notify_all()

    def pid(self, timeout=10):
        """Host pid of stubinit (PID 1 of its namespace)."""
        if not self.pid1:
            return self.proc.pid
        end = time.monotonic() + timeout
        path = '/proc/%d/task/%d/children' % (self.proc.pid, self.proc.pid)
        while time.monotonic() < end:
            try:
                kids = open(path).read().split()
            except OSError:
                kids = []
            if kids:
                return int(kids[0])
            time.sleep(0.01)
        raise AssertionError('stubinit did not start')

    def root_path(self, path):
        """@path inside stubinit's root and mount namespace, reachable from the host."""
        return '/proc/%d/root%s' % (self.pid(), path)

    def qemu_pid(self):
        kids = [int(k) for k in self.children()]
        for k in kids:
            try:
                if 'qemu' in os.readlink('/proc/%d/exe' % k):
                    return k
            except OSError:
                pass
        return None

    def orphans(self):
        """Children of stubinit other than QEMU."""
        q = self.qemu_pid()
        return [k for k in self.children() if int(k) != q]

    def children(self):
        pid = self.pid()
        try:
            return open('/proc/%d/task/%d/children' % (pid, pid)).read().split()
        except OSError:
            return []

    def signal(self, sig):
        pid = self.pid()
        assert pid > 1, 'no stubinit pid'
        os.kill(pid, sig)

    def wait_exit(self, timeout=10):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError('stubinit still running %s s later' % timeout)

    def valgrind_errors(self):
        """Memcheck's error reports so far (empty when not under valgrind)."""
        path = getattr(self, 'vg_log', None)
        if not path or not os.path.exists(path):
            return ''
        text = open(path).read()
        errs = re.findall(r'^==\d+== (?:Invalid|Conditional|Use of uninit|Syscall param|'
                          r'Mismatched|Source and destination|Argument).*$', text, re.M)
        return '\n'.join(errs)

    def stop(self):
        errs = self.valgrind_errors()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.reader:
            self.reader.join(5)
        # A reader still blocked in read() would steal whatever reuses the fd number next.
        if not (self.reader and self.reader.is_alive()):
            try:
                os.close(self.log_fd)
            except OSError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)
        if getattr(self, 'vg_log', None) and os.path.exists(self.vg_log):
            os.unlink(self.vg_log)
        if errs:
            raise AssertionError('valgrind memcheck reported errors:\n' + errs)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- the log ---------------------------------------------------------------------------
    def log(self):
        with self.cond:
            return '\n'.join(self.lines)

    def wait_log(self, pattern, timeout=10, count=1):
        """Waits for @count log lines matching the regex; returns the last match."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [m for m in (rx.search(l) for l in self.lines) if m]
                if len(hits) >= count:
                    return hits[count - 1]
                left = end - time.monotonic()
                if left <= 0 or self.eof:
                    break
                self.cond.wait(left)
        why = ('the log ended (%s) with stubinit %s' % (self.eof, self._alive()) if self.eof
               else 'none within %g s' % timeout)
        raise AssertionError('no log line matching %r (%d wanted, %d seen; %s); log:\n%s'
                             % (pattern, count, len(hits), why, self.log()[-3000:]))

    def _alive(self):
        try:
            return 'alive' if self.proc.poll() is None else 'gone (%s)' % self.proc.returncode
        except AttributeError:
            return 'not started'

    def in_ns(self, *cmd, ns='-p', capture=True):
        """Runs @cmd inside stubinit's namespaces (default: its PID namespace). Without
        @capture, its output goes nowhere, so background jobs it leaves behind hold no pipe."""
        out = subprocess.PIPE if capture else subprocess.DEVNULL
        return subprocess.run(['nsenter', '-t', str(self.pid()), ns, '--'] + list(cmd),
                              stdin=subprocess.DEVNULL, stdout=out, stderr=out, text=True,
                              timeout=30)


def stubdom_store(xsd, target=TARGET, domid=DOMID):
    """What libxl writes before the stubdomain boots (protocol section 3)."""
    home = '/local/domain/%d' % domid
    xsd.write(home + '/domid', str(domid))
    xsd.chmod(home, 'n0', 'r%d' % domid)
    xsd.chmod(home + '/domid', 'n0', 'r%d' % domid)
    if target is not None:
        xsd.write(home + '/target', str(target))
        xsd.chmod(home + '/target', 'n0', 'r%d' % domid)
    xsd.write(home + '/device-model/%s' % (target if target is not None else 0), '')
    xsd.chmod(home + '/device-model', 'n%d' % domid)
    xsd.chmod(home + '/device-model/%s' % (target if target is not None else 0), 'n%d' % domid,
              'r%d' % (target if target is not None else 0))


UUID = '00000000-0000-0000-0000-00000000c0de'


def guest_store(xsd, args=None, dmargs=None, target=TARGET, domid=DOMID, consoles=(1, 2, 3),
                restore=False, vifs=None):
    """What libxl writes about the guest: its vm path, QEMU's arguments as dm-argv/NNN (or the
    legacy dmargs string), the stubdomain's consoles (protocol sections 3, 4, 5)."""
    vm = '/vm/' + UUID
    gh = '/local/domain/%d' % target
    xsd.write(gh + '/vm', vm)
    xsd.chmod(gh, 'n%d' % target)
    xsd.chmod(gh + '/vm', 'n%d' % target)
    with xsd.connect() as c:
        c.set_target(domid, target)
        # Over the wire: the tools would take "-no-shutdown" for an option of their own.
        if args is not None:
            d = vm + '/image/dm-argv'
            for i, a in enumerate(args, 1):
                c.write('%s/%03d' % (d, i), a)
        if dmargs is not None:
            c.write(vm + '/image/dmargs', dmargs)
    if args is not None:
        xsd.chmod(d, 'n0', 'r%d' % domid, recurse=True)
    if dmargs is not None:
        xsd.chmod(vm + '/image/dmargs', 'n0', 'r%d' % domid)
    home = '/local/domain/%d' % domid
    for n in consoles:
        p = '%s/device/console/%d' % (home, n)
        xsd.write(p + '/type', 'ioemu')
        if n == 2 and restore:
            xsd.write(p + '/output', 'pipe:/var/lib/xen/qemu-resume.%d' % target)
        elif n != 2:
            xsd.write(p + '/output', 'pty')
    for devid, mac in (vifs or {}).items():
        xsd.write('%s/device/vif/%d/mac' % (home, devid), mac)
    if consoles or vifs:
        xsd.chmod(home + '/device', 'n0', 'r%d' % domid, recurse=True)
    for devid in vifs or {}:
        # as libxl makes a frontend's directory: the frontend's own, the backend (dom0) reads
        xsd.chmod('%s/device/vif/%d' % (home, devid), 'n%d' % domid, 'r0', recurse=True)
