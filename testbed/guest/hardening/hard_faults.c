// SPDX-License-Identifier: GPL-2.0-only
/*
 * hard_faults [-m MAX] [-s SIZE] [-p PASSES] [-w] [-V] BDF: fault
 * injection into P2P registration.  -V logs the backtrace of every fault
 * injected in the teardown sweeps (fail_page_alloc and failslab verbose 2).
 *
 * With /proc/self/task/TID/fail-nth, fail the Nth fault point that a
 * VFIO_DEVICE_FEATURE_P2P_REGISTER ioctl passes, for N = 1, 2, ... until
 * the ioctl runs through without reaching the Nth point and succeeds.  The
 * fault points are the slab allocations and the page allocations of any
 * order of the calling thread (FAILSLAB, FAIL_PAGE_ALLOC; sleeping and
 * atomic ones included).  After each failure the ioctl must have failed with
 * ENOMEM, the one errno the UAPI documents for an allocation failure
 * (include/uapi/linux/vfio.h: "ENOMEM and other errors from creating the
 * struct pages"; an allocation that fails is ENOMEM there), GET must say
 * unregistered, p2pmem must have no range (size 0, or no files before the
 * first registration), and an immediate register must succeed with all of
 * the range available (so nothing leaked: no claim on the BAR, no range, no
 * pages of the pool) and unregister again.
 *
 * Order-0 pages include the page tables that memory hotplug on x86
 * allocates for the direct map of the new range (alloc_low_page(),
 * GFP_ATOMIC): without the series' x86/mm fix, phys_pud_init() and
 * friends used a failed one unchecked, a NULL dereference in the kernel.
 *
 * The fault points of a call are not the same from one call to the next
 * (KASAN's stack depot and kmemleak allocate when they first see a stack,
 * caches refill...), so a sweep can step over some: the register sweep
 * runs PASSES times (default 3), each covering a slightly different set.
 *
 * The same sweep then runs over the other paths that a failure can leave
 * half done: the VFIO mmap() of the BAR and the DMABUF export (a leaked
 * mmap count or DMABUF list entry makes every later register fail with
 * EBUSY), the mmap() of p2pmem/allocate (a leaked page or pgmap
 * reference shows in "available" or makes the unregister wait forever),
 * and the mmap() of the BAR's VFIO_REGION_TYPE_PCI_P2P region through the
 * device file, placed inside the registered granule and touched (the same
 * pool: after each step "available" is the whole granule and sysfs can
 * place the same bytes; the bytes written through a mapping that worked
 * are in the BAR, read back with pread() of the BAR region; the VMA holds
 * the device file, so a leaked reference would keep the close at the end
 * of the sweep from ending a registration).
 * Every sweep must inject at least one fault.
 *
 * The teardown paths, unregister and VFIO_DEVICE_RESET, allocate nothing
 * while the BAR is the only registered one: pci_p2pdma_remove_resource()
 * only frees (memunmap_pages(), the pool, the sysfs group).  They allocate
 * when another BAR of the device stays registered: the p2pmem sysfs group
 * is then removed and created again for the remaining range.  So the
 * teardown sweeps run with a granule of another registrable BAR of the
 * device registered (if it has one), and each first counts the fault
 * points that a fault-free teardown passes: with none there is nothing to
 * inject, and the sweep is left out (a TAP comment says so) rather than
 * passing.  A teardown that hits a fault must still end the registration
 * of the BAR and must not fail.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "hard.h"

static unsigned int max_steps = 3000;
static struct fail_nth fnth;
static bool verbose_teardown;

static struct tb_kmsg kmsg;
static bool kmsg_ok;

/* What the UAPI documents for a failed allocation */
static bool alloc_errno(int err)
{
	return err == ENOMEM;
}

#define NR_ERRNO 160

