# SPDX-License-Identifier: GPL-2.0
# The emulated P2P topology: the one description used by run, check and
# bench, and the one place that names devices, serials, BAR indexes and
# sizes (topology_guest_env hands them to the guest). Sourced; qemu_cmd
# fills the QEMU array.
#
#   pcie.0 (q35 host bridge 8086:29c0, intel-iommu)
#    |- rp1 (pcie-root-port) -- client NVMe     id "client", serial "client",
#    |                                          ns 1 = data image (drive "clientdisk"),
#    |                                          ns 2 = scratch (the verify jobs write it)
#    |- rp2 (pcie-root-port) -- provider NVMe   id "provider", serial "provider",
#    |                                          64 MiB CMB in BAR2, 16 MiB RAM-backed
#    |                                          PMR in BAR4
#    |- rp3 (pcie-root-port) -- ivshmem-plain   id "shm", 1af4:1110, 256 MiB
#    |                                          RAM-backed BAR2
#    |- rp4 (pcie-root-port) -- pci-testdev     id "iobar", 1b36:0005, I/O BAR1
#    |                                          (256 B), 8 MiB memory BAR2 (no
#    |                                          backing: reads as nothing)
#    |- virtio-9p "root"     -- the host's / read-only: the guest's root
#    `- virtio-9p "results"  -- build/results-NAME read-write: plan in, results
#                               out, the control channel (control.sh)
#
# Each endpoint sits under its own root port, so each is its own IOMMU group
# and vfio-pci can own one while the nvme driver keeps the others. P2P
# between root ports crosses the host bridge, which p2pdma allows for an
# AMD Zen CPU: TOPOLOGY=p2p (-cpu EPYC-Rome) can do P2P, TOPOLOGY=nop2p
# (-cpu max) cannot and must fail cleanly.
#
# The root ports' links run at 5 GT/s (x-speed=5; QEMU's default is 16).
# After a secondary bus reset the kernel waits for a port faster than
# 5 GT/s to report Data Link Layer Link Active, which QEMU's root port
# never reports again; at 5 GT/s it waits for the device to answer config
# reads instead, and VFIO_DEVICE_PCI_HOT_RESET works.
#
# Every VM has two QMP sockets. RESULTS_DIR/qmp-diag.sock is vm.sh's, for
# the vCPU state of a guest that stalled (qmp-diag.py). Through
# RESULTS_DIR/qmp.sock the control channel (control.sh) stalls and
# releases the client's data drive and unplugs and replugs devices by the
# ids above, with the properties in CTL_DEVICE. The
# root ports' slots are hot-plugged through ACPI (q35's default; the
# guest's acpiphp ejects and enumerates the device, no rescan needed).
#
# The vIOMMU has no interrupt remapping (intremap=off), so VFIO is told to
# accept MSIs without isolation (allow_unsafe_interrupts): a test-bed
# setting, never a production one.

# The root share is mounted cache=loose: the host's files do not change
# while a guest runs, and without a page cache every page fault of a
# program re-reads the host over 9p (fio, with 64 shared libraries, took
# most of a minute to start under TCG).
#
# Guest command line, beyond the root and the IOMMU: nvme_core.io_timeout
# of 600 s, so that I/O stalled by the control channel is not aborted;
# a 16 MiB kernel log, so that a test's /dev/kmsg marker stays in it; huge
# pages reserved at boot (4 of 2 MiB, 1 of 1 GiB) for the upstream VFIO
# selftests' hugetlb mappings.

GUEST_MEM=${GUEST_MEM:-4G}
GUEST_CPUS=${GUEST_CPUS:-2}
# TCG: one host thread for all vCPUs (single) or one per vCPU (multi).
# Single, because with multi the p2p topology's guest acts as if local
# APIC writes were lost: a vCPU ends up halted with its timer interrupt
# in service and pending, or with its one-shot timer expired and never
# re-armed, and every grace period stalls (README, "A QEMU bug the test
# bed works around"). The guest tests are mostly serial, and took as
# long on one thread as on two.
TCG_THREAD=${TCG_THREAD:-single}
CMB_MB=64
PMR_MB=16
SHM_MB=256
IOBAR_MEM_MB=8
DATA_MB=${DATA_MB:-128}
SCRATCH_MB=${SCRATCH_MB:-128}
ROOT_PORT=pcie-root-port,x-speed=5

