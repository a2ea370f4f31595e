// SPDX-License-Identifier: GPL-2.0-only
/*
 * hard_faults [-m MAX] [-s SIZE] [-p PASSES] [-w] BDF: fault injection into
 * P2P registration.
 *
 * With /proc/self/task/TID/fail-nth, fail the Nth fault point (slab and
 * page allocations) that a VFIO_DEVICE_FEATURE_P2P_REGISTER ioctl passes,
 * for N = 1, 2, ... until the ioctl runs through without reaching the Nth
 * point and succeeds. After each failure the ioctl must have failed with
 * an error that is not about the state of the device, GET must say
 * unregistered, p2pmem must be absent, and an immediate register must
 * succeed with all of the range available (so nothing leaked: no claim on
 * the BAR, no pages of the pool, no sysfs group) and unregister again.
 *
 * The fault points of a call are not the same from one call to the next
 * (KASAN's stack depot and kmemleak allocate when they first see a stack,
 * caches refill...), so a sweep can step over some: the register sweep
 * runs PASSES times (default 3), each covering a slightly different set.
 *
 * The same sweep then runs over the other paths that a failure can leave
 * half done: the VFIO mmap() of the BAR and the DMABUF export (a leaked
 * mmap count or DMABUF list entry makes every later register fail with
 * EBUSY), the mmap() of p2pmem/allocate (a leaked page or pgmap reference
 * shows in "available" or makes the unregister wait forever), and the
 * teardown paths, unregister and VFIO_DEVICE_RESET, which must end the
 * registration whatever fails inside them.
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
static int kmsg_fd = -1;

/* Errors that mean the failure was blamed on the state of the device */
static bool state_errno(int err)
{
	return err == EEXIST || err == EBUSY || err == EINVAL ||
	       err == ENOENT || err == EPERM || err == EOPNOTSUPP ||
	       err == EIO || err == ENOTTY;
}

#define NR_ERRNO 160

struct sweep {
	const char *name;
	unsigned int injected;		/* faults injected */
	unsigned int failed;		/* ... that made the operation fail */
	unsigned int absorbed;		/* ... that it recovered from */
	unsigned int bad_errno;		/* failed with a state errno */
	unsigned int dirty;		/* left a registration or p2pmem */
	unsigned int after_bad;		/* the next fault-free use failed */
	unsigned int absorbed_bad;	/* succeeded, but inconsistently */
	unsigned int errs[NR_ERRNO];
	unsigned int bugs;		/* kernel reports of a bug */
	unsigned int alloc_reports;	/* allocation failure reports */
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
	if (state_errno(err))
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
	struct kmsg_counts c = {};

	kmsg_scan(kmsg_fd, &c);
	s->alloc_reports += c.alloc;
	if (!c.bugs)
		return;
	if (!s->bugs)
		tap_note("%s: fault %u made the kernel report: %s", s->name, n,
			 c.first_bug);
	s->bugs += c.bugs;
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
	tap_note("%s: %u faults injected in %.1fs: %u failed (%s), %u absorbed",
		 s->name, s->injected, s->seconds, s->failed, sweep_errnos(s),
		 s->absorbed);
	tap_metric(s->name, "%u", s->injected);
	if (s->alloc_reports)
		tap_note("%s: %u allocation failure reports (warn_alloc) in the kernel log, expected when allocations fail",
			 s->name, s->alloc_reports);
	tap_ok(s->finished && s->final_ok,
	       "%s: sweep reached a fault-free run that succeeded after %u faults",
	       s->name, s->injected);
	tap_ok(!s->bad_errno,
	       "%s: every failure returned an allocation error, not a state error (%s)",
	       s->name, sweep_errnos(s));
	tap_ok(!s->dirty,
	       "%s: no failure left a registration, p2pmem or an unbalanced state (%u did)",
	       s->name, s->dirty);
	tap_ok(!s->after_bad && !s->absorbed_bad,
	       "%s: the fault-free register after each fault succeeded with the whole range available (%u+%u did not)",
	       s->name, s->after_bad, s->absorbed_bad);
	tap_ok(!s->bugs,
	       "%s: no injected fault made the kernel WARN, BUG or the like (%u reports)",
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
	if (p2p_unregister(d->fd, d->bar))
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
				s->final_ok &= !p2p_unregister(d->fd, d->bar);
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
			if (p2p_unregister(d->fd, d->bar) || !p2p_clean(d))
				s->dirty++;
			continue;
		}

