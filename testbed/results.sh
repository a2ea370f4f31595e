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

# Skip budgets. A plan's expected skips are in testbed/plans/NAME.skips
# (see the header of those files for the format). skips_begin FILE loads
# one; while it is loaded, collect_tap counts a skip that matches an entry
# as a skip and any other skip as a failure; skips_end NAME then fails
# every entry that matched nothing. Without a loaded budget (host-side
# producers), a skip is a skip.
SKIP_BUDGET= SKIP_PAT=() SKIP_WHY=() SKIP_HITS=()
skips_begin() {	# skips_begin FILE [LABEL]: LABEL names FILE in messages
	local line pat why
	SKIP_BUDGET=${2:-$1} SKIP_PAT=() SKIP_WHY=() SKIP_HITS=()
	[ -f "$1" ] || { result fail "skip budget $1 is missing"; return 1; }
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in ''|'#'*) continue ;; esac
		pat=${line%%$'\t'*}
		why=${line#*$'\t'}
		if [ "$pat" = "$line" ] || [ -z "$pat" ] || [ -z "$why" ]; then
			result fail "skip budget $SKIP_BUDGET: malformed line (want PATTERN<TAB>REASON)" "$line"
			continue
		fi
		SKIP_PAT+=("$pat") SKIP_WHY+=("$why") SKIP_HITS+=(0)
	done < "$1"
}
# skip_expected TEXT: is TEXT ("TEST: DESCRIPTION") in the budget? Counts
# the hit on every entry that matches.
skip_expected() {
	local i hit=1
	for i in "${!SKIP_PAT[@]}"; do
		# shellcheck disable=SC2053
		if [[ $1 == ${SKIP_PAT[$i]} ]]; then
			SKIP_HITS[$i]=$((SKIP_HITS[$i] + 1))
			hit=0
		fi
	done
	return $hit
}
skips_end() {	# skips_end NAME
	local i
	[ -n "$SKIP_BUDGET" ] || return 0
	for i in "${!SKIP_PAT[@]}"; do
		[ "${SKIP_HITS[$i]}" != 0 ] && continue
		result fail "$1: expected skip did not happen: ${SKIP_PAT[$i]}" \
			"${SKIP_WHY[$i]}; $SKIP_BUDGET"
	done
	SKIP_BUDGET= SKIP_PAT=() SKIP_WHY=() SKIP_HITS=()
}
# tap_skip_result NAME TEXT: one skip, checked against the budget. TEXT is
# the TAP line without "ok "/"not ok ", NAME is BOOT/TEST; the budget sees
# "TEST: TEXT".
tap_skip_result() {
	if [ -z "$SKIP_BUDGET" ] || skip_expected "${1#*/}: $2"; then
		result skip "$1: $2"
	else
		result fail "$1: unexpected skip (not in $SKIP_BUDGET): $2"
	fi
}

# collect_tap NAME OUTFILE RC [LIMIT]: count a test's TAP lines. Each
# result line counts once, and so does each of these failures: no plan
# ("1..N", first or last) or a plan that does not match the results seen
# (the producer stopped early), a non-zero exit without a failing line,
# "Bail out!". RC 124 means the test ran out of its LIMIT seconds: that is
# one failure, whatever the TAP says. Exit 4 with no TAP (or "1..0") is a
# skip of the whole test.
collect_tap() {
	local name=$1 out=$2 rc=$3 limit=${4:-?} line n=0 nfail=0
	local plans=0 plan= plan_at= bad= src=$out
	[ -f "$out" ] || src=/dev/null
	while IFS= read -r line; do
		case $line in
		"ok "*"# SKIP"*|"ok "*"# skip"*) tap_skip_result "$name" "${line#ok }" ;;
		"ok "*) result pass "$name: ${line#ok }" ;;
		"not ok "*"# SKIP"*) tap_skip_result "$name" "${line#not ok }" ;;
		"not ok "*) result fail "$name: ${line#not ok }"; nfail=$((nfail + 1)) ;;
		"Bail out!"*) result fail "$name: $line"; nfail=$((nfail + 1)); continue ;;
		1..*)
			if [[ $line =~ ^1\.\.([0-9]+)([[:space:]]|$) ]]; then
				plans=$((plans + 1)) plan=${BASH_REMATCH[1]} plan_at=$n
			fi
			continue ;;
		*) continue ;;
		esac
		n=$((n + 1))
	done < "$src"
	if [ "$rc" = 124 ]; then
		result fail "$name: TIMED OUT after ${limit}s" "$n results before it was stopped"
		bad=1
	elif [ "$rc" = 4 ] && [ "$n" = 0 ] && [ "${plan:-0}" = 0 ] && [ "$plans" -le 1 ]; then
		tap_skip_result "$name" "$(tail -n 1 "$src")"
	elif [ "$n" = 0 ]; then
		result fail "$name: produced no TAP results (exit $rc)" "$(tail -n 3 "$src" | tr '\n' ' ')"
		bad=1
	else
		if [ "$plans" = 0 ]; then
			result fail "$name: no TAP plan (1..N) in its output" "$n results"
			bad=1
		elif [ "$plans" -gt 1 ]; then
			result fail "$name: $plans TAP plans in its output, want one"
			bad=1
		elif [ "$plan" != "$n" ]; then
			result fail "$name: TAP plan 1..$plan but $n results (stopped early?)"
			bad=1
		elif [ "$plan_at" != 0 ] && [ "$plan_at" != "$n" ]; then
			result fail "$name: TAP plan in the middle of the results (after $plan_at of $n)"
			bad=1
		fi
		if [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$nfail" = 0 ]; then
			result fail "$name: exited $rc with no failing TAP line" "$(tail -n 3 "$src" | tr '\n' ' ')"
			bad=1
		fi
	fi
	if [ "$nfail" != 0 ] || [ -n "$bad" ]; then
		echo "      --- $out (last 15 lines)"
		tail -n 15 "$src" | sed 's/^/      | /'
	fi
}

results_summary() {
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" = 0 ]
}
