# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# testbed/guest/lib.sh: the guest tests' shell library; sourced.
#
# Adding a guest test is: a file, and one line in a plan.
#   - the file: a script (or program) that prints TAP and exits 0 (all
#     passed), 1 (something failed) or 4 (nothing could run here). A
#     script sources this file and uses the functions below.
#   - the line: "NAME TIMEOUT_S COMMAND" in testbed/plans/PLAN.plan. The
#     command runs under bash in the guest with the guest environment set:
#     the host's GUEST_ENV (TESTBED, GUEST_BIN, SELFTESTS, HARDENING and
#     topology.sh's topology_guest_env: TOPOLOGY, SHM_BAR, CMB_BAR,
#     READ_BUF, ...) and what tb_find_devices found (CLIENT_BLK, SHM_BDF,
#     ...). Use those names; never type a BAR index, a size or an address.
#
# TAP
#   tap_start                       "TAP version 13", counters reset
#   tap_result ok|fail|skip DESC [REASON]
#                                   one numbered line; returns 1 for fail
#   tap_status RC DESC              tap_result ok if RC is 0, else fail
#   tap_diag TEXT...                TEXT as "# " comment lines
#   tap_diag_file FILE [LINES]      the end of FILE as comment lines
#   tap_end                         the plan "1..N" last and a summary;
#                                   returns 1 if anything failed
# Devices
#   tb_find_devices                 prints CLIENT_BDF, CLIENT_BLK,
#                                   CLIENT_SCRATCH, PROVIDER_BDF, SHM_BDF,
#                                   IOBAR_BDF (KEY=VALUE lines), found by
#                                   identity (serials, NSIDs, vendor:device)
#   tb_bar_size BDF BAR             the BAR's size in bytes (sysfs)
#   tb_bind BDF... / tb_unbind BDF...
#                                   to vfio-pci and back, with the VFIO
#                                   selftests' setup.sh and cleanup.sh; on
#                                   failure their output is printed as TAP
#                                   comments
# Kernel log
#   tb_kmsg_mark TEXT               TEXT as a line of the kernel log
#   tb_kernel_reports_since TEXT    prints the kernel reports (testbed/
#                                   splat.sh: SPLAT_RE, less what
#                                   console_reports spares) logged after
#                                   the last line containing TEXT; returns
#                                   0 if none, 1 if any, 2 if it cannot
#                                   tell (TEXT is not in the log any more,
#                                   or records after it were lost)

[ -n "${BASH_VERSION:-}" ] || { echo "testbed/guest/lib.sh needs bash" >&2; return 1; }
TB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TMPDIR=${TMPDIR:-/tmp}

# SPLAT_RE, console_reports and the fault injection markers: the same
# definitions as the host's console scan.
. "$TB_LIB_DIR/../splat.sh"

# The topology as topology.sh describes it reaches the guest through the
# environment (topology_guest_env, passed by the host). FALLBACK, for a
# guest test started without it: ask topology.sh itself, for each name
# that is not set.
if [ -z "${SHM_BAR:-}" ]; then
	while IFS='=' read -r tb_k tb_v; do
		[ -n "$tb_k" ] && [ -z "${!tb_k+set}" ] && export "$tb_k=$tb_v"
	done <<< "$(. "$TB_LIB_DIR/../topology.sh" && topology_guest_env)"
	unset tb_k tb_v
fi
if [ -z "${TOPOLOGY:-}" ]; then
	# FALLBACK as well: the P2P topology is the one whose CPU the P2PDMA
	# core lets through the host bridge, an AMD Zen (family 0x17 or
	# later: -cpu EPYC-Rome); the other one has -cpu max.
	if awk -F': *' '/^vendor_id/ { v = $2 } /^cpu family/ { f = $2; exit }
		END { exit !(v == "AuthenticAMD" && f >= 23) }' /proc/cpuinfo 2>/dev/null; then
		TOPOLOGY=p2p
	else
		TOPOLOGY=nop2p
	fi
fi
export TOPOLOGY CLIENT_SERIAL PROVIDER_SERIAL DATA_NSID SCRATCH_NSID SHM_ID \
	SHM_BAR CMB_BAR PMR_BAR IOBAR_ID IOBAR_MEM_BAR READ_BUF READ_TOTAL READ_BS \
	READ_QD

# ---------------------------------------------------------------- TAP

