// SPDX-License-Identifier: GPL-2.0
/*
 * resetcost: what a VFIO_DEVICE_RESET of a vfio-pci device costs with and
 * without a P2P registration of one of its BARs (make bench, resetcost.sh).
 *
 *   resetcost [-n ROUNDS] [-m MIB] BDF BAR
 *   resetcost -p BDF
 *
 * The device must be bound to vfio-pci. Each round goes through the cases
 * in turn, the same device file open throughout:
 *
 *   none             nothing registered: the reset alone
 *   regSIZEM         the first 64 MiB of BAR registered (only if the BAR is
 *                    larger), then the reset
 *   regBARM          the whole BAR registered, then the reset
 *   regBARM-mapped   the same, with the first MIB MiB (default 64) of the
 *                    range mapped through p2pmem/allocate (placed at BAR
 *                    offset 0) and every page of it written, so that the
 *                    revocation has page table entries to zap (a p2pmem
 *                    mapping gets its pages on faults: one per 4 KiB,
 *                    which under TCG is what limits the size)
 *
 * The reset ends the registration: after it (and the munmap() of the mapped
 * case's buffer, whose memory keeps the ended range from being torn down
 * until it is gone), GET (VFIO_DEVICE_FEATURE_P2P_REGISTER) must report no
 * range of BAR at all, neither registered nor draining, or the case fails;
 * so must GET before each case. Each reset ioctl and
 * each register ioctl is timed alone with CLOCK_MONOTONIC; mapping and
 * writing the buffer are not part of either.
 *
 * ROUNDS (default $BENCH_RESET_REPS, else 10) rounds after a warm-up round
 * whose figures are not reported. Prints TAP (testbed/guest/lib/tb.h), one
 * line per case and round, and for each counted one
 *
 *   # metric reset case=CASE rep=N size=BYTES mapped=BYTES reset_ms=MS
 *     after_ms=MS register_ms=MS
 *
 * (size and mapped 0, register_ms "-" for none). after_ms is the time from
 * the return of the reset to that of the GET that finds the BAR free: the
 * reset ends the registration at once but leaves the teardown of its
 * struct pages to a worker once its pages are free, and GET waits for it
 * (so would the next registration); for the mapped case it includes the
 * munmap(). Figures are not judged here: bench.sh sets each case against
 * the none of the same round.
 *
 * -p: only say whether the device offers VFIO_DEVICE_RESET
 * (VFIO_DEVICE_FLAGS_RESET of VFIO_DEVICE_GET_INFO): exit 0 if it does, 4
 * if not, 1 if the device cannot be opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "tb.h"
#include "vfio.h"
#include "vfio_p2p_where.h"

#define MiB		(1ULL << 20)
#define PART_SIZE	(64 * MiB)
#define MAX_CASES	4

struct reset_case {
	char name[32];
	uint64_t size;		/* registered from BAR offset 0; 0: none */
	uint64_t mapped;	/* bytes of it mapped and written from offset 0 */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int reset_supported(struct vfio_dev *d, bool *yes)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	if (ioctl(d->device_fd, VFIO_DEVICE_GET_INFO, &info))
		return -errno;
	*yes = info.flags & VFIO_DEVICE_FLAGS_RESET;
	return 0;
}

/* What GET reports for @bar from offset 0, as text for the TAP line */
static void describe(const struct p2p_reg *r, char *buf, size_t len)
{
	if (!r->size)
		snprintf(buf, len, "nothing registered");
	else
		snprintf(buf, len, "%s range 0x%llx+0x%llx",
			 r->registered ? "registered" :
			 r->draining ? "draining" : "unknown",
			 (unsigned long long)r->offset,
			 (unsigned long long)r->size);
}

/* Write every page of @buf, so that each has a page table entry */
static void touch(void *buf, size_t len, size_t page)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i += page)
		p[i] = (unsigned char)i;
}

/*
 * One case of one round: register (unless none), map and write (if
 * mapped), reset, check that nothing is left. Returns whether it passed;
 * the times in *@reg_ms (-1: nothing registered), *@reset_ms and
 * *@after_ms.
 */
