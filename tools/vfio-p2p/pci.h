/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What sysfs tells about a PCI device: its driver, IOMMU group, BARs and
 * p2pmem.  Nothing here opens the device.
 */
#ifndef VFIO_P2P_PCI_H
#define VFIO_P2P_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_BDF_LEN	16	/* "dddd:bb:dd.f" and NUL, with room */
#define PCI_NUM_BARS	6

/* The root of sysfs; unit tests point it at a synthetic tree */
extern const char *pci_sysfs;

/* Normalise "bb:dd.f" or "dddd:bb:dd.f" to "dddd:bb:dd.f"; 0 or -EINVAL */
int pci_norm_bdf(const char *in, char out[PCI_BDF_LEN]);
/* Whether @s, up to @len characters, is a full "dddd:bb:dd.f" */
bool pci_is_bdf(const char *s, size_t len);

/* @buf = <sysfs>/bus/pci/devices/<bdf>[/<attr>]; returns @buf */
const char *pci_path(char *buf, size_t len, const char *bdf, const char *attr);
bool pci_dev_exists(const char *bdf);

/* Name of the bound driver, "" if none; 0 or -errno */
int pci_driver(const char *bdf, char *buf, size_t len);
/* vfio-pci or one of its variant drivers (foo_vfio_pci) */
bool pci_driver_is_vfio(const char *driver);
/* A driver VFIO accepts next to a vfio-pci device in its IOMMU group */
bool pci_driver_group_ok(const char *driver);

/* vendor:device and class, e.g. "1af4:1110", "0x050000"; 0 or -errno */
int pci_ids(const char *bdf, char *id, size_t idlen, char *cls, size_t clslen);

/* IOMMU group number; -ENOENT if the device has none (no IOMMU) */
int pci_iommu_group(const char *bdf, int *group);

struct pci_group_member {
	char bdf[64];		/* a PCI address, or another device's name */
	char driver[64];	/* "" if none */
};

/*
 * The devices of IOMMU group @group (at most @max), sorted.  Returns the
 * number of devices or -errno.
 */
int pci_group_members(int group, struct pci_group_member *m, int max);

/* Name of the VFIO character device, "vfio3"; 0 or -errno */
int pci_vfio_cdev(const char *bdf, char *buf, size_t len);

struct pci_bar {
	int index;
	uint64_t start;
	uint64_t end;
	uint64_t flags;		/* IORESOURCE_* as sysfs shows them */
	uint64_t size;		/* 0: not implemented */
	bool mem;
	bool io;
	bool mem64;
	bool prefetch;
	bool unset;		/* no address assigned */
};

/*
 * Parse the text of <sysfs>/bus/pci/devices/<bdf>/resource: one
 * "start end flags" line per resource, BARs 0 to 5 first.  Returns 0 or
 * -EINVAL when the text is malformed.
 */
int pci_parse_resource(const char *text, struct pci_bar bars[PCI_NUM_BARS]);
int pci_read_bars(const char *bdf, struct pci_bar bars[PCI_NUM_BARS]);

/* "mem 64-bit prefetchable", "I/O port", "not implemented" */
const char *pci_bar_kind(const struct pci_bar *b, char *buf, size_t len);
/*
 * @granule is what the address and size of a range must be multiples of:
 * the granule GET reported, or 0 before the device is open (then
 * P2P_GRANULE_FALLBACK, which the messages call assumed).
 *
 * Why the BAR cannot be registered at all, from what sysfs shows (NULL if
 * it can be, as far as sysfs tells); the reason may be written into @buf.
 */
const char *pci_bar_unregistrable(const struct pci_bar *b, uint64_t granule,
				  char *buf, size_t len);
/*
 * Why offset/size (size 0: to the end) cannot be registered in @b, or NULL.
 * Writes the reason into @buf.
 */
const char *pci_range_invalid(const struct pci_bar *b, uint64_t offset,
			      uint64_t size, uint64_t granule, char *buf, size_t len);
/* "2 MiB (from the kernel)", "2 MiB (assumed: ...)": @granule as above */
const char *pci_granule_str(uint64_t granule, char *buf, size_t len);

/* p2pmem/size and p2pmem/available; -ENOENT without p2pmem */
int pci_p2pmem(const char *bdf, uint64_t *size, uint64_t *avail);

/*
 * The PCI device behind a block device or partition (@dev is a path to a
 * block special file); 0 or -errno (-ENOTBLK if @dev is not one).
 */
int pci_blockdev_bdf(const char *dev, char bdf[PCI_BDF_LEN]);

#endif /* VFIO_P2P_PCI_H */
