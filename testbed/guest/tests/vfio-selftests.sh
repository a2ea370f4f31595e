#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vfio-selftests.sh BDF TEST...: bind BDF to vfio-pci with the
# selftests' own setup script and run VFIO selftests built from the
# tree (upstream ones, and the series' p2p/ ones) against it; their
# kselftest TAP is re-numbered into one plan.
# The device is given back to its driver afterwards.
bdf=$1
shift
dir=$SELFTESTS/vfio
export TMPDIR=/tmp
bash "$dir/setup.sh" "$bdf" > /tmp/vfio-setup.log 2>&1 || {
	echo "TAP version 13"; echo "1..1"
	echo "not ok 1 bind $bdf to vfio-pci with scripts/setup.sh"
	sed 's/^/# /' /tmp/vfio-setup.log
	exit 1
}
n=0
rc=0
out=/tmp/vfio-selftests.tap
: > $out
for t in "$@"; do
	# shellcheck disable=SC2086
	"$dir/$t" $bdf > /tmp/$t.out 2>&1
	r=$?
	# The whole output stays with the results, named after the device.
	[ -n "${RESULTS_DIR:-}" ] && cp /tmp/$t.out "$RESULTS_DIR/selftest-$bdf-$t.log"
	[ $r = 0 ] || [ $r = 4 ] || rc=1
	# Top-level result lines only, prefixed with the program name.
	grep -E '^(not )?ok [0-9]+ ' /tmp/$t.out | while IFS= read -r line; do
		case $line in
		"not ok "*) echo "not ok ${line#not ok } [$t]" ;;
		*) echo "ok ${line#ok } [$t]" ;;
		esac
	done >> $out
	grep -E '^# (FAIL|  RUN|     OK|SKIP)|^# .*(error|assert)' /tmp/$t.out | head -n 40 >> /tmp/vfio-selftests.comments
	[ $r = 0 ] || [ $r = 4 ] || { echo "# $t exited $r"; tail -n 20 /tmp/$t.out | sed 's/^/# /'; }
done
bash "$dir/cleanup.sh" > /dev/null 2>&1
echo "TAP version 13"
echo "1..$(wc -l < $out)"
awk '{ sub(/^(not )?ok [0-9]+/, ($1 == "not" ? "not ok " : "ok ") NR); print }' $out
exit $rc
