/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening a vfio-pci device and VFIO_DEVICE_FEATURE_P2P_REGISTER.
 */
#ifndef VFIO_P2P_VFIO_H
#define VFIO_P2P_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci.h"

struct vfio_dev {
	char bdf[PCI_BDF_LEN];
	int device_fd;
	int iommufd;		/* iommufd path */
	int group_fd;		/* legacy path */
	int container_fd;
	const char *how;	/* "iommufd" or "legacy group" */
	char path[64];		/* the VFIO file the device was opened through */
};

/*
 * Open @bdf: through its VFIO character device and iommufd if the kernel
 * has them, else through its VFIO group and a type1v2 container.  On
 * failure returns -errno and explains why in @why.
 */
int vfio_dev_open(struct vfio_dev *d, const char *bdf, char *why, size_t len);
void vfio_dev_close(struct vfio_dev *d);

/* One range of a BAR as GET reports it */
struct p2p_reg {
	bool registered;	/* VFIO_DEVICE_P2P_STATE_REGISTERED */
	bool draining;		/* VFIO_DEVICE_P2P_STATE_DRAINING: ended, I/O in flight */
	uint64_t offset;	/* in the BAR */
	uint64_t size;		/* 0: no such range */
	uint64_t granule;	/* what offset, size and the address align to */
};

/* All return 0 or -errno */
int p2p_feature_probe(struct vfio_dev *d);
/*
 * GET from @from: of the ranges of @bar that are registered or draining and
 * end after @from, the one that starts first; r->size is 0 if there is
 * none.  r->granule is set either way.
 */
int p2p_get_at(struct vfio_dev *d, int bar, uint64_t from, struct p2p_reg *r);
/*
 * Every range of @bar, in order: up to @max of them in @r, their number
 * (which may be more than @max) in *@n, and the granule in *@granule.
 */
int p2p_list(struct vfio_dev *d, int bar, struct p2p_reg *r, int max, int *n,
	     uint64_t *granule);
/*
 * The granule GET reports, which the address and size of a range must be
 * multiples of (the same for every BAR): asked of BAR @bar first, then of
 * the others, since GET fails (EOPNOTSUPP) for a BAR that cannot be
 * registered.  Returns 0, or the -errno of GET of @bar if no BAR answered.
 */
int p2p_granule(struct vfio_dev *d, int bar, uint64_t *granule);
int p2p_register(struct vfio_dev *d, int bar, uint64_t offset, uint64_t size);
/* End the registration that starts at @offset; @size 0 or its size */
int p2p_unregister(struct vfio_dev *d, int bar, uint64_t offset, uint64_t size);

/* A region of the device file: a BAR for indexes 0 to 5 */
struct vfio_region {
	uint64_t offset;	/* where it is in the device file */
	uint64_t size;
	bool readable;
	bool writable;
	bool mmappable;		/* all of it, or the areas its capabilities name */
	bool caps;		/* has capabilities: sparse mmap areas, MSI-X */
};

/* VFIO_DEVICE_GET_REGION_INFO; 0 or -errno */
int vfio_region_get(struct vfio_dev *d, int index, struct vfio_region *r);

#endif /* VFIO_P2P_VFIO_H */
