// SPDX-License-Identifier: GPL-2.0
/*
 * Error messages of vfio-p2p.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "explain.h"

/* Commands are for the real system, so they name /sys, not pci_sysfs. */
void explain_not_vfio(struct sbuf *sb, const char *bdf, const char *driver)
{
	char path[PATH_MAX];

	if (*driver)
		sbuf_printf(sb, "%s is bound to %s, not to vfio-pci\n", bdf, driver);
	else
		sbuf_printf(sb, "%s is not bound to any driver; it must be bound to vfio-pci\n",
			    bdf);
	sbuf_printf(sb, "  P2P registration is a feature of vfio-pci. To hand the device to "
			"vfio-pci, as root:\n");
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/vfio-pci", pci_sysfs);
	if (access(path, F_OK))
		sbuf_printf(sb, "    modprobe vfio-pci\n");
	sbuf_printf(sb, "    echo vfio-pci > /sys/bus/pci/devices/%s/driver_override\n", bdf);
	if (*driver)
		sbuf_printf(sb, "    echo %s > /sys/bus/pci/devices/%s/driver/unbind\n",
			    bdf, bdf);
	sbuf_printf(sb, "    echo %s > /sys/bus/pci/drivers_probe\n", bdf);
	if (*driver)
		sbuf_printf(sb,
			    "  Unbinding takes it away from %s: stop whatever uses it first.\n",
			    driver);
}

void explain_group(struct sbuf *sb, const char *bdf, int group,
		   const struct pci_group_member *m, int n)
{
	int i;

	sbuf_printf(sb, "IOMMU group %d of %s is not viable\n", group, bdf);
	sbuf_printf(sb, "  VFIO can use a group only when every device in it is bound to vfio-pci "
			"(or pci-stub, pcieport) or to no driver.\n");
	sbuf_printf(sb, "  The devices of group %d that prevent it:\n", group);
	for (i = 0; i < n; i++) {
		if (!strcmp(m[i].bdf, bdf) || pci_driver_group_ok(m[i].driver))
			continue;
		sbuf_printf(sb, "    %s bound to %s\n", m[i].bdf, m[i].driver);
	}
	sbuf_printf(sb, "  Bind each of them to vfio-pci as well (driver_override, unbind, "
			"drivers_probe, as for %s), or just unbind them:\n",
		    bdf);
	for (i = 0; i < n; i++) {
		if (!strcmp(m[i].bdf, bdf) || pci_driver_group_ok(m[i].driver))
			continue;
		sbuf_printf(sb, "    echo %s > /sys/bus/pci/devices/%s/driver/unbind\n",
			    m[i].bdf, m[i].bdf);
	}
}

void explain_no_group(struct sbuf *sb, const char *bdf)
{
	sbuf_printf(sb, "%s has no IOMMU group, so VFIO cannot use it\n", bdf);
	sbuf_printf(sb, "  Turn the IOMMU on (e.g. intel_iommu=on or amd_iommu=on on the kernel "
			"command line) and check 'dmesg | grep -i -e DMAR -e IOMMU'.\n");
}

void explain_in_use(struct sbuf *sb, const char *bdf, const char *users)
{
	if (users && *users)
		sbuf_printf(sb, "%s is already open through VFIO by %s\n", bdf, users);
	else
		sbuf_printf(sb, "%s is already open through VFIO by another process, or its IOMMU "
				"group is in use\n",
			    bdf);
	sbuf_printf(sb, "  A VFIO device has one user at a time. Stop that process (a 'vfio-p2p "
			"register --hold', QEMU, a userspace driver), or do the work from within "
			"it.\n");
}

