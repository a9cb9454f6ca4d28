#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# mkimage.sh OUTDIR [REPOSITORY]: on Alpine (x86_64, as root), a stubdomain image for libxl's
# Linux stubdomain from Alpine's packages and stubinit's own (abuild -r):
#   OUTDIR/qemu-stubdom-linux-kernel  linux-virt's kernel
#   OUTDIR/qemu-stubdom-linux-rootfs  a gzip'd newc cpio: /init -> /usr/sbin/stubinit, Xen's QEMU
#       (xen-qemu) with its libraries and firmware, linux-virt's modules that packaging/image/
#       modules.list names and the kernel does not have built in (with what they need) in
#       /etc/stubinit/modules, /etc/stubinit/keys naming xen-qemu's binary, the list of its -device
#       drivers (stubinit.qemu-devices)
# REPOSITORY: where abuild -r put stubinit's package (default ~/packages/packaging: abuild run in
# packaging/alpine of a source tree; ~/packages/testing from aports' testing/stubinit).
# Needs apk-tools, GNU cpio (apk add cpio), gzip, and the network to Alpine's mirrors.
# Not run by the project (no Alpine machine): packaging/alpine/README.md says what was checked.
set -eu
die() {
	echo "mkimage.sh: $*" >&2
	exit 1
}
step() { printf '  %-8s %s\n' "$1" "$2"; }
case $# in
1 | 2) ;;
*) echo "usage: mkimage.sh OUTDIR [REPOSITORY]" >&2; exit 2 ;;
esac
out=$1 repo=${2:-$HOME/packages/packaging}
here=$(cd "$(dirname "$0")" && pwd)
list=$here/../image/modules.list
qemu=/usr/lib/xen/bin/qemu-system-i386
[ "$(id -u)" = 0 ] || die "run it as root (apk add --root, chroot)"
[ "$(apk --print-arch)" = x86_64 ] || die "not an x86_64 Alpine"
[ -d "$repo" ] || die "no repository $repo (abuild -r puts stubinit's package in ~/packages/<dir>)"
[ -f "$list" ] || die "no $list (run this from stubinit's source tree)"
cpio --version 2>/dev/null | grep -q GNU || die "GNU cpio needed (apk add cpio)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
kroot=$tmp/kernel root=$tmp/root

# apk_root DIR PACKAGE...: the packages and what they depend on in a new root, no install scripts
# run, from this machine's repositories and keys and REPOSITORY.
apk_root() {
	d=$1
	shift
	mkdir -p "$d/etc/apk"
	cp -R /etc/apk/keys "$d/etc/apk/"
	cp /etc/apk/repositories "$d/etc/apk/"
	apk add --quiet --root "$d" --initdb --update-cache --no-scripts --repository "$repo" "$@"
}
step APK "linux-virt"
apk_root "$kroot" linux-virt
step APK "stubinit xen-qemu"
apk_root "$root" stubinit xen-qemu
case $(readlink "$root/lib" 2>/dev/null || :) in
/*) die "$root/lib is an absolute symlink: writing through it would leave the root" ;;
esac

# --- the kernel and its modules ---------------------------------------------------------------
set -- "$kroot"/boot/vmlinuz-*
[ $# = 1 ] || die "linux-virt: want one /boot/vmlinuz-*, found: $*"
[ -f "$1" ] || die "linux-virt has no /boot/vmlinuz-*"
kernel=$1
# (no blank in these paths: a mktemp directory, the kernel's version)
# shellcheck disable=SC2046
set -- $(find "$kroot" -name modules.builtin -path '*/lib/modules/*')
[ $# = 1 ] || die "linux-virt: want one lib/modules/<version>/modules.builtin, found $#"
mdir=${1%/modules.builtin}
kver=${mdir##*/}
if [ ! -f "$mdir/modules.dep" ]; then
	command -v depmod >/dev/null || die "linux-virt has no modules.dep: apk add kmod (depmod)"
	depmod -b "${mdir%/lib/modules/"$kver"}" "$kver"
