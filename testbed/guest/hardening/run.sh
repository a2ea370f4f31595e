#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh BDF 'PROG [ARGS]'...: bind BDF to vfio-pci, run each hardening
# program from $HARDENING against it (BDF is appended to its arguments),
# print one TAP stream numbered across the programs, and give the device
# back.  TAP, binding and the kernel-log check are testbed/guest/lib.sh's.
#
# Each program's TAP lines get its name appended; its other output becomes
# TAP comments.  A program adds a failing line when it:
#  - dies, or exits non-zero without a failing check;
#  - prints a TAP plan that does not match the lines it printed, or none;
#  - does not finish in its time limit ("no hang: PROG finished within
#    N s" fails, and hardening-report.sh counts it as a hang);
#  - makes the kernel report a WARN, BUG, KASAN, lockdep, hung task...
#    (splat.sh) between its start marker and its end, read from /dev/kmsg;
#    a marker that is no longer in the log fails the check too.
# A program that skipped everything adds a skip for its kernel-log check,
# not a pass (a kernel report fails it all the same).
#
# Time limits: the plan line's limit (TEST_TIMEOUT, from the guest init)
# is shared among the programs: each gets what is left of it, less a
# reserve for the release of the device, divided by the programs still to
# run, or HARD_TIMEOUT seconds if that is given and smaller.
set -u