static void explain_einval(struct sbuf *sb, const struct p2p_ctx *c)
{
	char why[512], g[96];

	if (c->b && pci_range_invalid(c->b, c->offset, c->size, c->granule, why, sizeof(why))) {
		sbuf_printf(sb, "the kernel rejected the range of BAR %d of %s: %s\n",
			    c->bar, c->bdf, why);
		return;
	}
	sbuf_printf(sb,
		    "the kernel rejected offset 0x%llx size 0x%llx of BAR %d of %s as malformed\n",
		    (unsigned long long)c->offset, (unsigned long long)c->size,
		    c->bar, c->bdf);
	sbuf_printf(sb, "  offset and size must be page aligned and inside the BAR, and the "
			"physical address and size of the range multiples of the granule, "
			"%s. Run 'vfio-p2p probe %s' to see the BARs.\n",
		    pci_granule_str(c->granule, g, sizeof(g)), c->bdf);
}

static void explain_eopnotsupp(struct sbuf *sb, enum p2p_op op,
			       const struct p2p_ctx *c)
{
	char kind[64], buf[256], g[96];
	const char *why = c->b ? pci_bar_unregistrable(c->b, c->granule, buf, sizeof(buf)) :
				 NULL;

	if (op == OP_PROBE) {
		sbuf_printf(sb, "vfio-pci cannot register any BAR of %s\n", c->bdf);
		sbuf_printf(sb, "  The kernel supports P2P registration, but not for this device: "
				"it is bound to a vfio-pci variant driver that maps BARs on its "
				"own, or its BARs cannot be mapped.\n");
		return;
	}
	if (why) {
		sbuf_printf(sb, "BAR %d of %s cannot be registered: %s\n", c->bar,
			    c->bdf, why);
		sbuf_printf(sb, "  BAR %d is %s, %llu bytes. Run 'vfio-p2p probe %s' to see which "
				"BARs can be registered.\n",
			    c->bar, pci_bar_kind(c->b, kind, sizeof(kind)),
			    (unsigned long long)c->b->size, c->bdf);
		return;
	}
	sbuf_printf(sb, "the kernel cannot register BAR %d of %s\n", c->bar, c->bdf);
	sbuf_printf(sb, "  The BAR looks like a memory BAR of at least %s, so the kernel "
			"refused it for another reason: vfio-pci has not claimed it (another "
			"driver or a resource conflict holds it: see /proc/iomem and dmesg), the "
			"platform cannot give this device memory struct pages "
			"(CONFIG_PCI_P2PDMA, CONFIG_ZONE_DEVICE), or a vfio-pci variant driver "
			"maps BARs on its own.\n", pci_granule_str(c->granule, g, sizeof(g)));
}

/*
 * Registration failed with ENOMEM: the charge to locked memory went
 * beyond RLIMIT_MEMLOCK, or the kernel ran out of memory for the struct
 * pages.
 */
