#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vfio-selftests.sh BDF TEST...: bind BDF to vfio-pci with the selftests'
# own setup script and run VFIO selftests built from the tree (upstream
# ones, and the series' p2p/ ones) against it; their kselftest TAP is
# re-numbered into one stream. The device is given back afterwards.
#
# The plan is the sum of the plans the programs declared ("1..N" at their
# start), not a count of what they printed: a program that stops early
# leaves its plan short of lines, and the stream fails. A program that
# declares no plan, or exits with a status other than 0 or 4, adds a
# failing line of its own.
#
# On the P2P topology (TOPOLOGY=p2p) the p2p kselftests run with
# VFIO_P2P_EXPECT_P2P=1: there the P2P path exists, so a refused P2P read,
# a missing feature (PROBE answering ENOTTY), a BAR that VFIO cannot mmap
# or export, or an unset block device fail them instead of skipping.
. "$(dirname "$0")/../lib.sh"
bdf=$1
shift
dir=$SELFTESTS/vfio

tap_start
if ! tb_bind "$bdf" > /tmp/vfio-setup.diag; then
	tap_result fail "bind $bdf to vfio-pci with the selftests' setup.sh"
	cat /tmp/vfio-setup.diag
	tap_end
	exit 1
fi
plan=0
out=/tmp/vfio-selftests.tap
extra=/tmp/vfio-selftests.extra
: > $out
: > $extra
for t in "$@"; do
	expect=
	case $t in vfio_p2p_*) [ "$TOPOLOGY" = p2p ] && expect=1 ;; esac
	if [ -n "$expect" ]; then
		VFIO_P2P_EXPECT_P2P=1 "$dir/$t" "$bdf" > /tmp/$t.out 2>&1
	else
		"$dir/$t" "$bdf" > /tmp/$t.out 2>&1
	fi
	r=$?
	# The whole output stays with the results, named after the device.
	[ -n "${RESULTS_DIR:-}" ] && cp /tmp/$t.out "$RESULTS_DIR/selftest-$bdf-$t.log"
	declared=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' /tmp/$t.out | head -n 1)
	# Top-level result lines only, tagged with the program name.
	grep -E '^(not )?ok [0-9]+ ' /tmp/$t.out | sed "s/\$/ [$t]/" > /tmp/$t.lines
	seen=$(wc -l < /tmp/$t.lines)
	cat /tmp/$t.lines >> $out
	echo "# $t${expect:+ (VFIO_P2P_EXPECT_P2P=1)}: exit $r, plan ${declared:-none}, $seen results"
	if [ -z "$declared" ]; then
		echo "not ok - $t declared no TAP plan (exit $r)" >> $extra
	elif [ "$seen" != "$declared" ]; then
		echo "# $t stopped after $seen of its $declared results"
	fi
	plan=$((plan + ${declared:-0}))
	if [ $r != 0 ] && [ $r != 4 ]; then
		grep -q '^not ok ' /tmp/$t.lines ||
			echo "not ok - $t exited $r without a failing result" >> $extra
		tail -n 20 /tmp/$t.out | sed 's/^/# | /'
	fi
done
tb_unbind "$bdf" > /dev/null
cat $extra >> $out
# The plan first: the programs declared theirs before their results.
echo "1..$plan"
awk '{ sub(/^(not )?ok ([0-9]+|-)/, ($1 == "not" ? "not ok " : "ok ") NR); print }' $out
failed=$(grep -c '^not ok ' $out)
[ "$failed" = 0 ] && [ "$(wc -l < $out)" = "$plan" ]
