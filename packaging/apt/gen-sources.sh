#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# gen-sources.sh - derive an apt sources list of the project's own from this machine's apt sources.
#
# Usage: gen-sources.sh TYPE SUITE OUTDIR
#   TYPE   deb or deb-src
#   SUITE  a Debian codename, e.g. bookworm or trixie
#   OUTDIR gets OUTDIR/sources.list (one-line entries) and OUTDIR/sources.list.d/private.sources
#          (deb822 stanzas); each is replaced only when its text changes, so callers can compare.
#
# The machine's configured source list and parts directory (as apt-config reports them) are read,
# never written. Every enabled "deb" entry whose suite is BASE or BASE-* (BASE: the machine's own
# codename, from /etc/os-release, or $BASE) is copied with its type set to TYPE and BASE renamed to
# SUITE in each suite name: on a bookworm machine, SUITE=trixie turns bookworm, bookworm-updates and
# bookworm-security into trixie, trixie-updates and trixie-security on the same URIs. URIs,
# components and options (Signed-By, arch=, ...) are copied unchanged, so no mirror name is ever
# hard-coded in the project. (Debian's archive keyring of one release also verifies the next.)
set -eu

usage="usage: gen-sources.sh deb|deb-src SUITE OUTDIR"
type=${1:?$usage}; suite=${2:?$usage}; out=${3:?$usage}
case $type in deb | deb-src) ;; *) echo "$usage" >&2; exit 2 ;; esac

if [ -z "${BASE:-}" ]; then
	BASE=$(sed -n 's/^VERSION_CODENAME=["]*\([a-z]*\)["]*$/\1/p' /etc/os-release 2>/dev/null || :)
fi
base=${BASE:?gen-sources.sh: cannot tell the codename of this machine, set BASE}

SL=/etc/apt/sources.list
SP=/etc/apt/sources.list.d/
eval "$(apt-config shell SL Dir::Etc::SourceList/f SP Dir::Etc::SourceParts/d)"

mkdir -p "$out/sources.list.d"

# Shared awk: does suite s belong to the base family, and what is its new name?
awk_common='
function member(s) { return s == base || index(s, base "-") == 1 }
function rename(s) { return suite substr(s, length(base) + 1) }
'

# One-line format: "deb [opts] URI SUITE COMPONENT..." -> "TYPE [opts] URI NEWSUITE COMPONENT...".
oneline() {
	awk -v base="$base" -v suite="$suite" -v type="$type" "$awk_common"'
	/^[ \t]*#/ { next }
	$1 == "deb" {
		line = $0
		sub(/^[ \t]*deb[ \t]+/, "", line)
		opts = ""
		if (substr(line, 1, 1) == "[") {
			end = index(line, "]")
			if (end == 0) next
			opts = substr(line, 1, end) " "
			line = substr(line, end + 1)
		}
		n = split(line, w, /[ \t]+/)
		i = 1; while (i <= n && w[i] == "") i++
		uri = w[i]; s = w[i + 1]
		if (!member(s)) next
		rest = ""
		for (j = i + 2; j <= n; j++) if (w[j] != "") rest = rest " " w[j]
		print type " " opts uri " " rename(s) rest
	}' "$@"
}

# deb822 format: each enabled stanza whose Types contain "deb" is copied with Types set to TYPE
# and Suites filtered to the base family and renamed; every other field is kept as it is.
deb822() {
	awk -v base="$base" -v suite="$suite" -v type="$type" "$awk_common"'
	function reset() { ntext = 0; types = ""; suites = ""; enabled = "yes"; cur = "" }
	function flush(   n, i, s, keep) {
		if (ntext == 0 && types == "") { reset(); return }
		keep = ""
		n = split(suites, s, /[ \t]+/)
		for (i = 1; i <= n; i++)
			if (member(s[i])) keep = keep " " rename(s[i])
		if (enabled != "no" && (" " types " ") ~ /[ \t]deb[ \t]/ && keep != "") {
			print "Types: " type
			print "Suites:" keep
			for (i = 1; i <= ntext; i++) print text[i]
			print ""
		}
		reset()
	}
	BEGIN { reset() }
	FNR == 1 { flush() }
	/^#/ { next }
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ {                      # continuation of the previous field
		if (cur == "types") types = types " " $0
		else if (cur == "suites") suites = suites " " $0
		else if (cur != "enabled") text[++ntext] = $0
		next
	}
	{
		key = tolower(substr($0, 1, index($0, ":") - 1))
		val = substr($0, index($0, ":") + 1)
		cur = key
		if (key == "types") types = val
		else if (key == "suites") suites = val
		else if (key == "enabled") { gsub(/[ \t]/, "", val); enabled = tolower(val) }
		else text[++ntext] = $0
	}
	END { flush() }' "$@"
}

{
	[ -f "$SL" ] && oneline "$SL"
	for f in "$SP"*.list; do [ -f "$f" ] && oneline "$f"; done
	:
} > "$out/sources.list.tmp"

{
	for f in "$SP"*.sources; do [ -f "$f" ] && deb822 "$f"; done
	:
} > "$out/sources.list.d/private.sources.tmp"

if [ ! -s "$out/sources.list.tmp" ] && [ ! -s "$out/sources.list.d/private.sources.tmp" ]; then
	rm -f "$out/sources.list.tmp" "$out/sources.list.d/private.sources.tmp"
	echo "gen-sources.sh: no enabled 'deb' entries for suite '$base' (or $base-*) in $SL or $SP" >&2
	exit 1
fi

for f in "$out/sources.list" "$out/sources.list.d/private.sources"; do
	if cmp -s "$f.tmp" "$f"; then rm -f "$f.tmp"; else mv -f "$f.tmp" "$f"; fi
done
