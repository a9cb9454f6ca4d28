#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# P5 of `make bench` (bench/README), the part inside dom0 (dom0-init runs it with
# xentest.mode=bench): how long an HVM guest whose QEMU runs under stubinit takes from `xl create`
# to its device model's state "running" and to the guest's first serial line, against two
# baselines measured in the same boot, alternating: the same guest with its QEMU in dom0, and the
# same stubdomain kernel and QEMU under a busybox shell init (tests/xen/shell-init, in
# /root/tests/shell when tests/xen/run found build/image-shellinit). For both stubdomains also
# /init -> QEMU's exec and /init -> running, from the stamps on their console. Then the smallest
# stubdomain_memory (16 MiB steps) with which stubinit's guest still boots. Results go out as
# "@= P5 <measure>|<stubinit>|<baselines>|<note>" lines; tests/xen/run --bench keeps them for
# bench/run.
set -u
# shellcheck source=scenarios.sh
. /root/tests/scenarios.sh
SCN=bench T0=$(us)
# BENCH_SMOKE=1 (dom0-init's xentest.bench=smoke, make check's tier bench): one run of each kind
# and no memory search, so that the measure cannot break unnoticed
RUNS=3
[ "${BENCH_SMOKE:-0}" != 1 ] || RUNS=1

# seconds (one decimal) from $1 (a microsecond stamp) until COMMAND succeeds (it is looked at
# every 0.1 s: a file test, no process), or failure after 90 s
secs_until() {
	local t=$1 d
	shift
	while ! "$@"; do
		(($(us) - t > 90000000)) && return 1
		sleep 0.1
	done
	d=$(($(us) - t))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}
booted() { serial_has '@@ HVM-BOOTSECTOR-OK'; }

# one_create CFG: creates the guest of CFG and prints two figures, seconds from the start of
# `xl create` to its return (libxl returns once the device model has reported running; for a
# stubdomain that is its QEMU writing device-model/<guest>/state) and to the guest's boot
# marker on its serial line. (Nothing polls xl while it creates: in emulated dom0 that alone made
# stubdomain creates miss libxl's 30 s.)
one_create() {
	local cfg=$1 t r m
	rm -f "$SERIAL"
	t=$(us)
	xl_t "$CREATE_TIMEOUT" create "$cfg" >/dev/null 2>&1 || return 1
	r=$(since "$t")
	m=$(secs_until "$t" booted) || return 1
	echo "$r $m"
}

