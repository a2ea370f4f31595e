#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: the main job. Builds what is missing, boots the P2P topology and
# moves data from the client NVMe into the provider's BAR with O_DIRECT,
# then says in plain words what happened: who is who, how many bytes went
# where, P2P throughput against DRAM in the same guest, and whether the
# bytes in the BAR were checked.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/vm.sh"

FLAVOR=${FLAVOR:-perf}
RESULTS_LOG=$BUILD/run-results.log
rm -f "$RESULTS_LOG"
for step in "deps:$TESTBED/deps.sh" "fetch:$TESTBED/fetch-base.sh" "tree:$TESTBED/mktree.sh" \
	"kernel ($FLAVOR):$TESTBED/build-kernel.sh $FLAVOR" "guest tools:$TESTBED/build-guest.sh $FLAVOR"; do
	# shellcheck disable=SC2086
	phase "${step%%:*}" ${step#*:} || exit 1
done

plan=$TESTBED/plans/run-baseline.plan
export GUEST_ENV="TESTBED=$TESTBED
GUEST_BIN=$BUILD/guest-bin
SELFTESTS=$BUILD/selftests"
vm_run p2p run "$plan" "$FLAVOR" > "$BUILD/run-vm.log"
res=$BUILD/results-run
. "$res/devices" 2>/dev/null

field() {	# field TEST KEY: a value from the test's "# result" line
	sed -n "s/^# result .*$2=\([^ ]*\).*/\1/p" "$res/$1.out" 2>/dev/null | head -n 1
}
verified() {
	grep -q '^ok .*bytes in the buffer match the image' "$res/$1.out" 2>/dev/null && echo yes || echo NO
}

echo
echo "What ran (guest: $(uname -m), TCG, $FLAVOR kernel, topology in testbed/topology.sh):"
echo "  client   ${CLIENT_BDF:-?}  NVMe on the nvme driver, $CLIENT_BLK holds a known ${DATA_MB:-128} MiB pattern"
echo "  provider ${PROVIDER_BDF:-?}  NVMe on the nvme driver; its CMB (BAR2) is P2P memory under p2pmem/"
echo "  Each read below is O_DIRECT from the client into a 4 MiB buffer, 32 MiB in all."
echo
printf '  %-9s %-32s %12s %10s %10s\n' engine "into" "MB/s" "vs DRAM" "verified"
for e in io_uring psync; do
	p=$(field "cmb-$e" mbps)
	d=$(field "dram-$e" mbps)
	ratio=$( [ -n "$p" ] && [ -n "$d" ] && echo "scale=2; $p / $d" | bc)
	printf '  %-9s %-32s %12s %10s %10s\n' "$e" "provider CMB via p2pmem (P2P)" "${p:-failed}" "${ratio:+${ratio}x}" "$(verified "cmb-$e")"
	printf '  %-9s %-32s %12s %10s %10s\n' "$e" "DRAM" "${d:-failed}" "1.00x" "$(verified "dram-$e")"
done
echo
echo "  'verified' means every byte in the buffer was read back (from the CMB, for P2P)"
echo "  and matched the image. The CMB is an emulated I/O region in QEMU: each DMA"
echo "  access to it is emulated, so P2P into it is slower than into guest RAM."
echo
grep -E '^  (FAILED|ok  )' "$BUILD/run-vm.log" | grep -c FAILED >/dev/null &&
	grep -E '^  FAILED' "$BUILD/run-vm.log"
results_summary
