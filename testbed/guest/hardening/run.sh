#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh BDF 'PROG [ARGS]'...: bind BDF to vfio-pci with the VFIO
# selftests' setup.sh, run each hardening program from $HARDENING against
# it (BDF is appended to its arguments), print one TAP stream numbered
# across the programs, and give the device back with cleanup.sh.
#
# Each program's TAP lines get its name appended; its other output becomes
# TAP comments. A program that dies, times out ($HARD_TIMEOUT, default 900
# s) or exits non-zero without a failing check adds a failing line, and so
# does a kernel report (WARN, BUG, KASAN, lockdep, hung task...) in the
# kernel log while it ran, so that the report is pinned on the program.
set -u

bdf=${1:?usage: run.sh BDF \'PROG [ARGS]\'...}
shift
bin=${HARDENING:?HARDENING: where the programs are}
st=${SELFTESTS:?SELFTESTS: the installed selftests}/vfio
export TMPDIR=/tmp

# SPLAT_RE, console_reports and the fault injection markers, as the
# host's console scan uses them
. "${TESTBED:?TESTBED: the testbed directory}/splat.sh"

n=0
failed=0

tap() {	# tap ok|fail TEXT
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"

# $CLIENT_BLK must be the data image, namespace 1 of the client NVMe. The
# kernel numbers namespaces in the order it finds them, which is not
# always the nsid order (nvme1n1 can be the scratch namespace 2): pick the
# namespace of the same controller whose nsid is 1.
if [ -n "${CLIENT_BLK:-}" ]; then
	blk=${CLIENT_BLK#/dev/}
	if [ "$(cat "/sys/block/$blk/nsid" 2>/dev/null)" != 1 ]; then
		for ns in /sys/block/"${blk%n*}"n*; do
			[ "$(cat "$ns/nsid" 2>/dev/null)" = 1 ] || continue
			echo "# $CLIENT_BLK is namespace $(cat "/sys/block/$blk/nsid" 2>/dev/null), not the data image: using /dev/${ns##*/}"
			export CLIENT_BLK=/dev/${ns##*/}
		done
	fi
fi

if ! bash "$st/setup.sh" "$bdf" > /tmp/hard-setup.log 2>&1; then
	tap fail "bind $bdf to vfio-pci with setup.sh"
	sed 's/^/# /' /tmp/hard-setup.log
	echo "1..$n"
	exit 1
fi
echo "# $bdf bound to vfio-pci; NOP2P=${NOP2P:-0} CLIENT_BLK=${CLIENT_BLK:-}"

for spec in "$@"; do
	read -r -a argv <<< "$spec"
	prog=${argv[0]}
	mark="hardening: [$$.$n] $prog on $bdf"
	echo "$mark: start" > /dev/kmsg
	# Programs that inject faults: their allocation failure reports
	# are expected (see splat.sh)
	case $prog in
	hard_faults) echo "$FAULTS_BEGIN ($prog)" > /dev/kmsg ;;
	esac
	t0=$(date +%s)
	rc=
	nfail=0
	# A FIFO, not process substitution: the guest has no /dev/fd
	fifo=/tmp/hard-$$.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	{
		timeout -k 10 "${HARD_TIMEOUT:-900}" "$bin/$prog" "${argv[@]:1}" "$bdf"
		echo "__rc=$?"
	} > "$fifo" 2>&1 &
	while IFS= read -r line; do
		case $line in
		"__rc="*) rc=${line#__rc=} ;;
		"TAP version"*|1..*) ;;
		"not ok "*)
			rest=${line#not ok }
			tap fail "${rest#* } [$prog]"
			nfail=$((nfail + 1)) ;;
		"ok "*)
			rest=${line#ok }
			tap ok "${rest#* } [$prog]" ;;
		"#"*) echo "$line" ;;
		*) echo "# $prog: $line" ;;
		esac
	done < "$fifo"
	wait
	rm -f "$fifo"
	case $prog in
	hard_faults) echo "$FAULTS_END ($prog)" > /dev/kmsg ;;
	esac
	echo "# $prog: exit ${rc:-?} after $(( $(date +%s) - t0 ))s"

	case ${rc:-x} in
	0|4) ;;
	1) [ $nfail -gt 0 ] || tap fail "$prog exited 1 without a failing check (assertion?) [$prog]" ;;
	124|137) tap fail "$prog timed out after ${HARD_TIMEOUT:-900}s [$prog]" ;;
	*) tap fail "$prog exited with status ${rc:-?} [$prog]" ;;
	esac

	# The kernel log since the program started, less the allocation
	# failure reports that its fault injection causes.
	dmesg | awk -v m="$mark: start" 'index($0, m) { f = 1 } f' > /tmp/hard-kmsg.txt
	reports=$(console_reports /tmp/hard-kmsg.txt | grep -a -E "$SPLAT_RE" | head -n 20)
	allocs=$(grep -a -c -E "$ALLOC_FAIL_RE" /tmp/hard-kmsg.txt)
	[ "$allocs" = 0 ] ||
		echo "# $prog: $allocs allocation failure reports in the kernel log (expected under fault injection)"
	if [ -n "$reports" ]; then
		tap fail "kernel log has no WARN/BUG/KASAN/lockdep/hung-task report while $prog ran [$prog]"
		echo "$reports" | sed 's/^/#   /'
	else
		tap ok "kernel log has no WARN/BUG/KASAN/lockdep/hung-task report while $prog ran [$prog]"
	fi
done

bash "$st/cleanup.sh" "$bdf" > /tmp/hard-cleanup.log 2>&1 ||
	tap fail "give $bdf back with cleanup.sh"
echo "1..$n"
[ $failed = 0 ]
