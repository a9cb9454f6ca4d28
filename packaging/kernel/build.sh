#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# build.sh - the stubdomain kernel: Debian's linux-source of a given version, the patches of this
# directory, `allnoconfig` plus stubdom.config, everything built in. Cached: the bzImage of a key
# (the source package and version, the config fragment, the patches) is built once.
#
# Usage: build.sh APTDIR SUITE VERSION OUT
#   APTDIR   the private apt (packaging/apt) to fetch linux-source-<M.m>=VERSION with
#   VERSION  the Debian version of the suite's kernel (the image's packages.lock names it)
#   OUT      where the kernel goes (a copy of the cached bzImage; its config beside it, OUT.config)
# Cache: build/kernel/<key>/ (bzImage, config, build.log); the .deb stays in build/kernel/debs/.
# build/kernel links to the cache outside the clone (../cache.sh).
# Prints the build time and the kernel's size.
set -euo pipefail
# Called from make: its O=, MAKEFLAGS and friends must not reach the kernel's make (O= would move
# the kernel's output tree).
unset MAKEFLAGS MAKEOVERRIDES MFLAGS MAKELEVEL O KBUILD_OUTPUT
aptdir=$1 suite=$2 version=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=packaging/cache.sh
. "$repo/packaging/cache.sh"
cache_dir "$repo" kernel
mm=$(echo "$version" | cut -d. -f1,2)
pkg=linux-source-$mm
patches=("$here"/*.patch)
step() { printf '  %-8s %s\n' "$1" "$2"; }

key=$({
	echo "$pkg=$version"
	cat "$here/stubdom.config" "${patches[@]}"
} | sha256sum | cut -c1-16)
dir=$cache/$key
if [ ! -s "$dir/bzImage" ]; then
	mkdir -p "$cache/debs"
	deb=$(ls "$cache/debs/${pkg}_${version}_all.deb" 2>/dev/null || :)
	if [ -z "$deb" ]; then
		step DOWNLOAD "$pkg=$version"
		(cd "$cache/debs" && "$repo/packaging/apt/private-apt.sh" --log "$cache/download.log" \
			"$aptdir" deb "$suite" apt-get -q download "$pkg=$version")
		deb=$cache/debs/${pkg}_${version}_all.deb
	fi
	work=$cache/work-$key
	rm -rf "$work" "$dir.tmp"
	mkdir -p "$work" "$dir.tmp"
	start=$(date +%s)
	step UNPACK "$pkg $version"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" ./usr/src
	tar -xf "$work/usr/src/$pkg.tar.xz" -C "$work"
	rm -rf "$work/usr"
	src=$work/$pkg
	for p in "${patches[@]}"; do
		step PATCH "$(basename "$p")"
		patch -s -p1 --fuzz=0 -d "$src" <"$p"
	done
	step CONFIG "allnoconfig + stubdom.config"
	make -s -C "$src" ARCH=x86_64 allnoconfig >"$dir.tmp/build.log" 2>&1
	(cd "$src" && scripts/kconfig/merge_config.sh -m .config "$here/stubdom.config") \
		>>"$dir.tmp/build.log" 2>&1
	make -s -C "$src" ARCH=x86_64 olddefconfig >>"$dir.tmp/build.log" 2>&1
	# every option of the fragment as written, or the build says which did not take
	bad=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$here/stubdom.config" | while IFS= read -r want; do
		grep -qxF "$want" "$src/.config" || echo "${want%%=*}"
	done)
	if [ -n "$bad" ]; then
		echo "build.sh: these options of stubdom.config did not end up set:" $bad >&2
		exit 1
	fi
	step BUILD "bzImage (make -j$(nproc); log $dir/build.log)"
	if ! make -C "$src" ARCH=x86_64 -j"$(nproc)" bzImage >>"$dir.tmp/build.log" 2>&1; then
		tail -n 30 "$dir.tmp/build.log" >&2
		exit 1
	fi
	cp "$src/arch/x86/boot/bzImage" "$dir.tmp/bzImage"
	cp "$src/.config" "$dir.tmp/config"
	rm -rf "$work" "$dir"
	mv "$dir.tmp" "$dir"
	step TIME "kernel built in $(($(date +%s) - start)) s"
else
	step KERNEL "cached ($dir)"
fi
cp "$dir/bzImage" "$out.tmp" && mv -f "$out.tmp" "$out"
cp "$dir/config" "$out.config.tmp" && mv -f "$out.config.tmp" "$out.config"
step SIZE "stubdomain kernel $(stat -c %s "$out") bytes ($pkg $version + $(basename -a "${patches[@]}" | paste -sd' '))"
