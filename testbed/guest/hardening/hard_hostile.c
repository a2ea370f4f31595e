// SPDX-License-Identifier: GPL-2.0-only
/*
 * hard_hostile BDF: what a process can do to a p2pmem mapping.
 *
 * fork() with a live mapping (the child keeps the data until the parent
 * tears the registration down, then gets SIGBUS, and the teardown does not
 * wait for the child); /proc/PID/pagemap of the range (present, and the PFN
 * is the BAR's, until the teardown); mremap() that moves, grows and shrinks
 * the mapping (a grown part must not reach any memory); every madvise()
 * advice (the data is either intact or gone with SIGBUS, never replaced,
 * and the pool gets every page back exactly once); munmap() of parts of a
 * mapping; access after teardown, also by the kernel (write() from it,
 * read() into it: EFAULT); O_DIRECT and io_uring reads into a torn-down
 * range (must fail, never succeed) and into a DONTNEED'ed page (the buffer
 * keeps the page: it is faulted in again and the read lands in it, as in a
 * live range); mlock() (GUP refuses the pages:
 * EREMOTEIO) and mlockall()
 * (must not hold the pages: the teardown completes); long-term pins
 * (io_uring fixed buffers) and vmsplice() (must be refused, or the
 * teardown would wait for ever); /proc/self/mem and process_vm_readv() on
 * the range; a p2pmem file descriptor kept open across a re-register; exit
 * and SIGKILL with a mapping and I/O in flight.
 *
 * The mappings are placed (PCI_P2PMEM_MMAP_OFFSET) at MAP_AT of the BAR, so
 * that where their pages are is known, not guessed: pagemap must show the
 * PFNs of that place, and what /proc/self/maps says of a moved or split
 * mapping must still name it.
 *
 * Every case ends with the pool whole: p2pmem/available equal to the size
 * of the registration once the mappings are gone. With NOP2P=1 the reads
 * into a live range must fail cleanly instead of succeeding.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "hard.h"
#include "pattern.h"

/* Advice values glibc may not know yet (see uapi asm-generic/mman-common.h) */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE	101
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#define MADV_GUARD_REMOVE	103
#endif

static struct p2p_dev d;
static const char *blk_path;

static s64 avail(void)
{
	return p2pmem_attr(d.bdf, "available");
}

/* The whole BAR registered, nothing of it allocated */
static bool fresh(void)
{
	if (!p2p_shows(&d, 0, d.bar_size) && p2p_register(d.fd, d.bar, 0, 0))
		return false;
	return avail() == (s64)d.bar_size;
}

static bool pool_whole(void)
{
	return avail() == (s64)d.bar_size;
}

/* The pool whole within @ms: I/O in flight may hold pages for a while */
static bool pool_whole_within(unsigned int ms)
{
	double t0 = now();

	while (!pool_whole()) {
		if ((now() - t0) * 1e3 > ms)
			return false;
		msleep(10);
	}
	return true;
}

static bool teardown(void)
{
	return !p2p_unregister_at(d.fd, d.bar, 0, d.bar_size) && p2p_clean(&d);
}

/*
 * Where pmap() places its buffers: three pages past the middle of the BAR,
 * which fresh() registers whole, so neither at its start nor aligned
 */
static u64 map_at(void)
{
	return d.bar_size / 2 + 3 * d.page;
}

static u8 *pmap(size_t pages)
{
	u8 *p = p2pmem_mmap_at(d.bdf, pages * d.page, d.bar, map_at());

	if (p == MAP_FAILED) {
		tb_diag("mmap %zu pages of p2pmem at BAR%u+0x%llx: %s", pages, d.bar,
			(unsigned long long)map_at(), strerror(errno));
		return NULL;
	}
	return p;
}

/* fresh(), then map @pages of p2pmem: NULL if either fails */
static u8 *fresh_map(size_t pages)
{
	return fresh() ? pmap(pages) : NULL;
}

static void fill(u8 *p, size_t len, u32 seed)
{
	fill_pattern(p, len, seed);
}

enum look { LOOK_INTACT, LOOK_CHANGED, LOOK_SIGBUS };

static const char *const look_name[] = { "intact", "CHANGED", "SIGBUS" };

struct look_args {
	const u8 *p;
	size_t off;
	size_t len;
	u32 seed;
	bool changed;
};

