# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# cache.sh - sourced by the build scripts whose results are keyed by what they are built from (the
# stubdomain kernel, the stubdomain QEMU). `cache_dir REPO NAME` sets cache to REPO/build/NAME,
# which is a link to NAME in the build cache outside the clone: $STUBINIT_CACHE, ~/.cache/stubinit
# by default (STUBINIT_CACHE= keeps it inside the clone). A fresh clone on the same machine so
# reuses what an earlier one built; `make clean` removes the link, not the cache. A build/NAME that
# is already a directory stays as it is. cache_dir also takes the cache's lock (fd 9, held until
# the script exits), so two clones never build in one cache at once.
cache_dir() {
	local repo=$1 name=$2 root=${STUBINIT_CACHE-${XDG_CACHE_HOME:-$HOME/.cache}/stubinit}
	cache=$repo/build/$name
	if [ -n "$root" ] && [ ! -e "$cache" ] && [ ! -L "$cache" ]; then
		mkdir -p "$root/$name" "$repo/build"
		ln -s "$root/$name" "$cache"
	fi
	mkdir -p "$(readlink -m "$cache")"
	exec 9>"$cache/.lock"
	flock 9
}
