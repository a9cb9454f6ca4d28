# SPDX-License-Identifier: GPL-2.0-only
"""xsd.py - run the test xenstored (tests/xenstored) and talk to it as a real client would.

Owns: starting/stopping the daemon with one unix socket per simulated domain, running the
real Debian xenstore tools (xenstore-read, -write, -ls, -list, -exists, -rm, -chmod, -watch)
against a chosen socket, and a small raw wire-protocol client for what the tools cannot
express (transactions, SET_TARGET, malformed messages).  Python 3 standard library only.

    with Xenstored(f"{build}/test-xenstored", workdir) as d:
        d.write("/local/domain/5/name", "guest")
        w = d.watch("name", as_="stubdom")      # returns once the initial event is seen
        ...
        assert w.next_event(timeout=5) == "name"
"""

import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import time

__all__ = [
    "Xenstored", "Watch", "WireClient", "WireError", "XsError", "XS",
]


class XS:
    """Message types of xen/io/xs_wire.h (enum xsd_sockmsg_type)."""
    CONTROL = 0
    DEBUG = 0
    DIRECTORY = 1
    READ = 2
    GET_PERMS = 3
    WATCH = 4
    UNWATCH = 5
    TRANSACTION_START = 6
    TRANSACTION_END = 7
    INTRODUCE = 8
    RELEASE = 9
    GET_DOMAIN_PATH = 10
    WRITE = 11
    MKDIR = 12
    RM = 13
    SET_PERMS = 14
    WATCH_EVENT = 15
    ERROR = 16
    IS_DOMAIN_INTRODUCED = 17
    RESUME = 18
    SET_TARGET = 19
    RESET_WATCHES = 21
    DIRECTORY_PART = 22
    PAYLOAD_MAX = 4096


HEADER = struct.Struct("<IIII")  # type, req_id, tx_id, len


class XsError(Exception):
    """A xenstore tool exited non-zero."""

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        msg = stderr.strip() or stdout.strip() or "no output"
        shown = " ".join(argv[:4]) + (f" ... ({len(argv) - 1} args)" if len(argv) > 4 else "")
        super().__init__(f"{shown} exited {returncode}: {msg}")


class WireError(Exception):
    """The daemon answered XS_ERROR; .errno_name is e.g. 'ENOENT'."""

    def __init__(self, errno_name, what=""):
        self.errno_name = errno_name
        super().__init__(f"{what}: {errno_name}" if what else errno_name)


def _tool(cmd):
    name = cmd if cmd.startswith("xenstore") else f"xenstore-{cmd}"
    path = shutil.which(name)
    if not path:
        raise FileNotFoundError(f"{name} not found (install Debian's xenstore-utils)")
    return path


