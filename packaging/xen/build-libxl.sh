#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# build-libxl.sh - libxenlight (libxl, the library behind xl) from Debian's xen source package of a
# given version (Debian's patches applied) plus the patches of packaging/xen/<X.Y>/, configured as
# debian/rules configures the tools, so the result replaces the libxenlight of Debian's
# libxenmisc<X.Y> in a Debian dom0: libxl bakes its paths into the library (the firmware, the
# system QEMU, LIBEXEC_BIN with libxl-save-helper, vchan-socket-proxy, /etc/xen/scripts, ...), and
# they are Debian's. Only tools/include and the tools/libs/ libxenlight links against are built (no
# hypervisor, firmware, QEMU, docs, python, ocaml). Cached: the library of a key (the source
# version, the configure options, the make arguments, the patches, this script) is built once.
#
# Usage: build-libxl.sh SUITE VERSION OUTDIR
#   SUITE    bookworm, trixie, ... (the suite whose xen source package is fetched)
#   VERSION  the Debian version of the suite's xen source package, e.g. 4.17.5+72-g01140da4e8-1
#            (a binNMU's +bN is dropped)
#   OUTDIR   gets libxenlight.so.<MAJOR>.<MINOR> (the file name Debian's libxenmisc<X.Y> ships; a
#            copy of the cached, stripped library)
# Patches: packaging/xen/<X.Y>/*.patch (X.Y: VERSION's upstream major.minor), applied in name
# order with patch -p1 after Debian's; none is fine.
# Checks, against a reference libxenlight: the same file name and SONAME, every dynamic symbol the
# reference exports (with its symbol version) exported too, no library NEEDED that the reference
# does not need; the baked-in paths are compared and differences shown. The reference is the
# libxenlight of the same SONAME in the dom0 rootfs $DOM0_ROOTFS if set, else in every cached
# dom0 rootfs of tests/xen (build/xen*/rootfs-*/), else in Debian's libxenmisc<X.Y> of VERSION
# (fetched with the private apt into build/xen-libxl/ref/).
# Cache: build/xen-libxl/<key>/ (the library, configure.log, build.log, configure.cmd and the
# configure outputs); the source package stays in build/xen-libxl/src/, the private apt of its
# deb-src index in build/xen-libxl/apt/.
# Build dependencies: ./packages. Prints the build time, the size and the libraries it needs.
set -euo pipefail
unset MAKEFLAGS MAKEOVERRIDES MFLAGS MAKELEVEL O
# debian/rules undefines these: the Xen build takes its flags from the make arguments below
unset CFLAGS CXXFLAGS CPPFLAGS LDFLAGS
[ $# -eq 3 ] || { echo "usage: build-libxl.sh SUITE VERSION OUTDIR" >&2; exit 2; }
suite=$1 version=$2 out=$3
# a binary-only rebuild (binNMU, +bN) of the package has its source's version without the suffix
version=${version%+b[0-9]*}
# Debian's DEB_VERSION_UPSTREAM and debian/rules' upstream_version (4.17.5+72-g01140da4e8 -> 4.17)
upstream=${version#*:}
upstream=${upstream%-*}
xy=$(sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p' <<<"$upstream")
[ -n "$xy" ] || { echo "build-libxl.sh: cannot tell the major.minor of $version" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=$repo/build/xen-libxl
self=$here/$(basename "$0")
step() { printf '  %-8s %s\n' "$1" "$2"; }
die() { echo "build-libxl.sh: $*" >&2; exit 1; }

missing=
for t in dpkg-source dpkg-buildflags dpkg-architecture autoconf autoheader patch make python3 \
	perl iasl bison pkg-config strip readelf; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -f /usr/share/misc/config.sub ] || missing="$missing config.sub(autotools-dev)"
if [ -n "$missing" ]; then
	echo "build-libxl.sh: missing build tools:$missing; run packaging/install-deps $here/packages" >&2
	exit 1
fi

# --- what debian/rules does ---------------------------------------------------------------------
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
gnu=$(dpkg-architecture -qDEB_HOST_GNU_TYPE)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
case $arch in
amd64) xen_arch=x86_64 ;;
arm64) xen_arch=arm64 ;;
armhf) xen_arch=arm32 ;;
*) die "no Xen architecture for $arch" ;;
esac
# dpkg-buildflags with hardening=+all, CPPFLAGS in CFLAGS (Xen has no CPPFLAGS), run in the
# source tree as debian/rules is (its -ffile-prefix-map names the directory: left out of the key)
dpkg_flags() { (cd "$1" && DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$2"); }
# debian/rules' make_args_tools, passed to configure (in the environment) and to make
make_args() {
	echo "CC=$gnu-gcc"
	echo "LD=$gnu-ld"
	echo "XEN_COMPILE_ARCH=$xen_arch"
	echo "XEN_TARGET_ARCH=$xen_arch"
	echo "V=1"
	echo "EXTRA_CFLAGS_XEN_TOOLS=$(dpkg_flags "$1" CFLAGS) $(dpkg_flags "$1" CPPFLAGS)"
	echo "PREPEND_LDFLAGS_XEN_TOOLS=$(dpkg_flags "$1" LDFLAGS)"
}
# debian/rules' configure options (override_dh_auto_configure), unchanged (checked against the
# unpacked debian/rules below). What libxenlight bakes in (_paths.h, config.h): --prefix (bindir:
# /usr/bin/pygrub, and STUBDOM_QMP_PROXY_PATH /usr/bin/vchan-socket-proxy, Debian's wrapper),
# --with-libexec-leaf-dir (LIBEXEC /usr/lib/xen-X.Y; LIBEXEC_BIN with libxl-save-helper;
# XENFIRMWAREDIR LIBEXEC/boot), --libdir, --sysconfdir (XEN_CONFIG_DIR, XEN_SCRIPT_DIR
# /etc/xen/scripts), --localstatedir (XEN_RUN_DIR, XEN_LIB_DIR, XEN_LOG_DIR, ...),
# --with-system-qemu (QEMU_XEN_PATH), --with-system-seabios, --enable-ovmf --with-system-ovmf
# (the firmware libxl hands QEMU), --disable-qemu-traditional, --disable-rombios. The others
# (--with-libexec-libdir-suffix: LIBEXEC_LIB, Debian's, for libxenfsimage; --disable-stubdom,
# --disable-blktap*, --mandir, ...) only concern what is not built here.
configure_opts=(
	--disable-stubdom
	--prefix=/usr
	--includedir=/usr/include
	"--libdir=/usr/lib/$multiarch"
	"--with-libexec-libdir-suffix=/$multiarch"
	"--host=$multiarch"
	--mandir=/usr/share/man
	--infodir=/usr/share/info
	--sysconfdir=/etc
	--localstatedir=/var
	"--with-libexec-leaf-dir=xen-$xy"
	--disable-blktap1
	--disable-blktap2
	--disable-qemu-traditional --disable-rombios
	--with-system-qemu=/usr/libexec/xen-qemu-system-i386
	--enable-ovmf --with-system-ovmf=/usr/share/ovmf/OVMF.fd
	--with-system-seabios=/usr/share/seabios/bios-256k.bin
)
# Debian's build environment has no libnl (not a build dependency): its libxl has no Remus network
# buffering / COLO and does not link libnl-3. configure enables them when it finds libnl-3-dev,
# which this machine may have; the make variable overrides configure's CONFIG_LIBNL.
make_extra=(CONFIG_LIBNL=n)

patchdir=$here/$xy
patches=()
if [ -d "$patchdir" ]; then
	while IFS= read -r -d '' p; do patches+=("$p"); done < <(
		find "$patchdir" -maxdepth 1 -type f -name '*.patch' -print0 | LC_ALL=C sort -z)
fi

key=$({
	echo "xen=$version"
	printf '%s\n' "${configure_opts[@]}" "${make_extra[@]}"
	make_args "$repo" | sed 's/-ffile-prefix-map=[^ ]*//'
	for p in ${patches[@]+"${patches[@]}"}; do
		echo "patch ${p##*/}"
		cat "$p"
	done
	cat "$self"
} | sha256sum | cut -c1-16)
dir=$cache/$key

if [ ! -f "$dir/done" ]; then
	# the source package: NAME_UPSTREAM-REVISION.dsc, without the epoch
	dsc=$cache/src/xen_${version#*:}.dsc
	mkdir -p "$cache/src"
	if [ ! -f "$dsc" ]; then
		step APT "source xen=$version ($suite)"
		(cd "$cache/src" && "$repo/packaging/apt/private-apt.sh" --log "$cache/apt-source.log" \
			"$cache/apt" deb-src "$suite" apt-get -q source --download-only "xen=$version")
		[ -f "$dsc" ] || die "apt-get source did not produce $dsc"
	fi
	work=$cache/work-$key
	src=$work/src
	rm -rf "$work" "$dir.tmp"
	mkdir -p "$work" "$dir.tmp"
	log=$dir.tmp/build.log
	start=$(date +%s)
	step UNPACK "xen $version (with Debian's patches)"
	dpkg-source --no-check -x "$dsc" "$src" >"$log" 2>&1 || { tail -n 20 "$log" >&2; exit 1; }
	for p in ${patches[@]+"${patches[@]}"}; do
		step PATCH "${p#"$repo"/}"
		if ! patch -d "$src" -p1 --batch --forward --no-backup-if-mismatch -i "$p" >"$work/patch.out" 2>&1; then
			cat "$work/patch.out" >&2
			die "${p#"$repo"/} does not apply to xen $version (after Debian's patches)"
		fi
		cat "$work/patch.out" >>"$log"
	done

	# this version's debian/rules must still configure and pass flags as the above does
	rules=$src/debian/rules
	diff -u --label "debian/rules of $version" --label build-libxl.sh \
		<(sed -n '/^override_dh_auto_configure:/,/^[^\t]/p' "$rules" |
			sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep '\./configure' | sed 's/.*\.\/configure//' |
			tr -s ' \t' '\n' | sed '/^$/d' |
			sed "s/\$(DEB_HOST_MULTIARCH)/$multiarch/g; s/\$(upstream_version)/$xy/g") \
		<(printf '%s\n' "${configure_opts[@]}") >"$work/opts.diff" || {
		cat "$work/opts.diff" >&2
		die "debian/rules configures the tools otherwise than configure_opts (update them)"
	}
	for v in 'hardening=+all' "EXTRA_CFLAGS_XEN_TOOLS='\$(dpkg_CFLAGS) \$(dpkg_CPPFLAGS)'" \
		"PREPEND_LDFLAGS_XEN_TOOLS='\$(dpkg_LDFLAGS)'" "CC=\$(DEB_HOST_GNU_TYPE)-gcc"; do
		grep -qF "$v" "$rules" || die "debian/rules has no $v any more (update make_args)"
	done

	# Debian's patches delete the configure scripts and config.sub/config.guess; debian/rules
	# copies the latter from /usr/share/misc and dh_autoreconf regenerates the former (here as
	# upstream's autogen.sh does, stubdom left out as it is disabled). The top-level configure
	# writes config/Paths.mk and runs tools/ and docs/configure with the same options.
	step CONFIG "./configure with debian/rules' options (log $dir/configure.log)"
	cp /usr/share/misc/config.sub /usr/share/misc/config.guess "$src/"
	mapfile -t margs < <(make_args "$src")
	{
		echo "autoconf -f && (cd tools && autoconf -f && autoheader) && (cd docs && autoconf -f)"
		echo "env WGET=/bin/false GIT=/bin/false$(printf " '%s'" "${margs[@]}") ./configure$(printf ' %s' "${configure_opts[@]}")"
	} >"$dir.tmp/configure.cmd"
	if ! (cd "$src" && autoconf -f && (cd tools && autoconf -f && autoheader) &&
		(cd docs && autoconf -f) &&
		env WGET=/bin/false GIT=/bin/false "${margs[@]}" ./configure "${configure_opts[@]}") \
		>"$dir.tmp/configure.log" 2>&1; then
		tail -n 20 "$dir.tmp/configure.log" >&2
		exit 1
	fi
	cp "$src/config/Tools.mk" "$src/config/Paths.mk" "$src/tools/config.h" "$dir.tmp/"

	# tools/include, then the libraries libxenlight links against (USELIBS_light of
	# tools/libs/uselibs.mk and theirs), then libxenlight itself; only the shared libraries (not
	# the .a, the pkg-config files, libxl-save-helper, the tests). One make runs them all, each
	# library after those it uses, so its jobs are shared across the libraries.
	# "LIB USES..." of each library needed, dependencies first
	uses=$(awk '
		function visit(l,   n, a, i) {
			if (l in seen) return
			seen[l] = 1
			n = split(uses[l], a, " ")
			for (i = 1; i <= n; i++) visit(a[i])
			print l uses[l]
		}
		$1 ~ /^USELIBS_/ && ($2 == ":=" || $2 == "=") {
			l = substr($1, 9); uses[l] = ""
			for (i = 3; i <= NF; i++) uses[l] = uses[l] " " $i
		}
		END { visit("light") }' "$src/tools/libs/uselibs.mk")
	[ "$(tail -n 1 <<<"$uses" | cut -d' ' -f1)" = light ] ||
		die "cannot read libxenlight's dependencies from tools/libs/uselibs.mk"
	# shellcheck disable=SC2016 # $(MAKE) is make's
	{
		echo ".PHONY: headers$(cut -d' ' -f1 <<<"$uses" | sed 's/^/ lib-/' | tr -d '\n')"
		printf 'headers:\n\t+$(MAKE) -C %s\n' "$src/tools/include"
		while read -r l d; do
			printf 'lib-%s: headers%s\n\t+$(MAKE) -C %s libxen%s.so\n' "$l" "${d:+ lib-${d// / lib-}}" \
				"$src/tools/libs/$l" "$l"
		done <<<"$uses"
	} >"$work/libxl.mk"
	cp "$work/libxl.mk" "$dir.tmp/"
	jobs=$(nproc)
	libs=$(cut -d' ' -f1 <<<"$uses" | paste -sd,)
	step BUILD "tools/include, tools/libs/{$libs} (make -j$jobs; log $dir/build.log)"
	if ! make -f "$work/libxl.mk" -j"$jobs" "${margs[@]}" "${make_extra[@]}" lib-light >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "the build failed (log $dir/build.log)"
	fi
	# the real file, libxenlight.so.MAJOR.MINOR, as libs.mk names it
	lib=$(cd "$src/tools/libs/light" && readlink -f libxenlight.so)
	lib=${lib##*/}
	# as dh_strip strips shared libraries
	strip --remove-section=.comment --remove-section=.note --strip-unneeded \
		-o "$dir.tmp/$lib" "$src/tools/libs/light/$lib"
	echo "$lib" >"$dir.tmp/done"
	rm -rf "$work" "$dir"
	mv "$dir.tmp" "$dir"
	step TIME "libxenlight built in $(($(date +%s) - start)) s"
else
	step LIBXL "cached ($dir)"
fi
lib=$(cat "$dir/done")
mkdir -p "$out"
cp "$dir/$lib" "$out/$lib.tmp" && mv -f "$out/$lib.tmp" "$out/$lib"
out=$out/$lib

needed() { readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
soname() { readelf -dW "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
# the defined, global or weak, dynamic symbols, with their version (name@@VERS_4.17)
exports() {
	readelf --dyn-syms -W "$1" |
		awk '$5 ~ /^(GLOBAL|WEAK)$/ && $7 != "UND" && $8 != "" { print $8 }' | LC_ALL=C sort -u
}
# the absolute paths among the library's strings: what configure baked in
paths() { strings -a "$1" | grep -E '^/(usr|etc|var|run|opt|lib|bin|sbin|boot)/' | LC_ALL=C sort -u; }

step SIZE "$lib $(stat -c %s "$out") bytes, needs $(needed "$out" | paste -sd' ')"
so=$(soname "$out")

# --- the reference libxenlight ------------------------------------------------------------------
refs=()
if [ -n "${DOM0_ROOTFS:-}" ]; then
	f=$DOM0_ROOTFS/usr/lib/$multiarch/$so
	[ -e "$f" ] || die "DOM0_ROOTFS=$DOM0_ROOTFS has no usr/lib/$multiarch/$so"
	refs+=("$f")
else
	for f in "$repo"/build/xen*/rootfs-*/usr/lib/"$multiarch/$so"; do
		case $f in *.tmp/*) continue ;; esac	# one mmdebstrap is still writing
		[ -e "$f" ] && refs+=("$f")
	done
fi
if [ ${#refs[@]} -eq 0 ]; then
	pkg=libxenmisc$xy
	refdir=$cache/ref/${pkg}_${version#*:}
	if [ ! -d "$refdir" ]; then
		step APT "$pkg=$version ($suite), the reference (no dom0 rootfs with $so)"
		rm -rf "$cache/ref/dl" "$refdir.tmp"
		mkdir -p "$cache/ref/dl"
		(cd "$cache/ref/dl" && "$repo/packaging/apt/private-apt.sh" --log "$cache/apt-ref.log" \
			"$cache/apt-ref" deb "$suite" apt-get -q download "$pkg=$version")
		dpkg-deb -x "$cache/ref/dl/${pkg}_"*.deb "$refdir.tmp"
		rm -rf "$cache/ref/dl"
		mv "$refdir.tmp" "$refdir"
	fi
	refs+=("$refdir/usr/lib/$multiarch/$so")
	[ -e "${refs[0]}" ] || die "$pkg $version has no usr/lib/$multiarch/$so"
fi

fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exports "$out" >"$tmp/built"
for ref in "${refs[@]}"; do
	real=$(readlink -f "$ref")
	step REF "${real#"$repo"/}"
	if [ "${real##*/}" != "$lib" ]; then
		echo "    file name differs: the reference is ${real##*/}, the build $lib" >&2
		fail=1
	fi
	if [ "$(soname "$real")" != "$so" ]; then
		echo "    SONAME differs: the reference's is $(soname "$real"), the build's $so" >&2
		fail=1
	else
		step SONAME "$so, the reference's"
	fi
	exports "$real" >"$tmp/ref"
	gone=$(LC_ALL=C comm -23 "$tmp/ref" "$tmp/built")
	extra=$(LC_ALL=C comm -13 "$tmp/ref" "$tmp/built")
	msg="$(wc -l <"$tmp/built") exported (with their versions), the reference $(wc -l <"$tmp/ref"):"
	if [ -n "$gone" ]; then msg="$msg $(wc -l <<<"$gone") MISSING,"; else msg="$msg none missing,"; fi
	if [ -n "$extra" ]; then msg="$msg $(wc -l <<<"$extra") more"; else msg="$msg none more"; fi
	step SYMBOLS "$msg"
	if [ -n "$gone" ]; then
		awk '{ print "    missing: " $0 }' <<<"$gone" >&2
		fail=1
	fi
	[ -z "$extra" ] || awk '{ print "    more: " $0 }' <<<"$extra"
	more=$(LC_ALL=C comm -13 <(needed "$real" | LC_ALL=C sort) <(needed "$out" | LC_ALL=C sort))
	if [ -n "$more" ]; then
		echo "    needs what the reference does not: $(paste -sd' ' <<<"$more")" >&2
		fail=1
	fi
	paths "$real" >"$tmp/ref-paths" || :
	paths "$out" >"$tmp/built-paths" || :
	pdiff=$(diff "$tmp/ref-paths" "$tmp/built-paths" |
		sed -n 's/^</    reference only:/p; s/^>/    build only:    /p') || :
	if [ -z "$pdiff" ]; then
		step PATHS "$(wc -l <"$tmp/built-paths") baked-in paths, the reference's"
	else
		step PATHS "$(wc -l <"$tmp/built-paths") baked-in paths, not all the reference's:"
		echo "$pdiff"
	fi
done
[ "$fail" = 0 ] || die "$out does not match the reference libxenlight (above)"
