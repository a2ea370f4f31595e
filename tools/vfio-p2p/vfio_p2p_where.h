/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Where does a p2pmem buffer lie in its BAR?
 *
 * A shared mapping of /sys/bus/pci/devices/<BDF>/p2pmem/allocate gives a
 * process a buffer in the P2P memory of the device.  The kernel sets the
 * file offset of that mapping, as /proc/<pid>/maps shows it, to
 *
 *	(BAR index << 56) | offset of the first byte of the buffer in the BAR
 *
 * so a userspace driver that reads data from an NVMe into the buffer with
 * O_DIRECT can tell its device where the data landed.  This file decodes
 * it.  It has no dependencies beyond libc: copy vfio_p2p_where.[ch] into a
 * program, or link libvfio-p2p.a built next to the vfio-p2p tool.
 *
 * On kernels without that encoding the file offset stays 0, and every
 * buffer would look like it lies at offset 0 of BAR 0; there is no way to
 * tell such kernels apart from here.
 */
#ifndef VFIO_P2P_WHERE_H
#define VFIO_P2P_WHERE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VFIO_P2P_BAR_SHIFT	56
#define VFIO_P2P_OFFSET_MASK	((1ULL << VFIO_P2P_BAR_SHIFT) - 1)
#define VFIO_P2P_NUM_BARS	6

/*
 * vfio_p2p_where - the BAR and offset in the BAR of @addr
 * @addr: an address inside a p2pmem/allocate mapping of this process
 * @bar: the BAR index (0 to 5)
 * @bar_offset: the offset of @addr within that BAR
 *
 * Reads /proc/self/maps, so it is not meant for a fast path: call it once
 * per buffer and add the offset within the buffer yourself.
 *
 * Return: 0, or a negative errno:
 *  -EFAULT   no mapping contains @addr
 *  -ENOENT   @addr is mapped, but not from a p2pmem/allocate file
 *  -ESTALE   the mapping's file is gone (the P2P memory was removed, e.g.
 *            the registration of the BAR ended); accesses raise SIGBUS
 *  -EINVAL   the file offset does not name a BAR
 *  others    from reading /proc/self/maps
 */
int vfio_p2p_where(const void *addr, int *bar, uint64_t *bar_offset);

/* The full answer, for any process */
struct vfio_p2p_loc {
	char bdf[16];		/* PCI device that has the BAR, "dddd:bb:dd.f" */
	int bar;
	uint64_t bar_offset;	/* of the address asked about */
	uint64_t map_start;	/* the mapping that contains it */
	uint64_t map_end;
	uint64_t map_bar_offset; /* offset of map_start within the BAR */
	bool deleted;
	char path[PATH_MAX];	/* file of the mapping, "" if anonymous */
};

/*
 * vfio_p2p_locate - like vfio_p2p_where() for process @pid (0: self).
 * Fills @loc as far as known also on -ENOENT and -ESTALE (path, mapping).
 * Returns -ESRCH if there is no process @pid.
 */
int vfio_p2p_locate(pid_t pid, uint64_t addr, struct vfio_p2p_loc *loc);
/* The same, reading maps lines from @maps (for tests and saved maps files) */
int vfio_p2p_locate_in(FILE *maps, uint64_t addr, struct vfio_p2p_loc *loc);

/* One line of /proc/<pid>/maps */
struct vfio_p2p_map {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;		/* file offset in bytes */
	char perms[5];
	unsigned int dev_major;
	unsigned int dev_minor;
	uint64_t inode;
	bool deleted;		/* " (deleted)" was stripped from the path */
	const char *path;	/* points into the line; "" if none */
};

/*
 * vfio_p2p_parse_maps_line - split one maps line.  Modifies @line: cuts
 * the newline and " (deleted)".  Paths may contain spaces.
 * Return: 0 or -EINVAL.
 */
int vfio_p2p_parse_maps_line(char *line, struct vfio_p2p_map *m);

/*
 * vfio_p2p_map_bdf - whether @m maps a p2pmem/allocate file: its path ends
 * in "/<dddd:bb:dd.f>/p2pmem/allocate".  Copies the PCI address to @bdf.
 */
bool vfio_p2p_map_bdf(const struct vfio_p2p_map *m, char bdf[16]);

/*
 * vfio_p2p_decode - split a p2pmem mapping's file offset.
 * @pgoff: file offset of the mapping in bytes
 * @map_start: start address of the mapping
 * @addr: an address inside it
 * Return: 0 or -EINVAL if @pgoff does not name a BAR.
 */
int vfio_p2p_decode(uint64_t pgoff, uint64_t map_start, uint64_t addr,
		    int *bar, uint64_t *bar_offset);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_P2P_WHERE_H */