static void do_look(void *arg)
{
	struct look_args *a = arg;
	u8 *want = malloc(a->off + a->len);

	fill_pattern(want, a->off + a->len, a->seed);
	a->changed = memcmp((const void *)(a->p + a->off), want + a->off,
			    a->len);
	free(want);
}

/* Bytes [off, off + len) of what fill(p, ..., seed) wrote */
static enum look look_part(const u8 *p, size_t off, size_t len, u32 seed)
{
	struct look_args a = { .p = p, .off = off, .len = len, .seed = seed };

	if (sigbus_in(do_look, &a))
		return LOOK_SIGBUS;
	return a.changed ? LOOK_CHANGED : LOOK_INTACT;
}

/* Does [p, p + len) still hold the pattern of @seed? */
static enum look look(const u8 *p, size_t len, u32 seed)
{
	return look_part(p, 0, len, seed);
}

static bool all_sigbus(u8 *p, size_t len)
{
	size_t k;

	for (k = 0; k < len; k += d.page)
		if (!sigbus_on(p + k, false) || !sigbus_on(p + k, true))
			return false;
	return true;
}

/* pagemap entry of @addr in process @pid (0: self) */
static u64 pagemap(pid_t pid, const void *addr)
{
	char path[64];
	u64 e = 0;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)addr / d.page * 8) != 8)
		e = 0;
	close(fd);
	return e;
}

#define PM_PRESENT	(1ULL << 63)
#define PM_PFN		((1ULL << 55) - 1)

/*
 * Each page of the mapping is present with the PFN of its BAR location, the
 * place pmap() asked for and /proc/self/maps names
 */
static bool pagemap_matches(pid_t pid, u8 *p, size_t len)
{
	u64 phys = bar_phys(d.bdf, d.bar), where, e;
	size_t k;
	u32 bar;

	if (!phys || p2pmem_locate(p, &bar, &where) || bar != d.bar ||
	    where != map_at())
		return false;
	for (k = 0; k < len; k += d.page) {
		e = pagemap(pid, p + k);
		if (!(e & PM_PRESENT) ||
		    (e & PM_PFN) != (phys + where + k) / d.page)
			return false;
	}
	return true;
}

static bool pagemap_absent(pid_t pid, u8 *p, size_t len)
{
	size_t k;

	for (k = 0; k < len; k += d.page)
		if (pagemap(pid, p + k) & PM_PRESENT)
			return false;
	return true;
}

