#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stall-io.sh: the control channel ($CTL, testbed/control.sh) does what
# the tests that rely on it need.
#  - "stall client": an O_DIRECT read from the client's data namespace
#    stays in flight (the reader has not returned, and the namespace's
#    inflight count holds it) for STALL_S seconds (default 20: well below
#    the 60 s hung-task limit; the nvme io_timeout is 600 s);
#  - "release client": the read then completes, with the data image's
#    bytes (compared byte for byte with mkimage's pattern);
#  - "unplug DEVID" / "replug DEVID" for the ivshmem and the provider
#    NVMe: the device leaves /sys/bus/pci/devices and comes back at the
#    same address without a rescan (ACPI hotplug), with its BARs sized
#    as before; the replugged NVMe registers its CMB as p2pmem again.
set -u
. "$TESTBED/guest/lib.sh"
tap_start
eval "$(tb_find_devices)"

STALL_S=${STALL_S:-20}
# Upper bounds, not expectations: a released read, a hot-added device.
RELEASE_S=60
APPEAR_S=30
LEN=$((512 << 10))
OFF=$((DATA_SIZE / 2))
ns=${CLIENT_BLK##*/}
tmp=$(mktemp -d)
stalled=0

cleanup() {
	[ $stalled = 1 ] && "$CTL" release client
	rm -rf "$tmp"
}
trap cleanup EXIT

inflight_reads() {
	local r w
	read -r r w < "/sys/block/$ns/inflight"
	echo "$r"
}

# Wait until $1 (a command) succeeds, at most $2 seconds; prints the
# seconds it took.
wait_for() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		eval "$1" && { echo $((i / 10)); return 0; }
		sleep 0.1
	done
	return 1
}

# --- stall and release ------------------------------------------------
if "$CTL" stall client; then
	stalled=1
	tap_result ok "stall client: acked"
else
	tap_result fail "stall client: acked" "$CTL stall client failed"
fi

t0=$(date +%s)
dd if="$CLIENT_BLK" of="$tmp/got" bs=$LEN count=1 skip=$((OFF / LEN)) \
	iflag=direct status=none &
reader=$!
done_after=
for ((i = 0; i < STALL_S; i++)); do
	sleep 1
	if ! kill -0 $reader 2>/dev/null; then
		done_after=$(( $(date +%s) - t0 ))
		break
	fi
done
if [ -z "$done_after" ]; then
	tap_result ok "stalled O_DIRECT read of $((LEN >> 10)) KiB still in flight after ${STALL_S}s"
else
	tap_result fail "stalled O_DIRECT read of $((LEN >> 10)) KiB still in flight after ${STALL_S}s" \
		"the reader returned after ${done_after}s"
fi
n=$(inflight_reads)
if [ -z "$done_after" ] && [ "$n" -ge 1 ]; then
	tap_result ok "$ns inflight shows the stalled read ($n)"
else
	tap_result fail "$ns inflight shows the stalled read" "inflight reads: $n"
fi

if "$CTL" release client; then
	stalled=0
	tap_result ok "release client: acked"
else
	tap_result fail "release client: acked" "$CTL release client failed"
fi
if wait_for "! kill -0 $reader 2>/dev/null" $RELEASE_S >/dev/null; then
	wait $reader
	rc=$?
	tap_diag "the read completed $(( $(date +%s) - t0 ))s after it was issued"
	[ $rc = 0 ] && tap_result ok "released read completed" ||
		tap_result fail "released read completed" "dd exit $rc"
else
	kill -9 $reader 2>/dev/null
	tap_result fail "released read completed" "still in flight ${RELEASE_S}s after release"
fi
"$GUEST_BIN/mkimage" "$tmp/want" $(( ((OFF + LEN) >> 20) + 1 ))
if cmp -n $LEN "$tmp/got" "$tmp/want" 0 $OFF >/dev/null 2>&1; then
	tap_result ok "released read returned the image's bytes (all $LEN)"
else
	tap_result fail "released read returned the image's bytes" \
		"$(cmp -n $LEN "$tmp/got" "$tmp/want" 0 $OFF 2>&1 | head -n 1)"
fi

# --- unplug and replug -------------------------------------------------
# replug_case DEVID BDF NAME BAR SIZE
replug_case() {
	local id=$1 bdf=$2 what=$3 bar=$4 size=$5 t

	if [ -z "$bdf" ]; then
		tap_result fail "$what: found before unplug" "no such device"
		return
	fi
	if "$CTL" unplug "$id"; then
		tap_result ok "unplug $id: acked (QEMU saw DEVICE_DELETED)"
	else
		tap_result fail "unplug $id: acked" "$CTL unplug $id failed"
		return
	fi
	if [ ! -e "/sys/bus/pci/devices/$bdf" ]; then
		tap_result ok "$what $bdf gone from /sys/bus/pci/devices"
	else
		tap_result fail "$what $bdf gone from /sys/bus/pci/devices" "still there"
	fi
	if "$CTL" replug "$id"; then
		tap_result ok "replug $id: acked"
	else
		tap_result fail "replug $id: acked" "$CTL replug $id failed"
		return
	fi
	if t=$(wait_for "[ -e /sys/bus/pci/devices/$bdf/resource ]" $APPEAR_S); then
		tap_result ok "$what back at $bdf without a rescan (after ${t}s)"
	else
		tap_result fail "$what back at $bdf without a rescan" "not there ${APPEAR_S}s after device_add"
		echo 1 > /sys/bus/pci/rescan
		[ -e "/sys/bus/pci/devices/$bdf" ] &&
			tap_diag "$what appeared after a rescan of the bus"
		return
	fi
	t=$(tb_bar_size "$bdf" "$bar")
	[ "$t" = "$size" ] && tap_result ok "$what BAR$bar is $size bytes again" ||
		tap_result fail "$what BAR$bar is $size bytes again" "$t bytes"
}

replug_case shm "$SHM_BDF" ivshmem "$SHM_BAR" "$SHM_BAR_SIZE"
replug_case provider "$PROVIDER_BDF" "provider NVMe" "$CMB_BAR" "$CMB_SIZE"
t=$(tb_bar_size "$PROVIDER_BDF" "$PMR_BAR")
[ "$t" = "$PMR_SIZE" ] && tap_result ok "provider NVMe PMR BAR$PMR_BAR is $PMR_SIZE bytes again" ||
	tap_result fail "provider NVMe PMR BAR$PMR_BAR is $PMR_SIZE bytes again" "$t bytes"
# The nvme driver probes the new controller and registers its CMB.
p2p=/sys/bus/pci/devices/$PROVIDER_BDF/p2pmem/size
if wait_for "[ \"\$(cat $p2p 2>/dev/null)\" = $CMB_SIZE ]" $APPEAR_S >/dev/null; then
	tap_result ok "replugged provider NVMe registered its CMB as p2pmem ($CMB_SIZE bytes)"
else
	tap_result fail "replugged provider NVMe registered its CMB as p2pmem" \
		"p2pmem/size: $(cat "$p2p" 2>&1)"
fi
tap_end
