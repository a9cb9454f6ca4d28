#!/bin/bash
# The emulated-Xen scenarios, run by dom0-init inside dom0 (or by hand from `tests/xen/run --shell`):
#   bash /root/tests/scenarios.sh [name...]        (default: all, in the order of SCENARIOS)
#
# One shell function per scenario, scn_<name> (dashes become underscores), always in this order:
# they share one guest, stubvm (stubvm.cfg), which need_guest creates when a scenario needs it and
# it is not there. A scenario ends with exactly one verdict, pass / fail "why" / xfail "why", and
# `return`; run_scenario then prints
#   scenario <name>: PASS|FAIL|XFAIL <seconds>s [reason]
# and, after a FAIL, the logs that explain it, each line prefixed "@| " (not again when the failure
# is only that an earlier scenario could not create the guest). Progress goes out as
# "@@ <name>: <what> (+<seconds since the scenario started>s)". Every xl, xenstore and QMP step runs
# under a hard timeout: whatever hangs, the scenario fails and the next one runs.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SCENARIOS=(create qmp save restore qemu-crash destroy nic)
T=/root/tests
G=stubvm
CFG=$T/$G.cfg
SERIAL=/var/log/xen/$G-serial.log
XL_CREATE_LOG=/var/log/xen/xl-create-$G.log
CREATE_TIMEOUT=120	# xl create; libxl itself gives the stubdomain 30 s to report running
XL_TIMEOUT=60		# any other xl command
XS_TIMEOUT=10		# one xenstore access

# ---- shared helpers -------------------------------------------------------------------------

us() { echo "${EPOCHREALTIME/./}"; }
# seconds since the microsecond stamp $1, one decimal
since() { local d=$(($(us) - $1)); printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000)); }
step() { echo "@@ $SCN: $* (+$(since "$T0")s)"; }
# Prefixes each line of stdin with the seconds since the microsecond stamp $1 (no fork per line).
stamp() {
	local l d
	while IFS= read -r l; do
		d=$((${EPOCHREALTIME/./} - $1))
		printf '[%d.%d] %s\n' $((d / 1000000)) $((d % 1000000 / 100000)) "$l"
	done
}

pass() { RESULT=PASS REASON=''; }
fail() { RESULT=FAIL REASON=$* DUMP=1; }
xfail() { RESULT=XFAIL REASON=$*; }

xl_t() { local t=$1; shift; timeout -k 5 "$t" xl "$@"; }
xs_read() { timeout -k 2 "$XS_TIMEOUT" xenstore-read "$1" 2>/dev/null; }
xs_exists() { timeout -k 2 "$XS_TIMEOUT" xenstore-exists "$1" 2>/dev/null; }

# wait_for SECONDS WHAT COMMAND...: runs COMMAND every half second until it succeeds (0) or SECONDS
# have passed (1, with a step line saying what did not happen). COMMAND must bound itself (use the
# helpers above).
wait_for() {
	local limit=$1 what=$2 start
	shift 2
	start=$(us)
	while ! "$@"; do
		if (($(us) - start > limit * 1000000)); then
			step "timed out after ${limit}s waiting for $what"
			return 1
		fi
		sleep 0.5
	done
	step "$what after $(since "$start")s"
}

# The guest's and its stubdomain's domids into GD and SD (empty when absent).
ids() {
	GD=$(xl_t 20 domid "$G" 2>/dev/null) || GD=
	SD=
	[ -n "$GD" ] && SD=$(xs_read "/local/domain/$GD/image/device-model-domid")
	STATUS=/local/domain/${SD:-?}/device-model/${GD:-?}/stubinit
}
stubinit_state() { xs_read "$STATUS/state"; }
# stubinit's first error in its log (console 0), as "; stubinit: <line>", or nothing.
stubinit_error() {
	local e
	e=$(stubinit_lines | grep -a -m1 'stubinit error: ' | sed 's/.*stubinit error: //')
	[ -z "$e" ] || echo "; stubinit: $e"
}
# stubinit's own lines in its log, without the kernel messages it relays.
stubinit_lines() {
	tr -d '\r' <"/var/log/xen/qemu-dm-$G.log" 2>/dev/null | grep -a 'stubinit [a-z]*: ' |
		grep -av 'stubinit [a-z]*: kernel: '
}
stubinit_running() { [ "$(stubinit_state)" = running ]; }
serial_has() { grep -aq -- "$1" "$SERIAL" 2>/dev/null; }
last_tick() { grep -ao '@@ TICK [0-9]*' "$SERIAL" 2>/dev/null | tail -n 1 | cut -d' ' -f3; }
tick_past() { local t; t=$(last_tick); [ -n "$t" ] && [ "$t" -gt "$1" ]; }
in_xl_list() { xl_t 20 list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx -e "$G" -e "$G-dm"; }