struct sweep {
	const char *name;
	unsigned int injected;		/* faults injected */
	unsigned int failed;		/* ... that made the operation fail */
	unsigned int absorbed;		/* ... that it recovered from */
	unsigned int bad_errno;		/* failed with another errno */
	unsigned int dirty;		/* left a registration or p2pmem */
	unsigned int after_bad;		/* the next fault-free use failed */
	unsigned int absorbed_bad;	/* succeeded, but inconsistently */
	unsigned int errs[NR_ERRNO];
	unsigned int bugs;		/* kernel reports of a bug */
	unsigned int alloc_reports;	/* allocation failure reports */
	unsigned int other_bad;		/* the other BAR lost its p2pmem */
	bool dropped;			/* no fault point to inject at */
	bool finished;			/* reached a fault-free run */
	bool final_ok;			/* ... which succeeded */
	double seconds;
};

static void sweep_count(struct sweep *s, int ret)
{
	int err = -ret;

	s->failed++;
	if (err > 0 && err < NR_ERRNO)
		s->errs[err]++;
	if (!alloc_errno(err))
		s->bad_errno++;
}

/*
 * Count one step of a sweep: @injected tells whether the armed fault was
 * hit, @ok whether the call succeeded, @ret its -errno. A step without a
 * fault ends the sweep, and must succeed.
 */
static void sweep_step(struct sweep *s, bool injected, bool ok, int ret)
{
	if (!injected) {
		s->finished = true;
		s->final_ok = ok;
		return;
	}
	s->injected++;
	if (ok)
		s->absorbed++;
	else
		sweep_count(s, ret);
}

/* Pin what the kernel logged on fault @n of @s */
static void sweep_kmsg(struct sweep *s, unsigned int n)
{
	unsigned int before = kmsg.reports, alloc = kmsg.alloc_reports;
	int ret;

	if (!kmsg_ok)
		return;
	ret = tb_kmsg_scan(&kmsg);
	s->alloc_reports += kmsg.alloc_reports - alloc;
	if (ret < 0) {
		tb_diag("%s: fault %u: kernel log check: %s", s->name, n,
			kmsg.why);
		s->bugs++;
		kmsg_ok = false;
		return;
	}
	if (!ret)
		return;
	if (!s->bugs)
		tb_diag("%s: fault %u made the kernel report: %s", s->name, n,
			before ? "(see the first report above)" : kmsg.first);
	s->bugs += ret;
}

static const char *sweep_errnos(struct sweep *s)
{
	static char buf[256];
	size_t len = 0;
	int e;

	buf[0] = '\0';
	for (e = 1; e < NR_ERRNO; e++) {
		if (!s->errs[e])
			continue;
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s:%u",
				len ? "," : "", errname(e), s->errs[e]);
		if (len >= sizeof(buf))
			break;
	}
	return len ? buf : "none";
}

/* Fold one pass of a sweep into the total */
static void sweep_add(struct sweep *total, const struct sweep *one)
{
	int e;

	total->injected += one->injected;
	total->failed += one->failed;
	total->absorbed += one->absorbed;
	total->bad_errno += one->bad_errno;
	total->dirty += one->dirty;
	total->after_bad += one->after_bad;
	total->absorbed_bad += one->absorbed_bad;
	total->other_bad += one->other_bad;
	total->bugs += one->bugs;
	total->alloc_reports += one->alloc_reports;
	for (e = 0; e < NR_ERRNO; e++)
		total->errs[e] += one->errs[e];
	total->finished = (total->seconds ? total->finished : true) &&
			  one->finished;
	total->final_ok = (total->seconds ? total->final_ok : true) &&
			  one->final_ok;
	total->seconds += one->seconds;
}

static void sweep_report(struct sweep *s)
{
	if (s->dropped)
		return;
	tb_diag("%s: %u faults injected in %.1fs: %u failed (%s), %u absorbed",
		s->name, s->injected, s->seconds, s->failed, sweep_errnos(s),
		s->absorbed);
	tap_metric(s->name, "%u", s->injected);
	if (s->alloc_reports)
		tb_diag("%s: %u allocation failure reports (warn_alloc) in the kernel log, expected when allocations fail",
			s->name, s->alloc_reports);
	tb_ok(s->injected > 0, "%s: the sweep injected faults (%u)", s->name,
	      s->injected);
	tb_ok(s->finished && s->final_ok,
	      "%s: sweep reached a fault-free run that succeeded after %u faults",
	      s->name, s->injected);
	tb_ok(!s->bad_errno,
	      "%s: every failure returned ENOMEM (%s)", s->name,
	      sweep_errnos(s));
	tb_ok(!s->dirty,
	      "%s: no failure left a registration, p2pmem or an unbalanced state (%u did)",
	      s->name, s->dirty);
	tb_ok(!s->after_bad && !s->absorbed_bad,
	      "%s: the fault-free register after each fault succeeded with the whole range available (%u+%u did not)",
	      s->name, s->after_bad, s->absorbed_bad);
	tb_ok(!s->bugs,
	      "%s: no injected fault made the kernel WARN, BUG or the like (%u report lines)",
	      s->name, s->bugs);
}

