#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dram-read.sh ENGINE: the same read as nvme-cmb-read.sh and p2pmem-read.sh
# (READ_* of the guest environment) into DRAM: the baseline the P2P
# throughput is compared with.
. "$(dirname "$0")/../lib.sh"
exec "$GUEST_BIN/p2pread" -d "$CLIENT_BLK" -e "$1" \
	-B "$READ_BUF" -t "$READ_TOTAL" -b "$READ_BS" -q "$READ_QD"
