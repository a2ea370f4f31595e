/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Page-backed P2P buffers through the VFIO device file.
 *
 * For each BAR that can be registered with VFIO_DEVICE_FEATURE_P2P_REGISTER,
 * a vfio-pci device has a device specific region (index
 * VFIO_PCI_NUM_REGIONS or above) whose VFIO_REGION_INFO_CAP_TYPE
 * capability has type VFIO_REGION_TYPE_PCI_P2P and subtype the BAR index.
 * The region is as large as the BAR and has VFIO_REGION_INFO_FLAG_MMAP but
 * neither READ nor WRITE (read() and write() of it fail with EINVAL; those
 * of the BAR's own region keep working).
 *
 * While a range of the BAR is registered, a MAP_SHARED mmap() of the
 * device file at (offset of that region + X) maps the P2P struct pages at
 * offset X of the BAR: a buffer that O_DIRECT and io_uring I/O can use, the
 * same memory that an mmap() of p2pmem/allocate at
 * PCI_P2PMEM_MMAP_OFFSET(bar, X) would give.  X must be page aligned and
 * the buffer must lie inside the registered range (EINVAL otherwise) and
 * be free (EBUSY otherwise: these mappings and the placed mappings of
 * p2pmem/allocate share one pool).  Ending the registration (unregister,
 * close, reset, ...) unmaps it: accesses raise SIGBUS from then on.
 *
 * No sysfs file and no privilege are involved: whoever has the VFIO device
 * file descriptor can map the memory its registration created.
 *
 * /proc/<pid>/maps shows such a mapping as one of the device file at that
 * file offset; which region (and so which BAR) the offset falls in, only
 * VFIO_DEVICE_GET_REGION_INFO on the device file tells.
 * vfio_p2p_vfio_where() decodes with it, vfio_p2p_vfio_regions() collects
 * it for vfio_p2p_where_dev() and vfio_p2p_locate_dev() (vfio_p2p_where.h).
 *
 * No dependencies beyond libc and <linux/vfio.h> of any kernel: copy
 * vfio_p2p_vfio.[ch] and vfio_p2p_where.[ch] into a program, or link
 * libvfio-p2p.a built next to the vfio-p2p tool.  If the program also includes <linux/vfio.h>, include
 * it before this file: the definitions below stand in for its own when the
 * installed headers predate them.
 */
#ifndef VFIO_P2P_VFIO_LIB_H
#define VFIO_P2P_VFIO_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "vfio_p2p_where.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef VFIO_REGION_TYPE_PCI_P2P
/* The UAPI of <linux/vfio.h>, for headers installed before it */
#define VFIO_REGION_TYPE_PCI_P2P	(4)
#endif

/* Where the page-backed region of a BAR is in the VFIO device file */
struct vfio_p2p_vfio_region {
	uint32_t index;		/* region index, VFIO_PCI_NUM_REGIONS or above */
	uint32_t flags;		/* VFIO_REGION_INFO_FLAG_* */
	uint64_t offset;	/* of the region in the device file */
	uint64_t size;		/* the size of the BAR */
};

/*
 * vfio_p2p_vfio_region - find the page-backed region of a BAR
 * @device_fd: a VFIO device file descriptor of a PCI device
 * @bar: the BAR (0 to 5)
 * @region: filled in on success
 *
 * Walks VFIO_DEVICE_GET_REGION_INFO of the device specific regions
 * (VFIO_PCI_NUM_REGIONS to num_regions - 1 of VFIO_DEVICE_GET_INFO) and
 * their capability chains for the VFIO_REGION_INFO_CAP_TYPE capability of
 * type VFIO_REGION_TYPE_PCI_P2P and subtype @bar.  The region exists from
 * the open of the device whether the BAR is registered or not; mmap() of
 * it works only inside a registered range.
 *
 * Return: 0, or a negative errno:
 *  -EINVAL   @bar is not 0 to 5
 *  -ENOENT   no such region: a kernel without page-backed mappings through
 *            VFIO, a BAR that cannot be registered, a device that is not a
 *            PCI device, or a variant driver that does not offer P2P
 *            registration
 *  -EBADF    @device_fd is not an open file descriptor
 *  -ENOTTY   @device_fd is not a VFIO device file
 *  -EPROTO   nothing found, and some region's capability chain was
 *            malformed
 *  others    from the ioctls (-ENOMEM, ...)
 */
int vfio_p2p_vfio_region(int device_fd, int bar,
			 struct vfio_p2p_vfio_region *region);

/*
 * vfio_p2p_vfio_map_at - map P2P pages of a BAR through the VFIO device file
 * @device_fd: a VFIO device file descriptor whose device has a range of
 *	BAR @bar registered (VFIO_DEVICE_FEATURE_P2P_REGISTER)
 * @bar: the BAR (0 to 5)
 * @bar_offset: where the buffer starts, in bytes from the start of the BAR
 *	(not of the registered range); a multiple of the page size
 * @len: its length in bytes (the kernel rounds it up to pages)
 * @err: if not NULL, 0 or the negative errno of the failure
 *
 * Finds the region with vfio_p2p_vfio_region() and mmap()s @len bytes of
 * the device file at its offset + @bar_offset, shared, readable and
 * writable.  What a peer device writes into the buffer is at @bar_offset
 * of BAR @bar for the device.  The file descriptor stays open (the caller
 * owns it); munmap() the buffer to give the memory back.
 *
 * Return: the buffer, or NULL (never MAP_FAILED) with *@err:
 *  -EINVAL   @bar, @bar_offset or @len not valid, or beyond the end of the
 *            BAR; or from the kernel: not inside the registered range (or
 *            nothing registered)
 *  -EBUSY    some of that memory is allocated already (another mapping of
 *            this region or a placed mapping of p2pmem/allocate), or it
 *            belongs to an ended registration whose I/O is still draining
 *  -ENOENT, -EBADF, -ENOTTY, -EPROTO  as vfio_p2p_vfio_region()
 *  -EOVERFLOW the file offset does not fit in off_t (32-bit off_t)
 *  others    from mmap() (-ENOMEM, ...)
 */
void *vfio_p2p_vfio_map_at(int device_fd, int bar, uint64_t bar_offset,
			   size_t len, int *err);

/*
 * vfio_p2p_vfio_regions - what decoding mappings of a VFIO device file needs
 * @device_fd: a VFIO device file descriptor
 * @regions: filled in: every region of type VFIO_REGION_TYPE_PCI_P2P (the
 *	first one of each BAR), its offset and size as
 *	VFIO_DEVICE_GET_REGION_INFO gives them, st_dev and st_ino of the file,
 *	and, for a VFIO character device, the PCI device (from
 *	/sys/dev/char/MAJ:MIN; "" otherwise: set it yourself if you know it)
 *
 * The regions are there from the open of the device and do not change
 * while it is open: collect them once and decode any number of mappings
 * with vfio_p2p_where_dev() or vfio_p2p_locate_dev().  A device without
 * such regions gives 0 regions, not an error.
 *
 * Return: 0, or a negative errno: -EBADF, -ENOTTY (not a VFIO device file),
 * -EPROTO (malformed capability chains and no region found), or from the
 * ioctls.
 */
int vfio_p2p_vfio_regions(int device_fd, struct vfio_p2p_regions *regions);

/*
 * vfio_p2p_vfio_where - the BAR and offset in the BAR of @addr, also for
 * mappings of the VFIO device file @device_fd
 * @device_fd: the VFIO device file descriptor to decode with
 * @addr: an address inside a mapping of this process: of @device_fd's P2P
 *	region (vfio_p2p_vfio_map_at()) or of p2pmem/allocate
 *	(vfio_p2p_map_at())
 * @bar: the BAR index (0 to 5)
 * @bar_offset: the offset of @addr within that BAR
 *
 * vfio_p2p_vfio_regions() and vfio_p2p_where_dev(): a mapping of the device
 * file at a file offset inside the region of BAR b that starts at file
 * offset R is at BAR b, offset (file offset - R); a mapping of
 * p2pmem/allocate is decoded from PCI_P2PMEM_MMAP_OFFSET() as by
 * vfio_p2p_where().  Reads /proc/self/maps and asks the device for its
 * regions: call it once per buffer, not in a fast path.
 *
 * Return: 0, or a negative errno: as vfio_p2p_where_dev() (-ENOENT: in a
 * mapping of @device_fd outside its P2P regions, or of no p2pmem file;
 * -ENODEV: of another VFIO device file), or as vfio_p2p_vfio_regions().
 */
int vfio_p2p_vfio_where(int device_fd, const void *addr, int *bar,
			uint64_t *bar_offset);

/*
 * vfio_p2p_region_info_type - the VFIO_REGION_INFO_CAP_TYPE capability of
 * the answer of VFIO_DEVICE_GET_REGION_INFO
 * @info: the struct vfio_region_info and its capabilities, as the ioctl
 *	wrote them
 * @len: the bytes at @info (the argsz that was passed in)
 * @type: the type, if found
 * @subtype: the subtype, if found
 *
 * Return: 0; -ENOENT if the region has no such capability (or the answer
 * was cut: cap_offset 0); -EINVAL if @len is too short for the structure
 * or the chain leaves @info or loops.
 */
int vfio_p2p_region_info_type(const void *info, size_t len, uint32_t *type,
			      uint32_t *subtype);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_P2P_VFIO_LIB_H */
