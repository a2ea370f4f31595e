#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest init (PID 1). The root is the host's / over 9p, read-only; the
# "results" 9p share carries the plan in and the results out:
#   plan         one test per line: NAME TIMEOUT_S COMMAND...
#   env          sourced first (paths, BDFs the host wants to pass)
#   NAME.out     a test's output (TAP); NAME.rc its exit status
#   kmemleak.state  active, disabled (it turned itself off) or absent
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

# What the host passes (paths, the topology's identities and sizes), what
# counts as a kernel report (testbed/splat.sh) and what is found here
# (BDFs, block devices) are exported to every test.
G=$(cd "$(dirname "$0")" && pwd)
set -a
RESULTS_DIR=$R
[ -f $R/env ] && . $R/env
. "$G/../splat.sh"
set +a
export SPLAT_RE ALLOC_FAIL_RE FAULTS_BEGIN FAULTS_END
. "$G/lib.sh"
tb_find_devices > $R/devices
set -a
. $R/devices
set +a
sed 's/^/guest: /' $R/devices

# Each test gets its own time-out (TIMEOUT_S of its plan line), also in
# its environment as TEST_TIMEOUT so that a test running programs of its
# own can fit their limits inside it. SIGTERM at the limit, SIGKILL 5 s
# later (the host's boot limit allows for both). A test stopped either way
# gets the status 124 and its own "TIMED OUT" line.
while read -r name tmo cmd; do
	case $name in ''|'#'*) continue ;; esac
	echo "guest: test $name: $cmd"
	t0=$(date +%s.%N)
	TEST_TIMEOUT=$tmo timeout -k 5 "$tmo" bash -c "$cmd" > $R/$name.out 2>&1 < /dev/null
	rc=$?
	secs=$(echo "$(date +%s.%N) - $t0" | bc)
	# 137: the test ignored SIGTERM and timeout(1) had to kill it
	whole=${secs%.*}
	if [ $rc = 137 ] && [ "${whole:-0}" -ge "$tmo" ]; then
		rc=124
	fi
	echo $rc > $R/$name.rc
	echo "guest: test $name: exit $rc after ${secs}s"
	[ $rc = 124 ] && echo "guest: test $name: TIMED OUT after ${tmo}s"
done < $R/plan

# kmemleak: its state goes to the host (active, disabled or absent: a
# detector that turned itself off, say after an allocation failure of its
# own, finds no leaks and must not pass for one that looked), then two
# scans (an object is reported only once it has looked leaked for a whole
# scan period) and the report.
kml=/sys/kernel/debug/kmemleak
kml_disabled() {
	dmesg | grep -q 'kmemleak: Kernel memory leak detector disabled'
}
if [ ! -e $kml ]; then
	state=absent
elif kml_disabled || ! { echo scan > $kml; } 2>/dev/null; then
	state=disabled
else
	sleep 6
	if { echo scan > $kml; } 2>/dev/null && ! kml_disabled; then
		state=active
		cat $kml > $R/kmemleak.txt
		[ -s $R/kmemleak.txt ] && { echo "guest: kmemleak report:"; sed "s/^/guest: kmemleak: /" $R/kmemleak.txt; }
	else
		state=disabled
	fi
fi
echo $state > $R/kmemleak.state
echo "guest: kmemleak $state"
dmesg > $R/dmesg.txt
echo "guest: done"
sync
# PID 1 must not exit: that would panic. Power off and wait for it.
echo o > /proc/sysrq-trigger
while :; do sleep 60; done