static void test_fork(void)
{
	size_t len = 4 * d.page;
	int to_child[2], to_parent[2], status;
	bool pm_live, pm_gone;
	char c = 0;
	double t;
	pid_t pid;
	u8 *p;

	p = fresh_map(4);
	if (!p) {
		tb_ok(false, "fork: set up a mapping");
		return;
	}
	fill(p, len, 1);
	VFIO_ASSERT_EQ(pipe(to_child), 0);
	VFIO_ASSERT_EQ(pipe(to_parent), 0);
	fflush(stdout);
	pid = fork();
	VFIO_ASSERT_GE(pid, 0);
	if (!pid) {
		/* 'y': the data is there; then SIGBUS after the teardown */
		c = look(p, len, 1) == LOOK_INTACT ? 'y' : 'n';
		if (write(to_parent[1], &c, 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(3);
		_exit(all_sigbus(p, len) ? 0 : 1);
	}
	close(to_child[0]);
	close(to_parent[1]);
	VFIO_ASSERT_EQ(read(to_parent[0], &c, 1), 1);
	tb_ok(c == 'y', "fork: the child reads the parent's data in p2pmem");

	pm_live = pagemap_matches(pid, p, len);
	t = now();
	tb_ok(teardown(), "fork: unregister with the child's mapping live");
	t = (now() - t) * 1e3;
	pm_gone = pagemap_absent(pid, p, len);
	tb_ok(pm_live && pm_gone,
	       "fork: /proc/CHILD/pagemap shows the BAR's PFNs, then nothing after the teardown");
	tap_metric("fork_unregister_ms", "%.1f", t);

	VFIO_ASSERT_EQ(write(to_child[1], "g", 1), 1);
	VFIO_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	tb_ok(WIFEXITED(status) && !WEXITSTATUS(status),
	       "fork: the child gets SIGBUS after the parent's teardown (status 0x%x)",
	       status);
	tb_ok(all_sigbus(p, len), "fork: and so does the parent");
	munmap(p, len);
	close(to_child[1]);
	close(to_parent[0]);
	tb_ok(fresh(), "fork: register again, all of the BAR available");
}

static void test_pagemap(void)
{
	u64 phys = bar_phys(d.bdf, d.bar), e, flags = 0, count = 0, where;
	size_t len = 4 * d.page;
	bool live, gone;
	int fd;
	u32 bar;
	u8 *p;

	p = fresh_map(4);
	if (!p) {
		tb_ok(false, "pagemap: set up a mapping");
		return;
	}
	fill(p, len, 2);
	live = pagemap_matches(0, p, len);
	e = pagemap(0, p);
	tb_ok(live, "pagemap: each page present with the PFN of its BAR location (entry 0x%llx, BAR at 0x%llx)",
	       (unsigned long long)e, (unsigned long long)phys);

	/* The kernel's view of those PFNs must be readable, whatever it is */
	if (!p2pmem_locate(p, &bar, &where)) {
		fd = open("/proc/kpageflags", O_RDONLY);
		if (fd >= 0) {
			if (pread(fd, &flags, 8, (phys + where) / d.page * 8) != 8)
				flags = -1;
			close(fd);
		}
		fd = open("/proc/kpagecount", O_RDONLY);
		if (fd >= 0) {
			if (pread(fd, &count, 8, (phys + where) / d.page * 8) != 8)
				count = -1;
			close(fd);
		}
		tb_diag("kpageflags 0x%llx kpagecount %lld of the first page",
			 (unsigned long long)flags, (long long)count);
	}

	tb_ok(teardown(), "pagemap: unregister");
	gone = pagemap_absent(0, p, len);
	tb_ok(gone && all_sigbus(p, len),
	       "pagemap: nothing present after the teardown, and SIGBUS");
	munmap(p, len);
}

static void test_mremap(void)
{
	size_t len = 4 * d.page;
	u64 where0, where1;
	u8 *p, *q, *r;
	enum look l;
	int err;
	u32 bar;

	/* Move */
	p = fresh_map(4);
	if (!p) {
		tb_ok(false, "mremap: set up a mapping");
		return;
	}
	fill(p, len, 3);
	VFIO_ASSERT_EQ(p2pmem_locate(p, &bar, &where0), 0);
	r = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	VFIO_ASSERT_NE(r, MAP_FAILED);
	q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, r + len);
	if (q == MAP_FAILED) {
		tb_diag("mremap move: %s", strerror(errno));
		tb_ok(errno == EINVAL || errno == EFAULT,
		       "mremap move refused cleanly");
		munmap(p, len);
	} else {
		tb_ok(look(q, len, 3) == LOOK_INTACT && where0 == map_at() &&
		       !p2pmem_locate(q, &bar, &where1) && where1 == where0 &&
		       avail() == (s64)(d.bar_size - len),
		       "mremap move: data, BAR location and pool accounting follow the mapping");
		tb_ok(teardown() && all_sigbus(q, len),
		       "mremap move: SIGBUS at the new address after the teardown");
		munmap(q, len);
	}
	munmap(r, len);

	/* Grow: the new part has no memory behind it */
	p = fresh_map(4);
	if (!p) {
		tb_ok(false, "mremap: set up a mapping");
		return;
	}
	fill(p, len, 4);
	q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) {
		/*
		 * mremap() refuses to grow VM_DONTEXPAND and VM_PFNMAP
		 * mappings with EFAULT; the mapping must stay as it was.
		 */
		err = errno;
		tb_ok(err == EFAULT && look(p, len, 4) == LOOK_INTACT &&
		      avail() == (s64)(d.bar_size - len),
		      "mremap grow refused with EFAULT (%s), the mapping intact",
		      errname(err));
		q = p;
	} else {
		l = look(q, len, 4);
		tb_ok(l == LOOK_INTACT && all_sigbus(q + len, len) &&
		       avail() == (s64)(d.bar_size - len),
		       "mremap grow: old part %s, new part raises SIGBUS, nothing allocated",
		       look_name[l]);
		munmap(q + len, len);
	}
	/*
	 * Shrink: the buffer keeps all its pages until its last mapping is
	 * gone (the pool is checked whole after the munmaps below).
	 */
	r = mremap(q, len, len / 2, 0);
	tb_ok(r == q && look(q, len / 2, 4) == LOOK_INTACT &&
	       avail() == (s64)(d.bar_size - len),
	       "mremap shrink: the rest intact, the buffer keeps its pages");
	munmap(q, len / 2);

	/*
	 * DONTUNMAP moves the pages and leaves the old range mapped but
	 * empty: it must fault with SIGBUS, not reach memory.
	 */
	p = pmap(4);
	if (p) {
		fill(p, len, 5);
		q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
		if (q == MAP_FAILED) {
			/* Refused for VM_DONTEXPAND and VM_PFNMAP, with EINVAL */
			err = errno;
			tb_ok(err == EINVAL && look(p, len, 5) == LOOK_INTACT,
			      "mremap MREMAP_DONTUNMAP refused with EINVAL (%s), the mapping intact",
			      errname(err));
		} else {
			l = look(q, len, 5);
			tb_ok(l == LOOK_INTACT && all_sigbus(p, len) &&
			       avail() == (s64)(d.bar_size - len),
			       "mremap MREMAP_DONTUNMAP: data %s at the new address, the old one raises SIGBUS",
			       look_name[l]);
			munmap(q, len);
		}
		munmap(p, len);
	}
	tb_ok(pool_whole(), "mremap: the pool is whole after the munmaps");
}

