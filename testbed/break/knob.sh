#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# knob.sh LABEL VALUE BDF TEST...: in the guest, set the scratch fault
# injection knob p2p_break to VALUE, run the unchanged p2p selftests TEST...
# against BDF through the testbed's vfio-selftests.sh, then set it back to 0.
# Each line's full selftest logs go to $RESULTS_DIR/LABEL/.
. "$TESTBED/guest/lib.sh"
label=$1 value=$2
shift 2
knob=$(ls /sys/module/*/parameters/p2p_break 2>/dev/null | head -n 1)
if [ -z "$knob" ] || [ ! -w "$knob" ]; then
	tap_start
	tap_result fail "a writable p2p_break knob" "none: not the break kernel"
	tap_end
	exit 1
fi
if [ -n "${RESULTS_DIR:-}" ]; then
	RESULTS_DIR=$RESULTS_DIR/$label
	mkdir -p "$RESULTS_DIR"
	export RESULTS_DIR
fi
tb_kmsg_mark "p2p_break: $label: set $value"
echo "$value" > "$knob"
echo "# p2p_break=$(cat "$knob") ($knob)"
bash "$TESTBED/guest/tests/vfio-selftests.sh" "$@"
rc=$?
echo 0 > "$knob"
tb_kmsg_mark "p2p_break: $label: reset to $(cat "$knob"), selftests exit $rc"
exit $rc
