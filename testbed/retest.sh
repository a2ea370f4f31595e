#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# retest.sh [PLAN...]: the inner loop of kernel work. Rebuild the kernel
# from build/linux as it is now (incremental, ccache), rebuild the guest
# side, boot each plan of testbed/plans/ (default: retest) and count the
# results like make check does. A plan whose name ends in "nop2p" boots
# the topology without a P2P path. Nothing is fetched, reset or checked
# against patches/: edit build/linux, run this, then 'make patches'.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/vm.sh"

FLAVOR=${FLAVOR:-debug}
RESULTS_LOG=$BUILD/retest-results.log
rm -f "$RESULTS_LOG"
T0=$(date +%s)
[ -d "$BUILD/linux/.git" ] || die "no build/linux: run 'make tree' first"
[ $# -gt 0 ] || set -- retest

phase "kernel build ($FLAVOR)" "$TESTBED/build-kernel.sh" "$FLAVOR" || exit 1
phase "guest tools and selftests" "$TESTBED/build-guest.sh" "$FLAVOR" || exit 1

GUEST_ENV=$(guest_env)
export GUEST_ENV
for plan in "$@"; do
	[ -f "$TESTBED/plans/$plan.plan" ] || die "no plan testbed/plans/$plan.plan"
	topo=p2p
	case $plan in *nop2p) topo=nop2p ;; esac
	t=$(date +%s)
	vm_run "$topo" "$plan" "$TESTBED/plans/$plan.plan" "$FLAVOR"
	echo "== boot $plan: done in $(( $(date +%s) - t ))s"
done

echo "== total $(( $(date +%s) - T0 ))s"
results_summary