static const struct {
	int advice;
	const char *name;
	bool refaults;		/* drops the PTEs, which the fault handler remakes */
} advices[] = {
	{ MADV_NORMAL, "NORMAL" },
	{ MADV_RANDOM, "RANDOM" },
	{ MADV_SEQUENTIAL, "SEQUENTIAL" },
	{ MADV_WILLNEED, "WILLNEED" },
	{ MADV_DONTNEED, "DONTNEED", true },
	{ MADV_FREE, "FREE" },
	{ MADV_REMOVE, "REMOVE" },
	{ MADV_DONTFORK, "DONTFORK" },
	{ MADV_DOFORK, "DOFORK" },
	{ MADV_MERGEABLE, "MERGEABLE" },
	{ MADV_UNMERGEABLE, "UNMERGEABLE" },
	{ MADV_HUGEPAGE, "HUGEPAGE" },
	{ MADV_NOHUGEPAGE, "NOHUGEPAGE" },
	{ MADV_DONTDUMP, "DONTDUMP" },
	{ MADV_DODUMP, "DODUMP" },
	{ MADV_WIPEONFORK, "WIPEONFORK" },
	{ MADV_KEEPONFORK, "KEEPONFORK" },
	{ MADV_COLD, "COLD" },
	{ MADV_PAGEOUT, "PAGEOUT" },
	{ MADV_POPULATE_READ, "POPULATE_READ" },
	{ MADV_POPULATE_WRITE, "POPULATE_WRITE" },
	{ MADV_DONTNEED_LOCKED, "DONTNEED_LOCKED", true },
	{ MADV_COLLAPSE, "COLLAPSE" },
	{ MADV_HWPOISON, "HWPOISON" },
	{ MADV_SOFT_OFFLINE, "SOFT_OFFLINE" },
	{ MADV_GUARD_INSTALL, "GUARD_INSTALL" },
	{ MADV_GUARD_REMOVE, "GUARD_REMOVE" },
};

