#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xfer.sh: the same bytes from $CLIENT_BLK into the ivshmem BAR $SHM_BAR of
# $SHM_BDF two ways, with the same engine, block size and queue depth:
#
#   p2p     the BAR registered (`vfio-p2p register`), p2pread O_DIRECT-reads
#           into a ring of bs x qd bytes of it, placed at the start of the
#           registered range (-p): the NVMe writes the BAR
#   bounce  the BAR mmap()ed through VFIO, not registered: `vfio-p2p
#           bounce` O_DIRECT-reads into a DRAM ring of bs x qd bytes and
#           copies each chunk with the CPU into a window of as many bytes
#           at the start of the BAR
#   dram    p2pread into a DRAM ring, for reference: what the NVMe does
#           without a BAR in the way
#
# Both BAR paths check the bytes that landed last (p2pread -L its ring, read
# back through the BAR's resourceN, bounce its window read back through the
# VFIO region); a wrong byte fails the step. Only the last ring is
# checked: checking each would stop the stream between rings.
#
# A transfer of the whole data image takes a few tens of milliseconds here,
# too short to time alone: a run is BENCH_XFER_LOOPS transfers back to back
# (one registration for the P2P ones), and its seconds, CPU seconds and
# bytes are the sums of theirs, each as the reader measured it.
#
# BENCH_XFER_CASES  ENGINE:BS:QD ... (default "psync:1M:1 io_uring:128K:8
#                   io_uring:1M:8")
# BENCH_XFER_BYTES  bytes per transfer (default: the whole data image)
# BENCH_XFER_LOOPS  transfers per run (default 4)
# BENCH_XFER_REPS   runs of each path per case, interleaved (default 3)
#
# Per run: a TAP line and
#   # metric xfer case=ENGINE-BS-qdQD engine=E bs=N qd=N path=p2p|bounce|dram
#     rep=N bytes=N seconds=S cpu=S mbps=MB/s loops=N
# cpu is the reader's own CPU time (getrusage, user + system) over the
# transfers; mbps is 10^6 bytes/s.
. "$(dirname "$0")/lib.sh"

cases=${BENCH_XFER_CASES:-psync:1M:1 io_uring:128K:8 io_uring:1M:8}
bytes=${BENCH_XFER_BYTES:-$(( $(cat "/sys/class/block/${CLIENT_BLK#/dev/}/size") * 512 ))}
loops=${BENCH_XFER_LOOPS:-4}
reps=${BENCH_XFER_REPS:-3}
W=/tmp/xfer
mkdir -p $W

to_bytes() {	# 128K, 1M, 64M, or plain bytes
	case $1 in
	*[kK]) echo $((${1%?} << 10)) ;;
	*[mM]) echo $((${1%?} << 20)) ;;
	*[gG]) echo $((${1%?} << 30)) ;;
	*) echo $(($1)) ;;
	esac
}
nbytes=$(to_bytes "$bytes")

tap_start
echo "# $loops transfers of $nbytes bytes per run, $reps runs per path and case, interleaved"
trap 'tb_unbind "$SHM_BDF" > /dev/null' EXIT
tb_bind "$SHM_BDF"
tap_status $? "bind $SHM_BDF (ivshmem) to vfio-pci" || { tap_end; exit 1; }

# run PATH CASE REP OUT COMMAND...: one run, COMMAND doing $loops transfers
# (each printing a "# result"), their sums as a metric
run() {
	local path=$1 c=$2 rep=$3 out=$4 rc sum n b secs cpu mbps
	shift 4
	"$@" > "$out" 2>&1
	rc=$?
	# bytes seconds cpu, summed over the transfers
	sum=$(awk '/^# result / { n++; for (i = 3; i <= NF; i++) { split($i, kv, "=")
			if (kv[1] == "bytes") b += kv[2]; if (kv[1] == "seconds") s += kv[2]
			if (kv[1] == "cpu") c += kv[2] } }
		END { if (n) printf "%d %d %.6f %.6f %.1f\n", n, b, s, c, (s > 0 ? b / s / 1e6 : 0) }' "$out")
	read -r n b secs cpu mbps <<< "$sum"
	# p2pread prints TAP, vfio-p2p bounce "verify: ok" or "verify: not ok"
	[ $rc = 0 ] && [ "${n:-0}" = "$loops" ] && ! grep -q -e '^not ok' -e '^verify: not ok' "$out"
	tap_status $? "$c $path run $rep: ${n:-0} transfers${mbps:+, $mbps MB/s, CPU $cpu s}" ||
		tap_diag_file "$out"
	[ -n "$sum" ] && echo "# metric xfer case=$c engine=$e bs=$bs qd=$qd path=$path rep=$rep" \
		"bytes=$b seconds=$secs cpu=$cpu mbps=$mbps loops=$n"
	return 0
}
# ntimes N COMMAND...: COMMAND N times, stop at the first failure
ntimes() {
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do
		"$@" || return
	done
}
export -f ntimes

for c in $cases; do
	IFS=: read -r e bsname qd <<< "$c"
	bs=$(to_bytes "$bsname")
	ring=$((bs * qd))
	name=$e-$bsname-qd$qd
	for ((rep = 1; rep <= reps; rep++)); do
		run dram "$name" $rep $W/$name-dram-$rep ntimes "$loops" \
			"$GUEST_BIN/p2pread" -L -d "$CLIENT_BLK" -e "$e" -b $bs -q "$qd" -B $ring -t "$nbytes"
		# shellcheck disable=SC2016
		run p2p "$name" $rep $W/$name-p2p-$rep \
			"$GUEST_BIN/vfio-p2p" register "$SHM_BDF" --bar "$SHM_BAR" -- \
			bash -c 'ntimes "$0" "$1" -L -d "$2" -m "$VFIO_P2P_ALLOCATE" -a "$VFIO_P2P_BAR" -p "$VFIO_P2P_OFFSET" -e "$3" -b "$4" -q "$5" -B "$6" -t "$7"' \
			"$loops" "$GUEST_BIN/p2pread" "$CLIENT_BLK" "$e" $bs "$qd" $ring "$nbytes"
		run bounce "$name" $rep $W/$name-bounce-$rep ntimes "$loops" \
			"$GUEST_BIN/vfio-p2p" bounce "$SHM_BDF" --bar "$SHM_BAR" --dev "$CLIENT_BLK" \
			--bytes "$nbytes" --engine "$e" --bs $bs --qd "$qd"
	done
done
tap_end