# Creates the guest and waits until its device model is up and the guest runs its boot sector.
# A failure is remembered, so later scenarios fail at once instead of trying again.
CREATE_FAILED=
create_guest() {
	local rc=0
	rm -f "$SERIAL"
	step "xl create $CFG"
	xl_t "$CREATE_TIMEOUT" -vvv create "$CFG" 2>&1 | stamp "$(us)" >"$XL_CREATE_LOG"
	rc=${PIPESTATUS[0]}
	ids
	step "xl create rc=$rc; guest domid ${GD:-none}, stubdomain ${SD:-none}$(stub_start_time)"
	if [ "$rc" != 0 ]; then
		fail "xl create exited with status $rc: $(grep -a -m1 -iE 'error|timed out' "$XL_CREATE_LOG" |
			sed 's/^\[[0-9.]*\] //' | tr -d '\r')$(stubinit_error)"
	elif [ -z "$SD" ]; then
		fail "no stubdomain: /local/domain/${GD:-?}/image/device-model-domid is empty"
	elif ! wait_for 60 "stubinit state running" stubinit_running; then
		fail "stubinit state is '$(stubinit_state)', not running; error: '$(xs_read "$STATUS/error")'"
	elif ! wait_for 60 "the guest's boot-sector marker in $SERIAL" serial_has '@@ HVM-BOOTSECTOR-OK'; then
		fail "no '@@ HVM-BOOTSECTOR-OK' in $SERIAL within 60 s"
	else
		step "stubinit $(xs_read "$STATUS/version"), stats: $(xs_read "$STATUS/stats")"
		return 0
	fi
	CREATE_FAILED="create failed: $REASON"
	return 1
}

# From xl's log: how long libxl waited for the stubdomain's device model to report running. libxl
# allows 30 s (LIBXL_STUBDOM_START_TIMEOUT, hard-coded); this is the number to watch for drift.
stub_start_time() {
	[ -n "$SD" ] || return 0
	awk -v w="wpath=/local/domain/$SD/device-model/$GD/state " '
		index($0, w) && / register slotnum/ && a == "" { a = substr($1, 2) + 0 }
		index($0, w) && / deregister slotnum/ && a != "" {
			printf "; the stubdomain reported running %.1fs after libxl began waiting (limit 30s)", substr($1, 2) - a
			exit
		}' "$XL_CREATE_LOG"
}

# The guest, created if it is not there yet. GD, SD, STATUS set.
need_guest() {
	ids
	[ -n "$GD" ] && return 0
	if [ -n "$CREATE_FAILED" ]; then
		fail "no guest ($CREATE_FAILED)"
		DUMP=''	# create's failure showed the logs
		return 1
	fi
	create_guest
}

# The logs that explain a failure, each line prefixed "@| " (tests/run prints them).
dump() {
	local title=$1
	shift
	echo "@| ---- $title"
	"$@" 2>&1 | tr -d '\r' | sed 's/^/@| /'
}
dump_logs() {
	ids
	dump "xl list" xl_t 20 list
	[ -n "$SD" ] && dump "xenstore $STATUS" timeout 10 xenstore-ls -f "$STATUS"
	dump "xl dmesg (tail)" sh -c 'timeout 20 xl dmesg | tail -n 40'
	dump "$XL_CREATE_LOG (errors, tail)" sh -c "grep -aiE 'error|fail|timed? ?out|warn' '$XL_CREATE_LOG' | tail -n 15; echo ...; tail -n 25 '$XL_CREATE_LOG'"
	dump "/var/log/xen/qemu-dm-$G.log, the stubdomain's console 0: stubinit's lines (tail)" \
		eval 'stubinit_lines | tail -n 60'
	dump "/var/log/xen/qemu-dm-$G.log: its last lines" tail -n 12 "/var/log/xen/qemu-dm-$G.log"
	for f in /var/log/xen/qmp-proxy-*.log /var/log/xen/qemu-dm-$G-dm.log /var/log/xen/xl-$G.log; do
		[ -e "$f" ] && dump "$f (tail)" tail -n 15 "$f"
	done
	dump "$SERIAL (tail)" tail -n 5 "$SERIAL"
}

