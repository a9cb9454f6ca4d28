#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# build.sh TARBALL VERSION RPM_VERSION OUTDIR: the RPM of stubinit (packaging/rpm/stubinit.spec.in)
# from a release tarball (make dist), with rpmbuild -bb in a scratch top directory outside the
# tree. On a machine without an RPM database (Debian) the build dependencies cannot be checked
# against installed RPMs: --nodeps, and the build uses the equivalent Debian packages (README,
# Building: make rpm; tests/release/run checks the names). Prints the package's path.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: build.sh TARBALL VERSION RPM_VERSION OUTDIR" >&2; exit 2; }
tgz=$1 version=$2 rpm_version=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
[ -s "$tgz" ] || { echo "build.sh: no tarball $tgz (make dist)" >&2; exit 1; }
# the tarball's date, for the changelog entry
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(tar -tvzf "$tgz" --full-time | awk 'NR == 1 { print $4 " " $5 }' | xargs -I{} date -u -d {} +%s)
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
mkdir -p "$top/SOURCES" "$top/SPECS" "$out"
cp "$tgz" "$top/SOURCES/"
sed -e "s/@VERSION@/$version/g; s/@RPM_VERSION@/$rpm_version/g" \
	-e "s/@DATE@/$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')/" \
	"$here/stubinit.spec.in" >"$top/SPECS/stubinit.spec"
nodeps=()
rpm -q rpm >/dev/null 2>&1 || nodeps=(--nodeps)
rpmbuild -bb --quiet "${nodeps[@]}" --define "_topdir $top" "$top/SPECS/stubinit.spec" >"$top/rpmbuild.log" 2>&1 || { tail -n 40 "$top/rpmbuild.log" >&2; exit 1; }
rm -f "$out"/stubinit-*.rpm
find "$top/RPMS" -name 'stubinit-*.rpm' ! -name '*debug*' -exec cp {} "$out/" \;
cp "$top/SPECS/stubinit.spec" "$out/"
ls "$out"/stubinit-"$rpm_version"-1*.rpm
