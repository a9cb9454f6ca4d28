#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# build.sh - the stubdomain's QEMU: qemu-system-i386 from Debian's qemu source package of a given
# version (Debian's patches applied), configured by configure.opts with only the devices of
# devices.mak. Cached: the binary of a key (the source version, configure.opts, devices.mak) is
# built once.
#
# Usage: build.sh SUITE VERSION OUT
#   SUITE    bookworm, trixie, ... (the suite whose qemu source package is fetched)
#   VERSION  the Debian version of the suite's qemu (the image's packages.lock names it, as the
#            version of qemu-system-xen; a binNMU's +bN is dropped)
#   OUT      where the binary goes (a copy of the cached, stripped qemu-system-i386)
# Cache: build/qemu/<key>/ (qemu-system-i386, configure.log, build.log); the source package stays
# in build/qemu/src/, the private apt of its deb-src index in build/qemu/apt/. build/qemu links to
# the cache outside the clone (../cache.sh).
# Build dependencies: ./packages (the headers of the libraries it links; the image ships the
# suite's runtime packages of the same libraries). For this machine's own suite they are installed
# here; for another suite (trixie on a bookworm machine) the build runs in a build root of that
# suite, build/qemu/root-SUITE-<key of the package list>, made once with mmdebstrap from
# ./packages (minbase, through the private apt), so the binary links against that suite's
# libraries. Prints the build time, the size and the libraries the binary needs.
set -euo pipefail
unset MAKEFLAGS MAKEOVERRIDES MFLAGS MAKELEVEL O
suite=$1 version=$2 out=$3
# a binary-only rebuild (binNMU, +bN) of the package has its source's version without the suffix
version=${version%+b[0-9]*}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=packaging/cache.sh
. "$repo/packaging/cache.sh"
cache_dir "$repo" qemu
step() { printf '  %-8s %s\n' "$1" "$2"; }
# make_root: the build root of $suite (once per package list): ./packages' build dependencies from
# the suite, through the private apt's deb index of it (build/qemu/apt-deb), minbase, no
# documentation; a root of an older list goes
make_root() {
	local srcs=() f
	[ ! -e "$broot/.complete" ] || return 0
	step ROOT "$suite build root: mmdebstrap of packages (log $cache/root-$suite.log)"
	"$repo/packaging/apt/private-apt.sh" --log "$cache/root-$suite.log" "$cache/apt-deb" deb "$suite" \
		apt-get -q check
	for f in "$cache/apt-deb/etc/sources.list" "$cache/apt-deb/etc/sources.list.d/private.sources"; do
		[ -s "$f" ] && srcs+=("$f")
	done
	rm -rf --one-file-system "$broot.tmp"
	if ! mmdebstrap --variant=minbase --mode=root --dpkgopt=force-unsafe-io \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' --include="$root_pkgs" \
		"$suite" "$broot.tmp" "${srcs[@]}" >>"$cache/root-$suite.log" 2>&1; then
		tail -n 20 "$cache/root-$suite.log" >&2
		exit 1
	fi
	touch "$broot.tmp/.complete"
	for f in "$cache/root-$suite"-*; do
		[[ $f == "$broot"* ]] || rm -rf --one-file-system "$f"
	done
	mv "$broot.tmp" "$broot"
}

host_suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
broot=''
# the root's packages: ./packages but the host's own tools; the root is keyed by them
root_pkgs=$(sed 's/#.*//; /^[[:space:]]*$/d' "$here/packages" | grep -vx -e mmdebstrap | paste -sd,)
[ "$suite" = "$host_suite" ] ||
	broot=$cache/root-$suite-$(echo "$root_pkgs" | sha256sum | cut -c1-8)
missing=
tools=(dpkg-source strip readelf)
if [ -n "$broot" ]; then tools+=(mmdebstrap chroot); else tools+=(meson ninja pkg-config make cc); fi
for t in "${tools[@]}"; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "build.sh: missing build tools:$missing; run packaging/install-deps $here/packages" >&2
	exit 1