/*
 * Register [@offset, @offset + @size) without faults, check that GET and
 * p2pmem show it with all of it available, and unregister it.
 */
static bool register_roundtrip(struct p2p_dev *d, u64 offset, u64 size)
{
	bool ok;

	if (raw_p2p_set(d->fd, d->bar, 0, offset, size))
		return false;
	ok = p2p_shows(d, offset, size) &&
	     p2pmem_attr(d->bdf, "available") == (s64)size;
	if (p2p_unregister_at(d->fd, d->bar, offset, size))
		ok = false;
	return ok && p2p_clean(d);
}

static void sweep_register(struct p2p_dev *d, struct sweep *s, u64 offset,
			   u64 size)
{
	u64 want = size ? size : d->bar_size - offset;
	double t0 = now();
	unsigned int n = 0;
	bool injected;
	int ret;

	for (n = 1; n <= max_steps; n++) {
		sweep_kmsg(s, n - 1);
		fail_nth_arm(&fnth, n);
		ret = raw_p2p_set(d->fd, d->bar, 0, offset, size);
		injected = fail_nth_disarm(&fnth);

		if (!injected) {
			s->finished = true;
			s->final_ok = !ret && p2p_shows(d, offset, want);
			if (!ret)
				s->final_ok &= !p2p_unregister_at(d->fd, d->bar,
								  offset, want);
			s->final_ok &= p2p_clean(d);
			break;
		}
		s->injected++;

		if (!ret) {
			/* Some allocation had a fallback: it must be whole */
			s->absorbed++;
			if (!p2p_shows(d, offset, want) ||
			    p2pmem_attr(d->bdf, "available") != (s64)want)
				s->absorbed_bad++;
			if (p2p_unregister_at(d->fd, d->bar, offset, want) ||
			    !p2p_clean(d))
				s->dirty++;
			continue;
		}

		sweep_count(s, ret);
		if (!p2p_clean(d)) {
			tb_diag("%s: fault %u: %s left state behind",
				 s->name, n, errname(-ret));
			s->dirty++;
			p2p_unregister_all(d);
		}
		if (!register_roundtrip(d, offset, want)) {
			tb_diag("%s: fault %u: the next register failed",
				 s->name, n);
			s->after_bad++;
			p2p_unregister_all(d);
		}
	}
	sweep_kmsg(s, n);
	s->seconds = now() - t0;
}

/* mmap() of the BAR through the VFIO device file */
static void sweep_vfio_mmap(struct p2p_dev *d, struct sweep *s)
{
	double t0 = now();
	unsigned int n = 0;
	bool injected;
	void *p;
	int err;

	for (n = 1; n <= max_steps; n++) {
		sweep_kmsg(s, n - 1);
		fail_nth_arm(&fnth, n);
		p = mmap(NULL, P2P_GRANULE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 d->fd, d->bar_offset);
		err = p == MAP_FAILED ? errno : 0;
		injected = fail_nth_disarm(&fnth);

		if (p != MAP_FAILED) {
			sigbus_on(p, false);
			munmap(p, P2P_GRANULE);
		}
		sweep_step(s, injected, p != MAP_FAILED, -err);

		/* The mmap is gone: the BAR must not count as mapped */
		if (!register_roundtrip(d, 0, P2P_GRANULE)) {
			tb_diag("%s: fault %u: register after munmap failed",
				 s->name, n);
			s->after_bad++;
			p2p_unregister(d->fd, d->bar);
		}
		if (!injected)
			break;
	}
	sweep_kmsg(s, n);
	s->seconds = now() - t0;
}

