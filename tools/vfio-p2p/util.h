/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers of vfio-p2p that need neither a device nor the kernel
 * headers of the series: number parsing and printing, bounded string
 * building, small sysfs/procfs file reads, and the POSIX cksum CRC.
 */
#ifndef VFIO_P2P_UTIL_H
#define VFIO_P2P_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL

/*
 * The granule in which the kernel creates struct pages for device memory,
 * memremap_compat_align(), to which the address and size of a registered
 * range must be aligned, is what GET of VFIO_DEVICE_FEATURE_P2P_REGISTER
 * reports (p2p_granule()): the checks and messages use that once the
 * device is open.  This fallback is only for the checks made before the
 * device is open (register refuses obvious mistakes before it opens the
 * device, which vfio-pci may answer with a reset) and for when GET cannot
 * answer: it is the memory hotplug subsection, 2 MiB, the smallest granule
 * the kernel has (larger on some powerpc), so what it refuses the kernel
 * refuses too.
 */
#define P2P_GRANULE_FALLBACK	SZ_2M
/* Size of struct page per 4 KiB page of registered BAR */
#define P2P_PAGE_STRUCT	64ULL

/* A string being built in a fixed buffer; output is truncated, never overrun */
struct sbuf {
	char *buf;
	size_t len;
	size_t pos;
};

void sbuf_init(struct sbuf *sb, char *buf, size_t len);
void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Parse a number: decimal, 0x hex or 0 octal, optionally followed by a
 * binary multiplier K, M, G, T (also KiB, MiB, ...).  Returns 0 or -EINVAL
 * (not a number, trailing junk) or -ERANGE (does not fit in 64 bits).
 */
int parse_u64(const char *s, uint64_t *out);
/* Hex number with or without 0x, as an address; 0 or -EINVAL/-ERANGE */
int parse_addr(const char *s, uint64_t *out);

/* "256 MiB", "4 KiB", "3 B", "1.5 GiB"; returns @buf */
const char *fmt_size(uint64_t n, char *buf, size_t len);

/*
 * Read a small file into @buf, NUL terminated, trailing newlines removed.
 * Returns the length or -errno.
 */
ssize_t read_text(const char *path, char *buf, size_t len);
/* A file holding one number (as parse_u64 reads it); 0 or -errno */
int read_u64_file(const char *path, uint64_t *out);

/* Capabilities that the messages name (linux/capability.h) */
#define CAP_IPC_LOCK_NR	14

/* Whether the calling process has capability @cap in its effective set */
bool have_cap(int cap);

/*
 * What a registration of @size bytes is charged to the user's locked
 * memory, in bytes: DIV_ROUND_UP(size / page * 64, page) pages of @page
 * bytes, 64 being the size of struct page on x86_64.
 */
uint64_t p2p_memlock_charge(uint64_t size, uint64_t page);
/*
 * The largest range, a multiple of @granule (0: P2P_GRANULE_FALLBACK), whose
 * charge fits in @limit bytes of locked memory (UINT64_MAX: no limit).
 */
uint64_t p2p_memlock_max_size(uint64_t limit, uint64_t page, uint64_t granule);
/* RLIMIT_MEMLOCK of this process (soft), bytes; UINT64_MAX: unlimited */
int memlock_limit(uint64_t *limit);
/* The page size, 4096 if sysconf() cannot tell */
uint64_t page_size(void);

/* pread()/pwrite() all of @len, or -errno (-ENODATA at the end of the file) */
int pread_full(int fd, void *buf, uint64_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, uint64_t len, uint64_t off);

/*
 * The processes that have any of @paths open, as "pid 12 (qemu), pid 34
 * (fio)" in @out (empty if none).  Returns the number of processes.
 */
int proc_users_of(const char *const *paths, int npaths, char *out, size_t len);

/* POSIX cksum(1): update the CRC with data, then finish with the length */
uint32_t cksum_update(uint32_t crc, const void *data, size_t len);
uint32_t cksum_finish(uint32_t crc, uint64_t total_len);

/* Print "vfio-p2p: " and the message to stderr */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* VFIO_P2P_UTIL_H */
