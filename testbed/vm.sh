#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh TOPOLOGY NAME PLAN [FLAVOR]: boot the topology with the FLAVOR
# kernel (debug), run the guest tests listed in PLAN (lines: NAME TIMEOUT
# COMMAND...), and account for every result: each test's TAP lines, its
# exit status, the console scan and kmemleak. Results: build/results-NAME/.
# Sourced by check.sh (so its counts add up) or run on its own.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/topology.sh"
. "$TESTBED/results.sh"

# The guest sees the host's / but mounts its own /tmp, /run, /dev, /proc
# and /sys: a checkout there would be invisible to it. Say so before any
# build starts (check.sh, run.sh, bench.sh and retest.sh source this).
case $TOP/ in
/tmp/*|/run/*|/dev/*|/proc/*|/sys/*)
	die "the checkout is at $TOP, where the guest cannot see it (it mounts its own /tmp, /run, /dev, /proc and /sys): clone it elsewhere" ;;
esac

vm_run() {
	local topology=$1 name=$2 plan=$3 flavor=${4:-debug}
	local res=$BUILD/results-$name console kernel=$BUILD/bzImage-$flavor
	local boot_timeout=${BOOT_TIMEOUT:-1800} t0 rc n

	need qemu-system-x86_64
	[ -f "$kernel" ] || die "no kernel $kernel: run 'make kernel'"
	[ -f "$BUILD/data.img" ] || die "no data image: run 'make image'"
	rm -rf "$res"
	mkdir -p "$res"
	cp "$plan" "$res/plan"
	[ -n "${GUEST_ENV:-}" ] && printf '%s\n' "$GUEST_ENV" > "$res/env"
	console=$res/console.log
	qemu_cmd "$topology" "$kernel" "$res" "$console"
	printf '%q ' "${QEMU[@]}" > "$res/qemu-cmdline"

	echo "== boot $name ($topology topology, $flavor kernel): $(grep -c -v -e '^#' -e '^$' "$plan") guest tests"
	t0=$(date +%s)
	timeout -k 10 "$boot_timeout" "${QEMU[@]}" < /dev/null > "$res/qemu.log" 2>&1 &
	local qpid=$!
	# Progress: echo the guest's own lines as they come.
	tail --pid=$qpid -n +1 -F "$console" 2>/dev/null |
		grep --line-buffered -a '^guest: ' | sed -u 's/^/   /' &
	local tpid=$!
	wait $qpid
	rc=$?
	wait $tpid 2>/dev/null
	echo "== boot $name: guest ran $(( $(date +%s) - t0 ))s"

	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		result fail "$name: guest did not finish within ${boot_timeout}s" "last console lines below"
		tail -n 25 "$console" | sed 's/^/      | /'
	elif ! grep -q -a '^guest: up after' "$console"; then
		result fail "$name: guest never reached its init (qemu exit $rc)" "last lines below"
		{ tail -n 10 "$res/qemu.log"; tail -n 25 "$console"; } | sed 's/^/      | /'
	elif ! grep -q -a '^guest: done' "$console"; then
		result fail "$name: guest stopped before finishing its tests (qemu exit $rc)" "last console lines below"
		tail -n 25 "$console" | sed 's/^/      | /'
	fi

	while read -r n _; do
		case $n in ''|'#'*) continue ;; esac
		if [ ! -f "$res/$n.rc" ]; then
			result fail "$name/$n: did not run"
			continue
		fi
		if [ "$(cat "$res/$n.rc")" = 124 ]; then
			result fail "$name/$n: timed out"
		fi
		collect_tap "$name/$n" "$res/$n.out" "$(cat "$res/$n.rc")"
	done < "$res/plan"
	if [ -s "$res/kmemleak.txt" ]; then
		result fail "$name: kmemleak found leaks" "$res/kmemleak.txt"
	fi
	scan_console "$name" "$console"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	vm_run "$@"
	results_summary
fi
