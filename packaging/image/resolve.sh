#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# resolve.sh - decide which Debian packages (exact versions) the stubdomain image is made of.
#
# Usage: resolve.sh APTDIR SUITE ROOT_PACKAGE... > LOCK
#
# Through the project's private apt (packaging/apt, APTDIR, type deb, SUITE; APT_ARCH from the
# environment), prints one line per package, sorted:  ROLE NAME VERSION ARCH
#   kernel  the package linux-image-amd64 currently depends on (only it: its own dependencies,
#           initramfs-tools and the like, are not part of the image)
#   pkg     every package of the install closure of the ROOT_PACKAGEs, as apt resolves it for an
#           empty system without recommends (one choice per alternative)
# and checks that QEMU's Xen libraries (libxen*) are of the same Xen version as the suite's
# hypervisor (xen-hypervisor-common), so the image matches the suite's Xen.
set -eu

usage="usage: resolve.sh APTDIR SUITE ROOT_PACKAGE..."
aptdir=${1:?$usage}; suite=${2:?$usage}; shift 2
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
apt() { "$here/../apt/private-apt.sh" "$aptdir" deb "$suite" "$@"; }

# --- the kernel: linux-image-amd64's current dependency
kpkg=$(apt apt-cache depends linux-image-amd64 |
	sed -n 's/^ *|\{0,1\}Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
[ -n "$kpkg" ] || { echo "resolve.sh: linux-image-amd64 ($suite) depends on no linux-image-<version>" >&2; exit 1; }
apt apt-cache show --no-all-versions "$kpkg" |
	awk -v p="$kpkg" '/^Version:/ { v = $2 } /^Architecture:/ { a = $2 }
		END { if (v == "" || a == "") exit 1; print "kernel " p " " v " " a }'

# --- the install closure of the roots on an empty system (the private dpkg status is empty)
sim=$(apt apt-get -s -q install --no-install-recommends "$@")
printf '%s\n' "$sim" | awk '
	$1 == "Inst" {
		v = $3; sub(/^\(/, "", v)
		# "Inst NAME (VERSION RELEASE... [ARCH])", possibly followed by " [...]"
		if (!match($0, /\[[a-z0-9]+\]\)/)) { print "resolve.sh: cannot parse: " $0 > "/dev/stderr"; exit 1 }
		a = substr($0, RSTART + 1, RLENGTH - 3)
		print "pkg " $2 " " v " " a
	}' | LC_ALL=C sort -k2,2 > "$aptdir/closure.$$"
trap 'rm -f "$aptdir/closure.$$"' EXIT
for r in "$@"; do
	grep -q "^pkg $r " "$aptdir/closure.$$" ||
		{ echo "resolve.sh: $r is not in apt's install plan:" >&2; printf '%s\n' "$sim" >&2; exit 1; }
done
cat "$aptdir/closure.$$"

# --- QEMU's Xen libraries and the suite's hypervisor are one Xen release
hv=$(apt apt-cache show --no-all-versions xen-hypervisor-common | sed -n 's/^Version: //p')
bad=$(awk -v hv="$hv" '$2 ~ /^libxen/ && $3 != hv { print $2 "=" $3 }' "$aptdir/closure.$$")
if [ -z "$hv" ] || [ -n "$bad" ]; then
	echo "resolve.sh: Xen libraries ($bad) differ from the $suite hypervisor version '$hv'" >&2
	exit 1
fi
printf '  %-8s %s\n' XEN "QEMU's libxen* = $suite hypervisor (xen-hypervisor-common) $hv" >&2