bdf=${1:?usage: run.sh BDF \'PROG [ARGS]\'...}
shift
bin=${HARDENING:?HARDENING: where the programs are}
. "${TESTBED:?TESTBED: the testbed directory}/guest/lib.sh"
# The C programs' kernel-log checks (tb.c) read the same definitions
export SPLAT_RE ALLOC_FAIL_RE FAULTS_BEGIN FAULTS_END

# Seconds kept back: releasing the device, and per program its log check
RESERVE=60
PER_PROG=15
start=$(date +%s)
line_limit=${TEST_TIMEOUT:-}

tap_start
if [ -z "$line_limit" ]; then
	line_limit=${HARD_TIMEOUT:-900}
	tap_diag "TEST_TIMEOUT not set (not run by the guest init): limits from ${line_limit}s"
fi

if ! tb_bind "$bdf"; then
	tap_result fail "bind $bdf to vfio-pci"
	tap_end
	exit 1
fi
tap_diag "$bdf bound to vfio-pci; TOPOLOGY=${TOPOLOGY:-?} NOP2P=${NOP2P:-0} CLIENT_BLK=${CLIENT_BLK:-}; line limit ${line_limit}s"

fifo=$TMPDIR/hard-$$.fifo
left=$#
for spec in "$@"; do
	read -r -a argv <<< "$spec"
	prog=${argv[0]}
	# This program's share of the time left
	remain=$(( line_limit - ($(date +%s) - start) - RESERVE - PER_PROG * left ))
	limit=$(( remain / left ))
	if [ -n "${HARD_TIMEOUT:-}" ] && [ "$HARD_TIMEOUT" -lt "$limit" ]; then
		limit=$HARD_TIMEOUT
	fi
	left=$((left - 1))
	if [ "$limit" -lt 10 ]; then
		tap_result fail "no hang: $prog had time to run (${remain}s left of the line's ${line_limit}s) [$prog]"
		continue
	fi

	mark="hardening: [$$.$TB_TAP_N] $prog on $bdf: start"
	tb_kmsg_mark "$mark"
	t0=$(date +%s)
	rc=
	lines=0 skips=0 nfail=0 plan=
	rm -f "$fifo"
	mkfifo "$fifo"
	# A FIFO, not process substitution: the guest has no /dev/fd
	{
		timeout -k 10 "$limit" "$bin/$prog" "${argv[@]:1}" "$bdf"
		echo "__rc=$?"
	} > "$fifo" 2>&1 &
	runner=$!
	stuck=
	exec 3< "$fifo"
	part=
	while :; do
		IFS= read -r -t 5 line <&3
		r=$?
		if [ $r -gt 128 ]; then
			# The 5 s are the whole read's: a line that came at the
			# end of them is cut, and its start is in $line. Keep
			# it for the next read.
			part+=$line
			# Nothing for 5 s: past the limit and the kill, give up
			# on a program that the kernel does not let die
			if [ $(( $(date +%s) - t0 )) -gt $((limit + 40)) ]; then
				stuck=1
				break
			fi
			continue
		fi
		line=$part$line
		part=
		[ $r = 0 ] || break
		case $line in
		"__rc="*) rc=${line#__rc=} ;;
		"TAP version"*) ;;
		1..*) plan=${line#1..} ;;
		"not ok "*)
			rest=${line#not ok }
			lines=$((lines + 1))
			nfail=$((nfail + 1))
			tap_result fail "${rest#* } [$prog]" ;;
		"ok "*" # SKIP"*)
			rest=${line#ok }
			desc=${rest#* }
			reason=${desc#*# SKIP}
			desc=${desc%%# SKIP*}
			desc=${desc% }
			lines=$((lines + 1))
			skips=$((skips + 1))
			tap_result skip "${desc:+$desc }[$prog]" "${reason# }" ;;
		"ok "*)
			rest=${line#ok }
			lines=$((lines + 1))
			tap_result ok "${rest#* } [$prog]" ;;
		"#"*) echo "$line" ;;
		*) echo "# $prog: $line" ;;
		esac
	done
	exec 3<&-
	if [ -n "$stuck" ]; then
		tap_diag "$prog: still there $(( $(date +%s) - t0 ))s after its ${limit}s limit and SIGKILL: abandoned"
		ps -eo pid,stat,wchan:32,args 2>/dev/null | grep -a "[${prog:0:1}]${prog:1}" | sed 's/^/#   /'
	else
		wait "$runner"
	fi
	rm -f "$fifo"
	# Close a fault injection window that the program left open
	tb_kmsg_mark "$FAULTS_END (after $prog)"
	secs=$(( $(date +%s) - t0 ))
	tap_diag "$prog: exit ${rc:-?} after ${secs}s (limit ${limit}s)"

	case ${rc:-x} in
	124|137|x)
		tap_result fail "no hang: $prog finished within ${limit}s (timed out after ${secs}s) [$prog]" ;;
	0) ;;
	1) [ $nfail -gt 0 ] ||
		tap_result fail "$prog exited 1 without a failing check (assertion?) [$prog]" ;;
	*) tap_result fail "$prog exited with status $rc [$prog]" ;;
	esac
	# A program that ended by itself must have printed its plan, and
	# the plan must match (one that was stopped has failed already)
	case ${rc:-x} in
	0|1)
		if [ -z "$plan" ] || [ "$plan" != "$lines" ]; then
			tap_result fail "$prog printed a TAP plan that matches its lines: plan ${plan:-none}, $lines lines [$prog]"
		elif [ "$lines" = 0 ]; then
			tap_result fail "$prog printed TAP lines [$prog]"
		fi ;;
	esac

	# The kernel log since the program started, less the allocation
	# failure reports that its fault injection causes (splat.sh).
	desc="kernel log has no WARN/BUG/KASAN/lockdep/hung-task report while $prog ran [$prog]"
	reports=$(tb_kernel_reports_since "$mark")
	case $? in
	0)
		if [ "$lines" -gt 0 ] && [ "$skips" = "$lines" ]; then
			tap_result skip "$desc" "$prog skipped everything"
		else
			tap_result ok "$desc"
		fi ;;
	1)
		tap_result fail "$desc"
		tap_diag "$(head -n 20 <<< "$reports" | sed 's/^/  /')" ;;
	*)
		tap_result fail "$desc" "the check cannot be made: $reports" ;;
	esac
done

tb_unbind "$bdf" || tap_result fail "give $bdf back to its driver"
tap_end
