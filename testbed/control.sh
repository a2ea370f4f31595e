# SPDX-License-Identifier: GPL-2.0
# The control channel: guest tests ask the host for actions on the
# emulated hardware at named points, and the host performs them through
# the VM's QMP socket (qemu_cmd gives every VM one: RESULTS_DIR/qmp.sock).
# Sourced; ctl_start and ctl_stop are called around a VM's run.
#
# Protocol, over the results share (RESULTS_DIR/ctl/, created by qemu_cmd
# before the guest boots; the guest mounts the share without a cache):
#
#   request  the guest writes one line "ACTION ARGS" to ctl/ID.req.tmp
#            and renames it to ctl/ID.req (ID: any name without a dot;
#            the guest client uses <nanoseconds>-<pid>). The host
#            handles requests one at a time, in name order.
#   ack      the host writes one line to ctl/ID.ack (atomically, by
#            rename): "ok" once the action is done, or "error: TEXT".
#
# Actions (device ids, drives and properties come from topology.sh):
#   stall NAME     every new I/O to drive NAME (client) stays in flight
#                  until released: QMP block_set_io_throttle with bps=1,
#                  then one 4 KiB read from the host side (HMP qemu-io)
#                  fills the leaky bucket, whose first request would
#                  otherwise pass unthrottled; the next guest request
#                  waits over an hour. Nothing fails: the nvme driver's
#                  io_timeout is 600 s on the guest's command line.
#   release NAME   all limits 0: the queued requests complete.
#   unplug DEVID   QMP device_del, acked once QEMU reports DEVICE_DELETED
#                  (the guest must let go: the root ports' slots are
#                  hot-plugged through ACPI, handled by the guest's acpiphp).
#   replug DEVID   device_add with the device's original properties. A
#                  device with a memory backend (CTL_BACKEND: ivshmem's
#                  BAR, the NVMe's PMR) gets a fresh one (object_add, id
#                  suffixed -rN; unplug deletes the old one): QEMU 10.0
#                  aborts (qemu_ram_set_idstr assertion) when a new device
#                  takes the RAM block of a deleted one.
#
# The guest side is testbed/guest/ctl.sh ($CTL in the guest environment).
# CTL_FAKE="ACTION..." makes the host ack those actions without doing
# them: the way to show that a test relying on one can fail.

# ctl_start RESULTS_DIR: start the watcher in the background.
ctl_start() {
	local res=$1 args=() d
	mkdir -p "$res/ctl"
	for d in "${!CTL_DRIVE[@]}"; do
		args+=(--drive "$d=${CTL_DRIVE[$d]}")
	done
	for d in "${!CTL_DEVICE[@]}"; do
		args+=(--device "$d=${CTL_DEVICE[$d]}")
	done
	for d in "${!CTL_BACKEND[@]}"; do
		args+=(--backend "$d=${CTL_BACKEND[$d]}")
	done
	CTL_FAKE=${CTL_FAKE:-} python3 "$TESTBED/control.py" "$res/qmp.sock" "$res/ctl" \
		"${args[@]}" >> "$res/ctl.log" 2>&1 &
	CTL_PID=$!
}

# ctl_stop: stop the watcher ctl_start started (if any).
ctl_stop() {
	[ -n "${CTL_PID:-}" ] || return 0
	kill "$CTL_PID" 2>/dev/null
	wait "$CTL_PID" 2>/dev/null
	CTL_PID=
	return 0
}
