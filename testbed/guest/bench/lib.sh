# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers of the guest side of `make bench`; sourced by the scripts here.
#
# Every script prints TAP (a check that failed fails the bench) and the
# figures as "# metric KIND key=value ..." lines, which testbed/bench.sh
# turns into bench/report.md. Figures are never judged here: a slow P2P
# read is a result, a failed one is a failure.

export TMPDIR=/tmp
BENCH_BIN=${GUEST_BIN:?GUEST_BIN is not set}
FIO_JOBS=$TESTBED/../fio-jobs

# The client's data namespace is the one with NSID 1. devices.sh takes the
# disk named nvmeXn1, but the kernel numbers a controller's disks in the
# order its (asynchronous) scan creates them, so nvmeXn1 can be NSID 2, the
# scratch namespace. Pick it by NSID here.
client_ns() {	# client_ns NSID: /dev/ path of the client's namespace NSID
	local c d
	for c in /sys/class/nvme/nvme*; do
		[ "$(tr -d ' ' < "$c/serial" 2>/dev/null)" = client ] || continue
		for d in "$c"/nvme*n*; do
			[ "$(cat "$d/nsid" 2>/dev/null)" = "$1" ] && { echo "/dev/${d##*/}"; return 0; }
		done
	done
	return 1
}
CLIENT_BLK_FOUND=${CLIENT_BLK:-}
if ns=$(client_ns 1) && [ "$ns" != "${CLIENT_BLK:-}" ]; then
	echo "# CLIENT_BLK: $ns has NSID 1 (the data image), not ${CLIENT_BLK:-unset}; using $ns"
	CLIENT_BLK=$ns
fi
export CLIENT_BLK

tap_n=0
tap_failed=0
tap() {	# tap STATUS DESCRIPTION: ok when STATUS is 0; returns STATUS != 0
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n $2"
		return 0
	fi
	echo "not ok $tap_n $2"
	tap_failed=$((tap_failed + 1))
	return 1
}
tap_end() {	# the plan comes last: the number of checks depends on the run
	echo "1..$tap_n"
	echo "# $((tap_n - tap_failed)) passed, $tap_failed failed"
	[ "$tap_failed" = 0 ]
}
comment() {	# comment FILE [LINES]: the end of a file as TAP comments
	tail -n "${2:-15}" "$1" | sed 's/^/# | /'
}

# field LINE KEY: the value of key=value in LINE
field() {
	local k
	for k in $1; do
		case $k in "$2"=*) echo "${k#*=}"; return ;; esac
	done
}

# bind_vfio BDF...: hand the devices to vfio-pci (the selftests' setup.sh,
# as with-vfio.sh does); unbind_vfio gives them back.
bind_vfio() {
	bash "$SELFTESTS/vfio/setup.sh" "$@" > /tmp/bench-setup.log 2>&1
}
unbind_vfio() {
	bash "$SELFTESTS/vfio/cleanup.sh" "$@" > /dev/null 2>&1
}

# hold_start BDF BAR LOG: register BAR of BDF in the background with
# `vfio-p2p register --hold`; sets HOLD_PID. Fails if it does not hold.
hold_start() {
	local i
	"$BENCH_BIN/vfio-p2p" register "$1" --bar "$2" --hold > "$3" 2>&1 &
	HOLD_PID=$!
	for ((i = 0; i < 600; i++)); do
		grep -q '^holding' "$3" && return 0
		kill -0 "$HOLD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# hold_stop PID: SIGTERM unregisters; its exit status
hold_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}