static void test_madvise(void)
{
	size_t len = 4 * d.page, i;
	s64 after;
	enum look l;
	int ret;
	u8 *p;

	if (madvise(NULL, 0, MADV_NORMAL) && errno == ENOSYS) {
		tb_skip("madvise: the kernel has no madvise() (CONFIG_ADVISE_SYSCALLS=n)");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(advices); i++) {
		p = fresh_map(4);
		if (!p) {
			tb_ok(false, "madvise %s: set up a mapping",
			       advices[i].name);
			continue;
		}
		fill(p, len, 10 + i);
		ret = madvise(p, len, advices[i].advice) ? -errno : 0;
		l = look(p, len, 10 + i);
		after = avail();
		munmap(p, len);
		/*
		 * Intact, or gone with SIGBUS (and the pages back in the pool
		 * right away); never other bytes in their place.  The pages
		 * of a buffer stay with it until it is unmapped, so advices
		 * that drop PTEs leave the data to be faulted in again.
		 */
		tb_ok(l != LOOK_CHANGED &&
		       (!advices[i].refaults || ret || l == LOOK_INTACT) &&
		       (l != LOOK_SIGBUS || after == (s64)d.bar_size) &&
		       pool_whole(),
		       "madvise(MADV_%s) returned %s; data %s; pool whole after munmap",
		       advices[i].name, errname(-ret), look_name[l]);
	}

	/*
	 * Pages whose PTEs DONTNEED dropped stay with the buffer.  Populating
	 * them faults them in again, but GUP then refuses P2P pages without
	 * FOLL_PCI_P2PDMA (EREMOTEIO), which madvise() reports as ENOMEM, as
	 * for a fresh mapping above: either way the data is intact.
	 */
	p = fresh_map(4);
	if (p) {
		fill(p, len, 40);
		madvise(p, len, MADV_DONTNEED);
		ret = madvise(p, len, MADV_POPULATE_WRITE) ? -errno : 0;
		l = look(p, len, 40);
		munmap(p, len);
		tb_ok(ret == -ENOMEM && l == LOOK_INTACT && pool_whole(),
		       "MADV_POPULATE_WRITE after MADV_DONTNEED returned %s, data %s, pool whole after munmap",
		       errname(-ret), look_name[l]);
	}
}

static void test_munmap_parts(void)
{
	size_t len = 8 * d.page;
	u8 *p;

	p = fresh_map(8);
	if (!p) {
		tb_ok(false, "munmap half: set up a mapping");
		return;
	}
	fill(p, len, 5);
	/* The buffer keeps its pages until its last mapping is gone */
	VFIO_ASSERT_EQ(munmap(p + len / 2, len / 2), 0);
	tb_ok(avail() == (s64)(d.bar_size - len) &&
	       look(p, len / 2, 5) == LOOK_INTACT,
	       "munmap of the upper half: the rest intact, the buffer keeps its pages");
	VFIO_ASSERT_EQ(munmap(p, d.page), 0);
	tb_ok(avail() == (s64)(d.bar_size - len) &&
	       look_part(p, d.page, len / 2 - d.page, 5) == LOOK_INTACT,
	       "munmap of the first page of the rest: the middle intact");
	tb_ok(teardown() && all_sigbus(p + d.page, len / 2 - d.page),
	       "teardown: the remaining middle raises SIGBUS");
	munmap(p + d.page, len / 2 - d.page);
	tb_ok(fresh(), "munmap parts: register again, all available");
}

/* The kernel touching a dead mapping on the process's behalf */
static void test_kernel_access(void)
{
	size_t len = 4 * d.page;
	int pfd[2], zfd;
	ssize_t w, r;
	u8 *p;

	p = fresh_map(4);
	if (!p) {
		tb_ok(false, "kernel access: set up a mapping");
		return;
	}
	fill(p, len, 6);
	VFIO_ASSERT_EQ(pipe(pfd), 0);
	w = write(pfd[1], p, d.page);
	tb_ok(w == (ssize_t)d.page, "write() from a live mapping works");
	VFIO_ASSERT_TRUE(teardown());
	w = write(pfd[1], p, d.page);
	zfd = open("/dev/zero", O_RDONLY);
	r = read(zfd, p, d.page);
	tb_ok(w < 0 && r < 0 && errno == EFAULT,
	       "write() from and read() into a torn-down mapping fail with EFAULT (%zd, %zd)",
	       w, r);
	close(zfd);
	close(pfd[0]);
	close(pfd[1]);
	munmap(p, len);
}

/* Read @len bytes of the disk at @off into @buf: bytes read or -errno */
static long read_psync(int fd, void *buf, size_t len, u64 off)
{
	ssize_t ret = pread(fd, buf, len, off);

	return ret < 0 ? -errno : ret;
}

static long read_uring(int fd, void *buf, size_t len, u64 off)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	long ret;

	if (io_uring_queue_init(2, &ring, 0))
		return -ENOSYS;
	io_uring_prep_read(io_uring_get_sqe(&ring), fd, buf, len, off);
	io_uring_submit(&ring);
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (!ret) {
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ret;
}

