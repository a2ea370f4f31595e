#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# resetcost.sh: what a VFIO_DEVICE_RESET costs with nothing registered and
# with a P2P registration of 64 MiB and of the whole BAR (the last also
# with the range mapped through p2pmem/allocate): $GUEST_BIN/resetcost
# (resetcost.c) on the ivshmem BAR $SHM_BAR of $SHM_BDF, bound to vfio-pci
# here. ivshmem has no FLR; vfio-pci resets it through its bus (it is
# alone behind its root port), and offers VFIO_DEVICE_RESET if that works.
# If it does not (another topology), the provider NVMe's CMB
# ($PROVIDER_BDF, BAR $CMB_BAR, reset by FLR) is measured instead; the
# output says which.
#
# BENCH_RESET_REPS rounds (default 10) after a warm-up round. resetcost
# prints the TAP and, per case and round,
#   # metric reset case=none|regNM|regNM-mapped rep=N size=BYTES
#     mapped=BYTES reset_ms=MS after_ms=MS register_ms=MS|-
# (after_ms: from the reset's return until GET finds the BAR free, the
# teardown that the reset left to a worker included; see resetcost.c)
# and, before them, which device it was and how the kernel resets it
# (sysfs reset_method):
#   # metric resetdev bdf=BDF id=VENDOR:DEVICE bar=N reset_method=M[,M...]
. "$(dirname "$0")/lib.sh"

bind() {	# bind BDF: to vfio-pci; on failure a whole TAP stream, exit 1
	tb_bind "$1" > /tmp/resetcost-bind.diag && return 0
	tap_start
	tap_result fail "bind $1 to vfio-pci"
	cat /tmp/resetcost-bind.diag
	tap_end
	exit 1
}

dev=$SHM_BDF bar=$SHM_BAR
bind "$dev"
"$BENCH_BIN/resetcost" -p "$dev"
probe=$?
if [ $probe = 4 ] && [ -n "${PROVIDER_BDF:-}" ]; then
	echo "# $dev (ivshmem) cannot be reset: measuring the NVMe CMB instead"
	tb_unbind "$dev" > /dev/null
	dev=$PROVIDER_BDF bar=$CMB_BAR
	bind "$dev"
fi
trap 'tb_unbind "$dev" > /dev/null' EXIT
read -r method 2>/dev/null < "/sys/bus/pci/devices/$dev/reset_method"
method=${method// /,}
read -r vendor < "/sys/bus/pci/devices/$dev/vendor"
read -r device < "/sys/bus/pci/devices/$dev/device"
echo "# metric resetdev bdf=$dev id=$vendor:$device bar=$bar reset_method=${method:-?}"
"$BENCH_BIN/resetcost" -n "${BENCH_RESET_REPS:-10}" "$dev" "$bar"
