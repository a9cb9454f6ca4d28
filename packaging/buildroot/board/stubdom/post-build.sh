#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# post-build.sh TARGET_DIR - trim a Buildroot target tree to a stubdomain rootfs.
#
# BR2_PACKAGE_XEN_TOOLS is the only way Buildroot offers to get the Xen client libraries and
# qemu-xen, but it installs dom0's whole toolstack as well. Inside a stubdomain only the libraries
# and QEMU are used: remove the toolstack, its daemons, scripts and the shells they pull in, so
# that no shell is left for a QEMU compromise to use.
set -eu
t=${1:?usage: post-build.sh TARGET_DIR}

rm -rf "$t/etc/xen" "$t/etc/init.d" "$t/var/lib/xen" "$t/var/log/xen" \
	"$t/usr/lib/xen/boot" "$t/usr/share/xen" "$t/usr/lib/python3"* \
	"$t/usr/lib/xen/bin/pygrub" "$t/usr/lib/xen/bin/xenpaging" \
	"$t/usr/lib/xen/bin/libxl-save-helper" "$t/usr/lib/xen/bin/xen-init-dom0"
for f in xl xenstored xenconsoled xen-diag xenmon xenperf xenpm xenpmd xentop xentrace \
	xenwatchdogd xenlockprof xenhypfs xen-hptool xen-kdd xen-lowmemd xen-mfndump xenbaked \
	xencov flask-get-bool flask-set-bool flask-getenforce flask-setenforce flask-label-pci \
	flask-loadpolicy gdbsx kdd; do
	rm -f "$t/usr/sbin/$f" "$t/usr/bin/$f"
done
# The shells Xen's scripts needed (bash, busybox's sh), now unused.
rm -f "$t/bin/bash" "$t/usr/bin/bash" "$t/bin/sh" "$t/usr/bin/sh"

[ -x "$t/usr/sbin/stubinit" ] || { echo "post-build.sh: no /usr/sbin/stubinit in $t" >&2; exit 1; }