tap_start() {
	TB_TAP_N=0
	TB_TAP_FAILED=0
	TB_TAP_SKIPPED=0
	echo "TAP version 13"
}

# tap_result ok|fail|skip DESC [REASON]: a fail's REASON becomes a comment
tap_result() {
	local verdict=$1 desc=${2//$'\n'/ } reason=${3:-}
	TB_TAP_N=$((${TB_TAP_N:-0} + 1))
	case $verdict in
	ok)
		echo "ok $TB_TAP_N $desc${reason:+ ($reason)}" ;;
	skip)
		TB_TAP_SKIPPED=$((${TB_TAP_SKIPPED:-0} + 1))
		echo "ok $TB_TAP_N $desc # SKIP ${reason:-no reason given}" ;;
	*)
		TB_TAP_FAILED=$((${TB_TAP_FAILED:-0} + 1))
		echo "not ok $TB_TAP_N $desc"
		[ -n "$reason" ] && tap_diag "$reason"
		[ "$verdict" = fail ] || tap_diag "tap_result: unknown verdict '$verdict'"
		return 1 ;;
	esac
	return 0
}

tap_status() {	# tap_status RC DESC [REASON]
	if [ "$1" = 0 ]; then
		tap_result ok "$2"
	else
		tap_result fail "$2" "${3:-}"
	fi
}

tap_diag() {
	local l
	while IFS= read -r l; do
		echo "# $l"
	done <<< "$*"
}

tap_diag_file() {	# tap_diag_file FILE [LINES]
	[ -f "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/# | /'
	return 0
}

# The plan comes last: how many checks there are may depend on the run.
tap_end() {
	local n=${TB_TAP_N:-0} f=${TB_TAP_FAILED:-0} s=${TB_TAP_SKIPPED:-0}
	echo "1..$n"
	echo "# $((n - f - s)) passed, $f failed, $s skipped"
	[ "$f" = 0 ]
}

# ---------------------------------------------------------------- devices

# tb_bdf_of_nvme_serial SERIAL: PCI address of the NVMe controller SERIAL
# (read, not cat: a process costs tens of milliseconds in an emulated guest)
tb_bdf_of_nvme_serial() {
	local c s
	for c in /sys/class/nvme/nvme*; do
		read -r s 2>/dev/null < "$c/serial" || continue
		[ "$s" = "$1" ] || continue
		basename "$(readlink -f "$c/device")"
		return 0
	done
	return 1
}

# tb_bdf_of_id VENDOR:DEVICE (0x1af4:0x1110): the first such PCI function
tb_bdf_of_id() {
	local d v id
	[ -n "$1" ] || return 1
	for d in /sys/bus/pci/devices/*; do
		read -r v 2>/dev/null < "$d/vendor" && read -r id < "$d/device" || continue
		[ "$v:$id" = "$1" ] || continue
		basename "$d"
		return 0
	done
	return 1
}

# tb_bar_size BDF BAR: the size of BAR of BDF in bytes, as the device has it
tb_bar_size() {
	local start end
	read -r start end _ <<< "$(sed -n "$(($2 + 1))p" "/sys/bus/pci/devices/$1/resource" 2>/dev/null)"
	[ -n "$start" ] && [ $((end)) -gt 0 ] && echo $((end - start + 1))
}

# tb_nvme_ns SERIAL NSID: /dev path of namespace NSID of controller SERIAL.
# The kernel names namespaces in the order its (asynchronous) scan finds
# them, not by NSID: nvme0n1 can be NSID 2.
tb_nvme_ns() {
	local c ns s n
	for c in /sys/class/nvme/nvme*; do
		read -r s 2>/dev/null < "$c/serial" || continue
		[ "$s" = "$1" ] || continue
		for ns in "$c"/nvme*n*; do
			read -r n 2>/dev/null < "$ns/nsid" || continue
			[ "$n" = "$2" ] || continue
			echo "/dev/${ns##*/}"
			return 0
		done
	done
	return 1
}