static void sweep_dmabuf(struct p2p_dev *d, struct sweep *s)
{
	double t0 = now();
	unsigned int n = 0;
	bool injected;
	int fd;

	for (n = 1; n <= max_steps; n++) {
		sweep_kmsg(s, n - 1);
		fail_nth_arm(&fnth, n);
		fd = raw_dmabuf(d->fd, d->bar, 0, P2P_GRANULE);
		injected = fail_nth_disarm(&fnth);

		if (fd >= 0)
			close(fd);
		sweep_step(s, injected, fd >= 0, fd);

		/* The DMABUF is released: the BAR must not count as exported */
		if (!register_roundtrip(d, 0, P2P_GRANULE)) {
			tb_diag("%s: fault %u: register after the DMABUF was closed failed",
				 s->name, n);
			s->after_bad++;
			p2p_unregister(d->fd, d->bar);
		}
		if (!injected)
			break;
	}
	sweep_kmsg(s, n);
	s->seconds = now() - t0;
}

/* mmap() of p2pmem/allocate of a registered range */
static void sweep_p2pmem_mmap(struct p2p_dev *d, struct sweep *s)
{
	size_t len = 16 * d->page;
	double t0 = now(), t;
	unsigned int n = 0;
	bool injected;
	int pfd, err;
	void *p;

	if (raw_p2p_set(d->fd, d->bar, 0, 0, P2P_GRANULE)) {
		s->after_bad++;
		return;
	}
	pfd = p2pmem_open(d->bdf);
	if (pfd < 0) {
		s->after_bad++;
		goto out;
	}

	for (n = 1; n <= max_steps; n++) {
		sweep_kmsg(s, n - 1);
		fail_nth_arm(&fnth, n);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
		err = p == MAP_FAILED ? errno : 0;
		injected = fail_nth_disarm(&fnth);

		if (p != MAP_FAILED) {
			if (sigbus_on(p, true) ||
			    sigbus_on(p + len - 1, true) ||
			    p2pmem_attr(d->bdf, "available") !=
			    (s64)(P2P_GRANULE - len))
				s->absorbed_bad++;
			munmap(p, len);
		}
		sweep_step(s, injected, p != MAP_FAILED, -err);

		/* Every page went back to the pool */
		if (p2pmem_attr(d->bdf, "available") != P2P_GRANULE) {
			tb_diag("%s: fault %u: available %lld after munmap",
				 s->name, n,
				 (long long)p2pmem_attr(d->bdf, "available"));
			s->dirty++;
		}
		if (!injected)
			break;
	}
	close(pfd);
out:
	/* A leaked page reference would make this wait forever */
	t = now();
	if (p2p_unregister(d->fd, d->bar) || !p2p_clean(d))
		s->dirty++;
	tap_metric("faults_p2pmem_unregister_ms", "%.0f", (now() - t) * 1e3);
	sweep_kmsg(s, n);
	s->seconds = now() - t0;
}

/* Pages of each VFIO P2P mapping of the sweep */
#define VP_PAGES	16

/*
 * Write a word at each end of a mapping of the BAR at @at and find both in
 * the BAR with pread() of its VFIO region: the mapping is the memory there
 */
static bool vfio_p2p_data_ok(struct p2p_dev *d, u8 *p, size_t len, u64 at,
			     u64 seed)
{
	u64 w[2] = { seed, ~seed }, r[2] = { ~seed, seed };

	if (sigbus_copy(p, &w[0], 8) || sigbus_copy(p + len - 8, &w[1], 8))
		return false;
	if (pread(d->fd, &r[0], 8, d->bar_offset + at) != 8 ||
	    pread(d->fd, &r[1], 8, d->bar_offset + at + len - 8) != 8)
		return false;
	return r[0] == w[0] && r[1] == w[1];
}

