// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Find the page-backed P2P region of a BAR in a VFIO device file, map P2P
 * pages through it, and decode such mappings.  See vfio_p2p_vfio.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/*
 * Call @found for each device specific region of @device_fd whose type
 * capability says VFIO_REGION_TYPE_PCI_P2P, until it returns non-zero.
 * Returns what @found returned, 0 when the walk ended, -EPROTO if nothing
 * stopped it and some capability chain was malformed, or -errno.
 */
static int walk_p2p_regions(int device_fd,
			    int (*found)(void *priv, uint32_t index, uint32_t subtype,
					 const struct vfio_region_info *ri),
			    void *priv)
{
	struct vfio_device_info dev = { .argsz = sizeof(dev) };
	struct vfio_region_info *ri = NULL;
	uint32_t index, type, subtype;
	bool malformed = false;
	size_t len = 0;
	int ret;

	if (device_fd < 0)
		return -EBADF;
	if (ioctl(device_fd, VFIO_DEVICE_GET_INFO, &dev))
		return -errno;
	if (!(dev.flags & VFIO_DEVICE_FLAGS_PCI))
		return 0;

	for (index = VFIO_PCI_NUM_REGIONS; index < dev.num_regions; index++) {
		ret = region_info(device_fd, index, &ri, &len);
		if (ret)
			return ret;
		ret = vfio_p2p_region_info_type(ri, len, &type, &subtype);
		if (ret == -EINVAL)
			malformed = true;
		if (!ret && type == VFIO_REGION_TYPE_PCI_P2P)
			ret = found(priv, index, subtype, ri);
		else
			ret = 0;
		free(ri);
		if (ret)
			return ret;
	}
	return malformed ? -EPROTO : 0;
}

struct find_bar {
	uint32_t bar;
	struct vfio_p2p_vfio_region *region;
};

static int find_bar(void *priv, uint32_t index, uint32_t subtype,
		    const struct vfio_region_info *ri)
{
	struct find_bar *f = priv;

	if (subtype != f->bar)
		return 0;
	f->region->index = index;
	f->region->flags = ri->flags;
	f->region->offset = ri->offset;
	f->region->size = ri->size;
	return 1;
}

int vfio_p2p_vfio_region(int device_fd, int bar,
			 struct vfio_p2p_vfio_region *region)
{
	struct find_bar f = { .bar = (uint32_t)bar, .region = region };
	int ret;

	if (bar < 0 || bar >= NUM_BARS)
		return -EINVAL;
	ret = walk_p2p_regions(device_fd, find_bar, &f);
	if (ret == 1)
		return 0;
	return ret ? ret : -ENOENT;
}

static int add_region(void *priv, uint32_t index, uint32_t subtype,
		      const struct vfio_region_info *ri)
{
	struct vfio_p2p_regions *t = priv;
	struct vfio_p2p_regions_entry *e;
	unsigned int i;

	/* One region per BAR; a second one of a BAR would be ambiguous */
	if (subtype >= NUM_BARS || t->nr >= VFIO_P2P_NUM_BARS)
		return 0;
	for (i = 0; i < t->nr; i++)
		if (t->region[i].bar == (int)subtype)
			return 0;
	e = &t->region[t->nr++];
	e->index = index;
	e->bar = (int)subtype;
	e->offset = ri->offset;
	e->size = ri->size;
	return 0;
}

/*
 * The PCI device of a VFIO character device: /sys/dev/char/MAJ:MIN links
 * to .../dddd:bb:dd.f/vfio-dev/vfioN.  Leaves @bdf alone if it cannot tell.
 */
static void cdev_bdf(const struct stat *st, char bdf[16])
{
	char link[64], target[512];
	const char *p;
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u", major(st->st_rdev),
		 minor(st->st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	p = strstr(target, "/vfio-dev/");
	if (!p || p - target < 13 || p[-13] != '/')
		return;
	p -= 12;
	if (p[4] != ':' || p[7] != ':' || p[10] != '.')
		return;
	memcpy(bdf, p, 12);
	bdf[12] = '\0';
}

int vfio_p2p_vfio_regions(int device_fd, struct vfio_p2p_regions *regions)
{
	struct stat st;
	int ret;

	memset(regions, 0, sizeof(*regions));
	if (device_fd < 0)
		return -EBADF;
	if (fstat(device_fd, &st))
		return -errno;
	ret = walk_p2p_regions(device_fd, add_region, regions);
	if (ret && !(ret == -EPROTO && regions->nr))
		return ret;
	regions->dev_major = major(st.st_dev);
	regions->dev_minor = minor(st.st_dev);
	regions->inode = (uint64_t)st.st_ino;
	if (S_ISCHR(st.st_mode))
		cdev_bdf(&st, regions->bdf);
	return 0;
}

int vfio_p2p_vfio_where(int device_fd, const void *addr, int *bar,
			uint64_t *bar_offset)
{
	struct vfio_p2p_regions t;
	int ret;

	ret = vfio_p2p_vfio_regions(device_fd, &t);
	if (ret)
		return ret;
	return vfio_p2p_where_dev(addr, &t, bar, bar_offset);
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
