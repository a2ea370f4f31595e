// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Place p2pmem/allocate mappings in their BAR, and decode where a placed
 * one, or a mapping of the P2P region of a VFIO device file whose regions
 * the caller knows, lies from /proc/<pid>/maps.  See vfio_p2p_where.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vfio_p2p_where.h"

#define P2PMEM_SUFFIX	"/p2pmem/allocate"
#define DELETED_SUFFIX	" (deleted)"

int vfio_p2p_parse_maps_line(char *line, struct vfio_p2p_map *m)
{
	unsigned long long start, end, pgoff, inode;
	unsigned int maj, min;
	char perms[8];
	size_t len;
	char *path;
	int n = -1;

	memset(m, 0, sizeof(*m));
	len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu%n", &start, &end,
		   perms, &pgoff, &maj, &min, &inode, &n) != 7 || n < 0)
		return -EINVAL;
	if (end < start || strlen(perms) != 4)
		return -EINVAL;

	/* The path follows after padding; it may itself contain spaces. */
	path = line + n;
	if (*path && *path != ' ' && *path != '\t')
		return -EINVAL;
	while (*path == ' ' || *path == '\t')
		path++;

	len = strlen(path);
	if (len > strlen(DELETED_SUFFIX) &&
	    !strcmp(path + len - strlen(DELETED_SUFFIX), DELETED_SUFFIX)) {
		path[len - strlen(DELETED_SUFFIX)] = '\0';
		m->deleted = true;
	}

	m->start = start;
	m->end = end;
	m->pgoff = pgoff;
	memcpy(m->perms, perms, 5);
	m->dev_major = maj;
	m->dev_minor = min;
	m->inode = inode;
	m->path = path;
	return 0;
}

static bool is_bdf(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.x";
	size_t i;

	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != pat[i])
			return false;
	}
	return s[11] >= '0' && s[11] <= '7';
}

bool vfio_p2p_map_bdf(const struct vfio_p2p_map *m, char bdf[16])
{
	size_t len, slen = strlen(P2PMEM_SUFFIX);
	const char *dev;

	if (!m->path)
		return false;
	len = strlen(m->path);
	/* ".../dddd:bb:dd.f/p2pmem/allocate" */
	if (len < slen + 13 || strcmp(m->path + len - slen, P2PMEM_SUFFIX))
		return false;
	dev = m->path + len - slen - 12;
	if (dev[-1] != '/' || !is_bdf(dev))
		return false;
	memcpy(bdf, dev, 12);
	bdf[12] = '\0';
	return true;
}

int vfio_p2p_decode(uint64_t pgoff, uint64_t map_start, uint64_t addr,
		    int *bar, uint64_t *bar_offset)
{
	uint64_t index = pgoff >> PCI_P2PMEM_MMAP_BAR_SHIFT;

	if (addr < map_start)
		return -EINVAL;
	/* Mapped from anywhere, or a part split off such a mapping */
	if (!index)
		return -ENXIO;
	if (index > VFIO_P2P_NUM_BARS)
		return -EINVAL;
	*bar = (int)(index - 1);
	*bar_offset = (pgoff & PCI_P2PMEM_MMAP_OFFSET_MASK) + (addr - map_start);
	return 0;
}

bool vfio_p2p_map_is_vfio(const struct vfio_p2p_map *m)
{
	size_t dlen = strlen(VFIO_P2P_MAPS_CDEV_DIR);

	if (!m->path)
		return false;
	if (!strcmp(m->path, VFIO_P2P_MAPS_ANON_DEVICE))
		return true;
	/* "vfio3", "noiommu-vfio3": a name, no subdirectory */
	return !strncmp(m->path, VFIO_P2P_MAPS_CDEV_DIR, dlen) && m->path[dlen] &&
	       !strchr(m->path + dlen, '/');
}

bool vfio_p2p_map_is_dev(const struct vfio_p2p_map *m,
			 const struct vfio_p2p_regions *regions)
{
	if (!regions || !m->path || m->inode != regions->inode ||
	    m->dev_major != regions->dev_major || m->dev_minor != regions->dev_minor)
		return false;
	/* Anonymous files may share one inode: the name tells them apart */
	if (!strncmp(m->path, "anon_inode:", strlen("anon_inode:")))
		return !strcmp(m->path, VFIO_P2P_MAPS_ANON_DEVICE);
	return true;
}

int vfio_p2p_decode_vfio(const struct vfio_p2p_regions *regions, uint64_t pgoff,
			 uint64_t map_start, uint64_t addr, int *bar,
			 uint64_t *bar_offset, uint32_t *index)
{
	const struct vfio_p2p_regions_entry *r;
	uint64_t off;
	unsigned int i;

	if (addr < map_start || addr - map_start > UINT64_MAX - pgoff)
		return -EINVAL;
	off = pgoff + (addr - map_start);
	for (i = 0; i < regions->nr && i < VFIO_P2P_NUM_BARS; i++) {
		r = &regions->region[i];
		if (off < r->offset || off - r->offset >= r->size)
			continue;
		*bar = r->bar;
		*bar_offset = off - r->offset;
		if (index)
			*index = r->index;
		return 0;
	}
	return -ENOENT;
}

