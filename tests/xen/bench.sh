#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# P5 of `make bench` (bench/README), the part inside dom0 (dom0-init runs it with
# xentest.mode=bench): how long an HVM guest whose QEMU runs under stubinit takes from `xl create`
# to its device model's state "running" and to the guest's first serial line, against the same
# guest with its QEMU in dom0 (the baseline, measured in the same boot, alternating), and the
# smallest stubdomain_memory (16 MiB steps) with which the guest still boots. Results go out as
# "@= P5 <measure>|<stubinit>|<baseline>|<note>" lines; tests/xen/run --bench keeps them for
# bench/run.
set -u
# shellcheck source=scenarios.sh
. /root/tests/scenarios.sh
SCN=bench T0=$(us)
RUNS=${BENCH_XEN_RUNS:-3}

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
# stubdomain that is stubinit's QEMU writing device-model/<guest>/state) and to the guest's boot
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
destroy_guest() {
	xl_t "$XL_TIMEOUT" destroy "$G" >/dev/null 2>&1
	wait_for 30 "$G gone" eval '! in_xl_list' >/dev/null
}
median_spread() { sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f (%.1f..%.1f) s", m, v[1], v[NR] }'; }

sed -e '/^device_model_stubdomain_override/d; /^stubdomain_/d' "$CFG" >/tmp/dom0dm.cfg
: >/tmp/p5-stub
: >/tmp/p5-dom0
for i in $(seq 1 "$RUNS"); do
	for kind in stub dom0; do
		c=$CFG
		[ "$kind" = dom0 ] && c=/tmp/dom0dm.cfg
		if out=$(one_create "$c"); then
			echo "$out" >>"/tmp/p5-$kind"
			step "run $i, QEMU in $kind: running after ${out% *} s, first serial line after ${out#* } s"
		else
			step "run $i, QEMU in $kind: create failed"
		fi
		destroy_guest
	done
done
stub_r=$(cut -d' ' -f1 /tmp/p5-stub | median_spread)
stub_m=$(cut -d' ' -f2 /tmp/p5-stub | median_spread)
dom0_r=$(cut -d' ' -f1 /tmp/p5-dom0 | median_spread)
dom0_m=$(cut -d' ' -f2 /tmp/p5-dom0 | median_spread)
ratio=$(paste -d' ' /tmp/p5-stub /tmp/p5-dom0 | awk '$4 > 0 { print $2 / $4 }' | sort -n |
	awk '{ v[NR] = $1 } END { if (NR) printf "ratio %.2f (%.2f..%.2f)", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }')
echo "@= P5 xl create -> returns (device model running)|$stub_r|QEMU in dom0: $dom0_r|emulated Xen 4.17 under TCG; $(wc -l </tmp/p5-stub) + $(wc -l </tmp/p5-dom0) runs"
echo "@= P5 xl create -> guest's first serial line|$stub_m|QEMU in dom0: $dom0_m|$ratio"

# The smallest stubdomain_memory (MiB, 16 MiB steps) at which create still boots the guest:
# a binary search between 48 (assumed too small) and the configured value.
hi=$(sed -n 's/^stubdomain_memory = //p' "$CFG")
lo=48
tried=()
while ((hi - lo > 16)); do
	mid=$(((lo + hi) / 2 / 16 * 16))
	((mid > lo)) || mid=$((lo + 16))
	sed "s/^stubdomain_memory = .*/stubdomain_memory = $mid/" "$CFG" >/tmp/mem.cfg
	if one_create /tmp/mem.cfg >/dev/null; then
		hi=$mid
		tried+=("$mid:boots")
	else
		lo=$mid
		tried+=("$mid:fails")
	fi
	step "stubdomain_memory $mid: ${tried[-1]#*:}"
	destroy_guest
done
echo "@= P5 smallest stubdomain_memory that boots the guest|$hi MiB|libxl's default: 128 MiB|16 MiB steps; tried ${tried[*]}"
