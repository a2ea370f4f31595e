#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh TOPOLOGY NAME PLAN [FLAVOR]: boot the topology with the FLAVOR
# kernel (debug), run the guest tests listed in PLAN (lines: NAME TIMEOUT
# COMMAND...), and account for every result: each test's TAP lines, its
# exit status, the console scan, kmemleak and the plan's skip budget
# (PLAN with .skips for .plan). Results: build/results-NAME/.
# Sourced by check.sh (so its counts add up) or run on its own.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/topology.sh"
. "$TESTBED/results.sh"
# The host side of the guest's control channel (ctl_start, ctl_stop)
[ -f "$TESTBED/control.sh" ] && . "$TESTBED/control.sh"

# The guest sees the host's / but mounts its own /tmp, /run, /dev, /proc
# and /sys: a checkout there would be invisible to it. Say so before any
# build starts (check.sh, run.sh, bench.sh and retest.sh source this).
case $TOP/ in
/tmp/*|/run/*|/dev/*|/proc/*|/sys/*)
	die "the checkout is at $TOP, where the guest cannot see it (it mounts its own /tmp, /run, /dev, /proc and /sys): clone it elsewhere" ;;
esac

# Time-outs nest: each test has its own limit (the plan's TIMEOUT column,
# enforced by the guest init, which then gives it TEST_KILL_S more before
# SIGKILL), and the boot's limit is their sum plus BOOT_MARGIN_S for
# booting, the kmemleak scans and powering off. So a hung test is always
# stopped by its own limit and reports it. A plan whose boot would take
# more than MAX_BOOT_S fails before booting.
BOOT_MARGIN_S=${BOOT_MARGIN_S:-180}
MAX_BOOT_S=${MAX_BOOT_S:-3600}
TEST_KILL_S=5

# plan_boot_limit PLAN: print the boot's limit in seconds; on a plan that
# is malformed or too long, say why on stderr and return 1.
plan_boot_limit() {
	local n tmo _ sum=0
	[ -f "$1" ] || { echo "no plan $1" >&2; return 1; }
	while read -r n tmo _; do
		case $n in ''|'#'*) continue ;; esac
		case $tmo in
		''|*[!0-9]*|0) echo "plan $(basename "$1"): test $n has no time-out in seconds ('$tmo')" >&2; return 1 ;;
		esac
		sum=$((sum + tmo + TEST_KILL_S))
	done < "$1"
	sum=$((sum + BOOT_MARGIN_S))
	if [ "$sum" -gt "$MAX_BOOT_S" ]; then
		echo "plan $(basename "$1") needs ${sum}s (its tests' time-outs, ${TEST_KILL_S}s of kill grace each and ${BOOT_MARGIN_S}s to boot and finish), more than MAX_BOOT_S=${MAX_BOOT_S}s" >&2
		return 1
	fi
	echo "$sum"
}

# vm_stop: end the boot: QEMU (and timeout(1), which sits in a process
# group of its own, so Ctrl-C on the terminal never reaches it), the
# progress echo and the control channel. Run at the end of each boot and
# on Ctrl-C, TERM or exit while one runs.
VM_QPID= VM_TPID= VM_WPID= VM_CTL= VM_PIDFILE=
vm_stop() {
	local i
	if [ -n "$VM_QPID" ]; then
		kill -TERM -- "-$VM_QPID" 2>/dev/null || kill -TERM "$VM_QPID" 2>/dev/null
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$VM_QPID" 2>/dev/null || break
			sleep 1
		done
		kill -KILL -- "-$VM_QPID" 2>/dev/null
		wait "$VM_QPID" 2>/dev/null
	fi
	if [ -n "$VM_CTL" ] && type ctl_stop >/dev/null 2>&1; then
		ctl_stop
	fi
	[ -n "$VM_TPID" ] && { kill "$VM_TPID" 2>/dev/null; wait "$VM_TPID" 2>/dev/null; }
	[ -n "$VM_WPID" ] && { kill "$VM_WPID" 2>/dev/null; wait "$VM_WPID" 2>/dev/null; }
	[ -n "$VM_PIDFILE" ] && rm -f "$VM_PIDFILE"
	VM_QPID= VM_TPID= VM_WPID= VM_CTL= VM_PIDFILE=
}

# vm_reap PIDFILE RESULTS_DIR: a boot of the same name that a killed run
# left behind (SIGKILL leaves no time for vm_stop) would keep writing into
# RESULTS_DIR: stop it, if PIDFILE names a process that is still the
# timeout(1) of a QEMU on RESULTS_DIR.
vm_reap() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	rm -f "$1"
	case $pid in ''|*[!0-9]*) return 0 ;; esac
	tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -q -F -- "$2/" || return 0
	warn "stopping the QEMU of an earlier, interrupted boot (pid $pid)"
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	sleep 2
	kill -KILL -- "-$pid" 2>/dev/null
}

# A guest whose kernel reports a stalled CPU (RCU's stall warnings: a CPU
# that stopped taking its timer ticks leaves every grace period, and
# whatever waits for one, stuck) does not recover; the boot would sit out
# its limit, most of an hour. vm_watch stops it instead, a minute after the
# report (so that the report prints whole), and saves what QEMU knows of
# the vCPUs (qmp-diag.py) in RESULTS_DIR/cpu-state.txt. It saves the same
# just before the limit of a boot that hangs without a report, and once
# after a hung-task report (that boot goes on: its report fails it anyway).
VM_STALL_RE='rcu: INFO: rcu_[a-z]+ (self-)?detected stall|rcu_[a-z]+ kthread (timer wakeup didn.t happen|starved for)'
VM_HUNG_RE='INFO: task .* blocked for more than'
VM_STALL_GRACE_S=${VM_STALL_GRACE_S:-60}

vm_cpu_state() {	# vm_cpu_state RESULTS_DIR WHY
	{
		echo "# $2, $(date -u '+%F %T') UTC"
		python3 "$TESTBED/qmp-diag.py" "$1/qmp-diag.sock"
	} >> "$1/cpu-state.txt" 2>&1
}

# vm_watch RESULTS_DIR CONSOLE LIMIT QEMU_TIMEOUT_PID: see above.
vm_watch() {
	local res=$1 console=$2 limit=$3 qpid=$4 t0=$SECONDS hung= line
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 5
		line=$(grep -a -m 1 -E "$VM_STALL_RE" "$console")
		if [ -n "$line" ]; then
			sleep "$VM_STALL_GRACE_S"
			kill -0 "$qpid" 2>/dev/null || return 0
			vm_cpu_state "$res" "stall reported"
			echo "$line" > "$res/stalled"
			pkill -TERM -P "$qpid" qemu-system 2>/dev/null
			return 0
		fi
		if [ -z "$hung" ] && grep -q -a -E "$VM_HUNG_RE" "$console"; then
			hung=1
			vm_cpu_state "$res" "hung task reported"
		fi
		if [ $((SECONDS - t0)) -ge $((limit - 20)) ]; then
			vm_cpu_state "$res" "20 s before the boot's limit"
			return 0
		fi
	done
}

vm_run() {
	local topology=$1 name=$2 plan=$3 flavor=${4:-debug}
	local res=$BUILD/results-$name console kernel=$BUILD/bzImage-$flavor
	local limit t0 rc skips=${3%.plan}.skips

	if ! limit=$(plan_boot_limit "$plan" 2>&1); then
		result fail "$name: not booted: $limit"
		return 1
	fi
	need qemu-system-x86_64
	[ -f "$kernel" ] || die "no kernel $kernel: run 'make kernel'"
	[ -f "$BUILD/data.img" ] || die "no data image: run 'make guest'"
	vm_reap "$BUILD/vm-$name.pid" "$res"
	rm -rf "$res"
	mkdir -p "$res"
	cp "$plan" "$res/plan"
	if [ -f "$skips" ]; then
		cp "$skips" "$res/skips"
	else
		echo "# no $skips: no skip is expected" > "$res/skips"
	fi
	echo "${skips#"$TOP"/}" > "$res/skips.from"
	printf '%s\n' "${GUEST_ENV:-$(guest_env)}" > "$res/env"
	echo "$flavor" > "$res/flavor"
	echo "$limit" > "$res/boot-limit"
	console=$res/console.log
	qemu_cmd "$topology" "$kernel" "$res" "$console"
	printf '%q ' "${QEMU[@]}" > "$res/qemu-cmdline"

	echo "== boot $name ($topology topology, $flavor kernel): $(grep -c -v -e '^#' -e '^$' "$plan") guest tests, limit ${limit}s"
	t0=$(date +%s)
	tb_cleanup_add vm_stop
	timeout -k 10 "$limit" "${QEMU[@]}" < /dev/null > "$res/qemu.log" 2>&1 &
	VM_QPID=$!
	VM_PIDFILE=$BUILD/vm-$name.pid
	echo "$VM_QPID" > "$VM_PIDFILE"
	if type ctl_start >/dev/null 2>&1; then
		VM_CTL=1
		ctl_start "$res"
	fi
	vm_watch "$res" "$console" "$limit" "$VM_QPID" &
	VM_WPID=$!
	# Progress: echo the guest's own lines as they come.
	tail --pid="$VM_QPID" -n +1 -F "$console" 2>/dev/null |
		grep --line-buffered -a '^guest: ' | sed -u 's/^/   /' &
	VM_TPID=$!
	wait "$VM_QPID"
	rc=$?
	echo "$rc" > "$res/qemu.rc"
	VM_QPID=
	wait "$VM_TPID" 2>/dev/null
	VM_TPID=
	wait "$VM_WPID" 2>/dev/null
	VM_WPID=
	vm_stop
	tb_cleanup_del vm_stop
	echo "== boot $name: guest ran $(( $(date +%s) - t0 ))s"
	vm_verdict "$name" "$res"
}

# vm_verdict NAME RESULTS_DIR: everything the host concludes from a boot,
# from the files in RESULTS_DIR alone (so that the harness self-test can
# feed it made-up ones): plan, qemu.rc (timeout(1)'s exit status: 124 is
# the boot's limit, boot-limit), console.log, qemu.log, flavor, skips, and
# from the guest NAME.out/NAME.rc per test, kmemleak.state (active,
# disabled or absent) and kmemleak.txt.
vm_verdict() {
	local name=$1 res=$2 console=$2/console.log rc limit flavor n tmo _ state
	rc=$(cat "$res/qemu.rc" 2>/dev/null)
	limit=$(cat "$res/boot-limit" 2>/dev/null)
	flavor=$(cat "$res/flavor" 2>/dev/null)
	touch "$console"

	if [ -f "$res/stalled" ]; then
		result fail "$name: guest stalled, stopped ${VM_STALL_GRACE_S}s after its kernel said: $(head -c 160 "$res/stalled")" \
			"vCPU state in $res/cpu-state.txt; last console lines below"
		tail -n 25 "$console" | sed 's/^/      | /'
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		result fail "$name: guest did not finish within ${limit:-?}s" "last console lines below"
		tail -n 25 "$console" | sed 's/^/      | /'
	elif ! grep -q -a '^guest: up after' "$console"; then
		result fail "$name: guest never reached its init (qemu exit ${rc:-?})" "last lines below"
		{ tail -n 10 "$res/qemu.log" 2>/dev/null; tail -n 25 "$console"; } | sed 's/^/      | /'
	elif ! grep -q -a '^guest: done' "$console"; then
		result fail "$name: guest stopped before finishing its tests (qemu exit ${rc:-?})" "last console lines below"
		tail -n 25 "$console" | sed 's/^/      | /'
	fi

	skips_begin "$res/skips" "$(cat "$res/skips.from" 2>/dev/null || echo "$res/skips")"
	while read -r n tmo _; do
		case $n in ''|'#'*) continue ;; esac
		if [ ! -f "$res/$n.rc" ]; then
			result fail "$name/$n: did not run (no exit status)"
			continue
		fi
		collect_tap "$name/$n" "$res/$n.out" "$(cat "$res/$n.rc")" "$tmo"
	done < "$res/plan"

	state=$(cat "$res/kmemleak.state" 2>/dev/null)
	# The console keeps the whole kernel log, the guest's dmesg may not.
	grep -q -a 'kmemleak: Kernel memory leak detector disabled' "$console" && state=disabled
	if [ "$flavor" = debug ] && [ "$state" != active ]; then
		result fail "$name: kmemleak was not active at the end of the boot (${state:-no state recorded})" \
			"a debug kernel's leak check would mean nothing"
	fi
	if [ -s "$res/kmemleak.txt" ]; then
		result fail "$name: kmemleak found leaks" "$res/kmemleak.txt"
		head -n 20 "$res/kmemleak.txt" | sed 's/^/      | /'
	fi
	scan_console "$name" "$console"
	skips_end "$name"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	vm_run "$@"
	results_summary
fi
