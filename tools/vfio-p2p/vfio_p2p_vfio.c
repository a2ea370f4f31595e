// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Find the page-backed P2P region of a BAR in a VFIO device file and map
 * P2P pages through it.  See vfio_p2p_vfio.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <linux/vfio.h>

#include "vfio_p2p_vfio.h"

#ifndef VFIO_REGION_INFO_CAP_TYPE
#define VFIO_REGION_INFO_CAP_TYPE	2
#endif

#define NUM_BARS	(VFIO_PCI_BAR5_REGION_INDEX + 1)
/* A region's capabilities are a few dozen bytes; refuse absurd answers */
#define MAX_INFO_LEN	65536

/* struct vfio_info_cap_header, then type and subtype */
struct cap_type {
	uint16_t id;
	uint16_t version;
	uint32_t next;
	uint32_t type;
	uint32_t subtype;
};

int vfio_p2p_region_info_type(const void *info, size_t len, uint32_t *type,
			      uint32_t *subtype)
{
	const size_t hdr_len = offsetof(struct cap_type, type);
	struct vfio_region_info ri;
	struct cap_type cap;
	size_t off, hops;

	if (!info || len < sizeof(ri))
		return -EINVAL;
	memcpy(&ri, info, sizeof(ri));
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_CAPS) || !ri.cap_offset)
		return -ENOENT;

	/* Each capability takes at least a header, so a chain is that short */
	for (off = ri.cap_offset, hops = 0; off; off = cap.next, hops++) {
		if (hops > len / hdr_len || off < sizeof(ri) || off > len - hdr_len)
			return -EINVAL;
		memset(&cap, 0, sizeof(cap));
		memcpy(&cap, (const char *)info + off, hdr_len);
		if (cap.id != VFIO_REGION_INFO_CAP_TYPE)
			continue;
		if (off > len - sizeof(cap))
			return -EINVAL;
		memcpy(&cap, (const char *)info + off, sizeof(cap));
		*type = cap.type;
		*subtype = cap.subtype;
		return 0;
	}
	return -ENOENT;
}

/*
 * VFIO_DEVICE_GET_REGION_INFO of @index with its capabilities: asks again
 * with the argsz the kernel says it needs.  *@info is malloc()ed.
 */
static int region_info(int fd, uint32_t index, struct vfio_region_info **info,
		       size_t *len)
{
	size_t argsz = sizeof(**info);
	struct vfio_region_info *ri = NULL;
	int tries, ret;

	for (tries = 0; tries < 3; tries++) {
		ri = calloc(1, argsz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = (uint32_t)argsz;
		ri->index = index;
		if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			ret = -errno;
			free(ri);
			return ret;
		}
		if (ri->argsz <= argsz) {
			*info = ri;
			*len = argsz;
			return 0;
		}
		argsz = ri->argsz;
		free(ri);
		if (argsz > MAX_INFO_LEN)
			return -EPROTO;
	}
	return -EPROTO;
}

int vfio_p2p_vfio_region(int device_fd, int bar,
			 struct vfio_p2p_vfio_region *region)
{
	struct vfio_device_info dev = { .argsz = sizeof(dev) };
	struct vfio_region_info *ri = NULL;
	uint32_t index, type, subtype;
	bool malformed = false;
	size_t len = 0;
	int ret;

	if (bar < 0 || bar >= NUM_BARS)
		return -EINVAL;
	if (device_fd < 0)
		return -EBADF;
	if (ioctl(device_fd, VFIO_DEVICE_GET_INFO, &dev))
		return -errno;
	if (!(dev.flags & VFIO_DEVICE_FLAGS_PCI))
		return -ENOENT;

	for (index = VFIO_PCI_NUM_REGIONS; index < dev.num_regions; index++) {
		ret = region_info(device_fd, index, &ri, &len);
		if (ret)
			return ret;
		ret = vfio_p2p_region_info_type(ri, len, &type, &subtype);
		if (ret == -EINVAL)
			malformed = true;
		if (!ret && type == VFIO_REGION_TYPE_PCI_P2P &&
		    subtype == (uint32_t)bar) {
			region->index = index;
			region->flags = ri->flags;
			region->offset = ri->offset;
			region->size = ri->size;
			free(ri);
			return 0;
		}
		free(ri);
	}
	return malformed ? -EPROTO : -ENOENT;
}

void *vfio_p2p_vfio_map_at(int device_fd, int bar, uint64_t bar_offset,
			   size_t len, int *err)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vfio_p2p_vfio_region r;
	uint64_t off;
	void *p = NULL;
	int ret;

	ret = -EINVAL;
	if (bar < 0 || bar >= NUM_BARS || !len || page <= 0 ||
	    bar_offset % (uint64_t)page)
		goto out;
	ret = vfio_p2p_vfio_region(device_fd, bar, &r);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (bar_offset >= r.size || len > r.size - bar_offset)
		goto out;
	ret = -EOVERFLOW;
	off = r.offset + bar_offset;
	if (off < r.offset || (off_t)off < 0 || (uint64_t)(off_t)off != off)
		goto out;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, device_fd, (off_t)off);
	ret = p == MAP_FAILED ? -errno : 0;
	if (p == MAP_FAILED)
		p = NULL;
out:
	if (err)
		*err = ret;
	return p;
}