/*
 * mmap() of the VFIO_REGION_TYPE_PCI_P2P region of the BAR through the
 * device file, placed inside a registered granule: its memory comes from
 * the pool that p2pmem/allocate shares, and its VMA holds the device file.
 * A failure must leave neither bytes taken (available is the whole granule
 * again, and sysfs can place the same bytes) nor a reference to the device
 * file: at the end, a close of the device must end a registration.
 * Returns false if that close did not (the device cannot be reopened).
 */
static bool sweep_vfio_p2p_mmap(struct p2p_dev *d, struct sweep *s)
{
	size_t len = VP_PAGES * d->page;
	/* Inside the granule, not at its start: the place is chosen */
	u64 at = P2P_GRANULE / 2;
	double t0 = now(), t;
	unsigned int n = 0;
	bool injected, closed = true;
	int err;
	void *p, *q;

	if (raw_p2p_set(d->fd, d->bar, 0, 0, P2P_GRANULE)) {
		s->after_bad++;
		return true;
	}

	for (n = 1; n <= max_steps; n++) {
		sweep_kmsg(s, n - 1);
		fail_nth_arm(&fnth, n);
		p = p2p_vfio_mmap_at(d, len, at);
		err = p == MAP_FAILED ? errno : 0;
		injected = fail_nth_disarm(&fnth);

		if (p != MAP_FAILED) {
			if (!vfio_p2p_data_ok(d, p, len, at, n) ||
			    p2pmem_attr(d->bdf, "available") !=
			    (s64)(P2P_GRANULE - len))
				s->absorbed_bad++;
			munmap(p, len);
		}
		sweep_step(s, injected, p != MAP_FAILED, -err);

		/* Every page went back to the pool, and sysfs can place them */
		q = MAP_FAILED;
		if (p2pmem_attr(d->bdf, "available") == P2P_GRANULE)
			q = p2pmem_mmap_at(d->bdf, len, d->bar, at);
		if (q == MAP_FAILED) {
			tb_diag("%s: fault %u: available %lld after munmap, or BAR%u+0x%llx not placeable through sysfs (%s)",
				s->name, n,
				(long long)p2pmem_attr(d->bdf, "available"),
				d->bar, (unsigned long long)at, errname(errno));
			s->dirty++;
		} else {
			munmap(q, len);
		}
		if (!injected)
			break;
	}

	/* A leaked page reference would make this wait forever */
	t = now();
	if (p2p_unregister(d->fd, d->bar) || !p2p_clean(d))
		s->dirty++;
	tap_metric("faults_vfio_p2p_unregister_ms", "%.0f", (now() - t) * 1e3);

	/* A leaked reference to the device file keeps the device open */
	if (raw_p2p_set(d->fd, d->bar, 0, 0, P2P_GRANULE)) {
		s->after_bad++;
	} else {
		p2p_dev_release(d);
		closed = p2pmem_absent(d->bdf);
		if (closed) {
			p2p_dev_reopen(d);
		} else {
			tb_diag("%s: the close of the device did not end its registration: a reference to the device file leaked",
				s->name);
			s->dirty++;
		}
	}
	sweep_kmsg(s, n);
	s->seconds = now() - t0;
	return closed;
}

enum teardown { TD_UNREGISTER, TD_RESET };

/* Another BAR of the device that can be registered, or -1 */
static int other_bar = -1;

static int find_other_bar(struct p2p_dev *d)
{
	u32 bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (bar == d->bar)
			continue;
		if (raw_p2p_set(d->fd, bar, 0, 0, P2P_GRANULE))
			continue;
		p2p_unregister(d->fd, bar);
		return bar;
	}
	return -1;
}

static bool bar_unregistered(struct p2p_dev *d, u32 bar)
{
	struct vfio_device_feature_p2p_register get;

	return !raw_p2p_get(d->fd, bar, 0, &get) && !get.state && !get.size;
}

/* The other BAR is registered and its p2pmem files are there */
static bool other_shows(struct p2p_dev *d)
{
	return p2p_registered(d->fd, other_bar) &&
	       p2pmem_attr(d->bdf, "size") == P2P_GRANULE &&
	       p2pmem_attr(d->bdf, "available") == P2P_GRANULE;
}

/* Pages mapped before the teardown: more than a TLB gather batch holds */
#define TD_PAGES	16

