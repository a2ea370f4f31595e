#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fio-check.sh BDF BAR [-x]: the data path as a user drives it. Bind BDF to
# vfio-pci, register BAR with `vfio-p2p register`, and run the short fio
# jobs (fio-jobs/check-*.fio) with the p2pmem of the BAR as their buffers:
# P2P reads with psync, libaio and io_uring, the same into DRAM, and fio's
# own verify through P2P memory (writes the client's scratch namespace).
# One TAP line per job file. With -x (no P2P path) the P2P jobs must fail
# and the DRAM one must pass.
bdf=$1 bar=$2 expect_fail=${3:-}
jobs=$TESTBED/../fio-jobs
export TMPDIR=/tmp DEV=$CLIENT_BLK VERIFY_DEV=$CLIENT_SCRATCH

echo "TAP version 13"
echo "1..4"
if ! bash "$SELFTESTS/vfio/setup.sh" "$bdf" > /tmp/fio-setup.log 2>&1; then
	echo "not ok 1 bind $bdf to vfio-pci"
	exit 1
fi
rc=0
n=0
run() {	# run WANT JOBFILE [register]: WANT is pass or fail
	local want=$1 job=$2 out=/tmp/$2.log r
	n=$((n + 1))
	if [ "${3:-}" = register ]; then
		"$GUEST_BIN/vfio-p2p" register "$bdf" --bar "$bar" -- \
			sh -c 'P2PMEM=$VFIO_P2P_ALLOCATE exec fio --output-format=normal "$0"' \
			"$jobs/$job" > "$out" 2>&1
	else
		fio "$jobs/$job" > "$out" 2>&1
	fi
	r=$?
	[ -n "${RESULTS_DIR:-}" ] && cp "$out" "$RESULTS_DIR/fio-$bdf-$job.log"
	if { [ "$want" = pass ] && [ $r = 0 ]; } || { [ "$want" = fail ] && [ $r != 0 ]; }; then
		echo "ok $n fio $job via BAR$bar of $bdf: exit $r (expected to $want)"
	else
		echo "not ok $n fio $job via BAR$bar of $bdf: exit $r (expected to $want)"
		grep -E 'err=|verify|error|registered' "$out" | head -n 10 | sed 's/^/# /'
		rc=1
	fi
	grep -E '^ *READ: bw=' "$out" | sed 's/^ */# /'
}
p2p=pass
[ "$expect_fail" = -x ] && p2p=fail
run "$p2p" check-p2p.fio register
run pass check-dram.fio
run "$p2p" check-verify.fio register
# After the command exits the tool has unregistered: the pool is gone.
n=$((n + 1))
if [ -e "/sys/bus/pci/devices/$bdf/p2pmem/allocate" ] &&
   [ "$(cat "/sys/bus/pci/devices/$bdf/p2pmem/size")" != 0 ]; then
	echo "not ok $n BAR$bar of $bdf is unregistered after vfio-p2p exits"
	rc=1
else
	echo "ok $n BAR$bar of $bdf is unregistered after vfio-p2p exits"
fi
bash "$SELFTESTS/vfio/cleanup.sh" > /dev/null 2>&1
exit $rc
