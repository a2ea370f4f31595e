#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the whole test suite from a fresh machine. Every phase prints
# its time; every check counts; the last line is "N passed, N failed,
# N skipped" and the exit status is non-zero on any failure.
#
#   deps -> fetch -> series (applies, round-trips) -> harness self-test
#        -> upstream gates (checkpatch, kernel-doc, docs, bisect, W=1,
#           sparse, selftests -Werror) -> tree -> kernel (debug)
#        -> guest tools + selftests + hardening programs
#        -> boot p2p topology -> boot nop2p topology (each plan ends with
#           the hardening suite)
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/series-check.sh"
. "$TESTBED/vm.sh"
. "$TESTBED/harness-test.sh"

FLAVOR=${FLAVOR:-debug}
rm -f "$RESULTS_LOG"
T0=$(date +%s)

# A phase that fails stops the run: nothing after it could mean anything.
must() {
	local name=$1
	shift
	if phase "$name" "$@"; then
		result pass "$name"
	else
		result fail "$name"
		echo "== total $(( $(date +%s) - T0 ))s"
		results_summary
		exit 1
	fi
}

must deps "$TESTBED/deps.sh"
must fetch "$TESTBED/fetch-base.sh"
must "series check" series_check
phase "harness self-test" harness_test
. "$TESTBED/gates.sh"
phase "upstream gates" gates_run

# Host-side TAP producers: their lines count like a guest test's.
host_tap() {	# host_tap NAME CMD...
	local name=$1 out=$BUILD/host-$1.out rc
	shift
	"$@" > "$out" 2>&1
	rc=$?
	collect_tap "host/$name" "$out" "$rc"
}
phase "vfio-p2p tool unit tests" host_tap vfio-p2p-unit \
	make -s -C "$TOP/tools/vfio-p2p" OUTPUT="$BUILD/tool-unit" test
must tree "$TESTBED/mktree.sh"
must "kernel build ($FLAVOR)" "$TESTBED/build-kernel.sh" "$FLAVOR"
must "guest tools and selftests" "$TESTBED/build-guest.sh" "$FLAVOR"

GUEST_ENV=$(guest_env)
export GUEST_ENV
t=$(date +%s)
vm_run p2p check-p2p "$TESTBED/plans/check-p2p.plan" "$FLAVOR"
echo "== boot check-p2p: done in $(( $(date +%s) - t ))s"
t=$(date +%s)
vm_run nop2p check-nop2p "$TESTBED/plans/check-nop2p.plan" "$FLAVOR"
echo "== boot check-nop2p: done in $(( $(date +%s) - t ))s"

# What the hardening suite tried and found, per boot (quoted in README)
"$TESTBED/hardening-report.sh" "$BUILD/results-check-p2p" "$BUILD/results-check-nop2p" |
	tee "$BUILD/hardening-report.md"

echo "== total $(( $(date +%s) - T0 ))s"
results_summary
