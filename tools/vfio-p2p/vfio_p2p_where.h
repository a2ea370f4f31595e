/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Where does a p2pmem buffer lie in its BAR?
 *
 * A shared mapping of /sys/bus/pci/devices/<BDF>/p2pmem/allocate gives a
 * process a buffer in the P2P memory of the device.  The file offset of
 * the mapping says where that buffer is to be:
 *
 *  - 0: anywhere there is room.  The kernel does not say where it put it:
 *    /proc/<pid>/maps shows file offset 0 and nothing else tells.
 *  - PCI_P2PMEM_MMAP_OFFSET(bar, offset) (<linux/pci.h>), that is
 *    (bar + 1) << 48 | offset: exactly @offset bytes into BAR @bar (0 to
 *    5), page aligned.  mmap() fails with EBUSY if any of it is allocated
 *    already, with EINVAL if it does not lie inside one registered range.
 *
 * A userspace driver that reads data from an NVMe into the buffer with
 * O_DIRECT, and must tell its device where the data landed, places the
 * buffer: vfio_p2p_map_at() below.  The kernel leaves the file offset of a
 * mapping as it was given, so /proc/<pid>/maps of a placed mapping tells
 * any process where it is; vfio_p2p_where() and vfio_p2p_locate() decode
 * it, and say -ENXIO for a buffer that was not placed.
 *
 * No dependencies beyond libc: copy vfio_p2p_where.[ch] into a program, or
 * link libvfio-p2p.a built next to the vfio-p2p tool.  If the program also
 * includes <linux/pci.h>, include it before this file: the definitions
 * below stand in for its own when the installed headers predate them.
 *
 * Kernels without placement refuse every file offset but 0 (EINVAL) and
 * show 0 for every mapping, so nothing of theirs decodes as placed.
 *
 * The same P2P pages can be mapped through the VFIO device file
 * (vfio_p2p_vfio_map_at() in vfio_p2p_vfio.h): at the offset of the BAR's
 * page-backed region (type VFIO_REGION_TYPE_PCI_P2P, subtype the BAR) plus
 * the offset in the BAR.  /proc/<pid>/maps shows that file offset and the
 * device file: "/dev/vfio/devices/vfioN" (or "noiommu-vfioN") when the
 * device was opened through its VFIO character device and iommufd,
 * "anon_inode:[vfio-device]" when it came from VFIO_GROUP_GET_DEVICE_FD.
 * But where each region lies in the file is not UAPI: only
 * VFIO_DEVICE_GET_REGION_INFO on the device file tells it, so only a
 * process that holds that file (its own, or one inherited, as "vfio-p2p
 * register -- COMMAND" passes it down) can decode such a mapping, of its
 * own or of another process.  It describes its device file in a struct
 * vfio_p2p_regions (vfio_p2p_vfio_regions() fills one in) and decodes with
 * the _dev variants below, or calls vfio_p2p_vfio_where().  Without one,
 * a mapping of a VFIO device file gives -ENODEV.
 */
#ifndef VFIO_P2P_WHERE_H
#define VFIO_P2P_WHERE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef PCI_P2PMEM_MMAP_OFFSET
/* The UAPI of <linux/pci.h>, for headers installed before it */
#define PCI_P2PMEM_MMAP_BAR_SHIFT	48
#define PCI_P2PMEM_MMAP_OFFSET_MASK	((1ULL << PCI_P2PMEM_MMAP_BAR_SHIFT) - 1)
#define PCI_P2PMEM_MMAP_OFFSET(bar, offset)				\
	((((uint64_t)(bar) + 1) << PCI_P2PMEM_MMAP_BAR_SHIFT) |		\
	 ((uint64_t)(offset) & PCI_P2PMEM_MMAP_OFFSET_MASK))
#endif

#define VFIO_P2P_NUM_BARS	6

/*
 * vfio_p2p_map_at - map a p2pmem buffer placed at a chosen BAR offset
 * @allocate_path: /sys/bus/pci/devices/<BDF>/p2pmem/allocate
 * @bar: the BAR (0 to 5) whose registered range holds the buffer
 * @bar_offset: where the buffer starts, in bytes from the start of the BAR;
 *	a multiple of the page size
 * @len: its length in bytes (the kernel rounds it up to pages)
 * @err: if not NULL, 0 or the negative errno of the failure
 *
 * Maps @len bytes of p2pmem shared, readable and writable, at file offset
 * PCI_P2PMEM_MMAP_OFFSET(@bar, @bar_offset): the pages are those of BAR
 * @bar from @bar_offset on, so what a peer device writes to that buffer is
 * at @bar_offset in the BAR for the owner of the device.  The file
 * descriptor is closed again; munmap() the buffer to give it back.
 *
 * Return: the buffer, or NULL (never MAP_FAILED) with *@err:
 *  -EINVAL   @bar, @bar_offset or @len not valid here; or from the kernel:
 *            the buffer does not lie inside one registered range of BAR
 *            @bar, or the kernel cannot place buffers (offset 0 only)
 *  -EBUSY    some of that memory is allocated already (another buffer)
 *  -ENODEV   the device has no P2P memory (any more)
 *  -ENOENT   no such file: nothing of the device was ever registered
 *  -EOVERFLOW the file offset does not fit in off_t (32-bit off_t)
 *  others    from open() and mmap() (-EACCES, -ENOMEM, ...)
 */
void *vfio_p2p_map_at(const char *allocate_path, int bar, uint64_t bar_offset,
		      size_t len, int *err);

/* How /proc/<pid>/maps names VFIO device files (see above) */
#define VFIO_P2P_MAPS_ANON_DEVICE	"anon_inode:[vfio-device]"
#define VFIO_P2P_MAPS_CDEV_DIR		"/dev/vfio/devices/"

/*
 * The page-backed P2P regions of one VFIO device file, as
 * VFIO_DEVICE_GET_REGION_INFO tells a process that holds it, and the
 * identity of the file, as fstat() and /proc/<pid>/maps show it.
 */
struct vfio_p2p_regions {
	unsigned int dev_major;	/* st_dev of the device file */
	unsigned int dev_minor;
	uint64_t inode;		/* st_ino */
	char bdf[16];		/* its PCI device, "" if not known */
	unsigned int nr;	/* entries of region[] in use */
	struct vfio_p2p_regions_entry {
		uint32_t index;		/* region index */
		int bar;		/* its subtype: the BAR, 0 to 5 */
		uint64_t offset;	/* of the region in the device file */
		uint64_t size;		/* of the region: the size of the BAR */
	} region[VFIO_P2P_NUM_BARS];
};

/*
 * vfio_p2p_where - the BAR and offset in the BAR of @addr
 * @addr: an address inside a p2pmem/allocate mapping of this process
 * @bar: the BAR index (0 to 5)
 * @bar_offset: the offset of @addr within that BAR
 *
 * Decodes the file offset of the mapping, as /proc/self/maps shows it, and
 * adds the distance of @addr from the start of the mapping.  Reads
 * /proc/self/maps, so it is not meant for a fast path: call it once per
 * buffer and add the offset within the buffer yourself.
 *
 * Return: 0, or a negative errno:
 *  -ENXIO    mapped at offset 0, from anywhere: the kernel does not say
 *            where; place it (vfio_p2p_map_at()).  Also for the parts of
 *            such a mapping that munmap() or mremap() split off (their
 *            file offsets are below 1 << PCI_P2PMEM_MMAP_BAR_SHIFT)
 *  -EFAULT   no mapping contains @addr
 *  -ENOENT   @addr is mapped, but not from a p2pmem/allocate file
 *  -ESTALE   the mapping's file is gone (the P2P memory was removed, e.g.
 *            vfio-pci was unbound); accesses raise SIGBUS
 *  -EINVAL   the file offset names no BAR (above BAR 5)
 *  -ENODEV   @addr is in a mapping of a VFIO device file: only a holder of
 *            that file can tell where its regions lie, decode it with
 *            vfio_p2p_where_dev() or vfio_p2p_vfio_where()
 *  others    from reading /proc/self/maps
 */
int vfio_p2p_where(const void *addr, int *bar, uint64_t *bar_offset);

/*
 * vfio_p2p_where_dev - vfio_p2p_where() that also decodes mappings of the
 * VFIO device file that @regions describes
 * @addr: an address inside a mapping of p2pmem/allocate, or of that VFIO
 *	device file
 * @regions: the device file to decode with; NULL: as vfio_p2p_where()
 * @bar: the BAR index (0 to 5)
 * @bar_offset: the offset of @addr within that BAR
 *
 * A mapping of p2pmem/allocate is decoded as by vfio_p2p_where(), whatever
 * @regions says.  A mapping of the device file of @regions (same st_dev and
 * st_ino, and for an anonymous inode also the name "[vfio-device]", since
 * all anonymous inode files may share one inode) whose file offset lies in
 * one of its P2P regions is at BAR = that region's BAR, offset = file
 * offset - region offset; the distance of @addr from the start of the
 * mapping is in the file offset already.
 *
 * VFIO device files opened through VFIO_GROUP_GET_DEVICE_FD all share one
 * anonymous inode, so in /proc/<pid>/maps they all look alike: a mapping of
 * another such device file of the process is decoded with the regions of
 * @regions' device.  Ask about the mappings of the device you pass; those
 * opened through /dev/vfio/devices/vfioN are told apart.
 *
 * Return: 0, or as vfio_p2p_where(), and:
 *  -ENOENT   @addr is in a mapping of the device file of @regions, but not
 *            in one of its P2P regions (a BAR mmap(), another region)
 *  -ENODEV   @addr is in a mapping of another VFIO device file, or
 *            @regions is NULL
 *  -ESTALE   also for a mapping of the device file that is deleted (the
 *            device is gone)
 */
int vfio_p2p_where_dev(const void *addr, const struct vfio_p2p_regions *regions,
		       int *bar, uint64_t *bar_offset);

/* The full answer, for any process */
struct vfio_p2p_loc {
	char bdf[16];		/* PCI device that has the BAR, "dddd:bb:dd.f" */
	int bar;		/* -1: not known */
	uint64_t bar_offset;	/* of the address asked about */
	uint64_t map_start;	/* the mapping that contains it */
	uint64_t map_end;
	uint64_t map_bar_offset; /* offset of map_start within the BAR */
	bool deleted;
	char path[PATH_MAX];	/* file of the mapping, "" if anonymous */
	uint64_t file_offset;	/* of the address in that file */
	bool vfio;		/* the file is a VFIO device file */
	int region;		/* its P2P region that holds the address, -1: none */
};

/*
 * vfio_p2p_locate - like vfio_p2p_where() for process @pid (0: self).
 * Fills @loc as far as known also on -ENXIO, -ENOENT, -ENODEV, -ESTALE and
 * -EINVAL (path, device, mapping); loc->bar is -1 whenever the location is
 * not known.  -ESTALE comes before -ENXIO and -EINVAL: the memory is gone
 * either way.  Returns -ESRCH if there is no process @pid.
 */
int vfio_p2p_locate(pid_t pid, uint64_t addr, struct vfio_p2p_loc *loc);
/*
 * The same as vfio_p2p_where_dev() for process @pid: @regions describes a
 * VFIO device file that this process holds; a mapping of process @pid is
 * decoded with it if it maps the same file (inherited, or passed over a
 * socket).  loc->bdf is @regions->bdf for those.
 */
int vfio_p2p_locate_dev(pid_t pid, uint64_t addr, const struct vfio_p2p_regions *regions,
			struct vfio_p2p_loc *loc);
/* The same, reading maps lines from @maps (for tests and saved maps files) */
int vfio_p2p_locate_in(FILE *maps, uint64_t addr, struct vfio_p2p_loc *loc);
int vfio_p2p_locate_in_dev(FILE *maps, uint64_t addr,
			   const struct vfio_p2p_regions *regions,
			   struct vfio_p2p_loc *loc);

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
 *
 * bar = (@pgoff >> PCI_P2PMEM_MMAP_BAR_SHIFT) - 1, and the offset is the
 * low bits of @pgoff plus @addr - @map_start.
 * Return: 0, -ENXIO if @pgoff says "from anywhere" (its BAR field is 0:
 * not placed, location unknown), -EINVAL if it names no BAR or @addr lies
 * before @map_start.
 */
int vfio_p2p_decode(uint64_t pgoff, uint64_t map_start, uint64_t addr,
		    int *bar, uint64_t *bar_offset);

/*
 * vfio_p2p_map_is_vfio - whether @m maps a VFIO device file, by its name:
 * "anon_inode:[vfio-device]" or a file in /dev/vfio/devices/.
 */
bool vfio_p2p_map_is_vfio(const struct vfio_p2p_map *m);

/*
 * vfio_p2p_map_is_dev - whether @m maps the device file of @regions: the
 * same st_dev and st_ino, and the name "anon_inode:[vfio-device]" if it is
 * an anonymous inode (which other anonymous files share).
 */
bool vfio_p2p_map_is_dev(const struct vfio_p2p_map *m,
			 const struct vfio_p2p_regions *regions);

/*
 * vfio_p2p_decode_vfio - split a file offset of the device file of @regions
 * @regions: its P2P regions
 * @pgoff: file offset of the mapping in bytes
 * @map_start: start address of the mapping
 * @addr: an address inside it
 * @bar: the BAR of the region that holds the file offset of @addr
 * @bar_offset: file offset of @addr - offset of that region
 * @index: if not NULL, the index of that region
 *
 * Return: 0, -ENOENT if no P2P region of @regions holds the file offset of
 * @addr, -EINVAL if @addr lies before @map_start or the offset overflows.
 */
int vfio_p2p_decode_vfio(const struct vfio_p2p_regions *regions, uint64_t pgoff,
			 uint64_t map_start, uint64_t addr, int *bar,
			 uint64_t *bar_offset, uint32_t *index);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_P2P_WHERE_H */