/*
 * Register (the other BAR first, if there is one) and map; then the
 * teardown with fail-nth armed at @n (0: not armed).  Return the
 * teardown's result; *@map is the mapping, to check and unmap.
 */
static int teardown_once(struct p2p_dev *d, enum teardown how,
			 unsigned int n, size_t len, void **map, bool *injected)
{
	size_t k;
	int ret;

	*map = MAP_FAILED;
	*injected = false;
	if (other_bar >= 0 && !p2p_registered(d->fd, other_bar) &&
	    raw_p2p_set(d->fd, other_bar, 0, 0, P2P_GRANULE))
		return -EAGAIN;
	if (raw_p2p_set(d->fd, d->bar, 0, 0, P2P_GRANULE))
		return -EAGAIN;
	*map = p2pmem_mmap(d->bdf, len, MAP_SHARED, 0);
	if (*map != MAP_FAILED)
		for (k = 0; k < len; k += d->page)
			sigbus_on(*map + k, true);

	fail_nth_arm(&fnth, n ? n : 1U << 30);
	if (how == TD_UNREGISTER)
		ret = raw_p2p_set(d->fd, d->bar, VFIO_DEVICE_P2P_UNREGISTER,
				  0, 0);
	else
		ret = raw_reset(d->fd);
	*injected = fail_nth_disarm(&fnth);
	return ret;
}

/* A teardown that hits a fault must still end the registration */
static void sweep_teardown(struct p2p_dev *d, struct sweep *s,
			   enum teardown how)
{
	const char *what = how == TD_UNREGISTER ? "unregister" : "VFIO_DEVICE_RESET";
	size_t len = TD_PAGES * d->page;
	double t0 = now();
	unsigned int n = 0, points = 0;
	bool injected, bar_ok, other_ok;
	int k;
	void *map;
	int ret;

	/*
	 * How many fault points does a fault-free teardown pass, without
	 * and with order-0 pages?  The sweep fails order-0 pages too.
	 */
	static const struct {
		size_t pages;
		bool order0;
	} census[] = {
		{ TD_PAGES, false },
		{ 1, true },		/* within one TLB gather batch */
		{ TD_PAGES, true },	/* as the sweep does it */
	};

	for (k = 0; k < (int)ARRAY_SIZE(census); k++) {
		size_t clen = census[k].pages * d->page;

		fail_nth_order0(&fnth, census[k].order0);
		ret = teardown_once(d, how, 0, clen, &map, &injected);
		points = fail_nth_passed(&fnth);
		if (map != MAP_FAILED)
			munmap(map, clen);
		vfio_pci_cmd_set(d->device, PCI_COMMAND_MEMORY);
		p2p_unregister(d->fd, d->bar);
		if (ret == -EAGAIN) {
			tb_ok(false, "%s: set up a registration to tear down",
			      s->name);
			s->dropped = true;
			return;
		}
		tb_diag("%s: a fault-free %s of a BAR with %zu mapped pages, %s, passes %u fault points (%s)",
			s->name, what, census[k].pages,
			other_bar >= 0 ? "another BAR registered" :
			"the only registered BAR (the device has no other)",
			points, census[k].order0 ? "slab, pages of any order" :
			"slab, pages of order 1 and more");
	}
	if (!points) {
		tb_diag("%s: nothing to inject: sweep left out", s->name);
		s->dropped = true;
		if (other_bar >= 0)
			p2p_unregister(d->fd, other_bar);
		return;
	}

