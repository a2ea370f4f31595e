#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftest.sh [KIND...]: show that each gate of gates.sh fails on a series
# that breaks its rule.  For each KIND, inject.sh makes a copy of the series
# with one defect and the gate of that name must report a failure; the
# clean series must pass them all first.  Not part of make check: the
# build gates rebuild what the defects touch (a few minutes when warm).
#
#   INJECT_FROM=DIR testbed/gates/selftest.sh     another copy of patches/
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/gates.sh"

kinds=("$@")
[ ${#kinds[@]} = 0 ] && kinds=("${GATES_ALL[@]}")
from=${INJECT_FROM:-$TOP/patches}
tmp=$(mktemp -d)

verdict() {	# verdict PATCHES GATE: "pass" or "fail", output in $tmp/last
	( PASSED=0 FAILED=0 SKIPPED=0 RESULTS_LOG=/dev/null GATES_PATCHES=$1
	  gates_run "$2" > "$tmp/last" 2>&1
	  [ "$FAILED" = 0 ] && echo pass || echo fail )
}

for k in "${kinds[@]}"; do
	got=$(verdict "$from" "$k")
	[ "$got" = pass ] || { result fail "gates self-test: $k fails on the clean series"; sed 's/^/      | /' "$tmp/last"; continue; }
	if ! "$TESTBED/gates/inject.sh" "$k" "$tmp/bad-$k" > "$tmp/inject" 2>&1; then
		result fail "gates self-test: could not inject a $k defect"; sed 's/^/      | /' "$tmp/inject"; continue
	fi
	got=$(verdict "$tmp/bad-$k" "$k")
	if [ "$got" = fail ]; then
		result pass "gates self-test: $k catches: $(sed -n 's/^#   *'"$k"' *//p' "$TESTBED/gates/inject.sh")"
		grep -E '^      \| ' "$tmp/last" | head -n 3
	else
		result fail "gates self-test: $k passes a series with a defect it should catch"
		sed 's/^/      | /' "$tmp/last"
	fi
done
rm -rf "$tmp"
results_summary