/*
 * @p holds the disk's bytes at @off; if not, say how it differs from the
 * same bytes read into DRAM and from the BAR read through VFIO.
 */
static bool odirect_data_ok(int fd, const u8 *p, size_t len, u64 off)
{
	long bad = pattern_check((const u64 *)p, off, len), dbad, bbad;
	u64 where = 0;
	u8 *dram, *bar;
	u32 b;

	if (bad < 0)
		return true;
	VFIO_ASSERT_EQ(posix_memalign((void **)&dram, d.page, len), 0);
	bar = malloc(len);
	dbad = pread(fd, dram, len, off) == (ssize_t)len ?
	       pattern_check((u64 *)dram, off, len) : -2;
	bbad = -3;
	if (!p2pmem_locate(p, &b, &where) &&
	    pread(d.fd, bar, len, d.bar_offset + where) == (ssize_t)len)
		bbad = memcmp(bar, p, len) ? 1 : -1;
	tb_diag("first bad word at 0x%lx: 0x%016llx, want 0x%016llx; DRAM read: %ld, BAR 0x%llx via VFIO %s the mapping",
		 bad, (unsigned long long)((const u64 *)p)[bad / 8],
		 (unsigned long long)pattern_word(off + bad), dbad,
		 (unsigned long long)where, bbad == -1 ? "equals" : "differs from");
	free(dram);
	free(bar);
	return false;
}

static void test_odirect(void)
{
	long (*const readers[2])(int, void *, size_t, u64) = {
		read_psync, read_uring,
	};
	static const char *const rname[2] = { "pread", "io_uring" };
	size_t len = 16 * d.page;
	bool data_ok;
	u64 disk;
	long ret;
	int fd, i;
	u8 *p;

	fd = blk_open(blk_path, &disk);
	if (fd < 0) {
		tb_skip("O_DIRECT: no block device in $CLIENT_BLK");
		return;
	}
	data_ok = blk_has_pattern(fd);
	tb_ok(data_ok, "%s holds the testbed's data image (read into DRAM)",
	       blk_path);
	for (i = 0; i < 2; i++) {
		p = fresh_map(16);
		if (!p) {
			tb_ok(false, "O_DIRECT: set up a mapping");
			continue;
		}
		ret = readers[i](fd, p, len, len);
		if (nop2p())
			tb_ok(ret < 0 && p2p_io_refused(-ret),
			       "O_DIRECT %s into a live range without a P2P path fails cleanly (%s)",
			       rname[i], ret < 0 ? errname(-ret) : "succeeded");
		else
			tb_ok(ret == (long)len &&
			       (!data_ok || odirect_data_ok(fd, p, len, len)),
			       "O_DIRECT %s into a live range reads the disk's bytes (%ld)%s",
			       rname[i], ret, data_ok ? "" : " (not checked)");

		/*
		 * Dropped PTEs: the buffer still owns the page, so the read
		 * faults it in again and lands there, as in a live range.
		 */
		if (madvise(p, d.page, MADV_DONTNEED)) {
			tb_ok(false, "O_DIRECT %s into a DONTNEED'ed page: madvise: %s",
			      rname[i], errname(errno));
		} else {
			ret = readers[i](fd, p, d.page, 0);
			if (nop2p())
				tb_ok(ret < 0 && p2p_io_refused(-ret),
				      "O_DIRECT %s into a DONTNEED'ed page without a P2P path fails cleanly (%s)",
				      rname[i], ret < 0 ? errname(-ret) : "succeeded");
			else
				tb_ok(ret == (long)d.page &&
				      (!data_ok || odirect_data_ok(fd, p, d.page, 0)),
				      "O_DIRECT %s into a DONTNEED'ed page faults it in again and reads the disk's bytes (%ld)%s",
				      rname[i], ret, data_ok ? "" : " (not checked)");
		}

		VFIO_ASSERT_TRUE(teardown());
		ret = readers[i](fd, p, len, 0);
		tb_ok(ret == -EFAULT || ret == -EINVAL,
		       "O_DIRECT %s into a torn-down range fails with EFAULT/EINVAL (%s)",
		       rname[i], ret < 0 ? errname(-ret) : "succeeded");
		munmap(p, len);
	}
	close(fd);
}

