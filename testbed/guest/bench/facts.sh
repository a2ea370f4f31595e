#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# facts.sh: what the guest is, for the report: "# fact KEY VALUE" lines
# (kernel, CPU, memory, devices, tools) and one TAP line per device found.
. "$(dirname "$0")/lib.sh"

fact() { echo "# fact $1 $2"; }

echo "TAP version 13"
fact kernel "$(uname -r) ($(uname -v))"
fact cmdline "$(cat /proc/cmdline)"
fact cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
fact cpus "$(nproc)"
fact memtotal "$(awk '/^MemTotal:/ { printf "%.0f MiB", $2 / 1024 }' /proc/meminfo)"
fact fio "$(fio --version)"
fact iommu "$(ls /sys/class/iommu 2>/dev/null | tr '\n' ' ')"
for v in CLIENT_BLK SHM_BDF PROVIDER_BDF; do
	[ -n "${!v}" ]
	tap $? "$v is ${!v:-not found}"
done
for d in "$SHM_BDF" "$PROVIDER_BDF"; do
	[ -n "$d" ] || continue
	read -r start end _ <<< "$(sed -n 3p "/sys/bus/pci/devices/$d/resource")"
	fact "bar2-$d" "$(cat /sys/bus/pci/devices/$d/vendor):$(cat /sys/bus/pci/devices/$d/device) BAR2 $(( (end - start + 1) >> 20 )) MiB at $start"
done
fact blk_nsid "$CLIENT_BLK is NSID $(cat /sys/block/${CLIENT_BLK#/dev/}/nsid 2>/dev/null) (devices.sh said ${CLIENT_BLK_FOUND:-?})"
fact blk "$CLIENT_BLK $(( $(cat /sys/class/block/${CLIENT_BLK#/dev/}/size) / 2048 )) MiB, scheduler $(cat /sys/class/block/${CLIENT_BLK#/dev/}/queue/scheduler 2>/dev/null || echo none)"
tap_end