	if (verbose_teardown)
		fail_nth_verbose(&fnth, 2);
	for (n = 1; n <= max_steps; n++) {
		sweep_kmsg(s, n - 1);
		ret = teardown_once(d, how, n, len, &map, &injected);
		if (ret == -EAGAIN) {
			s->after_bad++;
			break;
		}

		if (injected)
			s->injected++;
		if (ret && how == TD_UNREGISTER) {
			/* Nothing in the unregister may fail */
			sweep_count(s, ret);
			s->bad_errno++;
			p2p_unregister(d->fd, d->bar);
		} else if (ret) {
			/* The reset may fail; the revoke comes first */
			sweep_count(s, ret);
		} else if (injected) {
			s->absorbed++;
		}

		bar_ok = bar_unregistered(d, d->bar) &&
			 (map == MAP_FAILED || sigbus_on(map, false));
		if (!bar_ok) {
			tb_diag("%s: fault %u: registration or mapping survived (ret %s)",
				s->name, n, errname(-ret));
			s->dirty++;
			p2p_unregister(d->fd, d->bar);
		}
		if (map != MAP_FAILED)
			munmap(map, len);
		vfio_pci_cmd_set(d->device, PCI_COMMAND_MEMORY);

		/*
		 * An unregister leaves the other BAR registered, and its
		 * p2pmem files must be back; a reset ends both.
		 */
		if (other_bar >= 0) {
			other_ok = how == TD_UNREGISTER ? other_shows(d) :
				   bar_unregistered(d, other_bar);
			if (!other_ok) {
				if (!s->other_bad)
					tb_diag("%s: fault %u: the other BAR%d is %s, p2pmem size %lld",
						s->name, n, other_bar,
						p2p_registered(d->fd, other_bar) ?
						"registered" : "unregistered",
						(long long)p2pmem_attr(d->bdf, "size"));
				s->other_bad++;
				p2p_unregister(d->fd, other_bar);
			}
		}

		if (!injected) {
			s->finished = true;
			s->final_ok = !ret;
			break;
		}
	}
	if (verbose_teardown)
		fail_nth_verbose(&fnth, 0);
	if (other_bar >= 0)
		p2p_unregister(d->fd, other_bar);
	sweep_kmsg(s, n);
	s->seconds = now() - t0;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-m MAX_STEPS] [-s SIZE] [-p PASSES] [-w] [-V] BDF\n",
		prog);
	exit(2);
}

/* Order-0 page allocations are fault points in the sweeps that follow */
static void order0(bool on)
{
	if (fail_nth_order0(&fnth, on))
		tb_ok(false, "fail_page_alloc/min-order: set to %d", !on);
}

