#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness-test.sh: the harness checks itself before anyone trusts its
# verdicts. Each case feeds a known-bad (or known-good) input to the real
# accounting code in a subshell and checks the verdict it reaches:
#  - a console with a WARN, a KASAN report, a lockdep splat, a hung task or
#    a kmemleak report fails; a clean console passes; an allocation
#    failure report passes only inside a fault injection window;
#  - a guest test with a "not ok" line, one that exits non-zero without
#    one, and one that prints no TAP all fail;
#  - a patch in patches/ with a corrupted hunk makes the series check fail
#    and name the patch; a hand-edited patch that still applies fails the
#    round trip.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/series-check.sh"

series_check_dir() { TOP_PATCHES=$1 series_check; }

# verdict CMD...: run the accounting in a subshell with fresh counters and
# print "fail" if it counted a failure, else "pass".
verdict() {
	( PASSED=0 FAILED=0 SKIPPED=0 RESULTS_LOG=/dev/null
	  "$@" > "$HT/last.out" 2>&1
	  [ "$FAILED" = 0 ] && echo pass || echo fail )
}

expect() {	# expect pass|fail NAME CMD...
	local want=$1 name=$2 got
	shift 2
	got=$(verdict "$@")
	if [ "$got" = "$want" ]; then
		result pass "harness: $name -> $want"
	else
		result fail "harness: $name -> $got, expected $want" "$(head -c 300 "$HT/last.out" | tr '\n' ' ')"
	fi
}

harness_test() {
	HT=$(mktemp -d)
	local clean=$HT/clean.log
	printf '%s\n' "[    1.000000] pci 0000:02:00.0: [1b36:0010] type 00 class 0x010802" \
		"guest: test foo: exit 0 after 1s" \
		"[    2.000000] nvme nvme0: pci function 0000:02:00.0" > "$clean"
	expect pass "clean console" scan_console t "$clean"
	local r
	for r in "WARNING: CPU: 1 PID: 77 at drivers/pci/p2pdma.c:420 pci_p2pdma_remove_resource+0x1/0x2" \
		"BUG: KASAN: slab-use-after-free in vfio_pci_p2p_revoke+0x10/0x20" \
		"WARNING: possible circular locking dependency detected" \
		"INFO: task vfio_p2p_test:99 blocked for more than 60 seconds." \
		"unreferenced object 0xffff888100000000 (size 64):" \
		"Oops: general protection fault, probably for non-canonical address"; do
		{ cat "$clean"; echo "[    3.000000] $r"; } > "$HT/bad.log"
		expect fail "console with '${r:0:40}...'" scan_console t "$HT/bad.log"
	done

	# An allocation failure report is spared only inside a fault
	# injection window, and only that report.
	local alloc=("hard_faults: vmalloc error: size 120, align 0x1, vm_struct allocation failed, mode:0xdc0(GFP_KERNEL|__GFP_ZERO)"
		"Call Trace:" " <TASK>" " dump_stack_lvl+0x83/0x90" " warn_alloc+0x15b/0x193" " </TASK>")
	{ cat "$clean"; echo "$FAULTS_BEGIN (t)"; printf '%s\n' "${alloc[@]}"; echo "$FAULTS_END (t)"; } > "$HT/inj.log"
	expect pass "allocation failure report inside a fault injection window" scan_console t "$HT/inj.log"
	{ cat "$clean"; printf '%s\n' "${alloc[@]}"; } > "$HT/noinj.log"
	expect fail "allocation failure report outside a fault injection window" scan_console t "$HT/noinj.log"
	{ cat "$clean"; echo "$FAULTS_BEGIN (t)"; printf '%s\n' "${alloc[@]}"
	  echo "WARNING: arch/x86/mm/init_64.c:973 at add_pages+0x5e/0x16c"; echo "$FAULTS_END (t)"; } > "$HT/injwarn.log"
	expect fail "WARN inside a fault injection window" scan_console t "$HT/injwarn.log"

	printf 'TAP version 13\n1..2\nok 1 a\nnot ok 2 b\n' > "$HT/t1"
	expect fail "guest test with a 'not ok' line" collect_tap t "$HT/t1" 1
	printf 'TAP version 13\n1..1\nok 1 a\n' > "$HT/t2"
	expect fail "guest test exiting 1 with only 'ok' lines" collect_tap t "$HT/t2" 1
	printf 'Segmentation fault\n' > "$HT/t3"
	expect fail "guest test with no TAP at all" collect_tap t "$HT/t3" 139
	expect pass "guest test with only 'ok' lines, exit 0" collect_tap t "$HT/t2" 0

	# Series checks on corrupted copies of patches/ (needs the base repo).
	if [ -f "$CACHE/base-version" ] && [ -n "$(sed -n '1p' "$TOP/patches/series" 2>/dev/null)" ]; then
		local p
		p=$(sed -n '1p' "$TOP/patches/series")
		cp -r "$TOP/patches" "$HT/patches"
		# Change a context line of the first hunk: git am must refuse.
		awk 'BEGIN { n = 0 } /^@@ / && !n { n = 1; print; getline; print " THIS LINE IS NOT IN THE BASE" ; next } { print }' \
			"$TOP/patches/$p" > "$HT/patches/$p"
		expect fail "series with a corrupted hunk in $p" \
			series_check_dir "$HT/patches"
		grep -q "patches/$p does not apply" "$HT/last.out" &&
			result pass "harness: the failure names $p" ||
			result fail "harness: the failure does not name $p" "$(head -c 300 "$HT/last.out")"
		# A hand edit that still applies: a diffstat that no longer
		# matches (git am ignores it, format-patch writes the real one).
		cp "$TOP/patches/$p" "$HT/patches/$p"
		sed -i '0,/ files\? changed, /s/ changed, / changed (edited), /' "$HT/patches/$p"
		expect fail "series with a hand-edited (still applying) $p" \
			series_check_dir "$HT/patches"
	fi
	rm -rf "$HT"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	harness_test
	results_summary
fi
