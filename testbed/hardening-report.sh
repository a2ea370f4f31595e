#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hardening-report.sh RESULTS_DIR...: one table row per boot of what the
# hardening suite (the hard-* tests of a plan) tried and what went wrong,
# read from the TAP and metrics the guest wrote and from the host's own
# verdicts on that boot (console scan, kmemleak, time-outs) in
# $RESULTS_LOG. check.sh prints it; README quotes it.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS_LOG=${RESULTS_LOG:-$BUILD/results.log}

metric_sum() {	# metric_sum REGEX FILE...: sum of "# metric NAME=V" whose NAME matches
	local re=$1
	shift
	cat "$@" 2>/dev/null | awk -v re="^$re\$" '
		/^# metric / { split($3, kv, "="); if (kv[1] ~ re) s += kv[2] }
		END { printf "%g", s + 0 }'
}

count() {	# count REGEX FILE...: lines matching
	local re=$1
	shift
	cat "$@" 2>/dev/null | grep -a -c -E "$re"
}

echo "| boot | hostile inputs | cycles | resets under I/O | race seconds | faults injected | failed checks | splats | leaks | hangs |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for res in "$@"; do
	name=${res##*/results-}
	outs=("$res"/hard-*.out)
	[ -e "${outs[0]}" ] || { echo "| $name | (no hardening results) | | | | | | | | |"; continue; }
	# Guest-side reports pinned on a program, plus the host's console
	# scan of the whole boot
	splats=$(( $(count '^not ok .*kernel log has no WARN' "${outs[@]}") +
		   $(grep -a -c -E "^fail $name: kernel reported" "$RESULTS_LOG" 2>/dev/null) ))
	leaks=$(count 'unreferenced object' "$res/kmemleak.txt")
	hangs=$(( $(count '^not ok .*(timed out after|thread came back|within the NVMe I/O timeout)' "${outs[@]}") +
		  $(grep -a -c -E "^fail $name(/hard-[^:]*)?: (guest did not finish|timed out)" "$RESULTS_LOG" 2>/dev/null) ))
	printf '| %s | %d | %g | %g | %g | %g | %d | %d | %d | %d |\n' "$name" \
		"$(count '^(not )?ok .*\[hard_hostile\]' "${outs[@]}")" \
		"$(metric_sum cycles_run "${outs[@]}")" \
		"$(metric_sum "(fio_)?resets_under_io" "${outs[@]}")" \
		"$(metric_sum 'race_seconds_phase[0-9]+' "${outs[@]}")" \
		"$(metric_sum faults_injected_total "${outs[@]}")" \
		"$(count '^not ok ' "${outs[@]}")" "$splats" "$leaks" "$hangs"
done