int main(int argc, char *argv[])
{
	struct sweep reg = { .name = "faults_register" };
	struct sweep reg_bar = { .name = "faults_register_whole_bar" };
	struct sweep vmmap = { .name = "faults_vfio_mmap" };
	struct sweep dmabuf = { .name = "faults_dmabuf" };
	struct sweep pmmap = { .name = "faults_p2pmem_mmap" };
	struct sweep vpmmap = { .name = "faults_vfio_p2p_mmap" };
	struct sweep unreg = { .name = "faults_unregister" };
	struct sweep reset = { .name = "faults_reset" };
	const char *fbegin = getenv("FAULTS_BEGIN");
	const char *fend = getenv("FAULTS_END");
	unsigned int passes = 3, pass;
	bool whole = false;
	u64 size = P2P_GRANULE;
	struct p2p_dev d;
	const char *why;
	int opt, ret;

	while ((opt = getopt(argc, argv, "m:s:p:wV")) != -1) {
		switch (opt) {
		case 'm':
			max_steps = strtoul(optarg, NULL, 0);
			break;
		case 's':
			size = parse_size(optarg);
			break;
		case 'w':
			whole = true;
			break;
		case 'p':
			passes = strtoul(optarg, NULL, 0);
			break;
		case 'V':
			verbose_teardown = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		usage(argv[0]);

	tb_start();
	sigbus_init();

	ret = fail_nth_init(&fnth);
	if (ret) {
		tb_skip("fault injection: /proc/self/fail-nth: %s (CONFIG_FAULT_INJECTION?)",
			strerror(-ret));
		return tb_end();
	}

	why = p2p_dev_open(&d, argv[optind]);
	if (why) {
		tb_skip("%s", why);
		fail_nth_exit(&fnth);
		return tb_end();
	}
	if (!p2p_clean(&d)) {
		tb_ok(false, "device starts unregistered");
		goto out;
	}
	other_bar = find_other_bar(&d);
	if (!p2p_clean(&d)) {
		tb_ok(false, "device unregistered after looking for another registrable BAR");
		goto out;
	}

	/*
	 * The allocation failure reports of this program are expected: open
	 * the window of splat.sh's console_reports, and follow the kernel
	 * log from here.
	 */
	if (!fbegin || !fend) {
		tb_ok(false, "FAULTS_BEGIN and FAULTS_END in the environment (testbed/splat.sh, exported by the guest init)");
		goto out;
	}
	tb_kmsg_mark("%s (hard_faults)", fbegin);
	kmsg_ok = !tb_kmsg_follow(&kmsg, true);
	tb_ok(kmsg_ok, "kernel log followed from the start of the injection%s%s",
	      kmsg_ok ? "" : ": ", kmsg_ok ? "" : kmsg.why);

	order0(true);
	for (pass = 0; pass < passes; pass++) {
		struct sweep one = { .name = "faults_register" };

		sweep_register(&d, &one, 0, size);
		tb_diag("register pass %u: %u faults, %u failed, %u absorbed, %u kernel report lines",
			pass + 1, one.injected, one.failed, one.absorbed,
			one.bugs);
		sweep_add(&reg, &one);
	}
	sweep_report(&reg);
	tap_metric("faults_injected", "%u", reg.injected);

	/*
	 * The whole BAR needs huge vmemmap blocks, whose failure is reported
	 * with a backtrace by warn_alloc(): only on request.
	 */
	if (whole) {
		sweep_register(&d, &reg_bar, 0, 0);
		sweep_report(&reg_bar);
	}

	sweep_vfio_mmap(&d, &vmmap);
	sweep_report(&vmmap);

	ret = raw_dmabuf(d.fd, d.bar, 0, P2P_GRANULE);
	if (ret >= 0)
		close(ret);
	if (ret == -ENOTTY) {
		tb_skip("faults_dmabuf: no VFIO_DEVICE_FEATURE_DMA_BUF");
	} else {
		sweep_dmabuf(&d, &dmabuf);
		sweep_report(&dmabuf);
	}

	sweep_p2pmem_mmap(&d, &pmmap);
	sweep_report(&pmmap);

	if (d.p2p_region < 0) {
		tb_ok(false, "faults_vfio_p2p_mmap: BAR%u has a VFIO_REGION_TYPE_PCI_P2P region",
		      d.bar);
	} else if (!sweep_vfio_p2p_mmap(&d, &vpmmap)) {
		sweep_report(&vpmmap);
		/* Still open through the leaked reference: cannot go on */
		tb_ok(false, "faults_vfio_p2p_mmap: the device could be closed and opened again for the sweeps that follow");
		goto faults_end;
	} else {
		sweep_report(&vpmmap);
	}

	sweep_teardown(&d, &unreg, TD_UNREGISTER);
	sweep_report(&unreg);

	if (d.device->info.flags & VFIO_DEVICE_FLAGS_RESET) {
		sweep_teardown(&d, &reset, TD_RESET);
		sweep_report(&reset);
	} else {
		tb_skip("faults_reset: device has no VFIO_DEVICE_RESET");
	}
	if (other_bar >= 0 && !(unreg.dropped && reset.dropped))
		tb_ok(!unreg.other_bad && !reset.other_bad,
		      "the other registered BAR%d kept its registration and p2pmem files through every unregister of BAR%u, and a reset ended it (%u+%u faults did not)",
		      other_bar, d.bar, unreg.other_bad, reset.other_bad);

faults_end:
	tap_metric("faults_injected_total", "%u",
		   reg.injected + reg_bar.injected + vmmap.injected +
		   dmabuf.injected + pmmap.injected + vpmmap.injected +
		   unreg.injected + reset.injected);
	order0(false);
	if (kmsg_ok) {
		ret = tb_kmsg_scan(&kmsg);
		tb_ok(!ret, "no kernel report outside the sweeps (%s)",
		      ret < 0 ? kmsg.why : ret ? kmsg.first : "none");
	}
	tb_kmsg_close(&kmsg);
	tb_kmsg_mark("%s (hard_faults)", fend);
out:
	fail_nth_exit(&fnth);
	p2p_unregister(d.fd, d.bar);
	p2p_dev_close(&d);
	return tb_end();
}
