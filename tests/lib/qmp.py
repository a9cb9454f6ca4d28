# SPDX-License-Identifier: GPL-2.0-only
"""A small blocking QMP client for tests, and a way to get a real migration stream from QEMU."""
import json
import os
import socket
import subprocess
import tempfile
import time


class Qmp:
    def __init__(self, path, timeout=20, marker=False):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        # A socket with a timeout is non-blocking inside: a unix connect to a full listen backlog
        # fails with EAGAIN instead of waiting (a slow, instrumented server after a burst).
        end = time.monotonic() + timeout
        while True:
            try:
                self.s.connect(path)
                break
            except BlockingIOError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.01)
        if marker:
            self.s.sendall(b'\x01')
        self.buf = b''
        self.lines = []  # every raw line received, as sent
        self.events = []
        self.greeting = self._recv()

    def raw_line(self):
        while b'\n' not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError('QMP connection closed')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        self.lines.append(line + b'\n')
        return line

    def _recv(self):
        return json.loads(self.raw_line())

    def recv(self):
        return self._recv()

    def send(self, execute, id=None, **arguments):
        self.send_args(execute, arguments, id)

    def send_args(self, execute, arguments, id=None):
        msg = {'execute': execute}
        if arguments:
            msg['arguments'] = arguments
        if id is not None:
            msg['id'] = id
        self.s.sendall(json.dumps(msg).encode() + b'\r\n')

    def cmd(self, execute, id=None, **arguments):
        return self.call(execute, arguments, id)

    def call(self, execute, arguments, id=None):
        """The reply (events on the way are kept in .events). Arguments as a dict, for commands
        whose arguments clash with this client's keywords (device_del's id)."""
        self.send_args(execute, arguments, id)
        while True:
            m = self._recv()
            if 'event' in m:
                self.events.append(m)
                continue
            return m

    def ok(self, execute, **arguments):
        m = self.cmd(execute, **arguments)
        if 'return' not in m:
            raise AssertionError('%s: %s' % (execute, m))
        return m['return']

    def close(self):
        self.s.close()

    def __enter__(self):
        self.ok('qmp_capabilities')
        return self

    def __exit__(self, *exc):
        self.close()


def migration_stream(qemu, args, path):
    """Runs @qemu with @args and migrates it to the file @path: a real stream to restore. The
    source runs, so the restored QEMU runs too (a paused source restores paused)."""
    d = tempfile.mkdtemp(prefix='stubinit-mig-')
    sock = os.path.join(d, 'qmp.sock')
    p = subprocess.Popen([qemu, '-qmp', 'unix:%s,server=on,wait=off' % sock] + args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 20
        while not os.path.exists(sock):
            if p.poll() is not None or time.monotonic() > end:
                raise AssertionError('QEMU for the stream did not start: %s'
                                     % p.stderr.read().decode(errors='replace'))
            time.sleep(0.02)
        with Qmp(sock) as q:
            q.ok('migrate', uri='exec:cat > %s' % path)
            while True:
                st = q.ok('query-migrate').get('status')
                if st == 'completed':
                    break
                if st in ('failed', 'cancelled') or time.monotonic() > end:
                    raise AssertionError('migration to a file: %s' % st)
                time.sleep(0.05)
    finally:
        p.kill()
        p.wait()
        subprocess.run(['rm', '-rf', d])