# Devices the control channel can unplug and replug, by qemu id: the
# -device arguments qemu_cmd gives them, which replug gives again. (The
# client is not one: its namespaces would not come back with it.)
declare -gA CTL_DEVICE=(
	[provider]=nvme,id=provider,serial=provider,cmb_size_mb=$CMB_MB,pmrdev=pmr0,bus=rp2
	[shm]=ivshmem-plain,id=shm,memdev=shm0,bus=rp3
	[iobar]=pci-testdev,id=iobar,membar=${IOBAR_MEM_MB}M,bus=rp4
)
# Their memory backends (the ids the -device arguments name).
declare -gA CTL_BACKEND=(
	[provider]=memory-backend-ram,id=pmr0,size=${PMR_MB}M,share=on
	[shm]=memory-backend-ram,id=shm0,size=${SHM_MB}M,share=on
)
# Drives the control channel can stall, by the name the guest uses.
declare -gA CTL_DRIVE=([client]=clientdisk)

# topology_guest_env [TOPOLOGY]: what the guest tests know of the
# topology, as KEY=VALUE lines (identities, not addresses: the guest finds
# the BDFs). Without TOPOLOGY the line is left out: qemu_cmd adds it to
# the guest's env file, once it knows which one boots.
topology_guest_env() {
	[ -n "${1:-}" ] && echo "TOPOLOGY=$1"
	cat <<-EOF
	SHM_ID=0x1af4:0x1110
	SHM_BAR=2
	SHM_BAR_SIZE=$((SHM_MB << 20))
	CLIENT_SERIAL=client
	PROVIDER_SERIAL=provider
	DATA_NSID=1
	SCRATCH_NSID=2
	CMB_BAR=2
	CMB_SIZE=$((CMB_MB << 20))
	PMR_BAR=4
	PMR_SIZE=$((PMR_MB << 20))
	IOBAR_ID=0x1b36:0x0005
	IOBAR_MEM_BAR=2
	IOBAR_MEM_SIZE=$((IOBAR_MEM_MB << 20))
	DATA_SIZE=$((DATA_MB << 20))
	READ_BUF=$((4 << 20))
	READ_TOTAL=$((32 << 20))
	READ_BS=$((128 << 10))
	READ_QD=8
	CTL=$TESTBED/guest/ctl.sh
	EOF
}

# The data image is shared read-only, so guests can run side by side; each
# guest gets its own scratch namespace in its results directory.
#
# qemu_cmd TOPOLOGY KERNEL RESULTS_DIR CONSOLE_LOG
qemu_cmd() {
	local topology=$1 kernel=$2 results=$3 console=$4 cpu
	case $topology in
	p2p) cpu=EPYC-Rome ;;
	nop2p) cpu=max ;;
	*) die "unknown topology '$topology' (p2p or nop2p)" ;;
	esac
	truncate -s $((SCRATCH_MB << 20)) "$results/scratch.img"
	echo "TOPOLOGY=$topology" >> "$results/env"
	# The control channel's requests and answers (control.sh)
	mkdir -p "$results/ctl"
	QEMU=(qemu-system-x86_64
		-machine q35 -accel tcg,thread=$TCG_THREAD -cpu "$cpu"
		-m "$GUEST_MEM" -smp "$GUEST_CPUS"
		-nographic -no-reboot -serial "file:$console" -monitor none
		-qmp "unix:$results/qmp.sock,server=on,wait=off"
		-qmp "unix:$results/qmp-diag.sock,server=on,wait=off"
		-device intel-iommu,intremap=off

		-device "$ROOT_PORT,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x10"
		-drive "file=$BUILD/data.img,if=none,id=clientdisk,format=raw,readonly=on,file.locking=off"
		-drive "file=$results/scratch.img,if=none,id=scratchdisk,format=raw,cache=unsafe"
		-device nvme,id=client,serial=client,bus=rp1
		-device nvme-ns,drive=clientdisk,bus=client,nsid=1
		-device nvme-ns,drive=scratchdisk,bus=client,nsid=2

		-device "$ROOT_PORT,id=rp2,chassis=2,slot=2,bus=pcie.0,addr=0x11"
		-object "${CTL_BACKEND[provider]}"
		-device "${CTL_DEVICE[provider]}"

		-device "$ROOT_PORT,id=rp3,chassis=3,slot=3,bus=pcie.0,addr=0x12"
		-object "${CTL_BACKEND[shm]}"
		-device "${CTL_DEVICE[shm]}"

		-device "$ROOT_PORT,id=rp4,chassis=4,slot=4,bus=pcie.0,addr=0x13"
		-device "${CTL_DEVICE[iobar]}"

		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=root,mount_tag=root
		-fsdev "local,id=results,path=$results,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=results,mount_tag=results

		-kernel "$kernel"
		-append "console=ttyS0 root=root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro init=$TESTBED/guest/init.sh intel_iommu=on iommu.passthrough=1 iommufd.allow_unsafe_interrupts=1 vfio_iommu_type1.allow_unsafe_interrupts=1 oops=panic panic=-1 kasan.fault=report nvme_core.io_timeout=600 log_buf_len=16M hugepagesz=2M hugepages=4 hugepagesz=1G hugepages=1")
}
