#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest init (PID 1). The root is the host's / over 9p, read-only; the
# "results" 9p share carries the plan in and the results out:
#   plan         one test per line: NAME TIMEOUT_S COMMAND...
#   env          sourced first (paths, BDFs the host wants to pass)
#   NAME.out     a test's output (TAP); NAME.rc its exit status
#   kmemleak.txt what kmemleak found after the last test
# Everything it prints goes to the serial console, which the host scans.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /dev/shm /dev/pts /tmp/results
mount -t tmpfs tmpfs /dev/shm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /tmp/results
R=/tmp/results
echo "guest: up after $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"

# What the host passes (paths) and what is found here (BDFs, block
# device) are exported to every test.
set -a
RESULTS_DIR=$R
[ -f $R/env ] && . $R/env
. "$(dirname "$0")/devices.sh"
guest_find_devices > $R/devices
. $R/devices
set +a
sed 's/^/guest: /' $R/devices

while read -r name tmo cmd; do
	case $name in ''|'#'*) continue ;; esac
	echo "guest: test $name: $cmd"
	t0=$(date +%s.%N)
	timeout -k 5 "$tmo" bash -c "$cmd" > $R/$name.out 2>&1 < /dev/null
	rc=$?
	echo $rc > $R/$name.rc
	echo "guest: test $name: exit $rc after $(echo "$(date +%s.%N) - $t0" | bc)s"
	[ $rc = 124 ] && echo "guest: test $name: TIMED OUT after ${tmo}s"
done < $R/plan

if [ -w /sys/kernel/debug/kmemleak ]; then
	# Two scans: an object is reported only once it has looked leaked for
	# a whole scan period.
	echo scan > /sys/kernel/debug/kmemleak; sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > $R/kmemleak.txt
	[ -s $R/kmemleak.txt ] && { echo "guest: kmemleak report:"; cat $R/kmemleak.txt; }
fi
dmesg > $R/dmesg.txt
echo "guest: done"
sync
# PID 1 must not exit: that would panic. Power off and wait for it.
echo o > /proc/sysrq-trigger
while :; do sleep 60; done