static bool run_case(struct vfio_dev *d, int bar, const char *allocate,
		     const struct reset_case *c, const char *round,
		     double *reg_ms, double *reset_ms, double *after_ms)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char got[96], detail[160] = "";
	struct p2p_reg r = { 0 };
	void *buf = NULL;
	double t0, t1;
	int ret, err;

	*reg_ms = -1;
	*reset_ms = -1;
	*after_ms = -1;

	ret = p2p_get_at(d, bar, 0, &r);
	if (ret || r.size) {
		describe(&r, got, sizeof(got));
		tb_ok(false, "%s %s: BAR%d has nothing registered before it (GET: %s)",
		      round, c->name, bar, ret ? strerror(-ret) : got);
		return false;
	}

	if (c->size) {
		t0 = now_ms();
		ret = p2p_register(d, bar, 0, c->size);
		*reg_ms = now_ms() - t0;
		if (ret) {
			tb_ok(false, "%s %s: register %llu MiB of BAR%d: %s",
			      round, c->name, (unsigned long long)(c->size >> 20),
			      bar, strerror(-ret));
			return false;
		}
	}

	if (c->mapped) {
		buf = vfio_p2p_map_at(allocate, bar, 0, c->mapped, &err);
		if (!buf) {
			tb_ok(false, "%s %s: map %llu MiB of %s at BAR%d offset 0: %s",
			      round, c->name, (unsigned long long)(c->mapped >> 20),
			      allocate, bar, strerror(-err));
			p2p_unregister(d, bar, 0, c->size);
			return false;
		}
		touch(buf, c->mapped, page);
	}

	t0 = now_ms();
	ret = ioctl(d->device_fd, VFIO_DEVICE_RESET) ? -errno : 0;
	t1 = now_ms();
	*reset_ms = t1 - t0;
	err = ret;

	/* No access to the buffer from here: the reset revoked it (SIGBUS) */
	if (buf)
		munmap(buf, c->mapped);

	/* GET first finishes the teardown that the reset queued */
	ret = p2p_get_at(d, bar, 0, &r);
	*after_ms = now_ms() - t1;
	if (ret)
		snprintf(got, sizeof(got), "GET failed: %s", strerror(-ret));
	else
		describe(&r, got, sizeof(got));
	if (c->mapped)
		snprintf(detail, sizeof(detail), "register %.2f ms, %llu MiB mapped, ",
			 *reg_ms, (unsigned long long)(c->mapped >> 20));
	else if (c->size)
		snprintf(detail, sizeof(detail), "register %.2f ms, ", *reg_ms);
	tb_ok(!err && !ret && !r.size,
	      "%s %s: %sVFIO_DEVICE_RESET %s in %.2f ms, then %s (%.2f ms later)",
	      round, c->name, detail, err ? "failed" : "done", *reset_ms,
	      err ? strerror(-err) : got, *after_ms);
	/* Leave the next case a BAR with nothing registered */
	if (!ret && r.registered)
		p2p_unregister(d, bar, r.offset, r.size);

	return !err && !ret && !r.size;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n ROUNDS] [-m MIB] BDF BAR\n       %s -p BDF\n",
		prog, prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct reset_case list[MAX_CASES];
	char allocate[PATH_MAX], why[1024], round[32], detail[32];
	const char *env = getenv("BENCH_RESET_REPS");
	int rounds = env && *env ? atoi(env) : 10;
	int opt, bar, ncases = 0, rep, i, ret;
	uint64_t map = PART_SIZE;
	struct vfio_region region;
	struct vfio_dev d;
	bool probe = false, can_reset;
	const char *bdf;
	double reg_ms, reset_ms, after_ms;

	while ((opt = getopt(argc, argv, "n:m:p")) != -1) {
		switch (opt) {
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'm':
			map = strtoull(optarg, NULL, 0) * MiB;
			break;
		case 'p':
			probe = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind + (probe ? 1 : 2) != argc || rounds < 1 || !map)
		usage(argv[0]);
	bdf = argv[optind];

	if (probe) {
		ret = vfio_dev_open(&d, bdf, why, sizeof(why));
		if (ret) {
			printf("# cannot open %s through VFIO: %s\n%s", bdf,
			       strerror(-ret), why);
			return 1;
		}
		ret = reset_supported(&d, &can_reset);
		vfio_dev_close(&d);
		if (ret) {
			printf("# VFIO_DEVICE_GET_INFO of %s: %s\n", bdf, strerror(-ret));
			return 1;
		}
		printf("# %s %s VFIO_DEVICE_RESET\n", bdf,
		       can_reset ? "offers" : "does not offer");
		return can_reset ? 0 : 4;
	}

	bar = atoi(argv[optind + 1]);
	snprintf(allocate, sizeof(allocate),
		 "/sys/bus/pci/devices/%s/p2pmem/allocate", bdf);

	tb_start();
	ret = vfio_dev_open(&d, bdf, why, sizeof(why));
	tb_ok(!ret, "open %s through VFIO%s%s", bdf, ret ? "" : ", ",
	      ret ? "" : d.how);
	if (ret) {
		tb_diag("%s", why);
		return tb_end();
	}
	ret = reset_supported(&d, &can_reset);
	tb_ok(!ret && can_reset, "%s offers VFIO_DEVICE_RESET (%s)", bdf,
	      ret ? strerror(-ret) :
	      can_reset ? "VFIO_DEVICE_FLAGS_RESET" : "no VFIO_DEVICE_FLAGS_RESET");
	if (ret || !can_reset) {
		vfio_dev_close(&d);
		return tb_end();
	}
	ret = vfio_region_get(&d, bar, &region);
	if (!ret && !region.size)
		ret = -ENOENT;
	if (!ret)
		ret = p2p_feature_probe(&d);
	tb_ok(!ret, "BAR%d: %llu MiB, P2P registration offered (%s)", bar,
	      ret ? 0ULL : (unsigned long long)(region.size >> 20),
	      ret ? strerror(-ret) : "PROBE");
	if (ret) {
		vfio_dev_close(&d);
		return tb_end();
	}

	list[ncases++] = (struct reset_case){ .name = "none" };
	if (region.size > PART_SIZE) {
		list[ncases] = (struct reset_case){ .size = PART_SIZE };
		snprintf(list[ncases].name, sizeof(list[ncases].name),
			 "reg%lluM", PART_SIZE >> 20);
		ncases++;
	}
	for (i = 0; i < 2; i++) {
		list[ncases] = (struct reset_case){ .size = region.size };
		if (i)
			list[ncases].mapped = map < region.size ? map : region.size;
		snprintf(list[ncases].name, sizeof(list[ncases].name),
			 "reg%lluM%s", (unsigned long long)(region.size >> 20),
			 i ? "-mapped" : "");
		ncases++;
	}
	tb_diag("%s BAR%d, %d rounds after a warm-up round, %d cases each", bdf,
		bar, rounds, ncases);

	for (rep = 0; rep <= rounds; rep++) {
		if (rep)
			snprintf(round, sizeof(round), "round %d", rep);
		else
			snprintf(round, sizeof(round), "warm-up round");
		for (i = 0; i < ncases; i++) {
			const struct reset_case *c = &list[i];

			if (!run_case(&d, bar, allocate, c, round, &reg_ms,
				      &reset_ms, &after_ms) || !rep)
				continue;
			if (c->size)
				snprintf(detail, sizeof(detail), "%.3f", reg_ms);
			else
				snprintf(detail, sizeof(detail), "-");
			printf("# metric reset case=%s rep=%d size=%llu mapped=%llu reset_ms=%.3f after_ms=%.3f register_ms=%s\n",
			       c->name, rep, (unsigned long long)c->size,
			       (unsigned long long)c->mapped, reset_ms,
			       after_ms, detail);
			fflush(stdout);
		}
	}

	vfio_dev_close(&d);
	return tb_end();
}
