#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# facts.sh: what the guest is, for the report: "# fact KEY VALUE" lines
# (kernel, CPU, memory, devices, tools) and one TAP line per device found.
. "$(dirname "$0")/lib.sh"

fact() { echo "# fact $1 $2"; }

tap_start
fact kernel "$(uname -r) ($(uname -v))"
fact cmdline "$(cat /proc/cmdline)"
fact cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
fact cpus "$(nproc)"
fact memtotal "$(awk '/^MemTotal:/ { printf "%.0f MiB", $2 / 1024 }' /proc/meminfo)"
fact fio "$(fio --version)"
fact iommu "$(ls /sys/class/iommu 2>/dev/null | tr '\n' ' ')"
for v in CLIENT_BLK SHM_BDF PROVIDER_BDF; do
	[ -n "${!v}" ]
	tap_status $? "$v is ${!v:-not found}"
done
for db in "$SHM_BDF:$SHM_BAR" "$PROVIDER_BDF:$CMB_BAR"; do
	d=${db%:*} b=${db##*:}
	[ -n "$d" ] || continue
	read -r start end _ <<< "$(sed -n "$((b + 1))p" "/sys/bus/pci/devices/$d/resource")"
	fact "bar$b-$d" "$(cat /sys/bus/pci/devices/$d/vendor):$(cat /sys/bus/pci/devices/$d/device) BAR$b $(( (end - start + 1) >> 20 )) MiB at $start"
done
fact blk_nsid "$CLIENT_BLK is NSID $(cat /sys/block/${CLIENT_BLK#/dev/}/nsid 2>/dev/null) (the data image is NSID $DATA_NSID)"
fact blk "$CLIENT_BLK $(( $(cat /sys/class/block/${CLIENT_BLK#/dev/}/size) / 2048 )) MiB, scheduler $(cat /sys/class/block/${CLIENT_BLK#/dev/}/queue/scheduler 2>/dev/null || echo none)"
tap_end
