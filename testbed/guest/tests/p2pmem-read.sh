#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# p2pmem-read.sh ENGINE: run under `vfio-p2p register ... --`: O_DIRECT
# read READ_TOTAL bytes from the client NVMe into a READ_BUF buffer mapped
# from the registered BAR ($VFIO_P2P_ALLOCATE), say where in the BAR the
# buffer is, and check every byte of every pass against the image, read
# back through the BAR's resourceN (see p2pread.c).
. "$(dirname "$0")/../lib.sh"
: "${VFIO_P2P_ALLOCATE:?run me under vfio-p2p register}"
tap_diag "registered: $VFIO_P2P_BDF BAR$VFIO_P2P_BAR offset $VFIO_P2P_OFFSET size $VFIO_P2P_SIZE"
exec "$GUEST_BIN/p2pread" -d "$CLIENT_BLK" -m "$VFIO_P2P_ALLOCATE" -a "$VFIO_P2P_BAR" -e "$1" \
	-B "$READ_BUF" -t "$READ_TOTAL" -b "$READ_BS" -q "$READ_QD"
