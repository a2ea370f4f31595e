#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nvme-cmb-read.sh ENGINE [-x]: the upstream path this series must not
# regress. The provider NVMe stays on the nvme driver, which registers its
# CMB with pci_p2pdma_add_resource(); an O_DIRECT read from the client NVMe
# lands in the CMB through p2pmem/allocate and the bytes are checked by
# reading the CMB back. With -x (no P2P path) the read must fail cleanly.
. "$(dirname "$0")/../devices.sh"
engine=$1
shift
p2pmem=/sys/bus/pci/devices/$PROVIDER_BDF/p2pmem

size=$(cat "$p2pmem/size" 2>/dev/null)
if [ -z "$size" ] || [ "$size" = 0 ]; then
	echo "TAP version 13"; echo "1..1"
	echo "not ok 1 provider $PROVIDER_BDF has p2pmem (nvme CMB registered)"
	exit 1
fi
echo "# provider $PROVIDER_BDF CMB: p2pmem size $size available $(cat "$p2pmem/available")"
echo "# client $CLIENT_BDF $CLIENT_BLK"
exec "$GUEST_BIN/p2pread" -d "$CLIENT_BLK" -m "$p2pmem/allocate" -e "$engine" \
	-B $((4 << 20)) -t $((32 << 20)) -b $((128 << 10)) -q 8 "$@"