void *vfio_p2p_map_at(const char *allocate_path, int bar, uint64_t bar_offset,
		      size_t len, int *err)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t pgoff;
	void *p = NULL;
	int fd, ret;

	ret = -EINVAL;
	if (bar < 0 || bar >= VFIO_P2P_NUM_BARS || !len || page <= 0 ||
	    bar_offset % (uint64_t)page ||
	    bar_offset > PCI_P2PMEM_MMAP_OFFSET_MASK ||
	    len > PCI_P2PMEM_MMAP_OFFSET_MASK + 1 - bar_offset)
		goto out;

	pgoff = PCI_P2PMEM_MMAP_OFFSET(bar, bar_offset);
	ret = -EOVERFLOW;
	if ((off_t)pgoff < 0 || (uint64_t)(off_t)pgoff != pgoff)
		goto out;

	fd = open(allocate_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)pgoff);
	ret = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (p == MAP_FAILED)
		p = NULL;
out:
	if (err)
		*err = ret;
	return p;
}

/* @m holds @addr and maps the device file of @regions */
static int locate_vfio(const struct vfio_p2p_map *m, uint64_t addr,
		       const struct vfio_p2p_regions *regions,
		       struct vfio_p2p_loc *loc)
{
	uint32_t index;
	int ret;

	snprintf(loc->bdf, sizeof(loc->bdf), "%s", regions->bdf);
	ret = vfio_p2p_decode_vfio(regions, m->pgoff, m->start, addr, &loc->bar,
				   &loc->bar_offset, &index);
	if (ret) {
		loc->bar = -1;
		return ret;
	}
	loc->region = (int)index;
	loc->map_bar_offset = loc->bar_offset - (addr - m->start);
	return m->deleted ? -ESTALE : 0;
}

int vfio_p2p_locate_in_dev(FILE *maps, uint64_t addr,
			   const struct vfio_p2p_regions *regions,
			   struct vfio_p2p_loc *loc)
{
	struct vfio_p2p_map m;
	size_t cap = 0;
	char *line = NULL;
	int ret = -EFAULT;

	memset(loc, 0, sizeof(*loc));
	loc->bar = -1;
	loc->region = -1;

	while (getline(&line, &cap, maps) >= 0) {
		if (vfio_p2p_parse_maps_line(line, &m))
			continue;
		if (addr < m.start || addr >= m.end)
			continue;

		loc->map_start = m.start;
		loc->map_end = m.end;
		loc->deleted = m.deleted;
		loc->file_offset = m.pgoff + (addr - m.start);
		snprintf(loc->path, sizeof(loc->path), "%s", m.path);
		if (vfio_p2p_map_is_dev(&m, regions)) {
			loc->vfio = true;
			ret = locate_vfio(&m, addr, regions, loc);
			break;
		}
		if (vfio_p2p_map_is_vfio(&m)) {
			/* Only a holder of that file knows its regions */
			loc->vfio = true;
			ret = -ENODEV;
			break;
		}
		if (!vfio_p2p_map_bdf(&m, loc->bdf)) {
			ret = -ENOENT;
			break;
		}
		ret = vfio_p2p_decode(m.pgoff, m.start, addr, &loc->bar,
				      &loc->bar_offset);
		if (!ret)
			loc->map_bar_offset = m.pgoff & PCI_P2PMEM_MMAP_OFFSET_MASK;
		else
			loc->bar = -1;
		if (m.deleted)
			ret = -ESTALE;
		break;
	}
	free(line);
	return ret;
}

int vfio_p2p_locate_in(FILE *maps, uint64_t addr, struct vfio_p2p_loc *loc)
{
	return vfio_p2p_locate_in_dev(maps, addr, NULL, loc);
}

int vfio_p2p_locate_dev(pid_t pid, uint64_t addr, const struct vfio_p2p_regions *regions,
			struct vfio_p2p_loc *loc)
{
	char path[64];
	FILE *f;
	int ret;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");

	f = fopen(path, "re");
	if (!f) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		memset(loc, 0, sizeof(*loc));
		loc->bar = -1;
		loc->region = -1;
		return ret;
	}
	ret = vfio_p2p_locate_in_dev(f, addr, regions, loc);
	fclose(f);
	return ret;
}

int vfio_p2p_locate(pid_t pid, uint64_t addr, struct vfio_p2p_loc *loc)
{
	return vfio_p2p_locate_dev(pid, addr, NULL, loc);
}

int vfio_p2p_where_dev(const void *addr, const struct vfio_p2p_regions *regions,
		       int *bar, uint64_t *bar_offset)
{
	struct vfio_p2p_loc *loc;
	int ret;

	/* PATH_MAX is too big for some threads' stacks */
	loc = malloc(sizeof(*loc));
	if (!loc)
		return -ENOMEM;
	ret = vfio_p2p_locate_dev(0, (uint64_t)(uintptr_t)addr, regions, loc);
	if (!ret) {
		*bar = loc->bar;
		*bar_offset = loc->bar_offset;
	}
	free(loc);
	return ret;
}

int vfio_p2p_where(const void *addr, int *bar, uint64_t *bar_offset)
{
	return vfio_p2p_where_dev(addr, NULL, bar, bar_offset);
}