class Xenstored:
    """The test daemon.  sockets maps a connection name to the domid its clients act as."""

    def __init__(self, binary, workdir, sockets=None, log=True):
        self.binary = binary
        self.workdir = workdir
        self.sockets = dict(sockets if sockets is not None else {"dom0": 0, "stubdom": 5})
        self.log_path = os.path.join(workdir, "xenstored.log") if log else None
        self.stderr_path = os.path.join(workdir, "xenstored.stderr")
        self.proc = None
        self._children = []

    # -- lifecycle ---------------------------------------------------------------------

    def path(self, name):
        """Socket path of the connection called name (a key of sockets)."""
        if name not in self.sockets:
            raise KeyError(f"no socket named {name!r}; have {sorted(self.sockets)}")
        return os.path.join(self.workdir, f"{name}.sock")

    def start(self, timeout=10.0):
        """Launch the daemon; returns once it reported readiness on --ready-fd."""
        if not os.access(self.binary, os.X_OK):
            raise FileNotFoundError(f"{self.binary} missing or not executable")
        os.makedirs(self.workdir, exist_ok=True)
        argv = [self.binary]
        for name, domid in self.sockets.items():
            argv += ["--socket", f"{self.path(name)}:{int(domid)}"]
        if self.log_path:
            argv += ["--log", self.log_path]
        rfd, wfd = os.pipe()
        try:
            argv += ["--ready-fd", str(wfd)]
            with open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                             stdout=err, stderr=err, pass_fds=(wfd,))
            os.close(wfd)
            wfd = -1
            got = b""
            deadline = time.monotonic() + timeout
            while not got.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([rfd], [], [], left)[0]:
                    raise TimeoutError(f"test-xenstored not ready after {timeout}s")
                chunk = os.read(rfd, 64)
                if not chunk:
                    break
                got += chunk
            if got != b"ready\n":
                rc = self.proc.wait(timeout=timeout)
                raise RuntimeError(f"test-xenstored failed to start (exit {rc}): "
                                   f"{self._stderr().strip()}")
        except BaseException:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            raise
        finally:
            os.close(rfd)
            if wfd >= 0:
                os.close(wfd)
        return self

    def _stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM and wait; raises RuntimeError if it crashed or did not exit 0."""
        for child in self._children:
            child.close()
        self._children.clear()
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"test-xenstored ignored SIGTERM for {timeout}s")
        if proc.returncode != 0:
            how = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
                   else f"exit status {proc.returncode}")
            raise RuntimeError(f"test-xenstored {how}: {self._stderr().strip()[-2000:]}")

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            try:
                self.stop()
            except RuntimeError:
                pass  # the original failure is the more useful one
        return False

    # -- the real tools ------------------------------------------------------------------

    def env(self, as_="dom0"):
        """Environment that points libxenstore at the socket of connection as_."""
        return dict(os.environ, XENSTORED_PATH=self.path(as_))

    def run(self, cmd, *args, as_="dom0", timeout=10.0):
        """Run xenstore-<cmd>; returns (returncode, stdout, stderr) without raising."""
        argv = [_tool(cmd)] + [str(a) for a in args]
        p = subprocess.run(argv, env=self.env(as_), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def xs(self, cmd, *args, as_="dom0", timeout=10.0):
        """Run xenstore-<cmd> as connection as_; returns stdout, raises XsError on failure."""
        rc, out, err = self.run(cmd, *args, as_=as_, timeout=timeout)
        if rc != 0:
            raise XsError([f"xenstore-{cmd}"] + [str(a) for a in args], rc, out, err)
        return out

    def read(self, path, as_="dom0"):
        out = self.xs("read", path, as_=as_)
        return out[:-1] if out.endswith("\n") else out

    def write(self, path, value, as_="dom0"):
        self.xs("write", path, value, as_=as_)

    def ls(self, path="/", as_="dom0", perms=False):
        """xenstore-ls output (the indented tree text)."""
        return self.xs("ls", *(["-p"] if perms else []), path, as_=as_)

    def list(self, path, as_="dom0"):
        """Child names of path, via xenstore-list."""
        return self.xs("list", path, as_=as_).splitlines()

    def exists(self, path, as_="dom0"):
        return self.run("exists", path, as_=as_)[0] == 0

    def rm(self, path, as_="dom0"):
        self.xs("rm", path, as_=as_)

    def chmod(self, path, *perms, as_="dom0", recurse=False):
        """xenstore-chmod path perm...; perms like 'n0', 'r5', 'b7' (first = owner)."""
        self.xs("chmod", *(["-r"] if recurse else []), path, *perms, as_=as_)

    def watch(self, path, as_="dom0", timeout=5.0):
        """Start xenstore-watch on path; returns once its initial event arrived (.initial)."""
        w = Watch(self, path, as_)
        self._children.append(w)
        try:
            w.initial = w.next_event(timeout)
        except BaseException:
            w.close()
            raise
        return w

    # -- raw protocol --------------------------------------------------------------------

    def connect(self, as_="dom0"):
        """A WireClient on the socket of connection as_."""
        c = WireClient(self.path(as_))
        self._children.append(c)
        return c


class Watch:
    """A running xenstore-watch process; each event is one line (the event path)."""

    def __init__(self, daemon, path, as_):
        self.path = path
        self.initial = None
        self._buf = b""
        self.proc = subprocess.Popen([_tool("watch"), path], env=daemon.env(as_),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def next_event(self, timeout=5.0):
        """The next event path; TimeoutError if none within timeout seconds."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError(f"no watch event on {self.path} within {timeout}s")
            chunk = os.read(fd, 4096)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace").strip()
                raise EOFError(f"xenstore-watch {self.path} exited "
                               f"({self.proc.wait()}): {err}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _payload(args):
    """Join request arguments: str/bytes each get a NUL; a final bytes value via raw=."""
    out = b""
    for a in args:
        out += (a.encode() if isinstance(a, str) else bytes(a)) + b"\0"
    return out


class WireClient:
    """Minimal xenstore wire client over a unix socket (one request at a time)."""

    def __init__(self, sock_path, timeout=5.0):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock_path)
        self._buf = b""
        self._req_id = 0
        self.events = []  # (path, token) of watch events seen while waiting for replies

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, msg_type, payload=b"", tx_id=0, req_id=None, length=None):
        """Send one message; length overrides the header's len (for malformed tests)."""
        if req_id is None:
            self._req_id += 1
            req_id = self._req_id
        n = len(payload) if length is None else length
        self.sock.sendall(HEADER.pack(msg_type, req_id, tx_id, n) + payload)
        return req_id

    def recv(self, timeout=None):
        """Next message as (type, req_id, tx_id, payload); EOFError if the daemon hung up."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if len(self._buf) >= HEADER.size:
                t, rid, tid, n = HEADER.unpack_from(self._buf)
                if len(self._buf) >= HEADER.size + n:
                    payload = self._buf[HEADER.size:HEADER.size + n]
                    self._buf = self._buf[HEADER.size + n:]
                    return t, rid, tid, payload
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no message from test-xenstored")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("test-xenstored closed the connection")
            self._buf += chunk

    def next_event(self, timeout=None):
        """Next watch event (path, token), from those already queued or the socket."""
        if self.events:
            return self.events.pop(0)
        while True:
            t, _, _, payload = self.recv(timeout)
            if t == XS.WATCH_EVENT:
                return tuple(payload.decode(errors="replace").split("\0")[:2])
            raise AssertionError(f"unexpected message type {t} while waiting for an event")

    def request(self, msg_type, *args, raw=None, tx_id=0):
        """Send a request and return the reply payload; raises WireError on XS_ERROR."""
        payload = _payload(args) + (raw if raw is not None else b"")
        rid = self.send(msg_type, payload, tx_id=tx_id)
        while True:
            t, got_rid, got_tx, data = self.recv()
            if t == XS.WATCH_EVENT:
                self.events.append(tuple(data.decode(errors="replace").split("\0")[:2]))
                continue
            if got_rid != rid or got_tx != tx_id:
                raise AssertionError(f"reply ids ({got_rid},{got_tx}) != ({rid},{tx_id})")
            if t == XS.ERROR:
                raise WireError(data.rstrip(b"\0").decode(errors="replace"),
                                f"request type {msg_type}")
            if t != msg_type:
                raise AssertionError(f"reply type {t} to request type {msg_type}")
            return data

    # Convenience wrappers; values are bytes on the wire, str here.
    def read(self, path, tx=0):
        return self.request(XS.READ, path, tx_id=tx).decode()

    def write(self, path, value, tx=0):
        self.request(XS.WRITE, path, raw=value.encode(), tx_id=tx)

    def mkdir(self, path, tx=0):
        self.request(XS.MKDIR, path, tx_id=tx)

    def rm(self, path, tx=0):
        self.request(XS.RM, path, tx_id=tx)

    def directory(self, path, tx=0):
        data = self.request(XS.DIRECTORY, path, tx_id=tx)
        return [s.decode() for s in data.split(b"\0")[:-1]]

    def get_perms(self, path, tx=0):
        data = self.request(XS.GET_PERMS, path, tx_id=tx)
        return [s.decode() for s in data.split(b"\0")[:-1]]

    def set_perms(self, path, *perms, tx=0):
        self.request(XS.SET_PERMS, path, *perms, tx_id=tx)

    def watch(self, path, token):
        self.request(XS.WATCH, path, token)

    def unwatch(self, path, token):
        self.request(XS.UNWATCH, path, token)

    def transaction_start(self):
        return int(self.request(XS.TRANSACTION_START, "").rstrip(b"\0"))

    def transaction_end(self, tx, commit=True):
        self.request(XS.TRANSACTION_END, "T" if commit else "F", tx_id=tx)

    def get_domain_path(self, domid):
        return self.request(XS.GET_DOMAIN_PATH, str(domid)).rstrip(b"\0").decode()

    def is_domain_introduced(self, domid):
        return self.request(XS.IS_DOMAIN_INTRODUCED, str(domid)).rstrip(b"\0") == b"T"

    def introduce(self, domid, mfn=0, evtchn=0):
        self.request(XS.INTRODUCE, str(domid), str(mfn), str(evtchn))

    def release(self, domid):
        self.request(XS.RELEASE, str(domid))

    def set_target(self, domid, target):
        self.request(XS.SET_TARGET, str(domid), str(target))