static void explain_enomem(struct sbuf *sb, const struct p2p_ctx *c)
{
	uint64_t page = page_size(), size = c->size, need = 0, max;
	/* Before the device is open: the fallback (see P2P_GRANULE_FALLBACK) */
	uint64_t smallest = c->granule ? c->granule : P2P_GRANULE_FALLBACK;
	bool over = false, limited, unlimited;
	char s1[32], s2[32], s3[32], s4[32];

	if (!size && c->b && c->offset < c->b->size)
		size = c->b->size - c->offset;
	if (size)
		need = p2p_memlock_charge(size, page);
	unlimited = c->memlock_known && (c->ipc_lock || c->memlock == UINT64_MAX);
	limited = c->memlock_known && !unlimited;
	if (size && limited)
		over = need > c->memlock;

	if (over)
		sbuf_printf(sb, "registering %s of BAR %d of %s needs %s of locked memory, more "
				"than RLIMIT_MEMLOCK allows (%s)\n",
			    fmt_size(size, s1, sizeof(s1)), c->bar, c->bdf,
			    fmt_size(need, s2, sizeof(s2)), fmt_size(c->memlock, s3, sizeof(s3)));
	else
		sbuf_printf(sb, "the kernel refused to register %s%sBAR %d of %s: out of memory "
				"(ENOMEM)\n",
			    size ? fmt_size(size, s1, sizeof(s1)) : "", size ? " of " : "",
			    c->bar, c->bdf);

	sbuf_printf(sb, "  A registration is charged to the locked memory of the user who "
			"registers, as io_uring and iommufd pins are: 1/64 of the range (64 B "
			"of struct page per 4 KiB), rounded up to pages");
	if (size)
		sbuf_printf(sb, ", here %s (computed) for %s", fmt_size(need, s2, sizeof(s2)),
			    fmt_size(size, s1, sizeof(s1)));
	sbuf_printf(sb, ".\n");

	if (unlimited) {
		sbuf_printf(sb, "  %s, so the charge is not the cause: the kernel could not "
				"allocate the struct pages, or memory hotplug refused the range "
				"(see dmesg).\n",
			    c->ipc_lock ? "This process has CAP_IPC_LOCK, which lifts the limit" :
					  "RLIMIT_MEMLOCK of this process is unlimited");
		return;
	}
	if (!over) {
		if (limited)
			sbuf_printf(sb, "  RLIMIT_MEMLOCK of this process is %s.",
				    fmt_size(c->memlock, s3, sizeof(s3)));
		else
			sbuf_printf(sb, "  RLIMIT_MEMLOCK is not known here.");
		sbuf_printf(sb, " The charge adds to the user's other locked memory (io_uring "
				"buffers, iommufd and VFIO pins, other registrations, of any of its "
				"processes), so the limit can be reached below it; otherwise the "
				"kernel could not allocate the struct pages, or memory hotplug "
				"refused the range (see dmesg).\n");
	}

	if (need && over)
		sbuf_printf(sb, "  Raise the limit to %s or more: 'ulimit -l %llu' (KiB) in "
				"the shell that starts vfio-p2p, or run it under 'prlimit "
				"--memlock=%llu:%llu' (bytes; raising the hard limit needs root), "
				"or set memlock in /etc/security/limits.conf; a process with "
				"CAP_IPC_LOCK is not limited.\n",
			    fmt_size(need, s2, sizeof(s2)),
			    (unsigned long long)((need + 1023) / 1024),
			    (unsigned long long)need, (unsigned long long)need);
	else
		sbuf_printf(sb, "  If it is the limit, raise it ('ulimit -l' in KiB, prlimit "
				"--memlock in bytes, memlock in /etc/security/limits.conf), or run "
				"with CAP_IPC_LOCK.\n");
	if (over) {
		max = p2p_memlock_max_size(c->memlock, page, c->granule);
		if (max)
			sbuf_printf(sb, "  Or register less (--size): at most %s fits in %s.\n",
				    fmt_size(max, s4, sizeof(s4)),
				    fmt_size(c->memlock, s3, sizeof(s3)));
		else
			sbuf_printf(sb, "  %s is less than the charge of the smallest range, "
					"one granule (%s).\n", fmt_size(c->memlock, s3, sizeof(s3)),
				    fmt_size(p2p_memlock_charge(smallest, page), s4, sizeof(s4)));
	}
}

/* "0x200000-0x3fffff", or "0x200000 to the end" when the size is not known */
static const char *range_of(const struct p2p_ctx *c, char *buf, size_t len)
{
	uint64_t size = c->size;

	if (!size && c->b && c->offset < c->b->size)
		size = c->b->size - c->offset;
	if (size)
		snprintf(buf, len, "0x%llx-0x%llx", (unsigned long long)c->offset,
			 (unsigned long long)(c->offset + size - 1));
	else
		snprintf(buf, len, "0x%llx to the end", (unsigned long long)c->offset);
	return buf;
}

