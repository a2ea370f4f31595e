# SPDX-License-Identifier: GPL-2.0
# Find the topology's devices by identity, not by address; prints shell
# assignments. Sourced by the guest init and by guest tests.

pci_bdf_of_nvme_serial() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(tr -d ' ' < "$c/serial" 2>/dev/null)" = "$1" ] || continue
		basename "$(readlink -f "$c/device")"
		return
	done
}

pci_bdf_of_id() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = "$1" ] && { basename "$d"; return; }
	done
}

guest_find_devices() {
	local client provider blk scratch c
	client=$(pci_bdf_of_nvme_serial client)
	provider=$(pci_bdf_of_nvme_serial provider)
	for c in /sys/class/nvme/nvme*; do
		[ "$(tr -d ' ' < "$c/serial")" = client ] || continue
		blk=/dev/$(basename "$(ls -d "$c"/nvme*n1 2>/dev/null | head -n 1)")
		scratch=/dev/$(basename "$(ls -d "$c"/nvme*n2 2>/dev/null | head -n 1)")
	done
	echo "CLIENT_BDF=$client"
	echo "CLIENT_BLK=$blk"
	echo "CLIENT_SCRATCH=$scratch"
	echo "PROVIDER_BDF=$provider"
	echo "SHM_BDF=$(pci_bdf_of_id 0x1af4:0x1110)"
}