static void test_mlock(void)
{
	size_t len = 4 * d.page;
	double t;
	int ret;
	u8 *p;

	p = fresh_map(4);
	if (!p) {
		tb_ok(false, "mlock: set up a mapping");
		return;
	}
	fill(p, len, 7);
	/*
	 * mlock() populates the range with GUP, which refuses P2PDMA pages
	 * without FOLL_PCI_P2PDMA: EREMOTEIO, and the data stays.
	 */
	ret = mlock(p, len) ? -errno : 0;
	tb_ok(ret == -EREMOTEIO && look(p, len, 7) == LOOK_INTACT,
	      "mlock() refused with EREMOTEIO (%s), data intact", errname(-ret));
	munlock(p, len);
	ret = mlockall(MCL_CURRENT | MCL_FUTURE) ? -errno : 0;
	t = now();
	tb_ok(teardown() && all_sigbus(p, len),
	       "mlockall() (%s) does not keep the pages: teardown, then SIGBUS",
	       errname(-ret));
	tap_metric("mlocked_unregister_ms", "%.1f", (now() - t) * 1e3);
	munlockall();
	munmap(p, len);
}

/* Long-term pins and pipes must not get hold of P2P pages */
static void test_pins(void)
{
	size_t len = 4 * d.page;
	struct io_uring ring;
	struct iovec iov;
	int pfd[2], ret;
	char buf[64];
	ssize_t n;
	u8 *p;

	p = fresh_map(4);
	if (!p) {
		tb_ok(false, "pins: set up a mapping");
		return;
	}
	fill(p, len, 8);
	iov.iov_base = p;
	iov.iov_len = len;

	if (io_uring_queue_init(2, &ring, 0)) {
		tb_skip("io_uring fixed buffers: no io_uring");
	} else {
		ret = io_uring_register_buffers(&ring, &iov, 1);
		tb_ok(ret < 0,
		       "io_uring fixed buffer (long-term pin) of p2pmem refused (%s)",
		       ret < 0 ? errname(-ret) : "accepted");
		if (!ret)
			io_uring_unregister_buffers(&ring);
		io_uring_queue_exit(&ring);
	}

	VFIO_ASSERT_EQ(pipe(pfd), 0);
	n = vmsplice(pfd[1], &iov, 1, 0);
	tb_ok(n < 0, "vmsplice() of p2pmem into a pipe refused (%s)",
	       n < 0 ? errname(errno) : "accepted");
	while (n > 0 && read(pfd[0], buf, sizeof(buf)) > 0)
		n -= sizeof(buf);
	close(pfd[0]);
	close(pfd[1]);

	/* Remote access: refused, or the right bytes */
	{
		struct iovec local = { .iov_base = malloc(len), .iov_len = len };
		struct iovec remote = { .iov_base = p, .iov_len = len };
		u8 *want = malloc(len);
		int fd;

		fill_pattern(want, len, 8);
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		tb_ok(n < 0 || (n == (ssize_t)len &&
				 !memcmp(local.iov_base, want, len)),
		       "process_vm_readv() of p2pmem: %s",
		       n < 0 ? errname(errno) : "the right bytes");
		fd = open("/proc/self/mem", O_RDONLY);
		n = pread(fd, local.iov_base, len, (uintptr_t)p);
		tb_ok(n < 0 || (n == (ssize_t)len &&
				 !memcmp(local.iov_base, want, len)),
		       "/proc/self/mem read of p2pmem: %s",
		       n < 0 ? errname(errno) : "the right bytes");
		close(fd);
		free(local.iov_base);
		free(want);
	}

	munmap(p, len);
	tb_ok(pool_whole(), "pins: the pool is whole after the munmap");
}