fi

opts=$(sed 's/#.*//; s/[[:space:]]*$//; /^$/d' "$here/configure.opts")
where_known=$(sed -n 's/^\([^#[:space:]]*\)[[:space:]]*#.*(where known).*/\1/p' "$here/configure.opts")
key=$({
	echo "qemu=$version"
	[ -z "$broot" ] || echo "root=$suite"
	echo "$opts"
	cat "$here/devices.mak"
} | sha256sum | cut -c1-16)
dir=$cache/$key
if [ ! -s "$dir/qemu-system-i386" ]; then
	# the source package: NAME_UPSTREAM-REVISION.dsc, without the epoch
	dsc=$cache/src/qemu_${version#*:}.dsc
	mkdir -p "$cache/src"
	if [ ! -f "$dsc" ]; then
		step APT "source qemu=$version ($suite)"
		(cd "$cache/src" && "$repo/packaging/apt/private-apt.sh" --log "$cache/apt-source.log" \
			"$cache/apt" deb-src "$suite" apt-get -q source --download-only "qemu=$version")
		[ -f "$dsc" ] || { echo "build.sh: apt-get source did not produce $dsc" >&2; exit 1; }
	fi
	start=$(date +%s)
	if [ -n "$broot" ]; then
		make_root
		# the build happens in the root's /build; its /proc is mounted while it runs
		work=$broot/build inside=/build
		mount -t proc proc "$broot/proc"
		trap 'umount -l "$broot/proc"' EXIT
		in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 chroot "$broot" "$@"; }
	else
		work=$cache/work-$key inside=$cache/work-$key
		in_root() { "$@"; }
	fi
	rm -rf "$work" "$dir.tmp"
	mkdir -p "$work" "$dir.tmp"
	step UNPACK "qemu $version (with Debian's patches)"
	dpkg-source --no-check -x "$dsc" "$work/src" >"$dir.tmp/build.log" 2>&1
	cp "$here/devices.mak" "$work/src/configs/devices/i386-softmmu/xenstubdom.mak"
	# a "(where known)" option that this QEMU's configure (and its meson option list) does not name
	# is left out
	for o in $where_known; do
		if ! grep -qF -e "${o%%=*}" "$work/src/configure" "$work/src/scripts/meson-buildoptions.sh" 2>/dev/null; then
			step OPTS "$o left out: qemu $version's configure does not know it"
			opts=$(grep -vxF -e "$o" <<<"$opts")
		fi
	done
	step CONFIG "configure.opts + devices.mak (log $dir/configure.log)"
	mkdir -p "$work/b"
	# shellcheck disable=SC2086 # one option per word
	if ! in_root env -C "$inside/b" "$inside/src/configure" --prefix=/usr \
		--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu \
		--with-pkgversion="Debian $version, stubinit stubdom build" \
		--without-default-devices --with-devices-i386=xenstubdom $opts \
		>"$dir.tmp/configure.log" 2>&1; then
		tail -n 20 "$dir.tmp/configure.log" >&2
		exit 1
	fi
	step BUILD "qemu-system-i386 (make -j$(nproc); log $dir/build.log)"
	if ! in_root make -C "$inside/b" -j"$(nproc)" qemu-system-i386 >>"$dir.tmp/build.log" 2>&1; then
		tail -n 30 "$dir.tmp/build.log" >&2
		exit 1
	fi
	strip -o "$dir.tmp/qemu-system-i386" "$work/b/qemu-system-i386"
	rm -rf "$work" "$dir"
	mv "$dir.tmp" "$dir"
	step TIME "QEMU built in $(($(date +%s) - start)) s"
else
	step QEMU "cached ($dir)"
fi
cp "$dir/qemu-system-i386" "$out.tmp" && mv -f "$out.tmp" "$out"
step SIZE "qemu-system-i386 $(stat -c %s "$out") bytes, needs $(readelf -d "$out" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd' ')"
