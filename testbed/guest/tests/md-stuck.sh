#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# md-stuck.sh BDF 'PROG [ARGS]'...: the hardening programs (run.sh) with
# $CLIENT_BLK replaced by an md raid1 over it, a stacked block device that
# advertises P2P DMA (BLK_FEAT_PCI_P2PDMA) and can hold a bio as long as
# its member does.  The array is built without a superblock (mdadm
# --build) and degraded to that one member, so that it reads the data
# image at the same offsets and every read goes to the stalled namespace.
# The array is stopped afterwards.  A failure to build it is a failing TAP
# line of its own; a failure to stop it is an exit status of 1, which the
# host counts as a failure ("exited 1 with no failing TAP line").
set -u
. "$TESTBED/guest/lib.sh"

MD=/dev/md127
eval "$(tb_find_devices)"

setup_fail() {
	tap_start
	tap_result fail "$1"
	[ -s "$2" ] && tap_diag_file "$2"
	tap_end
	exit 1
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
command -v mdadm > /dev/null ||
	setup_fail "mdadm is installed (testbed/deps.sh)" /dev/null
[ -b "${CLIENT_BLK:-}" ] ||
	setup_fail "a client namespace in \$CLIENT_BLK (${CLIENT_BLK:-unset})" /dev/null
mdadm --build "$MD" --level=1 --raid-devices=2 "$CLIENT_BLK" missing \
	> "$log" 2>&1 ||
	setup_fail "mdadm --build $MD: raid1 over $CLIENT_BLK, degraded" "$log"

CLIENT_BLK=$MD "$TESTBED/guest/hardening/run.sh" "$@"
rc=$?

if ! mdadm --stop "$MD" > "$log" 2>&1; then
	cat "$log" >&2
	echo "md-stuck.sh: mdadm --stop $MD failed" >&2
	rc=1
fi
exit $rc