static void test_stale_fd(void)
{
	char buf[32], path[128];
	int afd, sfd, nfd;
	void *p;

	if (!fresh()) {
		tb_ok(false, "stale fd: register");
		return;
	}
	afd = p2pmem_open(d.bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/available",
		 d.bdf);
	sfd = open(path, O_RDONLY);
	VFIO_ASSERT_TRUE(afd >= 0 && sfd >= 0);
	VFIO_ASSERT_TRUE(teardown());
	VFIO_ASSERT_TRUE(fresh());

	/* The sysfs group stays across a teardown: old fds keep working */
	p = mmap(NULL, d.page, PROT_READ | PROT_WRITE, MAP_SHARED, afd, 0);
	tb_ok(p != MAP_FAILED,
	       "mmap() through an allocate fd opened before the re-register works (%s)",
	       p == MAP_FAILED ? errname(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, d.page);
	tb_ok(pread(sfd, buf, sizeof(buf), 0) > 0,
	       "reading an available fd opened before the re-register works");
	nfd = p2pmem_open(d.bdf);
	p = nfd < 0 ? MAP_FAILED :
	    mmap(NULL, d.page, PROT_READ | PROT_WRITE, MAP_SHARED, nfd, 0);
	tb_ok(p != MAP_FAILED, "a freshly opened allocate fd maps");
	if (p != MAP_FAILED)
		munmap(p, d.page);
	close(nfd);
	close(afd);
	close(sfd);
	tb_ok(pool_whole(), "stale fd: the pool is whole");
}

static void test_exit(void)
{
	int status, pfd[2], fd;
	u64 disk = 0;
	double t;
	pid_t pid;
	char c;
	u8 *p;

	/* Exit without unmapping */
	if (!fresh()) {
		tb_ok(false, "exit: register");
		return;
	}
	fflush(stdout);
	pid = fork();
	VFIO_ASSERT_GE(pid, 0);
	if (!pid) {
		p = pmap(16);
		if (!p)
			_exit(1);
		fill(p, 16 * d.page, 9);
		_exit(0);
	}
	VFIO_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	tb_ok(WIFEXITED(status) && !WEXITSTATUS(status) && pool_whole(),
	       "a process exiting with a mapping gives its pages back");

	/* SIGKILL in the middle of reads into p2pmem */
	fd = blk_open(blk_path, &disk);
	if (fd < 0) {
		tb_skip("SIGKILL during O_DIRECT: no block device");
		return;
	}
	VFIO_ASSERT_EQ(pipe(pfd), 0);
	fflush(stdout);
	pid = fork();
	VFIO_ASSERT_GE(pid, 0);
	if (!pid) {
		u64 off = 0;

		p = pmap(64);
		if (!p || write(pfd[1], "m", 1) != 1)
			_exit(1);
		for (;;) {
			read_uring(fd, p, 64 * d.page, off);
			off = (off + 64 * d.page) % (disk - 64 * d.page);
		}
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) == 1)
		msleep(100);
	kill(pid, SIGKILL);
	VFIO_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	close(pfd[0]);
	close(fd);
	tb_ok(pool_whole_within(10000),
	       "a process killed during reads into p2pmem gives its pages back");
	t = now();
	tb_ok(teardown(), "unregister after the kill");
	tap_metric("killed_reader_unregister_ms", "%.1f", (now() - t) * 1e3);
}

static void test_map_fixed(void)
{
	size_t len = 4 * d.page;
	void *q;
	u8 *p;

	p = fresh_map(4);
	if (!p) {
		tb_ok(false, "MAP_FIXED: set up a mapping");
		return;
	}
	fill(p, len, 11);
	q = mmap(p, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	tb_ok(q == p && pool_whole(),
	       "an anonymous MAP_FIXED over a p2pmem mapping gives its pages back");
	munmap(q, len);

	p = pmap(4);
	if (!p)
		return;
	fill(p, len, 12);
	tb_ok(!mprotect(p, len, PROT_NONE) &&
	       !mprotect(p, len, PROT_READ | PROT_WRITE) &&
	       look(p, len, 12) == LOOK_INTACT,
	       "mprotect(PROT_NONE) and back keeps the data");
	munmap(p, len);
}

int main(int argc, char *argv[])
{
	const char *why;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF\n", argv[0]);
		return 2;
	}
	tb_start();
	sigbus_init();
	blk_path = getenv("CLIENT_BLK");

	why = p2p_dev_open(&d, argv[1]);
	if (why) {
		tb_skip("%s", why);
		return tb_end();
	}

	test_fork();
	test_pagemap();
	test_mremap();
	test_madvise();
	test_munmap_parts();
	test_kernel_access();
	test_odirect();
	test_mlock();
	test_pins();
	test_stale_fd();
	test_exit();
	test_map_fixed();

	p2p_unregister(d.fd, d.bar);
	tb_ok(p2p_clean(&d), "the device ends unregistered");
	p2p_dev_close(&d);
	return tb_end();
}
