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

struct p2p_reg {
	bool registered;
	uint64_t offset;
	uint64_t size;
};

/* All return 0 or -errno */
int p2p_feature_probe(struct vfio_dev *d);
int p2p_get(struct vfio_dev *d, int bar, struct p2p_reg *r);
int p2p_register(struct vfio_dev *d, int bar, uint64_t offset, uint64_t size);
int p2p_unregister(struct vfio_dev *d, int bar);

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
