#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# build.sh IMAGE_DIR XEN_VERSION VERSION OUTDIR: the Debian package stubinit-stubdom, which installs
# the stubdomain image (IMAGE_DIR/stubdom-kernel and stubdom-initramfs, from make image) where
# libxl looks for a Linux stubdomain when xl.cfg names none: $XENFIRMWAREDIR/qemu-stubdom-linux-
# kernel and qemu-stubdom-linux-rootfs, which Debian's XENFIRMWAREDIR puts in
# /usr/lib/xen-<XEN_VERSION>/boot. Made with dpkg-deb alone (a binary-only native package; no
# maintainer scripts, nothing to configure). It carries the licence of everything inside: stubinit's,
# and the copyright file of every Debian package the image was made from (IMAGE_DIR/packages.lock:
# their .debs in IMAGE_DIR/debs; the kernel's and QEMU's source packages, whose builds are in the
# image, from their binary packages' copyright files), plus the libraries built into the static
# stubinit (packaging/static-deps, build/deps/src).
# Prints the package's path. VERSION is Debian's spelling (the Makefile's DEB_VERSION).
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: build.sh IMAGE_DIR XEN_VERSION VERSION OUTDIR" >&2; exit 2; }
img=$1 xen=$2 version=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pkg=stubinit-stubdom
arch=amd64
for f in stubdom-kernel stubdom-initramfs packages.lock; do
	[ -s "$img/$f" ] || { echo "build.sh: $img/$f is missing (make image)" >&2; exit 1; }
done
# the date of the source's last commit (a release tarball: its VERSION file's), for reproducibility
when=$(cd "$repo" && git log -1 --format=%ct 2>/dev/null || stat -c %Y "$repo/VERSION")
export SOURCE_DATE_EPOCH=$when

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
boot=$root/usr/lib/xen-$xen/boot
doc=$root/usr/share/doc/$pkg
install -d "$boot" "$doc/image-copyright" "$root/DEBIAN"
install -m 644 "$img/stubdom-kernel" "$boot/qemu-stubdom-linux-kernel"
install -m 644 "$img/stubdom-initramfs" "$boot/qemu-stubdom-linux-rootfs"

# ---- licences -------------------------------------------------------------------------------
# Debian packages in the image: each .deb's own copyright file
copyright_of() { # DEB -> the package's copyright file on stdout (empty when it has none)
	dpkg-deb --fsys-tarfile "$1" | { tar -xO --wildcards "./usr/share/doc/*/copyright" 2>/dev/null || :; }
}
# a package whose doc directory is a symlink to its source's other package (libgcc-s1 ->
# gcc-12-base): that package's copyright file, as Debian's policy allows
doc_link_of() {
	dpkg-deb --fsys-tarfile "$1" | tar -tv 2>/dev/null | sed -n 's|.* \./usr/share/doc/[^/]* -> \([^/]*\)$|\1|p' | head -n 1
}
names=()
while read -r kind name ver _; do
	case $kind in
	pkg) deb=$(find "$img/debs" -maxdepth 1 -name "${name}_*.deb" | head -n 1) ;;
	*) continue ;;
	esac
	[ -n "$deb" ] || { echo "build.sh: no .deb of $name in $img/debs" >&2; exit 1; }
	copyright_of "$deb" >"$doc/image-copyright/$name"
	if [ ! -s "$doc/image-copyright/$name" ] && link=$(doc_link_of "$deb") && [ -n "$link" ]; then
		other=$(find "$img/debs" -maxdepth 1 -name "${link}_*.deb" | head -n 1)
		[ -z "$other" ] || copyright_of "$other" >"$doc/image-copyright/$name"
	fi
	[ -s "$doc/image-copyright/$name" ] || { echo "build.sh: $deb has no copyright file" >&2; exit 1; }
	names+=("$name $ver")
done <"$img/packages.lock"
# the stubdomain kernel (Debian's linux source) and QEMU (Debian's qemu source), when the image has
# them (the kernel's config beside it; QEMU's binary in the image directory): the source of the
# versions its lock names, since the build caches hold every version built on this machine
if [ -e "$img/stubdom-kernel.config" ]; then
	kv=$(awk '$1 == "kernel" { print $3 }' "$img/packages.lock")
	for d in "$repo"/build/kernel/debs/linux-source-*_"${kv}"_all.deb; do
		[ -e "$d" ] && copyright_of "$d" >"$doc/image-copyright/linux" && names+=("linux (the stubdomain kernel's source, $(basename "$d"))")
	done
