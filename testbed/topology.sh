# SPDX-License-Identifier: GPL-2.0
# The emulated P2P topology: the one description used by run, check and
# bench. Sourced; qemu_cmd fills the QEMU array.
#
#   pcie.0 (q35 host bridge 8086:29c0, intel-iommu)
#    |- rp1 (pcie-root-port) -- client NVMe     serial "client", ns 1 = data image,
#    |                                          ns 2 = scratch (the verify jobs write it)
#    |- rp2 (pcie-root-port) -- provider NVMe   serial "provider", 64 MiB CMB in BAR2
#    |- rp3 (pcie-root-port) -- ivshmem-plain   1af4:1110, 256 MiB RAM-backed BAR2
#    |- virtio-9p "root"     -- the host's / read-only: the guest's root
#    `- virtio-9p "results"  -- build/results-NAME read-write: plan in, results out
#
# Each endpoint sits under its own root port, so each is its own IOMMU group
# and vfio-pci can own one while the nvme driver keeps the others. P2P
# between root ports crosses the host bridge, which p2pdma allows for an
# AMD Zen CPU: TOPOLOGY=p2p (-cpu EPYC-Rome) can do P2P, TOPOLOGY=nop2p
# (-cpu max) cannot and must fail cleanly.
#
# The vIOMMU has no interrupt remapping (intremap=off), so VFIO is told to
# accept MSIs without isolation (allow_unsafe_interrupts): a test-bed
# setting, never a production one.

# The root share is mounted cache=loose: the host's files do not change
# while a guest runs, and without a page cache every page fault of a
# program re-reads the host over 9p (fio, with 64 shared libraries, took
# most of a minute to start under TCG).

GUEST_MEM=${GUEST_MEM:-4G}
GUEST_CPUS=${GUEST_CPUS:-2}
CMB_MB=64
SHM_SIZE=256M
DATA_MB=${DATA_MB:-128}
SCRATCH_MB=${SCRATCH_MB:-128}

# The data image is shared read-only, so guests can run side by side; each
# guest gets its own scratch namespace in its results directory.
#
# qemu_cmd TOPOLOGY KERNEL RESULTS_DIR CONSOLE_LOG
qemu_cmd() {
	local topology=$1 kernel=$2 results=$3 console=$4 cpu
	truncate -s $((SCRATCH_MB << 20)) "$results/scratch.img"
	case $topology in
	p2p) cpu=EPYC-Rome ;;
	nop2p) cpu=max ;;
	*) die "unknown topology '$topology' (p2p or nop2p)" ;;
	esac
	QEMU=(qemu-system-x86_64
		-machine q35 -accel tcg,thread=multi -cpu "$cpu"
		-m "$GUEST_MEM" -smp "$GUEST_CPUS"
		-nographic -no-reboot -serial "file:$console" -monitor none
		-device intel-iommu,intremap=off

		-device pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x10
		-drive "file=$BUILD/data.img,if=none,id=clientdisk,format=raw,readonly=on,file.locking=off"
		-drive "file=$results/scratch.img,if=none,id=scratchdisk,format=raw,cache=unsafe"
		-device nvme,id=client,serial=client,bus=rp1
		-device nvme-ns,drive=clientdisk,bus=client,nsid=1
		-device nvme-ns,drive=scratchdisk,bus=client,nsid=2

		-device pcie-root-port,id=rp2,chassis=2,slot=2,bus=pcie.0,addr=0x11
		-device "nvme,serial=provider,cmb_size_mb=$CMB_MB,bus=rp2"

		-device pcie-root-port,id=rp3,chassis=3,slot=3,bus=pcie.0,addr=0x12
		-object "memory-backend-ram,id=shm0,size=$SHM_SIZE,share=on"
		-device ivshmem-plain,memdev=shm0,bus=rp3

		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=root,mount_tag=root
		-fsdev "local,id=results,path=$results,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=results,mount_tag=results

		-kernel "$kernel"
		-append "console=ttyS0 root=root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro init=$TESTBED/guest/init.sh intel_iommu=on iommu.passthrough=1 iommufd.allow_unsafe_interrupts=1 vfio_iommu_type1.allow_unsafe_interrupts=1 oops=panic panic=-1 kasan.fault=report")
}
