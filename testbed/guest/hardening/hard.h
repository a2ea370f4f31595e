/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the P2P registration hardening tests: metrics,
 * SIGBUS-safe memory access from any thread, fault injection with fail-nth,
 * and thin wrappers around the p2p selftest helpers.  TAP output and the
 * kernel-report check are the guest tests' C helper's (testbed/guest/lib/tb.h).
 */
#ifndef HARDENING_HARD_H
#define HARDENING_HARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "vfio_p2p.h"
#include "tb.h"

/* "# metric NAME=VALUE", which hardening-report.sh sums */
void tap_metric(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

double now(void);
void msleep(unsigned int ms);

/* The topology cannot do P2P: I/O into p2pmem has to fail cleanly */
bool nop2p(void);
/* The errors a block device gives for memory it cannot DMA to */
bool p2p_io_refused(int err);
const char *errname(int err);

/*
 * SIGBUS-safe access from any thread. sigbus_init() installs the handler;
 * a SIGBUS outside a guarded access kills the process as usual.
 */
void sigbus_init(void);
/* Read (and with @write, store to) one byte at @addr: true on SIGBUS */
bool sigbus_on(void *addr, bool write);
/* Run @fn(@arg) with SIGBUS caught: true if it raised SIGBUS */
bool sigbus_in(void (*fn)(void *arg), void *arg);
/*
 * Copy @len bytes (a multiple of 8, both 8-byte aligned) in 8-byte volatile
 * accesses, which device memory takes, with SIGBUS caught: true on SIGBUS
 */
bool sigbus_copy(void *dst, const void *src, size_t len);

/* Fields of /proc/meminfo in KiB, -1 if absent */
long meminfo_kb(const char *field);
/* Drop clean caches and drain per-CPU lists, so that MemFree settles */
void settle_memory(void);

/*
 * Fault injection with /proc/self/task/TID/fail-nth: the Nth fault point
 * that the calling thread passes after fail_nth_arm(N) fails.  Fault
 * points are the slab allocations (failslab) and the page allocations
 * (fail_page_alloc) of the calling thread, sleeping or not, that do not
 * have __GFP_NOFAIL; page allocations of order 0 only after
 * fail_nth_order0(f, true).
 */
struct fail_nth {
	int fd;
	unsigned int armed;	/* N of the last fail_nth_arm() */
	unsigned int left;	/* what fail-nth read at the last disarm */
	int nr_saved;
	struct {
		char path[128];
		char val[32];
	} saved[16];
};
/* 0, or -ENOENT without CONFIG_FAULT_INJECTION (skip) */
int fail_nth_init(struct fail_nth *f);
void fail_nth_exit(struct fail_nth *f);
/* verbose of failslab and fail_page_alloc: 2 logs a backtrace per fault */
void fail_nth_verbose(struct fail_nth *f, int level);
/* Fail order-0 page allocations too (fail_page_alloc min-order 0) */
int fail_nth_order0(struct fail_nth *f, bool on);
void fail_nth_arm(struct fail_nth *f, unsigned int n);
/* Disarm; true if the armed fault was injected */
bool fail_nth_disarm(struct fail_nth *f);
/* Fault points passed between the last arm and disarm */
unsigned int fail_nth_passed(const struct fail_nth *f);

/*
 * VFIO_DEVICE_FEATURE calls that allocate nothing in userspace, so that no
 * syscall other than the ioctl runs while a fault is armed.
 * Return 0, a dma-buf fd for the export, or -errno.
 */
int raw_p2p_set(int fd, u32 bar, u32 flags, u64 offset, u64 size);
/*
 * GET from @offset into @get, without the well-formedness asserts of the
 * selftests' p2p_get_at(): the caller checks what the kernel returned
 */
int raw_p2p_get(int fd, u32 bar, u64 offset,
		struct vfio_device_feature_p2p_register *get);
int raw_dmabuf(int fd, u32 bar, u64 offset, u64 length);
int raw_reset(int fd);

/*
 * Wait until GET reports no range that overlaps [@offset, @offset + @size)
 * as VFIO_DEVICE_P2P_STATE_DRAINING, that is until the I/O in flight to the
 * ended registrations there is over; @size 0 means to the end of the BAR.
 * Return: false on a time-out (@timeout seconds) or a failed GET.
 */
bool p2p_range_drained(struct p2p_dev *d, u64 offset, u64 size, double timeout);

/*
 * Unregister every registered range of the BAR, in the order GET lists
 * them: 0, or the first -errno of an unregistration or GET
 */
int p2p_unregister_all(struct p2p_dev *d);

/* GET reports no range of the BAR, and p2pmem is absent or of size 0 */
bool p2p_clean(struct p2p_dev *d);
/*
 * GET from @offset names [@offset, @offset + @size) as registered, and
 * p2pmem has that size (so it is the only registered range of the device)
 */
bool p2p_shows(struct p2p_dev *d, u64 offset, u64 size);
/* open() p2pmem/allocate: fd or -errno */
int p2pmem_open(const char *bdf);
/* Physical address of the BAR from sysfs "resource", 0 if unknown */
u64 bar_phys(const char *bdf, u32 bar);

/* Block device for the I/O checks: O_DIRECT fd, or -errno */
int blk_open(const char *path, u64 *size);
/* The block device holds the testbed's data image (pattern.h) */
bool blk_has_pattern(int fd);

/* The nvme driver's I/O timeout in seconds: the bound on a reset under I/O */
unsigned int nvme_io_timeout(void);

/* Integer option value, with K/M/G suffixes */
u64 parse_size(const char *s);

#endif /* HARDENING_HARD_H */
