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
#    one, one that prints no TAP, one without a TAP plan and one that stops
#    before its plan's count all fail;
#  - skip budgets: a skip that the budget lacks fails, an entry that no
#    skip matched fails, a malformed entry fails;
#  - every verdict of a boot (vm_verdict on a made-up results directory):
#    a guest time-out, a guest that never reaches init or stops early, a
#    test without an exit status, a test that timed out (one failure), a
#    kmemleak report, kmemleak disabled or missing on a debug kernel;
#    a plan whose time-outs exceed the boot limit is not booted;
#  - the checkpatch gate fails on a checkpatch that exits non-zero without
#    a finding or prints a traceback, the kernel-doc gate on a kernel-doc
#    that fails;
#  - a patch in patches/ with a corrupted hunk makes the series check fail
#    and name the patch; a hand-edited patch that still applies fails the
#    round trip (these need the base repository: without it, they fail).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/series-check.sh"
. "$TESTBED/vm.sh"
. "$TESTBED/gates.sh"

series_check_dir() { TOP_PATCHES=$1 series_check; }

# verdict CMD...: run the accounting in a subshell with fresh counters and
# print "fail" if it counted a failure, else "pass"; the counts go to
# $HT/last.counts ("FAILED SKIPPED PASSED").
verdict() {
	( PASSED=0 FAILED=0 SKIPPED=0 RESULTS_LOG=/dev/null
	  "$@" > "$HT/last.out" 2>&1
	  echo "$FAILED $SKIPPED $PASSED" > "$HT/last.counts"
	  [ "$FAILED" = 0 ] && echo pass || echo fail )
}

expect() {	# expect pass|fail NAME CMD...
	local want=$1 name=$2 got
	shift 2
	got=$(verdict "$@")
	if [ "$got" = "$want" ]; then
		result pass "harness: $name -> $want"
	else
		result fail "harness: $name -> ${got:-no verdict}, expected $want" "$(head -c 300 "$HT/last.out" | tr '\n' ' ')"
	fi
}

# expect_counts FAILED SKIPPED NAME CMD...: exactly that many failures and
# skips.
expect_counts() {
	local f=$1 s=$2 name=$3 got
	shift 3
	verdict "$@" > /dev/null
	got=$(cut -d' ' -f1,2 "$HT/last.counts" 2>/dev/null)
	if [ "$got" = "$f $s" ]; then
		result pass "harness: $name -> $f failed, $s skipped"
	else
		result fail "harness: $name -> ${got:-?} (failed skipped), expected $f $s" "$(head -c 300 "$HT/last.out" | tr '\n' ' ')"
	fi
}

# expect_text TEXT NAME: the last case's output says TEXT.
expect_text() {
	if grep -q -F -- "$1" "$HT/last.out"; then
		result pass "harness: $2"
	else
		result fail "harness: $2: no '$1' in the output" "$(head -c 300 "$HT/last.out" | tr '\n' ' ')"
	fi
}

# A made-up results directory of a boot that went well: one test, two
# passes, kmemleak active and quiet, a debug kernel, no skip expected.
ht_results() {	# ht_results DIR
	rm -rf "$1"
	mkdir -p "$1"
	printf '# a plan\nt1 60 true\n' > "$1/plan"
	printf 'TAP version 13\n1..2\nok 1 a\nok 2 b\n' > "$1/t1.out"
	echo 0 > "$1/t1.rc"
	printf '%s\n' "[    1.000000] Linux version 7.3.4" "guest: up after 2.5s, kernel 7.3.4" \
		"guest: test t1: true" "guest: test t1: exit 0 after 1s" "guest: kmemleak active" \
		"guest: done" > "$1/console.log"
	: > "$1/qemu.log"
	echo 0 > "$1/qemu.rc"
	echo 245 > "$1/boot-limit"
	echo debug > "$1/flavor"
	echo "# nothing expected" > "$1/skips"
	echo active > "$1/kmemleak.state"
	: > "$1/kmemleak.txt"
}