fi
# The load order: each module after what it needs (modules.dep), built-in ones left out; a line
# keeps the list's parameters (xen-privcmd unrestricted=1).
awk '
function norm(p) {
	sub(/.*\//, "", p); sub(/\.ko(\.(gz|xz|zst))?$/, "", p); gsub(/-/, "_", p)
	return p
}
function visit(p, params,   n, a, i) {
	if (p in seen) return
	seen[p] = 1
	n = split(deps[p], a, " ")
	for (i = 1; i <= n; i++) visit(a[i], "")
	print p (params == "" ? "" : " " params)
}
FILENAME == ARGV[1] { builtin[norm($1)] = 1; next }
FILENAME == ARGV[2] { p = $1; sub(/:$/, "", p); $1 = ""; deps[p] = $0; path[norm(p)] = p; next }
{ sub(/#.*/, "") }
NF == 0 { next }
{
	m = $1; $1 = ""; params = $0; sub(/^ +/, "", params)
	if (norm(m) in builtin) {
		if (params != "") params = " (" params ": on the kernel command line)"
		print "  BUILTIN  " m params > "/dev/stderr"
		next
	}
	if (!(norm(m) in path)) {
		print "mkimage.sh: " m " is neither built into linux-virt nor a module of it" > "/dev/stderr"
		bad = 1
		next
	}
	visit(path[norm(m)], params)
}
END { exit bad }
' "$mdir/modules.builtin" "$mdir/modules.dep" "$list" >"$tmp/modules"
mkdir -p "$root/etc/stubinit" "$root/lib/modules/$kver"
: >"$root/etc/stubinit/modules"
# Each module uncompressed, so that no kernel option for compressed modules is needed.
while read -r p params; do
	case $p in
	*.ko.gz) dst=${p%.gz} z="gzip -dc" ;;
	*.ko.xz) dst=${p%.xz} z=xzcat ;;
	*.ko.zst) dst=${p%.zst} z="zstd -dc" ;;
	*) dst=$p z=cat ;;
	esac
	step MODULE "$dst${params:+ $params}"
	mkdir -p "$(dirname "$root/lib/modules/$kver/$dst")"
	$z "$mdir/$p" >"$root/lib/modules/$kver/$dst"
	echo "$dst${params:+ $params}" >>"$root/etc/stubinit/modules"
done <"$tmp/modules"

# --- stubinit, QEMU, the rest -----------------------------------------------------------------
[ -x "$root/usr/sbin/stubinit" ] || die "the stubinit package has no /usr/sbin/stubinit"
[ -x "$root$qemu" ] || die "xen-qemu has no $qemu (apk info -L xen-qemu): set stubinit.qemu below"
ln -sf /usr/sbin/stubinit "$root/init"
printf '# mkimage.sh: QEMU where xen-qemu installs it\nstubinit.qemu=%s\n' "$qemu" \
	>"$root/etc/stubinit/keys"
mkdir -p "$root/dev" "$root/proc" "$root/sys" "$root/run" "$root/tmp" "$root/usr/share/stubinit"
chroot "$root" /usr/sbin/stubinit --version || die "stubinit does not run in the image"
chroot "$root" "$qemu" --version | head -n 1 || die "QEMU does not run in the image"
chroot "$root" "$qemu" -device help >"$tmp/devices" || die "$qemu -device help failed"
awk -F'"' '/^name "/ {
	print $2
	if (match($0, /alias "[^"]*"/)) print substr($0, RSTART + 7, RLENGTH - 8)
}' "$tmp/devices" | LC_ALL=C sort -u >"$root/usr/share/stubinit/qemu-devices"
step DEVICES "$(wc -l <"$root/usr/share/stubinit/qemu-devices") -device drivers"
# No package manager and no shell in the image.
rm -rf "$root/lib/apk" "$root/usr/lib/apk" "$root/etc/apk" "$root/var/cache/apk"
for f in bin/busybox bin/sh; do
	if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then
		step REMOVE "/$f"
		rm -f "${root:?}/$f"
	fi
done

mkdir -p "$out"
cp "$kernel" "$out/qemu-stubdom-linux-kernel"
(cd "$root" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$out/qemu-stubdom-linux-rootfs"
k=$out/qemu-stubdom-linux-kernel r=$out/qemu-stubdom-linux-rootfs
step KERNEL "$k ($kver, $(wc -c <"$k") bytes)"
step ROOTFS "$r ($(wc -c <"$r") bytes, $(du -sk "$root" | cut -f1) KiB unpacked)"
cat <<EOF
Install: cp $out/qemu-stubdom-linux-kernel $out/qemu-stubdom-linux-rootfs /usr/lib/xen/boot/
xl.cfg of an HVM guest:
  device_model_stubdomain_override = 1
  stubdomain_cmdline = "console=hvc0 xen_privcmd.unrestricted=1"
  stubdomain_memory = 256
EOF
