#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: the main job. Builds what is missing, boots the P2P topology and
# moves data from the client NVMe into the provider's BAR with O_DIRECT,
# through a BAR that vfio-p2p registered with VFIO_DEVICE_FEATURE_P2P_REGISTER,
# then says in plain words what happened: who is who, how many bytes went
# where, P2P throughput against DRAM in the same guest, where in the BAR the
# buffer was, and whether the bytes in the BAR were checked.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/vm.sh"

FLAVOR=${FLAVOR:-perf}
RESULTS_LOG=$BUILD/run-results.log
rm -f "$RESULTS_LOG"
build_steps "$FLAVOR" || exit 1

plan=$TESTBED/plans/run.plan
GUEST_ENV=$(guest_env)
export GUEST_ENV
vm_run p2p run "$plan" "$FLAVOR" > "$BUILD/run-vm.log"
res=$BUILD/results-run
. "$res/devices" 2>/dev/null

series_id() {	# the commit of patches/, "+ local changes" if they differ from it
	local c
	c=$(git -C "$TOP" log -1 --format=%h -- patches 2>/dev/null) || { echo unknown; return; }
	if [ -n "$(git -C "$TOP" status --porcelain -- patches 2>/dev/null)" ]; then
		echo "commit $c + local changes"
	else
		echo "commit $c"
	fi
}
field() {	# field TEST KEY: a value from the test's "# result" line
	sed -n "s/^# result .*$2=\([^ ]*\).*/\1/p" "$res/$1.out" 2>/dev/null | head -n 1
}
verified() {	# p2pread's check of every pass against the image
	grep -q ' matches the image, read through ' "$res/$1.out" 2>/dev/null || { echo -; return; }
	grep -q '^not ok .* matches the image' "$res/$1.out" && echo NO || echo yes
}
where() {
	sed -n 's/^# where bar=\([0-9]*\) offset=\(0x[0-9a-f]*\)/BAR\1+\2/p' "$res/$1.out" 2>/dev/null | head -n 1
}
row() {	# row ENGINE LABEL TEST BASELINE
	local v b r
	v=$(field "$3" mbps)
	b=$(field "$4" mbps)
	r=$( [ -n "$v" ] && [ -n "$b" ] && printf "%.2f" "$(echo "scale=4; $v / $b" | bc)")
	printf '  %-9s %-34s %9s %8s %9s  %s\n' "$1" "$2" "${v:-failed}" "${r:+${r}x}" \
		"$(verified "$3")" "$(where "$3")"
}

# The report, also kept in $BUILD/run-report.txt for testbed/run-readme.sh
report() {
	echo
	echo "What ran (TCG guest, $FLAVOR kernel, topology in testbed/topology.sh):"
	echo "  client    ${CLIENT_BDF:-?}  NVMe on the nvme driver; ${CLIENT_BLK:-?} holds a known pattern"
	echo "  provider  ${SHM_BDF:-?}  ivshmem, 256 MiB RAM-backed BAR2, bound to vfio-pci"
	echo "  provider  ${PROVIDER_BDF:-?}  NVMe, 64 MiB CMB in BAR2, bound to vfio-pci"
	echo "  'vfio-p2p register BDF --bar 2 -- READER' registers BAR2 through"
	echo "  VFIO_DEVICE_FEATURE_P2P_REGISTER, runs the reader, then unregisters."
	echo "  The reader maps p2pmem/allocate and reads 32 MiB from the client with"
	echo "  O_DIRECT into a 4 MiB buffer: the NVMe DMAs straight into the BAR."
	echo
	printf '  %-9s %-34s %9s %8s %9s  %s\n' engine into MB/s "vs DRAM" verified "buffer in BAR"
	for e in io_uring psync; do
		row "$e" "DRAM (baseline)" "dram-$e" "dram-$e"
		row "$e" "ivshmem BAR2 (RAM-backed), P2P" "shm-$e" "dram-$e"
		row "$e" "NVMe CMB BAR2, P2P" "cmb-$e" "dram-$e"
	done
	row "fio" "DRAM, io_uring 1m qd32" dram-fio dram-fio
	row "fio" "ivshmem BAR2, io_uring 1m qd32" shm-fio dram-fio
	echo
	echo "  verified: after each pass every byte of the buffer was read back through"
	echo "  the BAR's sysfs resourceN file (not the p2pmem mapping the NVMe wrote"
	echo "  through; DRAM: the buffer itself) and matched the image. 'buffer in BAR' is"
	echo "  where the reader placed its buffer (the mapping's file offset asks for it,"
	echo "  vfio_p2p_where() decoded it back). fio: its job's own verdict, no byte check."
	echo "  QEMU emulates every access to the NVMe CMB,"
	echo "  so P2P into it is slow; the RAM-backed BAR shows the path's own cost."
	echo
}
{
	echo "make run: $(date -u '+%Y-%m-%d %H:%M UTC'), $FLAVOR kernel, series of $(series_id), $SECONDS s in all"
	report
} > "$BUILD/run-report.txt"
tail -n +2 "$BUILD/run-report.txt"
grep -E '^  FAILED' "$BUILD/run-vm.log"
results_summary
