#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dram-read.sh ENGINE: the same read as nvme-cmb-read.sh into DRAM: the
# baseline the P2P throughput is compared with.
. "$(dirname "$0")/../devices.sh"
exec "$GUEST_BIN/p2pread" -d "$CLIENT_BLK" -e "$1" \
	-B $((4 << 20)) -t $((32 << 20)) -b $((128 << 10)) -q 8
