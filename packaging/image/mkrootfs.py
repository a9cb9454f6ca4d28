#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Assemble the stubdomain's root tree (everything but /init) from an unpacked Debian staging tree.

    mkrootfs.py rootfs --staging DIR --kver KVER --out DIR --modules FILE --qemu PATH
                       --roms "NAME..." --fwpath "DIR..." [--data "DIR..."] [--debug]
                       --manifest FILE
    mkrootfs.py report --manifest FILE --root DIR --kernel FILE --initramfs FILE --cpio FILE

rootfs: the staging tree is what `dpkg-deb -x` of the suite's packages made, with depmod already
run on the kernel. Into --out it puts
  - the modules named in --modules (one per line: NAME [param=value ...]; built-in ones are
    skipped and said so) with every dependency from the kernel's modules.dep, under
    /lib/modules/KVER/ at their modules.dep paths; /etc/stubinit/modules (load order, dependencies
    first: `PATH [param=value ...]`); the kernel's modules.builtin and the modules.dep lines of the
    shipped modules;
  - QEMU (--qemu) and the closure of its DT_NEEDED libraries, resolved as ld.so would in the
    staging tree (RPATH/RUNPATH, then the default directories), at the same paths, plus the ELF
    interpreter at its PT_INTERP path;
  - every regular file of QEMU's data directories (--data: the VNC server's keymaps),
  - the ROMs (--roms) from the first directory of QEMU's firmware path (--fwpath) that has them,
    symlinks resolved into real files, in that same directory;
  - empty /dev /proc /sys /run /tmp, and with --debug busybox-static as /bin/busybox + /bin/sh.
No symlink of the staging tree is followed outside it. Modes: 0755 for directories and executable
files, 0644 for the rest (timestamps and owners are set when the archive is made). The manifest
lists each file with its part (module, qemu, library, rom, data, busybox, meta) and size.

report: prints the sizes of the kernel, the compressed and unpacked initramfs and each part.
"""

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys

# glibc's built-in search path on Debian amd64 (the image has no ld.so.cache).
DEFAULT_LIB_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"]


def step(tag, text):
    print("  %-8s %s" % (tag, text), flush=True)


def die(msg):
    print("mkrootfs.py: error: " + msg, file=sys.stderr)
    sys.exit(1)


class Tree:
    """Path resolution inside a root directory: absolute symlinks are taken relative to it."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def host(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def resolve(self, path, depth=0):
        """Canonical in-tree path of `path` with every symlink resolved, or None if missing."""
        if depth > 40:
            return None
        parts = [p for p in path.split("/") if p and p != "."]
        cur = "/"
        for i, p in enumerate(parts):
            if p == "..":
                cur = os.path.dirname(cur.rstrip("/")) or "/"
                continue
            nxt = os.path.join(cur, p)
            h = self.host(nxt)
            if os.path.islink(h):
                target = os.readlink(h)
                base = target if target.startswith("/") else os.path.join(cur, target)
                r = self.resolve(base, depth + 1)
                if r is None:
                    return None
                cur = r
            elif os.path.lexists(h):
                cur = nxt
            else:
                return None
        return cur

    def isfile(self, path):
        r = self.resolve(path)
        return r if r and os.path.isfile(self.host(r)) else None