# ---- scenarios ------------------------------------------------------------------------------

# xl create works; stubinit reports running; the guest's marker comes out of its serial port.
scn_create() {
	create_guest && pass
}

# QMP through libxl's vchan-socket-proxy and stubinit: 20 human-monitor-commands in a row, then
# xl pause (the hypervisor alone) and xl unpause (QMP "cont"), after which the guest counts on.
scn_qmp() {
	local i out rc t
	need_guest || return
	for i in $(seq 1 20); do
		rc=0
		out=$(xl_t 30 qemu-monitor-command "$G" "info version" 2>&1) || rc=$?
		if [ "$rc" != 0 ] || ! [[ $out =~ [0-9]+\.[0-9]+ ]]; then
			fail "xl qemu-monitor-command 'info version' #$i: status $rc, output '$(echo "$out" | tr -d '\r' | head -c 300)'"
			return
		fi
	done
	step "20 x 'info version' answered: $(echo "$out" | tr -d '\r' | head -n 1)"
	wait_for 20 "the guest counting (TICK)" tick_past 0 || { fail "the guest prints no TICK lines"; return; }
	xl_t "$XL_TIMEOUT" pause "$G" || { fail "xl pause failed"; return; }
	t=$(last_tick)
	sleep 3
	if tick_past "$t"; then
		fail "the guest kept counting while paused (TICK $t -> $(last_tick))"
		return
	fi
	step "paused at TICK $t"
	rc=0
	out=$(xl_t "$XL_TIMEOUT" unpause "$G" 2>&1) || rc=$?
	[ "$rc" = 0 ] || { fail "xl unpause (QMP cont) exited with status $rc: $(echo "$out" | tr -d '\r' | tail -n 2)"; return; }
	wait_for 20 "TICK past $t after unpause" tick_past "$t" ||
		{ fail "the guest did not count on after xl unpause (last TICK $(last_tick))"; return; }
	pass
}

scn_save() { xfail "not implemented yet"; }
scn_restore() { xfail "not implemented yet"; }
# stubinit's failure policy under real Xen: a second guest whose stubdomain is told
# (stubinit.test-kill-qemu-after, a test-only key) to SIGKILL its QEMU once it runs. stubinit must
# report qemu-died with the reason, and the default policy, crash-guest, must crash the guest so
# xl applies its on_crash (preserve here, so the crashed state can be seen) instead of leaving it
# hung on unanswered I/O.
scn_qemu_crash() {
	local saved_g=$G saved_cfg=$CFG saved_serial=$SERIAL saved_failed=$CREATE_FAILED err state
	G=crashvm CFG=/tmp/crashvm.cfg SERIAL=/var/log/xen/crashvm-serial.log CREATE_FAILED=
	XL_CREATE_LOG=/var/log/xen/xl-create-crashvm.log
	cp "$T/stubvm-disk.img" "$T/crashvm-disk.img"
	sed -e 's/^name = .*/name = "crashvm"/' \
		-e 's|stubvm-disk.img|crashvm-disk.img|; s|stubvm-serial.log|crashvm-serial.log|' \
		-e 's/^stubdomain_cmdline = "\(.*\)"/stubdomain_cmdline = "\1 stubinit.test-kill-qemu-after=4s"/' \
		-e 's/^on_crash = .*/on_crash = "preserve"/' "$saved_cfg" >"$CFG"
	if create_guest; then
		if ! wait_for 30 "stubinit state qemu-died" eval '[ "$(stubinit_state)" = qemu-died ]'; then
			fail "stubinit state '$(stubinit_state)' after QEMU was killed"
		else
			err=$(xs_read "$STATUS/error")
			state=$(xl_t 20 list crashvm 2>/dev/null | awk 'NR == 2 { print $5 }')
			step "status error '$err'; guest state '$state'"
			if [[ $err != "QEMU killed by signal 9"* ]]; then
				fail "status error '$err'"
			elif ! wait_for 20 "the guest crashed (xl list state c)" eval \
				'xl_t 20 list crashvm 2>/dev/null | awk "NR == 2 { exit index(\$5, \"c\") ? 0 : 1 }"'; then
				fail "the guest did not crash under policy crash-guest (state '$(xl_t 20 list crashvm 2>/dev/null | awk 'NR == 2 { print $5 }')')"
			else
				pass
			fi
		fi
	fi
	[ "$RESULT" = PASS ] || DUMP=1
	[ "$RESULT" = PASS ] || dump_logs
	DUMP=''
	xl_t "$XL_TIMEOUT" destroy crashvm >/dev/null 2>&1
	G=$saved_g CFG=$saved_cfg SERIAL=$saved_serial CREATE_FAILED=$saved_failed
	XL_CREATE_LOG=/var/log/xen/xl-create-$G.log
	rm -f "$T/crashvm-disk.img"
}

