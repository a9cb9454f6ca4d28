#!/bin/sh
# gen-debsrc.sh - derive deb-src entries from this machine's own apt sources.
#
# Usage: gen-debsrc.sh CODENAME OUTDIR
#
# We need Debian *source* packages, but a normal install only lists binary
# ("deb") repositories and we must not edit /etc/apt.  So we read the
# machine's configured source list and parts directory (as reported by
# apt-config), keep every enabled "deb" entry whose suite is CODENAME or
# CODENAME-* (e.g. bookworm, bookworm-updates, bookworm-security), and
# write the same entries as "deb-src" into a private apt directory:
#   OUTDIR/sources.list                    one-line format entries
#   OUTDIR/sources.list.d/debsrc.sources   deb822 stanzas
# URIs, components and options (Signed-By, ...) are copied unchanged, so
# no mirror name is ever hard-coded in the project.
set -eu

codename=${1:?usage: gen-debsrc.sh CODENAME OUTDIR}
out=${2:?usage: gen-debsrc.sh CODENAME OUTDIR}

SL=/etc/apt/sources.list
SP=/etc/apt/sources.list.d/
eval "$(apt-config shell SL Dir::Etc::SourceList/f SP Dir::Etc::SourceParts/d)"

mkdir -p "$out/sources.list.d"

# One-line format: "deb [opts] URI SUITE COMPONENT..." -> "deb-src ...".
oneline() {
	awk -v cn="$codename" '
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
		uri = w[i]; suite = w[i + 1]
		if (suite != cn && index(suite, cn "-") != 1) next
		rest = ""
		for (j = i + 2; j <= n; j++) if (w[j] != "") rest = rest " " w[j]
		print "deb-src " opts uri " " suite rest
	}' "$@"
}

# deb822 format: copy each enabled stanza with Types containing "deb",
# Types rewritten to deb-src and Suites filtered to the codename family.
deb822() {
	awk -v cn="$codename" '
	function reset() { ntext = 0; types = ""; suites = ""; enabled = "yes"; cur = "" }
	function flush(   n, i, s, keep) {
		if (ntext == 0 && types == "") { reset(); return }
		keep = ""
		n = split(suites, s, /[ \t]+/)
		for (i = 1; i <= n; i++)
			if (s[i] == cn || index(s[i], cn "-") == 1) keep = keep " " s[i]
		if (enabled != "no" && (" " types " ") ~ /[ \t]deb[ \t]/ && keep != "") {
			print "Types: deb-src"
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
} > "$out/sources.list.d/debsrc.sources.tmp"

if [ ! -s "$out/sources.list.tmp" ] && [ ! -s "$out/sources.list.d/debsrc.sources.tmp" ]; then
	echo "gen-debsrc.sh: no enabled 'deb' entries for suite '$codename' in $SL or $SP" >&2
	exit 1
fi

# Replace the outputs only when they change, so callers can compare mtimes.
for f in "$out/sources.list" "$out/sources.list.d/debsrc.sources"; do
	if cmp -s "$f.tmp" "$f"; then rm -f "$f.tmp"; else mv -f "$f.tmp" "$f"; fi
done