class Builder:
    def __init__(self, args):
        self.a = args
        self.st = Tree(args.staging)
        self.out = os.path.abspath(args.out)
        self.manifest = []  # (part, path, size)

    # --- output helpers
    def mkdir(self, path, mode=0o755):
        h = os.path.join(self.out, path.lstrip("/"))
        os.makedirs(h, exist_ok=True)
        os.chmod(h, mode)

    def install(self, src_host, dst, part, exec_mode=None):
        """Copy a file's content to dst in the image (a real file, never a link)."""
        dst_host = os.path.join(self.out, dst.lstrip("/"))
        d = os.path.dirname(dst)
        parts = [p for p in d.split("/") if p]
        for i in range(len(parts)):
            self.mkdir("/" + "/".join(parts[: i + 1]))
        if os.path.lexists(dst_host):
            return False
        shutil.copyfile(src_host, dst_host)
        if exec_mode is None:
            exec_mode = bool(os.stat(src_host).st_mode & 0o111)
        os.chmod(dst_host, 0o755 if exec_mode else 0o644)
        self.manifest.append((part, dst, os.path.getsize(dst_host)))
        return True

    def write(self, dst, text, part="meta"):
        dst_host = os.path.join(self.out, dst.lstrip("/"))
        os.makedirs(os.path.dirname(dst_host), exist_ok=True)
        with open(dst_host, "w") as f:
            f.write(text)
        os.chmod(dst_host, 0o644)
        self.manifest.append((part, dst, len(text.encode())))

    # --- modules
    def modules(self):
        kver = self.a.kver
        with open(self.a.modules) as f:
            if not any(line.split("#", 1)[0].split() for line in f):
                # A kernel with everything built in (KERNEL=stubdom): no /lib/modules at all.
                self.write("/etc/stubinit/modules", "# No kernel modules: the stubdomain kernel "
                           "has everything built in.\n")
                step("MODULE", "none (%s lists none)" % self.a.modules)
                return
        mdir = "/lib/modules/" + kver
        if not self.st.resolve(mdir):
            die("%s missing in the staging tree" % mdir)
        mdir_host = self.st.host(self.st.resolve(mdir))

        def modname(path):
            b = os.path.basename(path)
            b = re.sub(r"\.ko(\.(xz|gz|zst))?$", "", b)
            return b.replace("-", "_")

        deps = {}  # path -> [dep paths]
        order = []
        with open(os.path.join(mdir_host, "modules.dep")) as f:
            for line in f:
                if ":" not in line:
                    continue
                path, rest = line.split(":", 1)
                deps[path] = rest.split()
                order.append(path)
        byname = {modname(p): p for p in deps}
        builtin = set()
        with open(os.path.join(mdir_host, "modules.builtin")) as f:
            for line in f:
                if line.strip():
                    builtin.add(modname(line.strip()))

        wanted = []
        with open(self.a.modules) as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].split()
                if line:
                    wanted.append((line[0], line[1:], n))

        load = []  # (path, params)
        seen = set()
        params_of = {}

        def visit(path, chain):
            if path in seen:
                return
            if path in chain:
                die("module dependency cycle: " + " -> ".join(chain + [path]))
            if path not in deps:
                die("%s is not in %s/modules.dep" % (path, mdir))
            for d in deps[path]:
                visit(d, chain + [path])
            seen.add(path)
            load.append(path)

        for name, params, n in wanted:
            key = name.replace("-", "_")
            if key in builtin:
                step("MODULE", "%s: built into kernel %s, skipped%s" %
                     (name, kver, " (parameters %s: set them on the kernel command line as "
                      "%s.<param>=<value>)" % (" ".join(params), key) if params else ""))
                continue
            if key not in byname:
                die("module %s (line %d of %s) is neither in modules.dep nor built into %s" %
                    (name, n, self.a.modules, kver))
            path = byname[key]
            if params:
                self.check_params(os.path.join(mdir_host, path), name, params)
                params_of[path] = params
            visit(path, [])

        lines = ["# Kernel modules stubinit loads at boot, in this order (dependencies first).",
                 "# One per line: <path relative to /lib/modules/%s/> [param=value ...]" % kver,
                 "# Generated by packaging/image from the kernel's modules.dep."]
        for path in load:
            self.install(os.path.join(mdir_host, path), mdir + "/" + path, "module", False)
            lines.append(" ".join([path] + params_of.get(path, [])))
        self.write("/etc/stubinit/modules", "\n".join(lines) + "\n")
        shipped = set(load)
        self.write(mdir + "/modules.dep",
                   "".join("%s: %s\n" % (p, " ".join(deps[p])) if deps[p] else "%s:\n" % p
                           for p in order if p in shipped))
        with open(os.path.join(mdir_host, "modules.builtin")) as f:
            self.write(mdir + "/modules.builtin", f.read())
        step("MODULE", "load order: " + " ".join(modname(p) for p in load))

    def check_params(self, ko, name, params):
        try:
            out = subprocess.run(["modinfo", "-F", "parm", ko], check=True,
                                 capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            die("modinfo %s: %s" % (ko, e))
        known = {l.split(":", 1)[0] for l in out.splitlines() if ":" in l}
        for p in params:
            if "=" not in p or p.split("=", 1)[0] not in known:
                die("module %s has no parameter %r (it has: %s)" %
                    (name, p, ", ".join(sorted(known)) or "none"))

    # --- ELF closure
    def readelf(self, host, opt):
        return subprocess.run(["readelf", opt, "-W", host], check=True, capture_output=True,
                              text=True).stdout

    def elf_info(self, path):
        host = self.st.host(path)
        dyn = self.readelf(host, "-d")
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", dyn)
        rpath = re.findall(r"\(RPATH\)\s+Library rpath: \[([^]]+)\]", dyn)
        runpath = re.findall(r"\(RUNPATH\)\s+Library runpath: \[([^]]+)\]", dyn)
        soname = re.findall(r"\(SONAME\)\s+Library soname: \[([^]]+)\]", dyn)
        origin = os.path.dirname(path)

        def dirs(lst):
            r = []
            for x in lst:
                for d in x.split(":"):
                    r.append(d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin))
            return r
        return needed, dirs(rpath), dirs(runpath), soname[0] if soname else None

    def interp(self, path):
        m = re.search(r"\[Requesting program interpreter: ([^]]+)\]",
                      self.readelf(self.st.host(path), "-l"))
        return m.group(1) if m else None

    def qemu(self):
        qemu = self.st.isfile(self.a.qemu)
        if not qemu:
            die("%s missing in the staging tree" % self.a.qemu)
        interp = self.interp(qemu)
        if not interp:
            die("%s has no ELF interpreter (not a dynamic executable?)" % self.a.qemu)
        ireal = self.st.isfile(interp)
        if not ireal:
            die("ELF interpreter %s missing in the staging tree" % interp)
        interp_soname = self.elf_info(ireal)[3] or os.path.basename(interp)
        self.install(self.st.host(qemu), self.a.qemu, "qemu", True)
        self.install(self.st.host(ireal), interp, "library", True)

        conf_dirs = self.ld_so_conf_dirs()
        done = {}
        queue = [(qemu, [])]  # (in-tree path, inherited RPATHs)
        while queue:
            obj, inherited = queue.pop(0)
            needed, rpath, runpath, _ = self.elf_info(obj)
            for lib in needed:
                if lib == interp_soname or lib in done:
                    continue
                search = (runpath if runpath else rpath + inherited) + DEFAULT_LIB_DIRS
                found = None
                for d in search:
                    r = self.st.isfile(d + "/" + lib)
                    if r:
                        found = r
                        # Where ld.so will look for it in the image: a default directory under
                        # its canonical name (/lib is /usr/lib in a merged staging tree), an
                        # RPATH/RUNPATH directory as written.
                        dst = (self.st.resolve(d) if d in DEFAULT_LIB_DIRS else d) + "/" + lib
                        break
                if not found:
                    for d in conf_dirs:
                        if self.st.isfile(d + "/" + lib):
                            die("%s (needed by %s) is only in %s, an ld.so.conf directory: the "
                                "image has no ld.so.cache" % (lib, obj, d))
                    die("%s (needed by %s) not found in the staging tree; searched %s" %
                        (lib, obj, " ".join(search)))
                done[lib] = dst
                self.install(self.st.host(found), dst, "library", False)
                queue.append((found, rpath + inherited if not runpath else inherited))
        step("QEMU", "%s + %d libraries (DT_NEEDED closure) + interpreter %s" %
             (self.a.qemu, len(done), interp))

    def ld_so_conf_dirs(self):
        dirs = []
        d = self.st.resolve("/etc/ld.so.conf.d")
        if d:
            for f in sorted(os.listdir(self.st.host(d))):
                if f.endswith(".conf"):
                    with open(os.path.join(self.st.host(d), f)) as fh:
                        for line in fh:
                            line = line.split("#", 1)[0].strip()
                            if line.startswith("/"):
                                dirs.append(line)
        return dirs

    # --- ROMs
    def roms(self):
        qemu_strings = subprocess.run(["strings", "-n", "6", self.st.host(self.st.isfile(
            self.a.qemu))], check=True, capture_output=True, text=True).stdout.split("\n")
        fwpath = self.a.fwpath.split()
        for d in fwpath:
            if d not in qemu_strings:
                step("WARN", "%s is not in %s's strings: is it still on QEMU's firmware path?" %
                     (d, self.a.qemu))
        for rom in self.a.roms.split():
            if rom not in qemu_strings:
                step("WARN", "%s does not name %s" % (self.a.qemu, rom))
            for d in fwpath:
                r = self.st.isfile(d + "/" + rom)
                if r:
                    self.install(self.st.host(r), d + "/" + rom, "rom", False)
                    break
            else:
                die("ROM %s is in none of %s" % (rom, " ".join(fwpath)))
        step("ROM", "%s (from %s)" % (self.a.roms, " ".join(fwpath)))

    # --- QEMU's data directories (the VNC server's keymaps): every regular file in each
    def data(self):
        for d in self.a.data.split():
            r = self.st.resolve(d)
            if not r or not os.path.isdir(self.st.host(r)):
                die("data directory %s missing in the staging tree" % d)
            names = sorted(f for f in os.listdir(self.st.host(r))
                           if os.path.isfile(os.path.join(self.st.host(r), f)))
            for f in names:
                self.install(os.path.join(self.st.host(r), f), d + "/" + f, "data", False)
            step("DATA", "%s (%d files)" % (d, len(names)))

    def busybox(self):
        bb = self.st.isfile("/bin/busybox")
        if not bb:
            die("DEBUG=1: /bin/busybox (busybox-static) missing in the staging tree")
        self.install(self.st.host(bb), "/bin/busybox", "busybox", True)
        os.symlink("busybox", os.path.join(self.out, "bin/sh"))
        self.manifest.append(("busybox", "/bin/sh", 0))
        step("DEBUG", "/bin/busybox + /bin/sh (busybox-static)")

    # --- QEMU's device list (stubinit.qemu-devices): what its -device takes in the image, asked
    # of the image's QEMU itself in a chroot of the image (its own libraries and modules, none of
    # the build machine's), so that stubinit refuses a -device it lacks before starting it
    def devices(self):
        cmd = ["chroot", self.out, self.a.qemu, "-device", "help"]
        if os.geteuid() != 0:
            cmd = ["unshare", "-r"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        names = set()
        for m in re.finditer(r'^name "([^"]+)"(?:, bus [^,\n]+)?(?:, alias "([^"]+)")?', r.stdout,
                             re.M):
            names.update(n for n in m.groups() if n)
        if r.returncode != 0 or not names:
            step("WARN", "%s -device help in a chroot of the image failed (status %d: %s): "
                 "no device list, stubinit will not check -device" %
                 (self.a.qemu, r.returncode, (r.stderr or r.stdout).strip()[:200]))
            return
        self.write("/usr/share/stubinit/qemu-devices", "\n".join(sorted(names)) + "\n")
        step("DEVICES", "/usr/share/stubinit/qemu-devices: %d -device drivers of %s" %
             (len(names), self.a.qemu))

    def run(self):
        if os.path.lexists(self.out):
            shutil.rmtree(self.out)
        os.makedirs(self.out)
        os.chmod(self.out, 0o755)
        for d in ("dev", "proc", "sys", "run"):
            self.mkdir("/" + d)
        self.mkdir("/tmp", 0o1777)
        self.modules()
        self.qemu()
        self.roms()
        self.data()
        self.devices()
        if self.a.debug:
            self.busybox()
        with open(self.a.manifest, "w") as f:
            json.dump(sorted(self.manifest, key=lambda x: x[1]), f, indent=0)
            f.write("\n")


def human(n):
    return "%11s B %8.1f MiB" % ("{:,}".format(n), n / 1048576.0)


def report(a):
    with open(a.manifest) as f:
        manifest = json.load(f)
    parts = {}
    for part, path, size in manifest:
        c, s = parts.get(part, (0, 0))
        parts[part] = (c + 1, s + size)
    init = os.path.getsize(os.path.join(a.root, "init"))
    total = sum(s for _, s in parts.values()) + init
    names = [("module", "modules"), ("qemu", "QEMU binary"), ("library", "libraries + ld.so"),
             ("rom", "ROMs"), ("data", "QEMU data"), ("busybox", "busybox (DEBUG)"),
             ("meta", "module + device lists")]
    step("SIZE", "stubdom-kernel      %s" % human(os.path.getsize(a.kernel)))
    step("SIZE", "stubdom-initramfs   %s  (%s)" % (human(os.path.getsize(a.initramfs)),
                                                    a.compression))
    step("SIZE", "unpacked            %s  (%d files; cpio archive %s B)" %
         (human(total), len(manifest) + 1, "{:,}".format(os.path.getsize(a.cpio))))
    for key, label in names:
        if key in parts:
            c, s = parts[key]
            step("SIZE", "  %-17s %s  (%d)" % (label, human(s), c))
    step("SIZE", "  %-17s %s" % ("stubinit (/init)", human(init)))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rootfs")
    r.add_argument("--staging", required=True)
    r.add_argument("--kver", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--modules", required=True)
    r.add_argument("--qemu", required=True)
    r.add_argument("--roms", required=True)
    r.add_argument("--fwpath", required=True)
    r.add_argument("--data", default="")
    r.add_argument("--debug", action="store_true")
    r.add_argument("--manifest", required=True)
    p = sub.add_parser("report")
    p.add_argument("--manifest", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--initramfs", required=True)
    p.add_argument("--cpio", required=True)
    p.add_argument("--compression", required=True)
    a = ap.parse_args()
    if a.cmd == "rootfs":
        Builder(a).run()
    else:
        report(a)


if __name__ == "__main__":
    main()
