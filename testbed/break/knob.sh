#!/bin/bash
# knob.sh LABEL VALUE BDF TEST...: in the guest, set the scratch fault
# injection knob p2p_break to VALUE, run the unchanged p2p selftests TEST...
# against BDF through the testbed's vfio-selftests.sh, then set it back to 0.
# Each line's full selftest logs go to $RESULTS_DIR/LABEL/.
label=$1 value=$2
shift 2
knob=$(ls /sys/module/*/parameters/p2p_break 2>/dev/null | head -n 1)
if [ -z "$knob" ] || [ ! -w "$knob" ]; then
	echo "TAP version 13"; echo "1..1"
	echo "not ok 1 no writable p2p_break knob: not the break kernel"
	exit 1
fi
if [ -n "${RESULTS_DIR:-}" ]; then
	RESULTS_DIR=$RESULTS_DIR/$label
	mkdir -p "$RESULTS_DIR"
	export RESULTS_DIR
fi
echo "p2p_break: $label: set $value" > /dev/kmsg
echo "$value" > "$knob"
echo "# p2p_break=$(cat "$knob") ($knob)"
bash "$TESTBED/guest/tests/vfio-selftests.sh" "$@"
rc=$?
echo 0 > "$knob"
echo "p2p_break: $label: reset to $(cat "$knob"), selftests exit $rc" > /dev/kmsg
exit $rc
