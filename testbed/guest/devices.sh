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
	local client provider blk scratch c ns
	client=$(pci_bdf_of_nvme_serial client)
	provider=$(pci_bdf_of_nvme_serial provider)
	for c in /sys/class/nvme/nvme*; do
		[ "$(tr -d ' ' < "$c/serial")" = client ] || continue
		# Namespaces by NSID: their names follow scan order, not NSID.
		for ns in "$c"/nvme*n*; do
			case $(cat "$ns/nsid" 2>/dev/null) in
			1) blk=/dev/$(basename "$ns") ;;
			2) scratch=/dev/$(basename "$ns") ;;
			esac
		done
	done
	echo "CLIENT_BDF=$client"
	echo "CLIENT_BLK=$blk"
	echo "CLIENT_SCRATCH=$scratch"
	echo "PROVIDER_BDF=$provider"
	echo "SHM_BDF=$(pci_bdf_of_id 0x1af4:0x1110)"
}