fi
q=''
if [ -e "$img/qemu-system-i386" ]; then
	qv=$(awk '$2 == "qemu-system-xen" { print $3 }' "$img/packages.lock")
	qv=${qv#*:} qv=${qv%+b[0-9]*}
	q=$(find "$repo/build/qemu/src" -maxdepth 1 -name "qemu_${qv}.debian.tar.*" 2>/dev/null | head -n 1)
fi
if [ -n "$q" ]; then
	tar -xOf "$q" debian/copyright >"$doc/image-copyright/qemu"
	names+=("qemu (the stubdomain QEMU's source, $(basename "$q"))")
fi
# the libraries linked into the static stubinit: Debian's json-c, libnl3 and xen source packages
# (packaging/static-deps) and the build machine's musl
for t in "$repo"/build/deps/dl/*.debian.tar.*; do
	[ -e "$t" ] || continue
	n=$(basename "$t")
	n=${n%%_*}
	tar -xOf "$t" debian/copyright >"$doc/image-copyright/static-$n"
	names+=("$n (linked into the static stubinit, $(basename "$t"))")
done
if [ -s /usr/share/doc/musl-dev/copyright ]; then
	cp /usr/share/doc/musl-dev/copyright "$doc/image-copyright/static-musl"
	names+=("musl (linked into the static stubinit, musl-dev $(dpkg-query -W -f='${Version}' musl-dev 2>/dev/null))")
fi
{
	cat <<EOT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: stubinit
Comment: This package holds a Xen stubdomain image: a Linux kernel and an initramfs whose /init is
 stubinit, with QEMU and the libraries it needs. stubinit is covered below. Everything else in the
 image comes from Debian packages (or their source packages, for the kernel and QEMU, built for a
 stubdomain) and keeps its licence; their copyright files are in
 /usr/share/doc/$pkg/image-copyright/, one per package:
$(printf '  %s\n' "${names[@]}" | sed 's/^  $/ ./; s/^/ /')

Files: *
Copyright: 2026 the stubinit developers
License: GPL-2.0-only
 This program is free software; you can redistribute it and/or modify it under the terms of the
 GNU General Public License as published by the Free Software Foundation; version 2.
 .
 This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without
 even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU
 General Public License for more details.
 .
 On Debian systems, the complete text of the GNU General Public License version 2 can be found in
 /usr/share/common-licenses/GPL-2.
EOT
} >"$doc/copyright"
chmod 644 "$doc/copyright" "$doc"/image-copyright/*

# ---- changelog (a native package's: changelog.gz) --------------------------------------------
cat >"$stage/changelog" <<EOT
$pkg ($version) unstable; urgency=medium

  * stubinit $version: see the project's CHANGELOG.md.

 -- stubinit developers <stubinit@lists.example.org>  $(date -u -R -d "@$when")
EOT
gzip -9n <"$stage/changelog" >"$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"

# ---- control ------------------------------------------------------------------------------
size=$(du -k -s --apparent-size "$root/usr" | cut -f1)
cat >"$root/DEBIAN/control" <<EOT
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: stubinit developers <stubinit@lists.example.org>
Installed-Size: $size
Depends: xen-utils-$xen
Section: admin
Priority: optional
Homepage: https://github.com/stubinit/stubinit
Description: Linux stubdomain image for Xen HVM guests (stubinit as PID 1)
 Xen can run an HVM guest's device model (QEMU) in a small PV service
 domain, the stubdomain, so that a QEMU bug cannot reach dom0. This package
 installs a Linux stubdomain image where libxl looks for one by default:
 a kernel and an initramfs whose PID 1 is stubinit, which starts QEMU
 deprivileged, supervises it, serves its QMP monitor to dom0 over vchan and
 handles the device-model protocol (save, restore, PCI hot-plug, NICs).
 .
 To use it, set in a guest's xl.cfg:
   device_model_stubdomain_override = 1
EOT
(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 755 {} +
find "$root" -exec touch -h -d "@$when" {} +

mkdir -p "$out"
deb=$out/${pkg}_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
