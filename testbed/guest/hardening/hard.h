/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the P2P registration hardening tests: TAP output,
 * metrics, SIGBUS-safe memory access from any thread, fault injection with
 * fail-nth, and thin wrappers around the p2p selftest helpers.
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

#define HARD_SKIP	4	/* exit status of a program that skipped */

/* TAP: one line per check, the plan is printed by tap_finish() */
void tap_ok(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_metric(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the plan; the exit status: 0, 1 if a check failed, 4 if all skipped */
int tap_finish(void);
int tap_failures(void);

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

/* Fields of /proc/meminfo in KiB, -1 if absent */
long meminfo_kb(const char *field);
/* Drop clean caches and drain per-CPU lists, so that MemFree settles */
void settle_memory(void);

/*
 * Fault injection with /proc/self/task/TID/fail-nth: the Nth fault point
 * that the calling thread passes after fail_nth_arm(N) fails.
 */
struct fail_nth {
	int fd;
	int nr_saved;
	struct {
		char path[128];
		char val[32];
	} saved[16];
};
/* 0, or -ENOENT without CONFIG_FAULT_INJECTION (skip) */
int fail_nth_init(struct fail_nth *f);
void fail_nth_exit(struct fail_nth *f);
void fail_nth_arm(struct fail_nth *f, unsigned int n);
/* Disarm; true if the armed fault was injected */
bool fail_nth_disarm(struct fail_nth *f);

/*
 * VFIO_DEVICE_FEATURE calls that allocate nothing in userspace, so that no
 * syscall other than the ioctl runs while a fault is armed.
 * Return 0, a dma-buf fd for the export, or -errno.
 */
int raw_p2p_set(int fd, u32 bar, u32 flags, u64 offset, u64 size);
int raw_dmabuf(int fd, u32 bar, u64 offset, u64 length);
int raw_reset(int fd);

/* GET says unregistered and p2pmem is absent or of size 0 */
bool p2p_clean(struct p2p_dev *d);
/* GET names [@offset, @offset + @size) and p2pmem has that size */
bool p2p_shows(struct p2p_dev *d, u64 offset, u64 size);
/* open() p2pmem/allocate: fd or -errno */
int p2pmem_open(const char *bdf);
/* Physical address of the BAR from sysfs "resource", 0 if unknown */
u64 bar_phys(const char *bdf, u32 bar);

/* Block device for the I/O checks: O_DIRECT fd, or -errno */
int blk_open(const char *path, u64 *size);
/* The block device holds the testbed's data image (pattern.h) */
bool blk_has_pattern(int fd);

/*
 * What the kernel logged since kmsg_open() or the last kmsg_scan(): reports
 * that mean a bug (WARN, BUG, KASAN, lockdep...) and allocation failure
 * reports (warn_alloc(): expected when allocations are failed on purpose).
 */
struct kmsg_counts {
	unsigned int bugs;
	unsigned int alloc;
	char first_bug[160];
};
int kmsg_open(void);
void kmsg_scan(int fd, struct kmsg_counts *c);

/* The nvme driver's I/O timeout in seconds: the bound on a reset under I/O */
unsigned int nvme_io_timeout(void);

/* Integer option value, with K/M/G suffixes */
u64 parse_size(const char *s);

#endif /* HARDENING_HARD_H */