void explain_feature(struct sbuf *sb, enum p2p_op op, int err,
		     const struct p2p_ctx *c)
{
	char range[64];
	struct utsname u;

	switch (err) {
	case ENOTTY:
		if (uname(&u))
			snprintf(u.release, sizeof(u.release), "?");
		sbuf_printf(sb, "the running kernel (%s) does not implement "
				"VFIO_DEVICE_FEATURE_P2P_REGISTER\n",
			    u.release);
		sbuf_printf(sb, "  Boot a kernel with the vfio-pci P2P registration series and "
				"CONFIG_VFIO_PCI_P2P=y (which needs CONFIG_PCI_P2PDMA and "
				"CONFIG_ZONE_DEVICE).\n");
		return;
	case EOPNOTSUPP:
		explain_eopnotsupp(sb, op, c);
		return;
	case EPERM:
		sbuf_printf(sb, "P2P %s of BAR %d of %s failed: %s\n",
			    op == OP_UNREGISTER ? "unregistration" :
			    op == OP_REGISTER ? "registration" : "query",
			    c->bar, c->bdf, strerror(err));
		sbuf_printf(sb, "  The feature needs no privilege beyond the VFIO device file "
				"(registrations are charged to locked memory instead), and the "
				"kernel does not document EPERM for it: a security module "
				"(SELinux, AppArmor, seccomp) may have refused the ioctl, or the "
				"running kernel has an early version of the series that wanted "
				"a capability. See dmesg and the audit log.\n");
		return;
	case EEXIST:
		if (op != OP_REGISTER)
			break;
		sbuf_printf(sb, "the range %s of BAR %d of %s overlaps a range that is already "
				"registered through this VFIO device\n",
			    range_of(c, range, sizeof(range)), c->bar, c->bdf);
		sbuf_printf(sb, "  A BAR can have several registrations, of ranges that do not "
				"overlap; each ends when it is unregistered or when the VFIO "
				"device file closes. Register a range beside the registered "
				"ones: a COMMAND under 'vfio-p2p register' finds its own in "
				"VFIO_P2P_OFFSET and VFIO_P2P_SIZE.\n");
		return;
	case ENOENT:
		if (op != OP_UNREGISTER)
			break;
		sbuf_printf(sb, "the range %s of BAR %d of %s was no longer registered\n",
			    range_of(c, range, sizeof(range)), c->bar, c->bdf);
		sbuf_printf(sb, "  The registration ended early: a device reset "
				"(VFIO_DEVICE_RESET, hot reset, FLR through config space), "
				"clearing memory decode, or a low power transition ends it. "
				"Mappings of p2pmem/allocate raise SIGBUS from then on.\n");
		return;
	case EBUSY:
		if (op != OP_REGISTER)
			break;
		sbuf_printf(sb, "a part of the range %s of BAR %d of %s is mmap()ed through the "
				"VFIO device file or exported as a DMABUF by another user of the "
				"device, or overlaps an ended registration that is still "
				"draining\n",
			    range_of(c, range, sizeof(range)), c->bar, c->bdf);
		sbuf_printf(sb, "  A registered range cannot be mapped through VFIO at the same "
				"time. Unmap the BAR and close its DMABUFs (e.g. stop the "
				"userspace driver that shares the VFIO group), then register "
				"again; use mappings of p2pmem/allocate instead. A range whose "
				"registration ended stays busy until the I/O in flight to it is "
				"over (the drain): wait for it, or register another part of the "
				"BAR.\n");
		return;
	case EIO:
		sbuf_printf(sb,
			    "memory decode is off for %s or the device is in a low power state\n",
			    c->bdf);
		sbuf_printf(sb, "  Registration needs Memory Space Enable set in the PCI command "
				"register and the device in D0. Check 'lspci -vvs %s' (Control: "
				"Mem+, Status: D0) and /sys/bus/pci/devices/%s/power_state; "
				"whatever cleared the memory bit or put the device to sleep (a "
				"userspace driver, setpci, VFIO low power entry) must undo it.\n",
			    c->bdf, c->bdf);
		return;
	case EINVAL:
		if (op == OP_REGISTER) {
			explain_einval(sb, c);
			return;
		}
		break;
	case ENOMEM:
		if (op == OP_REGISTER) {
			explain_enomem(sb, c);
			return;
		}
		break;
	case ENODEV:
		sbuf_printf(sb, "%s is gone (removed or unbound from vfio-pci)\n", c->bdf);
		return;
	}
	sbuf_printf(sb, "P2P %s of BAR %d of %s failed: %s\n",
		    op == OP_UNREGISTER ? "unregistration" :
		    op == OP_REGISTER ? "registration" : "query",
		    c->bar, c->bdf, strerror(err));
	sbuf_printf(sb, "  See dmesg for what the kernel said.\n");
}

