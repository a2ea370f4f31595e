/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Error messages a person can act on.  Each function appends to a string
 * buffer: the first line says what is wrong, the following ones, indented,
 * what to do about it.
 */
#ifndef VFIO_P2P_EXPLAIN_H
#define VFIO_P2P_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "util.h"

enum p2p_op {
	OP_PROBE,	/* VFIO_DEVICE_FEATURE_PROBE */
	OP_GET,
	OP_REGISTER,
	OP_UNREGISTER,
};

struct p2p_ctx {
	const char *bdf;
	int bar;
	uint64_t offset;
	uint64_t size;			/* 0: to the end of the BAR */
	const struct pci_bar *b;	/* from sysfs, NULL if unknown */
	/* What GET reported ranges must align to; 0: not known (not asked yet) */
	uint64_t granule;
	/* The locked memory the registration is charged to, if known */
	bool memlock_known;
	uint64_t memlock;		/* RLIMIT_MEMLOCK, bytes; UINT64_MAX: none */
	bool ipc_lock;			/* CAP_IPC_LOCK: the limit does not apply */
};

/* The device is not bound to vfio-pci: how to bind it */
void explain_not_vfio(struct sbuf *sb, const char *bdf, const char *driver);
/* IOMMU group @group is not viable: the other devices and their drivers */
void explain_group(struct sbuf *sb, const char *bdf, int group,
		   const struct pci_group_member *m, int n);
/* The device has no IOMMU group */
void explain_no_group(struct sbuf *sb, const char *bdf);
/* The device is open elsewhere; @users as from proc_users_of() */
void explain_in_use(struct sbuf *sb, const char *bdf, const char *users);
/* VFIO_DEVICE_FEATURE_P2P_REGISTER failed with -@err */
void explain_feature(struct sbuf *sb, enum p2p_op op, int err,
		     const struct p2p_ctx *c);
/*
 * An O_DIRECT read from @dev (PCI device @client, "" if unknown) into the
 * p2pmem of @provider failed with -@err.
 */
void explain_read(struct sbuf *sb, int err, const char *dev,
		  const char *client, const char *provider);
/* Where "read --at" asked for its buffer */
struct p2p_place {
	int bar;
	uint64_t at;		/* offset of the buffer in the BAR */
	/* The registered range ($VFIO_P2P_OFFSET, $VFIO_P2P_SIZE), if known */
	bool range_known;
	uint64_t range_offset;
	uint64_t range_size;
};

/*
 * mmap() of @len bytes of p2pmem/allocate (@path, of device @bdf if known)
 * failed with -@err; @place is where it was to be, NULL if anywhere.
 */
void explain_mmap(struct sbuf *sb, int err, const char *path, uint64_t len,
		  const char *bdf, const struct p2p_place *place);
/*
 * vfio_p2p_vfio_map_at() of @len bytes at @place through VFIO device file
 * descriptor @fd (of @bdf if known) failed with -@err.
 */
void explain_vfio_mmap(struct sbuf *sb, int err, int fd, uint64_t len,
		       const char *bdf, const struct p2p_place *place);

#endif /* VFIO_P2P_EXPLAIN_H */
