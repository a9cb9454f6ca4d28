#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# checksum.sh TARBALL [OUTDIR]: the APKBUILD of a tarball that `make dist` made, written to
# OUTDIR/APKBUILD (default build/alpine): packaging/alpine/APKBUILD with the tarball's version and
# its sha512sums, deleted and appended as `abuild checksum` does (sha512sum's "<sum>  <file>").
#   A release (VERSION 0.2.0): pkgver=0.2.0 (pkgrel=0 if that is a new pkgver), source= the
#     release URL. That file goes to aports, once the tarball is the release's download.
#   A snapshot (VERSION 0.2.0-3-g1234abc): pkgver=0.2.0_git3 (after 0.2.0, before 0.2.1), source=
#     the tarball itself, copied beside the APKBUILD: `abuild -r` in OUTDIR on Alpine builds it.
# Nothing but those lines changes (tests/image/run checks it); the tarball's VERSION file must say
# the version its name says.
set -eu
die() { echo "checksum.sh: $*" >&2; exit 1; }
case $# in
1 | 2) ;;
*) echo "usage: checksum.sh TARBALL [OUTDIR]" >&2; exit 2 ;;
esac
tgz=$1 out=${2:-build/alpine}
here=$(cd "$(dirname "$0")" && pwd)
template=$here/APKBUILD
[ -s "$tgz" ] || die "no tarball $tgz (make dist)"
file=${tgz##*/}
case $file in
stubinit-*.tar.gz) ;;
*) die "$file is not stubinit-<version>.tar.gz" ;;
esac
v=${file#stubinit-}
v=${v%.tar.gz}
inside=$(tar -xzOf "$tgz" "stubinit-$v/VERSION" 2>/dev/null) ||
	die "$tgz has no stubinit-$v/VERSION (not make dist's tarball)"
[ "$inside" = "$v" ] || die "$tgz: its VERSION file says $inside, its name $v"

old=$(sed -n 's/^pkgver=//p' "$template")
# what the APKBUILD says, unexpanded
# shellcheck disable=SC2016
distver='$pkgver'
source=
if printf '%s\n' "$v" | grep -Eqx '[0-9]+(\.[0-9]+)*'; then
	pkgver=$v
elif printf '%s\n' "$v" | grep -Eqx '[0-9]+(\.[0-9]+)*-[0-9]+-g[0-9a-f]+'; then
	n=${v#*-}
	pkgver=${v%%-*}_git${n%%-*}
	distver=$v
	# shellcheck disable=SC2016
	source='source="$pkgname-$_distver.tar.gz"'
else
	die "version $v is neither a release (0.2.0) nor git describe's 0.2.0-3-g1234abc"
fi

# The template's lines this changes, each exactly once; its sums block is abuild checksum's.
# shellcheck disable=SC2016
for l in '^pkgver=' '^pkgrel=' '^_distver=\$pkgver$' '^source="[^"]*"$' '^sha512sums="$'; do
	[ "$(grep -c "$l" "$template")" = 1 ] || die "$template: not one line matching $l"
done

mkdir -p "$out"
[ "$(cd "$out" && pwd)" != "$(cd "$(dirname "$tgz")" && pwd)" ] ||
	die "OUTDIR $out is the tarball's directory"
tmp=$out/APKBUILD.tmp
sed -E -e "s/^pkgver=.*/pkgver=$pkgver/" \
	-e "$([ "$pkgver" = "$old" ] || echo 's/^pkgrel=.*/pkgrel=0/')" \
	-e "s/^_distver=.*/_distver=$distver/" \
	-e "$([ -z "$source" ] || echo "s/^source=.*/$source/")" \
	-e '/^sha[0-9]+sums=".*"$/d' -e '/^sha[0-9]+sums="/,/"$/d' \
	-e "/^sha[0-9]+sums='.*'\$/d" -e "/^sha[0-9]+sums='/,/'\$/d" \
	"$template" >"$tmp"
sums=$(cd "$(dirname "$tgz")" && sha512sum "$file")
printf 'sha512sums="\n%s\n"\n' "$sums" >>"$tmp"
mv "$tmp" "$out/APKBUILD"
rm -f "$out"/stubinit-*.tar.gz
[ -z "$source" ] || cp "$tgz" "$out/$file"
echo "checksum.sh: $out/APKBUILD: pkgver $pkgver ($v), sha512 ${sums%% *}"
