# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers of the guest side of `make bench`; sourced by the scripts here.
#
# Every script prints TAP (testbed/guest/lib.sh; a check that failed
# fails the bench) and the figures as "# metric KIND key=value ..." lines,
# which testbed/bench.sh turns into bench/report.md. Figures are never judged here: a slow P2P
# read is a result, a failed one is a failure.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
BENCH_BIN=${GUEST_BIN:?GUEST_BIN is not set}
FIO_JOBS=$TESTBED/../fio-jobs

# field LINE KEY: the value of key=value in LINE
field() {
	local k
	for k in $1; do
		case $k in "$2"=*) echo "${k#*=}"; return ;; esac
	done
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