		sweep_count(s, ret);
		if (!p2p_clean(d)) {
			tap_note("%s: fault %u: %s left state behind",
				 s->name, n, errname(-ret));
			s->dirty++;
			p2p_unregister(d->fd, d->bar);
		}
		if (!register_roundtrip(d, offset, want)) {
			tap_note("%s: fault %u: the next register failed",
				 s->name, n);
			s->after_bad++;
			p2p_unregister(d->fd, d->bar);
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
			tap_note("%s: fault %u: register after munmap failed",
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
			tap_note("%s: fault %u: register after the DMABUF was closed failed",
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
			tap_note("%s: fault %u: available %lld after munmap",
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

enum teardown { TD_UNREGISTER, TD_RESET };

/* A teardown that hits a fault must still end the registration */
static void sweep_teardown(struct p2p_dev *d, struct sweep *s,
			   enum teardown how)
{
	double t0 = now();
	unsigned int n = 0;
	bool injected;
	void *map;
	int ret;

	for (n = 1; n <= max_steps; n++) {
		sweep_kmsg(s, n - 1);
		if (raw_p2p_set(d->fd, d->bar, 0, 0, P2P_GRANULE)) {
			s->after_bad++;
			break;
		}
		map = p2pmem_mmap(d->bdf, d->page, MAP_SHARED, 0);
		if (map != MAP_FAILED)
			sigbus_on(map, true);

		fail_nth_arm(&fnth, n);
		if (how == TD_UNREGISTER)
			ret = raw_p2p_set(d->fd, d->bar,
					  VFIO_DEVICE_P2P_UNREGISTER, 0, 0);
		else
			ret = raw_reset(d->fd);
		injected = fail_nth_disarm(&fnth);

		if (injected)
			s->injected++;
		if (ret && how == TD_UNREGISTER) {
			/* Nothing in the teardown may fail */
			sweep_count(s, ret);
			s->bad_errno++;
			p2p_unregister(d->fd, d->bar);
		} else if (ret) {
			/* The reset may fail; the revoke comes first */
			sweep_count(s, ret);
		} else if (injected) {
			s->absorbed++;
		}

		if (!p2p_clean(d) ||
		    (map != MAP_FAILED && !sigbus_on(map, false))) {
			tap_note("%s: fault %u: registration or mapping survived (ret %s)",
				 s->name, n, errname(-ret));
			s->dirty++;
			p2p_unregister(d->fd, d->bar);
		}
		if (map != MAP_FAILED)
			munmap(map, d->page);
		vfio_pci_cmd_set(d->device, PCI_COMMAND_MEMORY);

		if (!injected) {
			s->finished = true;
			s->final_ok = !ret;
			break;
		}
	}
	sweep_kmsg(s, n);
	s->seconds = now() - t0;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-m MAX_STEPS] [-s SIZE] [-p PASSES] [-w] BDF\n",
		prog);
	exit(2);
}

int main(int argc, char *argv[])
{
	struct sweep reg = { .name = "faults_register" };
	struct sweep reg_bar = { .name = "faults_register_whole_bar" };
	struct sweep vmmap = { .name = "faults_vfio_mmap" };
	struct sweep dmabuf = { .name = "faults_dmabuf" };
	struct sweep pmmap = { .name = "faults_p2pmem_mmap" };
	struct sweep unreg = { .name = "faults_unregister" };
	struct sweep reset = { .name = "faults_reset" };
	unsigned int passes = 3, pass;
	u64 size = P2P_GRANULE;
	bool whole = false;
	struct p2p_dev d;
	const char *why;
	int opt, ret;

	while ((opt = getopt(argc, argv, "m:s:p:w")) != -1) {
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
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		usage(argv[0]);

	printf("TAP version 13\n");
	sigbus_init();

	ret = fail_nth_init(&fnth);
	if (ret) {
		tap_skip("fault injection: /proc/self/fail-nth: %s (CONFIG_FAULT_INJECTION?)",
			 strerror(-ret));
		return tap_finish();
	}

	kmsg_fd = kmsg_open();
	why = p2p_dev_open(&d, argv[optind]);
	if (why) {
		tap_skip("%s", why);
		fail_nth_exit(&fnth);
		return tap_finish();
	}
	if (!p2p_clean(&d)) {
		tap_ok(false, "device starts unregistered");
		goto out;
	}

	for (pass = 0; pass < passes; pass++) {
		struct sweep one = { .name = "faults_register" };

		sweep_register(&d, &one, 0, size);
		tap_note("register pass %u: %u faults, %u failed, %u absorbed, %u kernel reports",
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
		tap_skip("faults_dmabuf: no VFIO_DEVICE_FEATURE_DMA_BUF");
	} else {
		sweep_dmabuf(&d, &dmabuf);
		sweep_report(&dmabuf);
	}

	sweep_p2pmem_mmap(&d, &pmmap);
	sweep_report(&pmmap);

	sweep_teardown(&d, &unreg, TD_UNREGISTER);
	sweep_report(&unreg);

	if (d.device->info.flags & VFIO_DEVICE_FLAGS_RESET) {
		sweep_teardown(&d, &reset, TD_RESET);
		sweep_report(&reset);
	} else {
		tap_skip("faults_reset: device has no VFIO_DEVICE_RESET");
	}

	tap_metric("faults_injected_total", "%u",
		   reg.injected + reg_bar.injected + vmmap.injected +
		   dmabuf.injected + pmmap.injected + unreg.injected +
		   reset.injected);
out:
	fail_nth_exit(&fnth);
	p2p_unregister(d.fd, d.bar);
	p2p_dev_close(&d);
	return tap_finish();
}