# A fake kernel tree for the checkpatch and kernel-doc gates: one commit
# "base" and one on top that changes a.c; scripts/ holds the fakes.
ht_gates_tree() {	# ht_gates_tree DIR
	mkdir -p "$1/scripts"
	git -C "$1" init -q
	echo 'int a;' > "$1/a.c"
	git -C "$1" add a.c
	git -C "$1" -c user.name=t -c user.email=t@t commit -q -m base
	git -C "$1" tag base
	echo 'int a, b;' > "$1/a.c"
	git -C "$1" -c user.name=t -c user.email=t@t commit -q -a -m 'the change'
	echo patch > "$HT/0001-the-change.patch"
}
ht_fake() {	# ht_fake FILE EXIT STDOUT STDERR: a script that prints and exits
	printf '#!/bin/bash\nprintf "%%b" %q\nprintf "%%b" %q >&2\nexit %s\n' "$3" "$4" "$2" > "$1"
	chmod +x "$1"
}
ht_gate() {	# ht_gate checkpatch|kernel_doc: the gate on the fake tree
	GATES_SRC=$HT/gsrc GATES_DIR=$HT/gdir GATES_PATCHDIR=$HT GATES_EXCEPTIONS=/dev/null
	GATES_NAMES=(0001-the-change.patch) GATES_COMMITS=("$(git -C "$GATES_SRC" rev-parse HEAD)")
	GATES_HEAD=${GATES_COMMITS[0]}
	mkdir -p "$GATES_DIR/logs"
	"gates_$1"
}

