#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# p2pmem-read.sh ENGINE: run under `vfio-p2p register ... --`: O_DIRECT
# read READ_TOTAL bytes from the client NVMe into a READ_BUF buffer mapped
# from the registered BAR ($VFIO_P2P_ALLOCATE) and placed in its last
# READ_BUF bytes (p2pread -a BAR -p OFFSET: the kernel would not say where
# a buffer from anywhere is), check that the mapping says it is there, and
# check every byte of every pass against the image, read back through the
# BAR's resourceN at that offset (see p2pread.c). The end of the range,
# not its start, so that a buffer the kernel put at the first free place
# instead would leave the poison where the check reads.
. "$(dirname "$0")/../lib.sh"
: "${VFIO_P2P_ALLOCATE:?run me under vfio-p2p register}"
at=$((VFIO_P2P_OFFSET + VFIO_P2P_SIZE - READ_BUF))
tap_diag "registered: $VFIO_P2P_BDF BAR$VFIO_P2P_BAR offset $VFIO_P2P_OFFSET size $VFIO_P2P_SIZE; buffer at $(printf 0x%x "$at")"
exec "$GUEST_BIN/p2pread" -d "$CLIENT_BLK" -m "$VFIO_P2P_ALLOCATE" -a "$VFIO_P2P_BAR" -p "$at" \
	-e "$1" -B "$READ_BUF" -t "$READ_TOTAL" -b "$READ_BS" -q "$READ_QD"