# The uptime stamp (the "[seconds]" a line starts with) of the first line of the stubdomain's
# console 0 (dom0's /var/log/xen/qemu-dm-<guest>.log) that matches $1, or nothing.
stamp_of() { dm_log | grep -a -m1 -e "$1" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
# console_figures KIND: "<exec> <running>", seconds from /init's start to QEMU's exec and to the
# device model's running state, from the stamps on the stubdomain's console, or failure when a
# stamp is missing (the log may lag the guest: up to 10 s). stubinit: "starting as PID 1",
# "QEMU is running" (logged once the exec succeeded) and "status: running" (QEMU has answered
# the add-fd of fdset 1); shell-init: "/init starts", "exec QEMU" (just before its fork) and
# "device model state running" (xenstore-watch saw the state QEMU wrote).
console_figures() {
	local start at_exec running a b c i
	if [ "$1" = stub ]; then
		start='stubinit [a-z]*: stubinit .* starting as PID 1'
		at_exec='stubinit [a-z]*: QEMU is running (pid'
		running='stubinit [a-z]*: status: running'
	else
		start='shell-init: /init starts' at_exec='shell-init: exec QEMU'
		running='shell-init: device model state running'
	fi
	for ((i = 0; i < 100; i++)); do
		c=$(stamp_of "$running")
		[ -n "$c" ] && break
		sleep 0.1
	done
	a=$(stamp_of "$start") b=$(stamp_of "$at_exec")
	[ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] || return 1
	awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { printf "%.2f %.2f\n", b - a, c - a }'
}

# spread FORMAT: the median of the numbers on stdin, their min and max, as printf's FORMAT gives
# them (three conversions), or "-" when there are none
spread() {
	sort -n | awk -v f="$1" '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		printf f, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'
}
# median_spread [DECIMALS]: the median of the numbers on stdin, "(min..max)" and " s"
median_spread() { local f="%.${1:-1}f"; spread "$f ($f..$f) s"; }
# figure FILE N: the Nth figure of FILE's lines ("<run> <figure>..."), one a line
figure() { awk -v n="$2" '{ print $(n + 1) }' "$1"; }
# ratio A B N: the median and spread of A's Nth figure over B's, run by run (the runs both made)
ratio() {
	join <(awk -v n="$3" '{ print $1, $(n + 1) }' "$1" | sort) \
		<(awk -v n="$3" '{ print $1, $(n + 1) }' "$2" | sort) |
		awk '$3 > 0 { print $2 / $3 }' | spread "%.2f (%.2f..%.2f)"
}

# The baselines: QEMU in dom0 (the same config without the stubdomain lines), and the shell init
# (the same config with the shell-init image's kernel and initramfs).
SHELL_IMG=$T/shell
sed -e '/^device_model_stubdomain_override/d; /^stubdomain_/d' "$CFG" >/tmp/dom0dm.cfg
kinds=(stub dom0)
if [ -s "$SHELL_IMG/stubdom-initramfs" ]; then
	sed -e "s|^stubdomain_kernel = .*|stubdomain_kernel = \"$SHELL_IMG/stubdom-kernel\"|" \
		-e "s|^stubdomain_ramdisk = .*|stubdomain_ramdisk = \"$SHELL_IMG/stubdom-initramfs\"|" \
		"$CFG" >/tmp/shell.cfg
	kinds+=(shell)
else
	step "no shell-init image in $SHELL_IMG (make image-shellinit): no shell init baseline"
fi
# stubinit logs at debug level here: its "boot step: <what> in N ms" lines, /init to QEMU's fork
sed -e 's/^stubdomain_cmdline = "\(.*\)"/stubdomain_cmdline = "\1 stubinit.log-level=debug"/' \
	"$CFG" >/tmp/stub.cfg
declare -A cfg_of=([stub]=/tmp/stub.cfg [dom0]=/tmp/dom0dm.cfg [shell]=/tmp/shell.cfg)
declare -A label=([stub]="stubdomain, stubinit" [dom0]="dom0" [shell]="stubdomain, shell init")
# /tmp/p5-KIND: "<run> <to running> <to the serial line>"; /tmp/p5c-KIND: "<run> <exec> <running>"
for kind in stub dom0 shell; do
	: >"/tmp/p5-$kind"
	: >"/tmp/p5c-$kind"
done
: >/tmp/p5-steps # "<step>|<ms>", every stubinit run's
boot_steps() {
	dm_log | sed -n 's/.*stubinit debug: boot step: \(.*\) in \([0-9]*\) ms$/\1|\2/p' >>/tmp/p5-steps
}
for i in $(seq 1 "$RUNS"); do
	# each round begins with the next kind, so that no kind always runs first (with dom0's caches
	# cold) or last
	r=$(((i - 1) % ${#kinds[@]}))
	for kind in "${kinds[@]:r}" "${kinds[@]:0:r}"; do
		if out=$(one_create "${cfg_of[$kind]}"); then
			echo "$i $out" >>"/tmp/p5-$kind"
			con=''
			[ "$kind" != stub ] || boot_steps
			if [ "$kind" != dom0 ]; then
				if c=$(console_figures "$kind"); then
					echo "$i $c" >>"/tmp/p5c-$kind"
					con="; /init -> QEMU exec ${c% *} s, -> running ${c#* } s"
				else
					con="; no console stamps"
				fi
			fi
			step "run $i, QEMU in ${label[$kind]}: running after ${out% *} s, first serial line after ${out#* } s$con"
		else
			step "run $i, QEMU in ${label[$kind]}: create failed"
		fi
		destroy_both
	done
done
runs() { wc -l <"/tmp/p5-$1"; }
# "QEMU in dom0: ...; shell init: ..." and "stubinit/dom0 ...; stubinit/shell ..." for figure N
baselines() {
	local b
	b="QEMU in dom0: $(figure /tmp/p5-dom0 "$1" | median_spread)"
	if [[ " ${kinds[*]} " == *" shell "* ]]; then
		b+="; shell init: $(figure /tmp/p5-shell "$1" | median_spread)"
	else
		b+="; shell init: no image"
	fi
	echo "$b"
}
ratios() {
	local r
	r="stubinit/dom0 $(ratio /tmp/p5-stub /tmp/p5-dom0 "$1")"
	[[ " ${kinds[*]} " != *" shell "* ]] || r+="; stubinit/shell $(ratio /tmp/p5-stub /tmp/p5-shell "$1")"
	echo "$r"
}
echo "@= P5 xl create -> returns (device model running)|$(figure /tmp/p5-stub 1 | median_spread)|$(baselines 1)|$(ratios 1); emulated Xen 4.17 under TCG; $(runs stub) + $(runs dom0) + $(runs shell) runs"
echo "@= P5 xl create -> guest's first serial line|$(figure /tmp/p5-stub 2 | median_spread)|$(baselines 2)|$(ratios 2)"
# From the stubdomains' own consoles (uptime stamps; no dom0 baseline)
if [[ " ${kinds[*]} " == *" shell "* ]]; then
	for n in 1 2; do
		what=("" "QEMU's exec" "device model running")
		note=("" "stubinit: 'QEMU is running' (after the exec), shell: 'exec QEMU' (before the fork)"
			"stubinit: 'status: running' (QEMU answered add-fd), shell: xenstore-watch saw QEMU's state")
		echo "@= P5 stubdomain /init -> ${what[n]} (console stamps)|$(figure /tmp/p5c-stub "$n" | median_spread 2)|shell init: $(figure /tmp/p5c-shell "$n" | median_spread 2)|stubinit/shell $(ratio /tmp/p5c-stub /tmp/p5c-shell "$n"); ${note[n]}; $(wc -l </tmp/p5c-stub) + $(wc -l </tmp/p5c-shell) runs"
	done
fi
# stubinit's own steps from /init to QEMU's fork (its debug log), the median of each in ms
if [ -s /tmp/p5-steps ]; then
	steps=''
	while IFS= read -r st; do
		steps+="${steps:+, }$st $(awk -F'|' -v s="$st" '$1 == s { print $2 }' /tmp/p5-steps | spread '%g')"
	done < <(cut -d'|' -f1 /tmp/p5-steps | awk '!seen[$0]++')
	echo "@= P5 stubinit's boot steps, /init -> QEMU's fork (debug log, median ms)|$steps|-|$(grep -c '^boot|' /tmp/p5-steps) runs"
fi

[ "${BENCH_SMOKE:-0}" != 1 ] || exit 0

# The smallest stubdomain_memory (MiB, 16 MiB steps) at which create still boots the guest: the
# memory scenario's bisection (mem_bisect) below the configured value, which the runs above booted.
MEM_TRIED=()
mem_bisect "$(sed -n 's/^stubdomain_memory = //p' "$CFG")"
echo "@= P5 smallest stubdomain_memory that boots the guest|$MEM_HI MiB|libxl's default: 128 MiB|16 MiB steps; tried ${MEM_TRIED[*]}${MEM_LO_WHY:+; at $MEM_LO: $MEM_LO_WHY}"
