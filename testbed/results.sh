# SPDX-License-Identifier: GPL-2.0
# Test accounting for the host side; sourced. Every check the harness
# makes, on the host or in a guest, ends up as one pass/fail/skip here,
# and `results_summary` prints the closing "N passed, N failed" line.

RESULTS_LOG=${RESULTS_LOG:-$BUILD/results.log}
: "${PASSED:=0}" "${FAILED:=0}" "${SKIPPED:=0}"

result() {	# result pass|fail|skip NAME [DETAIL]
	local verdict=$1 name=$2 detail=${3:-}
	case $verdict in
	pass) PASSED=$((PASSED + 1)); echo "  ok      $name${detail:+  ($detail)}" ;;
	fail) FAILED=$((FAILED + 1)); echo "  FAILED  $name${detail:+  ($detail)}" ;;
	skip) SKIPPED=$((SKIPPED + 1)); echo "  skip    $name${detail:+  ($detail)}" ;;
	esac
	echo "$verdict $name $detail" >> "$RESULTS_LOG"
}

. "$(dirname "${BASH_SOURCE[0]}")/splat.sh"

# scan_console NAME LOG: one failure per distinct report, else one pass.
scan_console() {
	local name=$1 log=$2 hits
	hits=$(console_reports "$log" | grep -a -E "$SPLAT_RE" | grep -a -v -E '^guest: (test|kmemleak)' | sed 's/^\[ *[0-9.]*\] //' | sort -u | head -n 20)
	if [ -n "$hits" ]; then
		result fail "$name: kernel reported a problem on the console" "see $log"
		echo "$hits" | sed 's/^/      | /'
	else
		result pass "$name: console has no oops, WARN, KASAN, lockdep, kmemleak or hung-task report"
	fi
}

# collect_tap NAME OUTFILE RC: count a guest test's TAP lines.
collect_tap() {
	local name=$1 out=$2 rc=$3 line n=0 nfail=0
	while IFS= read -r line; do
		case $line in
		"ok "*"# SKIP"*|"ok "*"# skip"*) result skip "$name: ${line#ok }"; n=$((n + 1)) ;;
		"ok "*) result pass "$name: ${line#ok }"; n=$((n + 1)) ;;
		"not ok "*"# SKIP"*) result skip "$name: ${line#not ok }"; n=$((n + 1)) ;;
		"not ok "*) result fail "$name: ${line#not ok }"; n=$((n + 1)); nfail=$((nfail + 1)) ;;
		esac
	done < "$out"
	if [ "$rc" = 4 ] && [ "$n" = 0 ]; then
		result skip "$name" "$(tail -n 1 "$out")"
	elif [ "$n" = 0 ]; then
		result fail "$name: produced no TAP results (exit $rc)" "$(tail -n 3 "$out" | tr '\n' ' ')"
	elif [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$nfail" = 0 ]; then
		result fail "$name: exited $rc with no failing TAP line" "$(tail -n 3 "$out" | tr '\n' ' ')"
	fi
	if [ "$nfail" != 0 ] || { [ "$rc" != 0 ] && [ "$rc" != 4 ]; }; then
		echo "      --- $out (last 15 lines)"
		tail -n 15 "$out" | sed 's/^/      | /'
	fi
}

results_summary() {
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" = 0 ]
}