# tb_find_devices: KEY=VALUE lines; returns 1 if a device that the
# topology names was not found (its value is then empty).
tb_find_devices() {
	local i blk= scratch= client provider shm iobar rc=0
	client=$(tb_bdf_of_nvme_serial "$CLIENT_SERIAL") || rc=1
	# The namespaces show up when the controller's scan has run; give it
	# a moment if the init gets here first.
	for ((i = 0; i < 100; i++)); do
		blk=$(tb_nvme_ns "$CLIENT_SERIAL" "$DATA_NSID") &&
			scratch=$(tb_nvme_ns "$CLIENT_SERIAL" "$SCRATCH_NSID") && break
		[ -n "$client" ] || break
		sleep 0.1
	done
	provider=$(tb_bdf_of_nvme_serial "$PROVIDER_SERIAL") || rc=1
	shm=$(tb_bdf_of_id "$SHM_ID") || rc=1
	iobar=$(tb_bdf_of_id "$IOBAR_ID") || [ -z "$IOBAR_ID" ] || rc=1
	[ -n "$blk" ] && [ -n "$scratch" ] || rc=1
	echo "CLIENT_BDF=$client"
	echo "CLIENT_BLK=$blk"
	echo "CLIENT_SCRATCH=$scratch"
	echo "PROVIDER_BDF=$provider"
	echo "SHM_BDF=$shm"
	echo "IOBAR_BDF=$iobar"
	return $rc
}

TB_BIND_LOG=$TMPDIR/tb-bind.log

tb_bind() {	# tb_bind BDF...: to vfio-pci
	if bash "${SELFTESTS:?SELFTESTS is not set}/vfio/setup.sh" "$@" > "$TB_BIND_LOG" 2>&1; then
		return 0
	fi
	tap_diag "binding $* to vfio-pci with setup.sh failed:"
	tap_diag_file "$TB_BIND_LOG" 20
	return 1
}

tb_unbind() {	# tb_unbind BDF...: back to the driver it had
	if bash "${SELFTESTS:?SELFTESTS is not set}/vfio/cleanup.sh" "$@" > "$TB_BIND_LOG" 2>&1; then
		return 0
	fi
	tap_diag "giving $* back with cleanup.sh failed:"
	tap_diag_file "$TB_BIND_LOG" 20
	return 1
}

# ---------------------------------------------------------------- kernel log

tb_kmsg_mark() {
	printf '%s\n' "$*" > /dev/kmsg
}

# The kernel log as /dev/kmsg has it now, one record a line: "SEQ TEXT".
# /dev/kmsg rather than dmesg: each record has a sequence number, so
# records lost between the marker and now show up as a gap.
tb_kmsg_dump() {	# tb_kmsg_dump OUT: 1 if the log could not be read whole
	local err=$TMPDIR/tb-kmsg.err
	# One record per read(); EAGAIN ends it (anything else, such as
	# EPIPE when the ring overtakes the reader, is an error).
	dd if=/dev/kmsg iflag=nonblock bs=16k status=none 2> "$err" |
		awk '/^[0-9]+,[0-9]+,/ { i = index($0, ";"); split(substr($0, 1, i - 1), h, ",")
			print h[2], substr($0, i + 1) }' > "$1"
	! grep -q -v 'Resource temporarily unavailable' "$err"
}

tb_kernel_reports_since() {	# tb_kernel_reports_since TEXT
	local marker=$1 log=$TMPDIR/tb-kmsg.$$ rc
	if ! tb_kmsg_dump "$log.all"; then
		echo "cannot read /dev/kmsg: $(head -n 1 "$TMPDIR/tb-kmsg.err")"
		rm -f "$log.all"
		return 2
	fi
	# From the last record containing the marker; a gap in the sequence
	# numbers after it means records were overwritten before this read.
	awk -v m="$marker" -v out="$log" '
		{ seq[NR] = $1; t = $0; sub(/^[0-9]+ /, "", t); text[NR] = t
		  if (index(t, m)) at = NR }
		END {
			if (!at) { print "marker not in the kernel log (it has left the ring buffer, or was never written): " m; exit 2 }
			for (i = at + 1; i <= NR; i++) {
				if (seq[i] != seq[i - 1] + 1) { print "kernel log records " seq[i - 1] + 1 "-" seq[i] - 1 " after the marker were lost"; exit 2 }
				print text[i] > out
			}
			exit 0
		}' "$log.all"
	rc=$?
	rm -f "$log.all"
	if [ $rc != 0 ]; then
		rm -f "$log"
		return 2
	fi
	touch "$log"
	console_reports "$log" | grep -a -E "$SPLAT_RE" | head -n 40 > "$log.hits"
	rc=0
	[ -s "$log.hits" ] && { cat "$log.hits"; rc=1; }
	rm -f "$log" "$log.hits"
	return $rc
}
