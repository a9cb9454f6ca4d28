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
# suite's runtime packages of the same libraries). Prints the build time, the size and the
# libraries the binary needs.
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

missing=
for t in dpkg-source meson ninja pkg-config make cc strip readelf; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "build.sh: missing build tools:$missing; run packaging/install-deps $here/packages" >&2
	exit 1
fi

opts=$(sed 's/#.*//; /^[[:space:]]*$/d' "$here/configure.opts")
key=$({
	echo "qemu=$version"
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
	work=$cache/work-$key
	rm -rf "$work" "$dir.tmp"
	mkdir -p "$work" "$dir.tmp"
	start=$(date +%s)
	step UNPACK "qemu $version (with Debian's patches)"
	dpkg-source --no-check -x "$dsc" "$work/src" >"$dir.tmp/build.log" 2>&1
	cp "$here/devices.mak" "$work/src/configs/devices/i386-softmmu/xenstubdom.mak"
	step CONFIG "configure.opts + devices.mak (log $dir/configure.log)"
	mkdir -p "$work/b"
	# shellcheck disable=SC2086 # one option per word
	if ! (cd "$work/b" && ../src/configure --prefix=/usr \
		--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu \
		--with-pkgversion="Debian $version, stubinit stubdom build" \
		--without-default-devices --with-devices-i386=xenstubdom $opts) \
		>"$dir.tmp/configure.log" 2>&1; then
		tail -n 20 "$dir.tmp/configure.log" >&2
		exit 1
	fi
	step BUILD "qemu-system-i386 (make -j$(nproc); log $dir/build.log)"
	if ! make -C "$work/b" -j"$(nproc)" qemu-system-i386 >>"$dir.tmp/build.log" 2>&1; then
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
