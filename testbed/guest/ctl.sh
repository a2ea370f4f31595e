#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ctl.sh ACTION [ARGS]: ask the host to act on the emulated hardware and
# wait until it has ($CTL in the guest environment). Actions:
#   stall client | release client | unplug DEVID | replug DEVID
# The protocol and what each action does: testbed/control.sh.
# Exit status: 0 once the host acked "ok"; 1 on "error: ..." (printed);
# 2 when there is no channel or no answer within CTL_TIMEOUT seconds
# (default 120).
set -u
[ $# -ge 1 ] || { echo "usage: ctl.sh ACTION [ARGS]" >&2; exit 2; }
dir=${RESULTS_DIR:-/tmp/results}/ctl
[ -d "$dir" ] || { echo "ctl: no control channel ($dir missing: the host runs no watcher)" >&2; exit 2; }

id=$(date +%s%N)-$$
echo "$*" > "$dir/$id.req.tmp" && mv "$dir/$id.req.tmp" "$dir/$id.req" ||
	{ echo "ctl: cannot write $dir/$id.req" >&2; exit 2; }

tmo=${CTL_TIMEOUT:-120}
t=0
while [ ! -s "$dir/$id.ack" ]; do
	if [ $t -ge $((tmo * 10)) ]; then
		echo "ctl: no answer from the host to '$*' within ${tmo}s" >&2
		exit 2
	fi
	sleep 0.1
	t=$((t + 1))
done
read -r ans < "$dir/$id.ack"
case $ans in
ok) exit 0 ;;
*) echo "ctl: $*: $ans" >&2; exit 1 ;;
esac
