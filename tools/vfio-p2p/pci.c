// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs view of a PCI device for vfio-p2p.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "pci.h"
#include "util.h"

/* include/linux/ioport.h */
#define IORESOURCE_IO		0x00000100ULL
#define IORESOURCE_MEM		0x00000200ULL
#define IORESOURCE_PREFETCH	0x00002000ULL
#define IORESOURCE_MEM_64	0x00100000ULL
#define IORESOURCE_DISABLED	0x10000000ULL
#define IORESOURCE_UNSET	0x20000000ULL

const char *pci_sysfs = "/sys";

static bool hex_n(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool pci_is_bdf(const char *s, size_t len)
{
	unsigned int dev, fn;

	if (len != 12 || !hex_n(s, 4) || s[4] != ':' || !hex_n(s + 5, 2) ||
	    s[7] != ':' || !hex_n(s + 8, 2) || s[10] != '.' ||
	    s[11] < '0' || s[11] > '7')
		return false;
	if (sscanf(s + 8, "%2x.%1u", &dev, &fn) != 2 || dev > 0x1f)
		return false;
	return true;
}

int pci_norm_bdf(const char *in, char out[PCI_BDF_LEN])
{
	char tmp[PCI_BDF_LEN];
	size_t len = strlen(in), i;

	if (len == 7)
		snprintf(tmp, sizeof(tmp), "0000:%s", in);
	else if (len == 12)
		snprintf(tmp, sizeof(tmp), "%s", in);
	else
		return -EINVAL;

	for (i = 0; tmp[i]; i++)
		tmp[i] = (char)tolower((unsigned char)tmp[i]);
	if (!pci_is_bdf(tmp, strlen(tmp)))
		return -EINVAL;
	memcpy(out, tmp, PCI_BDF_LEN);
	return 0;
}

const char *pci_path(char *buf, size_t len, const char *bdf, const char *attr)
{
	snprintf(buf, len, "%s/bus/pci/devices/%s%s%s", pci_sysfs, bdf,
		 attr ? "/" : "", attr ? attr : "");
	return buf;
}

bool pci_dev_exists(const char *bdf)
{
	char path[PATH_MAX];

	return !access(pci_path(path, sizeof(path), bdf, NULL), F_OK);
}

/* Last path component of the target of symlink @path */
static int link_base(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, len, "%s", base ? base + 1 : target);
	return 0;
}

int pci_driver(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	if (!pci_dev_exists(bdf))
		return -ENODEV;
	ret = link_base(pci_path(path, sizeof(path), bdf, "driver"), buf, len);
	if (ret == -ENOENT) {
		snprintf(buf, len, "%s", "");
		return 0;
	}
	return ret;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

bool pci_driver_is_vfio(const char *driver)
{
	return !strcmp(driver, "vfio-pci") || ends_with(driver, "_vfio_pci") ||
	       ends_with(driver, "-vfio-pci");
}

bool pci_driver_group_ok(const char *driver)
{
	/* The drivers that leave DMA ownership to VFIO */
	return !*driver || pci_driver_is_vfio(driver) ||
	       !strcmp(driver, "pci-stub") || !strcmp(driver, "pcieport");
}

int pci_ids(const char *bdf, char *id, size_t idlen, char *cls, size_t clslen)
{
	char path[PATH_MAX], ven[16], dev[16];
	ssize_t n;

	n = read_text(pci_path(path, sizeof(path), bdf, "vendor"), ven, sizeof(ven));
	if (n < 0)
		return (int)n;
	n = read_text(pci_path(path, sizeof(path), bdf, "device"), dev, sizeof(dev));
	if (n < 0)
		return (int)n;
	snprintf(id, idlen, "%s:%s", ven + (strncmp(ven, "0x", 2) ? 0 : 2),
		 dev + (strncmp(dev, "0x", 2) ? 0 : 2));
	n = read_text(pci_path(path, sizeof(path), bdf, "class"), cls, clslen);
	return n < 0 ? (int)n : 0;
}

int pci_iommu_group(const char *bdf, int *group)
{
	char path[PATH_MAX], name[64];
	char *end;
	long g;
	int ret;

	ret = link_base(pci_path(path, sizeof(path), bdf, "iommu_group"),
			name, sizeof(name));
	if (ret)
		return ret;
	g = strtol(name, &end, 10);
	if (end == name || *end || g < 0 || g > INT_MAX)
		return -EINVAL;
	*group = (int)g;
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	const struct pci_group_member *x = a, *y = b;

	return strcmp(x->bdf, y->bdf);
}

int pci_group_members(int group, struct pci_group_member *m, int max)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *de;
	int n = 0, ret;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices",
		 pci_sysfs, group);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(m[n].bdf, sizeof(m[n].bdf), "%.63s", de->d_name);
		snprintf(path, sizeof(path), "%s/%s/driver", dir, de->d_name);
		ret = link_base(path, m[n].driver, sizeof(m[n].driver));
		if (ret)
			m[n].driver[0] = '\0';
		n++;
	}
	closedir(d);
	qsort(m, (size_t)n, sizeof(*m), member_cmp);
	return n;
}

