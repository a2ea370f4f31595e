#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hardening-report.sh [RESULTS_DIR...]: one table row per boot of what the
# hardening suite (the hard-* tests of a plan) did and what went wrong,
# read from the TAP and metrics the guest wrote and from the host's own
# verdicts on that boot (console scan, kmemleak, time-outs) in
# $RESULTS_LOG. Without arguments: the boots of the last make check,
# $BUILD/results-check-*. check.sh prints it.
#
# hardening-report.sh --readme [RESULTS_DIR...]: write the same table into
# README.md, between the two "hardening-report" marker comments of its
# Hardening section, with the date and verdict counts of that run.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS_LOG=${RESULTS_LOG:-$BUILD/results.log}
BEGIN_MARK='<!-- hardening-report begin: written by testbed/hardening-report.sh --readme from the last make check -->'
END_MARK='<!-- hardening-report end -->'

metric_sum() {	# metric_sum REGEX FILE...: sum of "# metric NAME=V" whose NAME matches
	local re=$1
	shift
	cat "$@" 2>/dev/null | awk -v re="^$re\$" '
		/^# metric / { split($3, kv, "="); if (kv[1] ~ re) s += kv[2] }
		END { printf "%g", s + 0 }'
}

count() {	# count REGEX FILE...: lines matching (extended regex)
	local re=$1
	shift
	cat "$@" 2>/dev/null | grep -a -c -E "$re"
}

hostile_assertions() {	# hostile_assertions FILE...: hard_hostile's own checks
	cat "$@" 2>/dev/null | grep -a -E '^(not )?ok [0-9]+ .*\[hard_hostile\]' |
		grep -a -c -v -E '^(not )?ok [0-9]+ kernel log has no |# SKIP'
}

log_count() {	# log_count REGEX: lines of $RESULTS_LOG matching (0 without it)
	cat "$RESULTS_LOG" 2>/dev/null | grep -a -c -i -E "$1"
}

table() {	# table RESULTS_DIR...
	local res name outs
	echo "| boot | hostile-input assertions | register/teardown cycles | resets under I/O | race seconds | faults injected | failed checks | programs with a kernel report + console scans failed | kmemleak objects | hangs and time-outs |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	for res in "$@"; do
		name=${res##*/results-}
		outs=("$res"/hard-*.out)
		if [ ! -e "${outs[0]}" ]; then
			echo "| $name | (no hardening results) | | | | | | | | |"
			continue
		fi
		printf '| %s | %d | %g | %g | %g | %g | %d | %d | %d | %d |\n' "$name" \
			"$(hostile_assertions "${outs[@]}")" \
			"$(metric_sum cycles_run "${outs[@]}")" \
			"$(metric_sum '(fio_)?resets_under_io' "${outs[@]}")" \
			"$(metric_sum 'race_seconds_phase[0-9]+' "${outs[@]}")" \
			"$(metric_sum faults_injected_total "${outs[@]}")" \
			"$(count '^not ok ' "${outs[@]}")" \
			"$(( $(count '^not ok [0-9]+ kernel log has no ' "${outs[@]}") +
			     $(log_count "^fail $name: kernel reported") ))" \
			"$(count '^unreferenced object' "$res/kmemleak.txt")" \
			"$(( $(count '^not ok [0-9]+ no hang: ' "${outs[@]}") +
			     $(log_count "^fail $name/hard-[^:]*: timed out") +
			     $(log_count "^fail $name: guest did not finish") ))"
	done
	cat <<-'EOF'

	Hostile-input assertions: hard_hostile's own TAP lines (checks, not
	distinct inputs). Resets under I/O: under the programs' own readers and
	under fio. Faults injected: fail-nth failures that hard_faults injected,
	all sweeps. Failed checks: failing TAP lines of the hard-* tests. Hangs
	and time-outs: failing "no hang:" checks (a reset, reader, fio or race
	thread that did not come back, a program over its time limit) and
	hard-* tests or boots that ran out of time.
	EOF
}

readme=
if [ "${1:-}" = --readme ]; then
	readme=1
	shift
fi
dirs=("$@")
if [ ${#dirs[@]} = 0 ]; then
	for d in "$BUILD"/results-check-p2p "$BUILD"/results-check-nop2p "$BUILD"/results-check-*; do
		[ -d "$d" ] || continue
		case " ${dirs[*]-} " in *" $d "*) continue ;; esac
		dirs+=("$d")
	done
fi
[ ${#dirs[@]} -gt 0 ] || die "no results: run make check first (no $BUILD/results-check-*)"

if [ -z "$readme" ]; then
	table "${dirs[@]}"
	exit 0
fi

readme_file=${README_FILE:-$TOP/README.md}
grep -q -F -x "$BEGIN_MARK" "$readme_file" && grep -q -F -x "$END_MARK" "$readme_file" ||
	die "README.md lacks the hardening-report marker lines"
[ -f "$RESULTS_LOG" ] || die "no $RESULTS_LOG: run make check first"
new=$(mktemp)
trap 'rm -f "$new"' EXIT
{
	table "${dirs[@]}"
	echo
	printf 'From %s, the make check of %s: %d passed, %d failed, %d skipped in all.\n' \
		"$(for d in "${dirs[@]}"; do printf '%s ' "build/${d##*/}"; done | sed 's/ $//; s/ /, /g')" \
		"$(date -u -r "$RESULTS_LOG" '+%Y-%m-%d %H:%M UTC')" \
		"$(log_count '^pass ')" "$(log_count '^fail ')" "$(log_count '^skip ')"
} > "$new"
awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v f="$new" '
	$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
	$0 == e { skip = 0 }
	!skip' "$readme_file" > "$readme_file.tmp" && mv "$readme_file.tmp" "$readme_file"
phase_note "README.md: hardening table from ${dirs[*]}"