harness_test() {
	HT=$(mktemp -d)
	tb_cleanup_add "rm -rf '$HT'"
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

	# TAP and its plan
	printf 'TAP version 13\n1..2\nok 1 a\nnot ok 2 b\n' > "$HT/t1"
	expect fail "guest test with a 'not ok' line" collect_tap b/t "$HT/t1" 1
	printf 'TAP version 13\n1..1\nok 1 a\n' > "$HT/t2"
	expect fail "guest test exiting 1 with only 'ok' lines" collect_tap b/t "$HT/t2" 1
	printf 'Segmentation fault\n' > "$HT/t3"
	expect fail "guest test with no TAP at all" collect_tap b/t "$HT/t3" 139
	expect pass "guest test with only 'ok' lines, exit 0" collect_tap b/t "$HT/t2" 0
	printf 'TAP version 13\n1..3\nok 1 a\n' > "$HT/t4"
	expect fail "guest test that stops after 1 of its plan's 3 results, exit 0" collect_tap b/t "$HT/t4" 0
	expect_text "plan 1..3 but 1 results" "the failure says the plan was not met"
	printf 'TAP version 13\nok 1 a\nok 2 b\n' > "$HT/t5"
	expect fail "guest test with results but no plan" collect_tap b/t "$HT/t5" 0
	printf 'TAP version 13\nok 1 a\nok 2 b\n1..2\n' > "$HT/t6"
	expect pass "guest test with a trailing plan" collect_tap b/t "$HT/t6" 0
	printf 'TAP version 13\n1..1\nok 1 a\n1..1\n' > "$HT/t7"
	expect fail "guest test with two plans" collect_tap b/t "$HT/t7" 0
	printf 'TAP version 13\n1..0\n' > "$HT/t8"
	expect fail "guest test with an empty plan that exits 0" collect_tap b/t "$HT/t8" 0
	printf 'TAP version 13\n1..0 # SKIP no device here\n' > "$HT/t9"
	expect_counts 0 1 "guest test skipped whole (1..0 # SKIP, exit 4), no budget" collect_tap b/t "$HT/t9" 4

	# Skip budgets
	printf 'TAP version 13\n1..2\nok 1 a\nok 2 x.flr # SKIP no PCIe capability\n' > "$HT/s1"
	printf '# budget\nt: * x.flr # SKIP no PCIe capability\tthe device has none\n' > "$HT/b-ok"
	printf '# budget\n' > "$HT/b-none"
	printf '# budget\nt: * x.flr # SKIP no PCIe*\tthe device has none\nt: * x.d3hot *\tthe device has no PM\n' > "$HT/b-more"
	printf 't: * x.flr # SKIP no PCIe capability the tab is missing\n' > "$HT/b-bad"
	budget() {	# budget FILE TAPFILE: a boot's skip accounting
		skips_begin "$1"
		collect_tap b/t "$2" 0
		skips_end b
	}
	expect_counts 0 1 "a skip that the budget holds" budget "$HT/b-ok" "$HT/s1"
	expect_counts 1 0 "a skip that the budget lacks" budget "$HT/b-none" "$HT/s1"
	expect_text "unexpected skip" "the failure names the unexpected skip"
	expect_counts 1 1 "a budget entry that no skip matched" budget "$HT/b-more" "$HT/s1"
	expect_text "expected skip did not happen: t: * x.d3hot *" "the failure names the entry"
	expect fail "a budget line without a tab" budget "$HT/b-bad" "$HT/s1"
	expect fail "a missing budget file" budget "$HT/no-such.skips" "$HT/t2"

	# The verdicts of a boot, on made-up results directories
	local d=$HT/res
	ht_results "$d"
	expect_counts 0 0 "boot that went well" vm_verdict b "$d"
	ht_results "$d"; echo 124 > "$d/qemu.rc"; sed -i '/guest: done/d' "$d/console.log"
	expect fail "boot that ran out of its time limit" vm_verdict b "$d"
	expect_text "did not finish within 245s" "the failure gives the boot's limit"
	ht_results "$d"; printf 'SeaBIOS\nBooting from ROM..\n' > "$d/console.log"; rm -f "$d"/t1.*
	expect fail "guest that never reaches its init" vm_verdict b "$d"
	ht_results "$d"; sed -i '/guest: done/d' "$d/console.log"
	expect fail "guest that stops before 'guest: done'" vm_verdict b "$d"
	ht_results "$d"; rm "$d/t1.rc"
	expect fail "test without an exit status (.rc)" vm_verdict b "$d"
	ht_results "$d"; echo 124 > "$d/t1.rc"; printf 'TAP version 13\n1..2\nok 1 a\n' > "$d/t1.out"
	expect_counts 1 0 "test that timed out counts once (its 1 pass besides)" vm_verdict b "$d"
	expect_text "TIMED OUT after 60s" "the time-out names the test's own limit"
	ht_results "$d"; printf 'TAP version 13\n1..5\nok 1 a\nok 2 b\n' > "$d/t1.out"
	expect fail "plan entry whose test stopped early" vm_verdict b "$d"
	ht_results "$d"; echo "unreferenced object 0xffff888100000000 (size 64):" > "$d/kmemleak.txt"
	expect fail "kmemleak report" vm_verdict b "$d"
	ht_results "$d"; echo disabled > "$d/kmemleak.state"
	expect fail "kmemleak disabled itself (state file)" vm_verdict b "$d"
	ht_results "$d"; sed -i '1a [  400.000000] kmemleak: Kernel memory leak detector disabled' "$d/console.log"
	expect fail "kmemleak disabled itself (console, state file says active)" vm_verdict b "$d"
	ht_results "$d"; rm "$d/kmemleak.state"
	expect fail "debug kernel with no kmemleak state" vm_verdict b "$d"
	ht_results "$d"; echo absent > "$d/kmemleak.state"; echo perf > "$d/flavor"
	expect pass "perf kernel without kmemleak" vm_verdict b "$d"
	ht_results "$d"; printf 'TAP version 13\n1..2\nok 1 a\nok 2 b # SKIP no P2P path\n' > "$d/t1.out"
	expect fail "boot with a skip its budget lacks" vm_verdict b "$d"
	ht_results "$d"; printf 't1: * b # SKIP no P2P path\tnop2p\n' > "$d/skips"
	expect fail "boot without the skip its budget expects" vm_verdict b "$d"
	ht_results "$d"; echo "[   5.000000] BUG: KASAN: use-after-free in x+0x1/0x2" >> "$d/console.log"
	expect fail "boot with a KASAN report on the console" vm_verdict b "$d"

	ht_results "$d"; sed -i '/guest: done/d' "$d/console.log"
	echo "[ 900.000000] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:" > "$d/stalled"
	expect fail "boot that vm_watch stopped on a stall" vm_verdict b "$d"
	expect_text "guest stalled, stopped" "the failure says the boot was stopped, and why"

	# vm_watch: an RCU stall report on the console stops the "QEMU" (a
	# copy of sleep under QEMU's name, the child of a stand-in for
	# timeout(1)) and leaves the report in RESULTS_DIR/stalled.
	ht_results "$d"
	cp "$(command -v sleep)" "$HT/qemu-system-x86_64"
	( "$HT/qemu-system-x86_64" 120; true ) &
	local wp=$! wt=$SECONDS
	echo "[ 900.000000] rcu: rcu_preempt kthread timer wakeup didn't happen for 21002 jiffies! g4457 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x402" >> "$d/console.log"
	VM_STALL_GRACE_S=0 vm_watch "$d" "$d/console.log" 600 "$wp" > /dev/null 2>&1
	wait "$wp"
	if [ -s "$d/stalled" ] && [ -f "$d/cpu-state.txt" ] && [ $((SECONDS - wt)) -lt 100 ]; then
		result pass "harness: vm_watch stops a guest whose kernel reports an RCU stall"
	else
		result fail "harness: vm_watch did not stop a stalled guest ($((SECONDS - wt)) s; stalled: $(cat "$d/stalled" 2>/dev/null))"
	fi

	# Time-outs nest: a plan that cannot fit in MAX_BOOT_S is not booted.
	printf 'a 3000 true\nb 600 true\n' > "$HT/long.plan"
	expect fail "plan whose time-outs add up to more than MAX_BOOT_S" vm_run p2p ht-long "$HT/long.plan"
	expect_text "more than MAX_BOOT_S" "the failure says why"
	printf 'a 60 true\nb x true\n' > "$HT/bad.plan"
	expect fail "plan line without a time-out in seconds" vm_run p2p ht-bad "$HT/bad.plan"
	printf '# c\na 60 true\nb 100 true\n' > "$HT/ok.plan"
	if [ "$(plan_boot_limit "$HT/ok.plan")" = $((60 + 100 + 2 * TEST_KILL_S + BOOT_MARGIN_S)) ]; then
		result pass "harness: boot limit = the tests' time-outs + kill grace + ${BOOT_MARGIN_S}s"
	else
		result fail "harness: boot limit of a 60 s + 100 s plan is $(plan_boot_limit "$HT/ok.plan")"
	fi

	# The checkpatch and kernel-doc gates must notice a broken tool.
	ht_gates_tree "$HT/gsrc"
	ht_fake "$HT/gsrc/scripts/checkpatch.pl" 0 '' ''
	expect pass "checkpatch gate, checkpatch clean" ht_gate checkpatch
	ht_fake "$HT/gsrc/scripts/checkpatch.pl" 0 '' 'Traceback (most recent call last):\n  File "scripts/spdxcheck.py", line 6, in <module>\n    from ply import lex, yacc\nModuleNotFoundError: No module named '"'ply'"'\n'
	expect fail "checkpatch gate, spdxcheck traceback, exit 0" ht_gate checkpatch
	ht_fake "$HT/gsrc/scripts/checkpatch.pl" 0 'Traceback (most recent call last):\nModuleNotFoundError: No module named ply\n' ''
	expect fail "checkpatch gate, a traceback on stdout" ht_gate checkpatch
	ht_fake "$HT/gsrc/scripts/checkpatch.pl" 2 '' ''
	expect fail "checkpatch gate, checkpatch exits 2 silently" ht_gate checkpatch
	ht_fake "$HT/gsrc/scripts/checkpatch.pl" 1 '' ''
	expect fail "checkpatch gate, checkpatch exits 1 with no finding" ht_gate checkpatch
	ht_fake "$HT/gsrc/scripts/checkpatch.pl" 1 'WARNING:LONG_LINE: line too long\n#9: FILE: a.c:1:\n+int a, b;\n\n' ''
	expect fail "checkpatch gate, a finding" ht_gate checkpatch
	# An upstream commit id that the base's missing history hides: only
	# a listed id quoted with its listed subject passes.
	local unk='WARNING:UNKNOWN_COMMIT_ID: Unknown commit id '"'bdb2fd7fc56e'"', maybe rebased or not pulled?\n#9: \nFixes: bdb2fd7fc56e\n\n'
	ht_fake "$HT/gsrc/scripts/checkpatch.pl" 1 "$unk" ''
	printf 'Fixes: bdb2fd7fc56e ("kernfs: Skip kernfs_drain_open_files() more aggressively")\n' > "$HT/0001-the-change.patch"
	expect pass "checkpatch gate, a listed upstream commit with its subject" ht_gate checkpatch
	printf 'Fixes: bdb2fd7fc56e ("kernfs: Skip draining")\n' > "$HT/0001-the-change.patch"
	expect fail "checkpatch gate, a listed upstream commit with another subject" ht_gate checkpatch
	ht_fake "$HT/gsrc/scripts/checkpatch.pl" 1 "${unk//bdb2fd7fc56e/0123456789ab}" ''
	printf 'Fixes: 0123456789ab ("kernfs: Skip kernfs_drain_open_files() more aggressively")\n' > "$HT/0001-the-change.patch"
	expect fail "checkpatch gate, an unlisted commit id" ht_gate checkpatch
	echo patch > "$HT/0001-the-change.patch"
	ht_fake "$HT/gsrc/scripts/kernel-doc" 0 '' ''
	expect pass "kernel-doc gate, kernel-doc clean" ht_gate kernel_doc
	ht_fake "$HT/gsrc/scripts/kernel-doc" 1 '' 'Traceback (most recent call last):\nImportError: kdoc\n'
	expect fail "kernel-doc gate, kernel-doc fails" ht_gate kernel_doc

	# Series checks on corrupted copies of patches/ (needs the base repo).
	if [ ! -f "$CACHE/base-version" ] || [ -z "$(sed -n '1p' "$TOP/patches/series" 2>/dev/null)" ]; then
		result fail "harness: the series cases need the base (run 'make fetch') and patches/series"
	else
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
	tb_cleanup_del "rm -rf '$HT'"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	harness_test
	results_summary
fi