void explain_read(struct sbuf *sb, int err, const char *dev,
		  const char *client, const char *provider)
{
	const char *who = client && *client ? client : "the device behind it";

	switch (err) {
	case EREMOTEIO:
	case EINVAL:
		sbuf_printf(sb, "O_DIRECT read from %s into the p2pmem of %s failed: %s\n",
			    dev, provider, strerror(err));
		sbuf_printf(sb, "  Most likely there is no P2P DMA path between the client %s (%s) "
				"and the provider %s.\n",
			    who, dev, provider);
		sbuf_printf(sb, "  The kernel's P2PDMA core allows a transfer only between devices "
				"below a common PCIe switch or bridge, or below host bridges known "
				"to route P2P traffic (a whitelist of some Intel host bridges and "
				"AMD Zen and later CPUs). Otherwise the block layer fails the I/O "
				"and dmesg says \"cannot be used for peer-to-peer DMA as the "
				"client and provider (...) do not share an upstream bridge or "
				"whitelisted host bridge\".\n");
		sbuf_printf(sb, "  Check: dmesg | grep -i peer-to-peer; lspci -tv for the "
				"topology. The client's driver must also support P2PDMA (nvme "
				"does). Offset and size were checked against the logical block "
				"size already.\n");
		return;
	case EFAULT:
		sbuf_printf(sb, "O_DIRECT read from %s into the p2pmem of %s failed: %s\n",
			    dev, provider, strerror(err));
		sbuf_printf(sb, "  The block layer could not take the P2P pages: the driver of %s "
				"may not support P2PDMA, or the registration ended and the buffer "
				"was unmapped.\n",
			    dev);
		return;
	case EIO:
		sbuf_printf(sb, "O_DIRECT read from %s failed with an I/O error\n", dev);
		sbuf_printf(sb, "  See dmesg for the device's error.\n");
		return;
	}
	sbuf_printf(sb, "O_DIRECT read from %s into the p2pmem of %s failed: %s\n",
		    dev, provider, strerror(err));
	sbuf_printf(sb, "  See dmesg for what the kernel said.\n");
}

/*
 * mmap() at a file offset that places the buffer failed with -@err; @vfio:
 * through the VFIO device file rather than p2pmem/allocate
 */
static bool explain_place(struct sbuf *sb, int err, uint64_t len, const char *bdf,
			  const struct p2p_place *p, bool vfio)
{
	const char *dev = bdf ? bdf : "the device";
	uint64_t end = p->at + len - 1;
	char s1[32];

	switch (err) {
	case EINVAL:
		sbuf_printf(sb, "cannot place %s at offset 0x%llx of BAR %d of %s: 0x%llx-0x%llx "
				"does not lie inside one registered range\n",
			    fmt_size(len, s1, sizeof(s1)), (unsigned long long)p->at, p->bar,
			    dev, (unsigned long long)p->at, (unsigned long long)end);
		if (p->range_known)
			sbuf_printf(sb, "  The range registered of BAR %d is 0x%llx-0x%llx: the "
					"buffer (--bs x --qd) must start at 0x%llx or after and end "
					"by 0x%llx. --at is an offset in the BAR, not in the range.\n",
				    p->bar, (unsigned long long)p->range_offset,
				    (unsigned long long)(p->range_offset + p->range_size - 1),
				    (unsigned long long)p->range_offset,
				    (unsigned long long)(p->range_offset + p->range_size - 1));
		else
			sbuf_printf(sb, "  --at is an offset in the BAR, not in the range: "
					"'vfio-p2p probe %s' shows what is registered.\n", dev);
		if (vfio)
			sbuf_printf(sb, "  With nothing registered (the registration may have "
					"ended: device reset, memory decode off, low power) every "
					"offset is refused so.\n");
		else
			sbuf_printf(sb, "  A kernel without placement of p2pmem buffers takes only "
					"file offset 0 and refuses this too: then leave out --at.\n");
		return true;
	case EBUSY:
		sbuf_printf(sb, "cannot place %s at offset 0x%llx of BAR %d of %s: some of "
				"0x%llx-0x%llx is allocated already\n",
			    fmt_size(len, s1, sizeof(s1)), (unsigned long long)p->at, p->bar,
			    dev, (unsigned long long)p->at, (unsigned long long)end);
		sbuf_printf(sb, "  Another p2pmem buffer, of this or another process (or of the "
				"driver that owns the P2P memory), holds it%s. Choose another --at, "
				"or end what holds it.\n",
			    vfio ? ": mappings through the VFIO device file and placed mappings "
				   "of p2pmem/allocate share one pool; or an ended registration "
				   "there is still draining its I/O" : "");
		return true;
	}
	return false;
}

