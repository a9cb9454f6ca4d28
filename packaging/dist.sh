#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# dist.sh VERSION OUTDIR: the release tarball, OUTDIR/stubinit-VERSION.tar.gz, and its SHA-256
# (OUTDIR/stubinit-VERSION.tar.gz.sha256): HEAD's tree (git archive) plus a VERSION file, which the
# Makefile reads instead of git. Reproducible: every entry has HEAD's commit time, owner 0:0, names
# sorted, modes normalised, and gzip stores no name or time, so the same commit gives the same
# bytes on any machine. Refuses a tree with uncommitted changes (the tarball would not be what the
# version says).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: dist.sh VERSION OUTDIR" >&2; exit 2; }
v=$1 out=$2
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "dist.sh: not a git checkout (a release tarball is made from git)" >&2
	exit 1
fi
if [ -n "$(git status --porcelain --untracked-files=no)" ] || [[ $v == *-dirty ]]; then
	echo "dist.sh: uncommitted changes; commit them first (the tarball is HEAD's tree)" >&2
	exit 1
fi
name=stubinit-$v
t=$(git log -1 --format=%ct HEAD)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
git archive --format=tar --prefix="$name/" HEAD | tar -x -C "$stage"
printf '%s\n' "$v" >"$stage/$name/VERSION"
mkdir -p "$out"
tar --sort=name --mtime="@$t" --owner=0 --group=0 --numeric-owner --format=gnu \
	--mode='u+rwX,go+rX,go-w' -C "$stage" -cf - "$name" | gzip -9n >"$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "dist: $out/$name.tar.gz, $(stat -c %s "$out/$name.tar.gz") bytes, sha256 $(cut -d' ' -f1 "$out/$name.tar.gz.sha256")"