# xl destroy takes down the guest and its stubdomain and leaves nothing of either in xenstore.
scn_destroy() {
	local gvm svm p rc=0 left=()
	need_guest || return
	gvm=$(xs_read "/local/domain/$GD/vm")
	svm=$(xs_read "/local/domain/$SD/vm")
	step "destroying guest $GD ($gvm), stubdomain $SD ($svm)"
	xl_t "$XL_TIMEOUT" destroy "$G" || rc=$?
	[ "$rc" = 0 ] || { fail "xl destroy exited with status $rc"; return; }
	wait_for 30 "$G and $G-dm gone from xl list" eval '! in_xl_list' ||
		{ fail "still in xl list: $(xl_t 20 list | awk 'NR > 1 { print $1 "(" $2 ")" }' | tr '\n' ' ')"; return; }
	for p in "/local/domain/$GD" "/local/domain/$SD" ${gvm:+"$gvm"} ${svm:+"$svm"} \
		"/local/domain/0/device-model/$GD" "/local/domain/0/device-model/$SD"; do
		xs_exists "$p" && left+=("$p")
	done
	mapfile -t -O ${#left[@]} left < <(timeout 10 xenstore-ls -f /local/domain/0/backend 2>/dev/null |
		grep -oE "^/local/domain/0/backend/[^/]+/($GD|$SD)( |/)" | sed 's/[ /]$//' | sort -u)
	[ ${#left[@]} = 0 ] || { fail "stale xenstore nodes: ${left[*]}"; return; }
	pass
}

scn_nic() { xfail "not implemented yet"; }

# ---- runner ---------------------------------------------------------------------------------

run_scenario() {
	local line secs
	SCN=$1 RESULT='' REASON='' DUMP=''
	T0=$(us)
	echo "@@ $SCN: start"
	"scn_${SCN//-/_}"
	[ -n "$RESULT" ] || fail "ended without a verdict"
	secs=$((($(us) - T0 + 500000) / 1000000))
	line="scenario $SCN: $RESULT ${secs}s${REASON:+ $REASON}"
	echo "$line"
	[ -n "$DUMP" ] && dump_logs
}

want=("$@")
[ $# -gt 0 ] || want=("${SCENARIOS[@]}")
for w in "${want[@]}"; do
	[[ " ${SCENARIOS[*]} " == *" $w "* ]] || { echo "scenarios.sh: no scenario '$w' (${SCENARIOS[*]})" >&2; exit 2; }
done
echo "@@ env: $(uname -r); $(timeout 20 xl info 2>/dev/null | awk '/^xen_version/ { print "Xen " $3 }');" \
	"stubdomain image $(stat -c %s $T/stubdom-kernel) + $(stat -c %s $T/stubdom-initramfs) bytes," \
	"cmdline $(sed -n 's/^stubdomain_cmdline = //p' "$CFG")"
for s in "${SCENARIOS[@]}"; do
	[[ " ${want[*]} " == *" $s "* ]] && run_scenario "$s"
done