void explain_mmap(struct sbuf *sb, int err, const char *path, uint64_t len,
		  const char *bdf, const struct p2p_place *place)
{
	uint64_t size, avail;
	char s1[32], s2[32], s3[32];

	if (place && explain_place(sb, err, len, bdf, place, false))
		return;
	switch (err) {
	case ENOENT:
	case ENODEV:
		sbuf_printf(sb, "%s: no P2P memory there (%s)\n", path, strerror(err));
		sbuf_printf(sb, "  Register a BAR first and run the command under it: vfio-p2p "
				"register BDF --bar N -- COMMAND. The registration may also have "
				"ended (device reset, memory decode off, low power).\n");
		return;
	case ENOMEM:
		sbuf_printf(sb, "not enough free P2P memory for %s in %s\n",
			    fmt_size(len, s1, sizeof(s1)), path);
		if (bdf && !pci_p2pmem(bdf, &size, &avail))
			sbuf_printf(sb, "  %s has %s of P2P memory, %s of it available. Use a "
					"smaller --bs or --qd, or register a larger range.\n",
				    bdf, fmt_size(size, s2, sizeof(s2)),
				    fmt_size(avail, s3, sizeof(s3)));
		else
			sbuf_printf(sb,
				    "  Use a smaller --bs or --qd, or register a larger range.\n");
		return;
	case EACCES:
	case EPERM:
		sbuf_printf(sb, "no permission to map %s\n", path);
		sbuf_printf(sb, "  p2pmem/allocate belongs to root (mode 0660): run as root, or "
				"have root give it to this user; or map the memory through the "
				"VFIO device file instead, which needs no sysfs file ('vfio-p2p read "
				"--vfio', vfio_p2p_vfio_map_at()).\n");
		return;
	}
	sbuf_printf(sb, "mmap of %s failed: %s\n", path, strerror(err));
	sbuf_printf(sb, "  See dmesg for what the kernel said.\n");
}

void explain_vfio_mmap(struct sbuf *sb, int err, int fd, uint64_t len,
		       const char *bdf, const struct p2p_place *place)
{
	const char *dev = bdf ? bdf : "the device";
	char s1[32];

	if (place && explain_place(sb, err, len, bdf, place, true))
		return;
	switch (err) {
	case ENOENT:
		sbuf_printf(sb, "the VFIO device file (fd %d) of %s has no page-backed region "
				"for BAR %d\n", fd, dev, place ? place->bar : -1);
		sbuf_printf(sb, "  The running kernel cannot map P2P pages through the VFIO "
				"device file (no region of type VFIO_REGION_TYPE_PCI_P2P), or the "
				"BAR cannot be registered. Map p2pmem/allocate instead: leave out "
				"--vfio ('read --at OFFSET' places the buffer there).\n");
		return;
	case EBADF:
	case ENOTTY:
		sbuf_printf(sb, "file descriptor %d is not a VFIO device file (%s)\n", fd,
			    strerror(err));
		sbuf_printf(sb, "  --vfio maps through the file descriptor that 'vfio-p2p "
				"register BDF --bar N -- COMMAND' passes in VFIO_P2P_DEVICE_FD; "
				"nothing between them may close it.\n");
		return;
	}
	sbuf_printf(sb, "mmap of %s through the VFIO device file (fd %d) of %s failed: %s\n",
		    fmt_size(len, s1, sizeof(s1)), fd, dev, strerror(err));
	sbuf_printf(sb, "  See dmesg for what the kernel said.\n");
}