int pci_vfio_cdev(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	d = opendir(pci_path(path, sizeof(path), bdf, "vfio-dev"));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "vfio", 4) &&
		    isdigit((unsigned char)de->d_name[4])) {
			snprintf(buf, len, "%s", de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int pci_parse_resource(const char *text, struct pci_bar bars[PCI_NUM_BARS])
{
	unsigned long long start, end, flags;
	const char *p = text;
	int i, n;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &bars[i];

		if (sscanf(p, "%llx %llx %llx%n", &start, &end, &flags, &n) != 3)
			return -EINVAL;
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\n' && *p != '\0')
			return -EINVAL;
		if (*p == '\n')
			p++;
		if (end < start)
			return -EINVAL;

		memset(b, 0, sizeof(*b));
		b->index = i;
		b->start = start;
		b->end = end;
		b->flags = flags;
		if (!flags || (flags & IORESOURCE_DISABLED))
			continue;	/* not implemented */
		b->size = end - start + 1;
		b->mem = flags & IORESOURCE_MEM;
		b->io = flags & IORESOURCE_IO;
		b->mem64 = flags & IORESOURCE_MEM_64;
		b->prefetch = flags & IORESOURCE_PREFETCH;
		b->unset = (flags & IORESOURCE_UNSET) || !start;
		if (!b->mem && !b->io)
			b->size = 0;
	}
	return 0;
}

int pci_read_bars(const char *bdf, struct pci_bar bars[PCI_NUM_BARS])
{
	char path[PATH_MAX], text[4096];
	ssize_t n;

	n = read_text(pci_path(path, sizeof(path), bdf, "resource"), text,
		      sizeof(text));
	if (n < 0)
		return (int)n;
	return pci_parse_resource(text, bars);
}

const char *pci_bar_kind(const struct pci_bar *b, char *buf, size_t len)
{
	if (!b->size)
		snprintf(buf, len, "not implemented");
	else if (b->io)
		snprintf(buf, len, "I/O port");
	else
		snprintf(buf, len, "mem %s%s", b->mem64 ? "64-bit" : "32-bit",
			 b->prefetch ? " prefetchable" : "");
	return buf;
}

const char *pci_granule_str(uint64_t granule, char *buf, size_t len)
{
	char s[32];

	if (granule)
		snprintf(buf, len, "%s", fmt_size(granule, s, sizeof(s)));
	else
		snprintf(buf, len, "%s (assumed, the kernel has not told yet: the smallest "
			 "granule there is)", fmt_size(P2P_GRANULE_FALLBACK, s, sizeof(s)));
	return buf;
}

const char *pci_bar_unregistrable(const struct pci_bar *b, uint64_t granule,
				  char *buf, size_t len)
{
	uint64_t g = granule ? granule : P2P_GRANULE_FALLBACK;
	char s[96];

	if (!b->size)
		return "the BAR is not implemented by the device";
	if (b->io)
		return "it is an I/O port BAR; only memory BARs can be given struct pages";
	if (b->unset)
		return "no address is assigned to the BAR";
	if (b->size < g) {
		snprintf(buf, len, "it is smaller than %s, the granule in which the kernel "
			 "makes struct pages for device memory",
			 pci_granule_str(granule, s, sizeof(s)));
		return buf;
	}
	if (b->start & (g - 1)) {
		snprintf(buf, len, "its address is not a multiple of %s, the granule in which "
			 "the kernel makes struct pages for device memory",
			 pci_granule_str(granule, s, sizeof(s)));
		return buf;
	}
	return NULL;
}

const char *pci_range_invalid(const struct pci_bar *b, uint64_t offset,
			      uint64_t size, uint64_t granule, char *buf, size_t len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t g = granule ? granule : P2P_GRANULE_FALLBACK;
	char s1[32], s2[32], s3[96], why_buf[256];
	const char *why;

	why = pci_bar_unregistrable(b, granule, why_buf, sizeof(why_buf));
	if (why) {
		snprintf(buf, len, "BAR %d cannot be registered: %s", b->index, why);
		return buf;
	}
	if ((offset | size) & (page - 1)) {
		snprintf(buf, len, "--offset 0x%llx and --size 0x%llx must be multiples of the "
				   "page size (%llu)",
			 (unsigned long long)offset, (unsigned long long)size,
			 (unsigned long long)page);
		return buf;
	}
	if (offset >= b->size) {
		snprintf(buf, len, "--offset 0x%llx is beyond the end of BAR %d (%s)",
			 (unsigned long long)offset, b->index,
			 fmt_size(b->size, s1, sizeof(s1)));
		return buf;
	}
	if (!size)
		size = b->size - offset;
	if (size > b->size - offset) {
		snprintf(buf, len, "offset 0x%llx + size 0x%llx ends beyond BAR %d (%s)",
			 (unsigned long long)offset, (unsigned long long)size,
			 b->index, fmt_size(b->size, s1, sizeof(s1)));
		return buf;
	}
	if ((b->start + offset) & (g - 1)) {
		snprintf(buf, len, "the range starts at physical address 0x%llx (BAR %d at 0x%llx "
				   "+ offset 0x%llx), which is not a multiple of %s; struct "
				   "pages for device memory are made in units of that granule, so "
				   "use an --offset aligned to it",
			 (unsigned long long)(b->start + offset), b->index,
			 (unsigned long long)b->start, (unsigned long long)offset,
			 pci_granule_str(granule, s3, sizeof(s3)));
		return buf;
	}
	if (size & (g - 1)) {
		snprintf(buf, len, "--size %s is not a multiple of %s; struct pages for device "
				   "memory are made in units of that granule",
			 fmt_size(size, s2, sizeof(s2)), pci_granule_str(granule, s3, sizeof(s3)));
		return buf;
	}
	return NULL;
}

int pci_p2pmem(const char *bdf, uint64_t *size, uint64_t *avail)
{
	char path[PATH_MAX];
	int ret;

	ret = read_u64_file(pci_path(path, sizeof(path), bdf, "p2pmem/size"), size);
	if (ret)
		return ret;
	return read_u64_file(pci_path(path, sizeof(path), bdf, "p2pmem/available"),
			     avail);
}

/* The last component of @path that is a PCI address */
static int last_bdf_in(const char *path, char bdf[PCI_BDF_LEN])
{
	const char *p = path, *comp;
	size_t n;
	int ret = -ENODEV;

	while (*p) {
		while (*p == '/')
			p++;
		comp = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - comp);
		if (pci_is_bdf(comp, n)) {
			memcpy(bdf, comp, n);
			bdf[n] = '\0';
			ret = 0;
		}
	}
	return ret;
}

int pci_blockdev_bdf(const char *dev, char bdf[PCI_BDF_LEN])
{
	char path[PATH_MAX], real[PATH_MAX];
	struct stat st;

	if (stat(dev, &st))
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u", pci_sysfs,
		 major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(path, real))
		return -errno;
	if (!last_bdf_in(real, bdf))
		return 0;
	/* e.g. an NVMe multipath head: try the device of the disk */
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/device/device",
		 pci_sysfs, major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(path, real))
		return -ENODEV;
	return last_bdf_in(real, bdf);
}
