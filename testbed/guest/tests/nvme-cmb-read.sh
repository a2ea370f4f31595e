#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nvme-cmb-read.sh ENGINE [-x]: the upstream path this series must not
# regress. The provider NVMe stays on the nvme driver, which registers its
# CMB (BAR $CMB_BAR) with pci_p2pdma_add_resource(); an O_DIRECT read from
# the client NVMe lands in the CMB through p2pmem/allocate, and p2pread
# checks every byte of every pass by reading the CMB back through the
# provider's resource$CMB_BAR, not through the p2pmem mapping (see
# p2pread.c). With -x (no P2P path) the read must be refused with the
# documented errno and leave the buffer untouched.
#
# The buffer is placed (p2pread -a BAR -p OFFSET) in the last READ_BUF
# bytes of the CMB, so that the check knows where to read: a buffer from
# anywhere has no known place. QEMU's CMB starts at offset 0 of BAR
# $CMB_BAR (CMBLOC.OFST 0), so the nvme driver's range ends at its size;
# the driver's own allocations from it (queues in the CMB) come first-fit
# from its start.
. "$(dirname "$0")/../lib.sh"
engine=$1
shift
p2pmem=/sys/bus/pci/devices/$PROVIDER_BDF/p2pmem

size=$(cat "$p2pmem/size" 2>/dev/null)
if [ -z "$size" ] || [ "$size" = 0 ]; then
	tap_start
	tap_result fail "provider ${PROVIDER_BDF:-(not found)} has p2pmem (nvme CMB registered)"
	tap_end
	exit 1
fi
at=$((size - READ_BUF))
tap_diag "provider $PROVIDER_BDF CMB: p2pmem size $size available $(cat "$p2pmem/available"); buffer at BAR$CMB_BAR+$(printf 0x%x "$at")"
tap_diag "client $CLIENT_BDF $CLIENT_BLK"
exec "$GUEST_BIN/p2pread" -d "$CLIENT_BLK" -m "$p2pmem/allocate" -a "$CMB_BAR" -p "$at" \
	-e "$engine" -B "$READ_BUF" -t "$READ_TOTAL" -b "$READ_BS" -q "$READ_QD" "$@"
