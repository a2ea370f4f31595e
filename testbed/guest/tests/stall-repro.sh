#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stall-repro.sh SECONDS: the reproducer of the TCG stall (README, "A QEMU
# bug the test bed works around"). Until SECONDS have passed: bind the
# provider NVMe to vfio-pci, run the UAPI kselftest on its CMB (register,
# reset, unregister, many times), give it back to nvme and unbind and
# bind the nvme driver three times (each probe maps the CMB anew). One
# TAP line: the cycles done. With TCG_THREAD=multi the guest stalls
# within a few cycles and vm.sh stops the boot.
. "$(dirname "$0")/../lib.sh"
end=$((SECONDS + $1))
tap_start
i=0
rc=0
while [ $SECONDS -lt $end ]; do
	i=$((i + 1))
	tap_diag "cycle $i at $SECONDS s"
	tb_bind "$PROVIDER_BDF" || { rc=1; break; }
	VFIO_P2P_BAR=$CMB_BAR "$SELFTESTS/vfio/vfio_p2p_uapi_test" "$PROVIDER_BDF" > /tmp/stall-uapi.out 2>&1 ||
		{ tap_diag_file /tmp/stall-uapi.out 20; rc=1; }
	tb_unbind "$PROVIDER_BDF" || { rc=1; break; }
	for j in 1 2 3; do
		echo "$PROVIDER_BDF" > /sys/bus/pci/drivers/nvme/unbind &&
			echo "$PROVIDER_BDF" > /sys/bus/pci/drivers/nvme/bind || { rc=1; break 2; }
	done
done
tap_status $rc "$i cycles of vfio-pci open, UAPI kselftest, close and nvme rebind on the CMB"
tap_end
