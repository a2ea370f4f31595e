#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# p2pmem-read.sh ENGINE: run under `vfio-p2p register ... --`: O_DIRECT
# read 32 MiB from the client NVMe into a 4 MiB buffer mapped from the
# registered BAR ($VFIO_P2P_ALLOCATE), say where in the BAR the buffer is,
# and check the bytes there against the image.
: "${VFIO_P2P_ALLOCATE:?run me under vfio-p2p register}"
echo "# registered: $VFIO_P2P_BDF BAR$VFIO_P2P_BAR offset $VFIO_P2P_OFFSET size $VFIO_P2P_SIZE"
exec "$GUEST_BIN/p2pread" -d "$CLIENT_BLK" -m "$VFIO_P2P_ALLOCATE" -e "$1" \
	-B $((4 << 20)) -t $((32 << 20)) -b $((128 << 10)) -q 8
