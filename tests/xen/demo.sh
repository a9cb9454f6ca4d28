#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make demo`, the part inside dom0 (dom0-init runs it with xentest.mode=demo): creates the HVM guest
# stubvm, whose QEMU runs under stubinit in a Linux stubdomain, with the real xl; streams the guest's
# serial output and stubinit's status while it runs; talks QMP to it through stubinit; destroys it;
# and says what happened. Lines starting "@> " are the stream, "@@ demo: " progress, "@= " the
# summary; tests/xen/run --demo prints them on the host.
set -u
# shellcheck source=scenarios.sh
. /root/tests/scenarios.sh
SCN=demo T0=$(us)
RUN_SECONDS=12
summary=()
sum() { summary+=("$*"); }

# The streams: the guest's COM1 (through the stubdomain's QEMU, hvc3 and dom0's QEMU into the serial
# file) and stubinit's own status and error lines from its log (console 0). tail -F follows the
# files from their creation; each line goes out with its prefix.
rm -f "$SERIAL" "/var/log/xen/qemu-dm-$G.log"
tail -q -n +1 -F "$SERIAL" 2>/dev/null | sed -u 's/\r$//; s/^/@> guest serial | /' &
tail -q -n +1 -F "/var/log/xen/qemu-dm-$G.log" 2>/dev/null |
	grep --line-buffered -a -E 'stubinit (info: (status|QEMU is|stubdomain|config: guest|network|monitor: QEMU greeted)|warn|error)' |
	sed -u 's/\r$//; s/^\[ *\([0-9]*\.[0-9]\)[0-9]*\] stubinit [a-z]*: /@> stubinit (stubdomain uptime \1 s) | /' &

echo "@@ demo: an HVM guest whose QEMU runs in a Linux stubdomain: kernel + initramfs from make image, stubinit as /init"
t=$(us)
if create_guest; then
	sum "xl create: OK in $(since "$t") s; guest domid $GD, stubdomain $SD$(stub_start_time)"
	sum "stubinit: state $(stubinit_state), $(xs_read "$STATUS/version"); stats: $(xs_read "$STATUS/stats")"
	step "the guest runs; watching it for ${RUN_SECONDS} s"
	sleep "$RUN_SECONDS"
	step "QMP through libxl, vchan-socket-proxy, the vchan and stubinit: xl qemu-monitor-command $G 'info status'"
	out=$(xl_t 30 qemu-monitor-command "$G" "info status" 2>&1 | tr -d '\r')
	echo "@> qmp | $out"
	sum "QMP: 'info status' answered '$out'"
	sum "the guest: boot marker seen, counted to TICK $(last_tick)"
	step "xl destroy $G"
	t=$(us)
	if xl_t "$XL_TIMEOUT" destroy "$G" && wait_for 30 "$G and $G-dm gone" eval '! in_xl_list'; then
		sum "xl destroy: guest and stubdomain gone in $(since "$t") s"
	else
		sum "xl destroy: FAILED"
	fi
	verdict=OK
else
	sum "xl create: FAILED: $REASON"
	dump_logs
	xl_t "$XL_TIMEOUT" destroy "$G" >/dev/null 2>&1
	verdict=FAILED
fi
sleep 1
pkill -P $$ tail 2>/dev/null
for l in "${summary[@]}"; do echo "@= $l"; done
echo "@= demo: $verdict"
