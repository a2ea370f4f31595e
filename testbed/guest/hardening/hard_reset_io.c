// SPDX-License-Identifier: GPL-2.0-only
/*
 * hard_reset_io [-n RESETS] [-s SIZE] [-b BUFLEN] [-c CHUNK] BDF:
 * VFIO_DEVICE_RESET while a block device DMAs into the registered BAR.
 *
 * Two reader processes, one with O_DIRECT pread() and one with io_uring,
 * mmap() p2pmem/allocate of BDF, each at its own place of the registered
 * range (PCI_P2PMEM_MMAP_OFFSET: reader N at N x BUFLEN), and read
 * $CLIENT_BLK (the testbed's data image, whose bytes are a function of
 * their offset) into it, over and over. The owner of the device registers
 * a range of the BAR, waits until both readers have mapped and read into
 * it, and resets the device while their reads are in flight; then it
 * registers again, and so on.
 *
 * Checked: each reset returns, within the NVMe I/O timeout, having ended
 * the registration; every read completes (with the disk's bytes) or fails
 * with an error, EFAULT once the mapping is gone, and the mapping then
 * raises SIGBUS; the readers map again after the next register, where they
 * asked to be, as /proc/self/maps says; and no DMA lands in the BAR once
 * the reset has returned: the owner fills the readers' buffers in the BAR
 * with a marker through the VFIO region, waits, and reads the marker back
 * intact.
 *
 * The owner, which holds the VFIO files, also maps the BAR's
 * VFIO_REGION_TYPE_PCI_P2P region through the VFIO device fd after each
 * register, after the readers' buffers, and reads one chunk of the disk
 * into it with O_DIRECT before the reset: the disk's bytes must then be in
 * the BAR at that offset (read back with pread() of the BAR region, not
 * through the mapping), and after the reset the mapping must raise SIGBUS.
 *
 * With NOP2P=1 (the topology has no P2P path) every read into p2pmem must
 * fail with an error instead, and the rest holds the same.
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
#include <sys/wait.h>

#include "hard.h"
#include "pattern.h"

/* How long a reader may take to exit after the stop before it counts as hung */
#define READER_EXIT_S	60

enum engine { ENGINE_PSYNC, ENGINE_IO_URING, NR_READERS };

static const char *const engine_name[NR_READERS] = { "psync", "io_uring" };

struct reader {
	/* Published by the reader for the owner */
	volatile u64 epoch;	/* registration its mapping belongs to */
	volatile u64 where;	/* BAR offset of its buffer */
	volatile u32 bar;
	volatile int mapped;
	volatile u64 ios_epoch;	/* reads finished into this mapping */
	volatile int done;

	/* Counters, read by the owner at the end */
	unsigned long long ios_ok, ios_efault, ios_refused, ios_other;
	unsigned long long ios_short, data_bad, sigbus_verify;
	unsigned long long sigbus_after_efault, alive_after_efault, late_dead;
	unsigned long long maps, map_fail, map_wrong;
	int other_errno;
	double max_io_ms;
};

struct shared {
	volatile int stop;
	volatile u64 epoch;	/* bumped before each register */
	volatile int bar;	/* the BAR under test, once the owner knows it */
	struct reader r[NR_READERS];
};

struct reader_args {
	const char *bdf;
	const char *blk;
	size_t buflen, chunk;
	enum engine engine;
	u64 at;			/* where to place the buffer in the BAR */
};

static struct shared *sh;
static __thread const char *gone_how;	/* what told the reader */

struct verify_args {
	const u64 *buf;
	u64 off;
	size_t len;
	long bad;
};

static void do_verify(void *arg)
{
	struct verify_args *v = arg;

	v->bad = pattern_check(v->buf, v->off, v->len);
}

/* One read's result; returns true if the mapping is gone */
static bool account(struct reader *r, const struct reader_args *a, void *buf,
		    u64 off, long res, double ms)
{
	struct verify_args v = { .buf = buf, .off = off, .len = a->chunk };

	if (ms > r->max_io_ms)
		r->max_io_ms = ms;

	if (res == (long)a->chunk) {
		r->ios_ok++;
		r->ios_epoch++;
		if (sigbus_in(do_verify, &v)) {
			r->sigbus_verify++;
			gone_how = "SIGBUS checking a read";
			return true;
		}
		if (v.bad >= 0)
			r->data_bad++;
		return false;
	}
	if (res >= 0) {
		/*
		 * Pinning the buffer failed part of the way: the read stops
		 * there, with what it read so far. Only a teardown does that.
		 */
		r->ios_short++;
		v.len = res - res % 8;
		if (sigbus_in(do_verify, &v)) {
			r->sigbus_verify++;
			gone_how = "SIGBUS checking a short read";
			return true;
		}
		if (v.bad >= 0)
			r->data_bad++;
		return false;
	}
	if (res == -EFAULT) {
		r->ios_efault++;
		gone_how = "EFAULT";
		return true;
	}
	if (p2p_io_refused(-res)) {
		r->ios_refused++;
		r->ios_epoch++;
		return false;
	}
	r->ios_other++;
	r->other_errno = -res;
	return false;
}

static bool pagemap_present(const void *addr)
{
	u64 e = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return false;
	if (pread(fd, &e, 8, (uintptr_t)addr / 4096 * 8) != 8)
		e = 0;
	close(fd);
	return e >> 63;
}

static u64 next_offset(u64 *seed, u64 disk, size_t chunk)
{
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	return (*seed >> 20) % (disk / chunk) * chunk;
}

static void reader(const struct reader_args *a)
{
	struct reader *r = &sh->r[a->engine];
	size_t n = a->buflen / a->chunk, k;
	struct io_uring ring;
	u64 disk, seed = a->engine + 1, off[16];
	double t[16];
	u8 *buf = NULL;
	bool gone;
	int fd, ret;

	fd = blk_open(a->blk, &disk);
	if (fd < 0)
		_exit(3);
	if (a->engine == ENGINE_IO_URING &&
	    io_uring_queue_init(n, &ring, 0))
		_exit(3);

	while (!sh->stop) {
		if (!buf && sh->bar < 0) {
			msleep(2);
			continue;
		}
		if (!buf) {
			buf = p2pmem_mmap_at(a->bdf, a->buflen, sh->bar, a->at);
			if (buf == MAP_FAILED) {
				buf = NULL;
				r->map_fail++;
				msleep(2);
				continue;
			}
			r->epoch = sh->epoch;
			r->ios_epoch = 0;
			/* The owner writes its marker where the mapping says */
			if (!p2pmem_locate(buf, (u32 *)&r->bar, (u64 *)&r->where) &&
			    r->bar == (u32)sh->bar && r->where == a->at)
				r->mapped = 1;
			else
				r->map_wrong++;
			r->maps++;
		}

		gone = false;
		if (a->engine == ENGINE_PSYNC) {
			for (k = 0; k < n && !gone; k++) {
				off[k] = next_offset(&seed, disk, a->chunk);
				t[k] = now();
				ret = pread(fd, buf + k * a->chunk, a->chunk,
					    off[k]);
				gone = account(r, a, buf + k * a->chunk, off[k],
					       ret < 0 ? -errno : ret,
					       (now() - t[k]) * 1e3);
			}
		} else {
			struct io_uring_sqe *sqe;
			struct io_uring_cqe *cqe;

			for (k = 0; k < n; k++) {
				sqe = io_uring_get_sqe(&ring);
				off[k] = next_offset(&seed, disk, a->chunk);
				io_uring_prep_read(sqe, fd, buf + k * a->chunk,
						   a->chunk, off[k]);
				sqe->user_data = k;
				t[k] = now();
			}
			io_uring_submit(&ring);
			for (k = 0; k < n; k++) {
				if (io_uring_wait_cqe(&ring, &cqe))
					_exit(3);
				ret = cqe->res;
				gone |= account(r, a,
						buf + cqe->user_data * a->chunk,
						off[cqe->user_data], ret,
						(now() - t[cqe->user_data]) * 1e3);
				io_uring_cqe_seen(&ring, cqe);
			}
		}

		if (gone) {
			/*
			 * The registration ended: the mapping must be dead.
			 * The teardown clears the PTEs first and flushes the
			 * TLBs after, so an access can still get through for a
			 * moment: give it two seconds to die.
			 */
			double t_gone = now();

			if (!sigbus_on(buf, false)) {
				if (!r->late_dead++)
					fprintf(stderr,
						"%s reader: readable right after %s, pagemap says %s\n",
						engine_name[a->engine], gone_how,
						pagemap_present(buf) ? "present" :
						"not present (a TLB entry outlived the PTE)");
				while (!sigbus_on(buf, false) &&
				       now() - t_gone < 2)
					msleep(5);
			}
			if (sigbus_on(buf, false)) {
				r->sigbus_after_efault++;
			} else if (!r->alive_after_efault++) {
				fprintf(stderr,
					"%s reader: mapping of registration %llu (now %llu) at BAR 0x%llx still readable 2 s after %s, pagemap says %s\n",
					engine_name[a->engine],
					(unsigned long long)r->epoch,
					(unsigned long long)sh->epoch,
					(unsigned long long)r->where, gone_how,
					pagemap_present(buf) ? "present" :
					"not present");
			}
			r->mapped = 0;
			munmap(buf, a->buflen);
			buf = NULL;
		}
	}
	if (buf)
		munmap(buf, a->buflen);
	r->done = 1;
	_exit(0);
}

static pid_t start_reader(const struct reader_args *a)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	VFIO_ASSERT_GE(pid, 0);
	if (!pid)
		reader(a);
	return pid;
}

/* Wait for both readers to have read into the mapping of @epoch */
static bool readers_busy(u64 epoch, double timeout)
{
	double t0 = now();
	int i, ready;

	do {
		for (i = 0, ready = 0; i < NR_READERS; i++)
			ready += sh->r[i].mapped && sh->r[i].epoch == epoch &&
				 sh->r[i].ios_epoch > 0;
		if (ready == NR_READERS)
			return true;
		msleep(1);
	} while (now() - t0 < timeout);
	return false;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-n RESETS] [-s SIZE] [-b BUFLEN] [-c CHUNK] BDF\n"
		"reads $CLIENT_BLK; NOP2P=1: reads must fail\n", prog);
	exit(2);
}

int main(int argc, char *argv[])
{
	unsigned long resets = 100, i, done = 0;
	unsigned long reset_fail = 0, clean_fail = 0, reg_fail = 0;
	unsigned long stalls = 0, marker_fail = 0, marker_checks = 0;
	unsigned long v_reads = 0, v_fail = 0, v_refused = 0, v_dead = 0;
	unsigned long v_maps = 0;
	u64 v_at = 0, v_off, v_seed = 99;
	int blk_fd, verr;
	ssize_t vret;
	long bad;
	u8 *vmap;
	struct reader_args args[NR_READERS];
	double t, max_ms = 0, sum_ms = 0;
	size_t buflen = 256 << 10, chunk = 64 << 10;
	u64 size = 2 * P2P_GRANULE, disk;
	const char *blk = getenv("CLIENT_BLK");
	pid_t pid[NR_READERS];
	unsigned int timeout_s;
	u8 *marker, *back;
	struct reader *r;
	struct p2p_dev d;
	const char *why;
	int opt, e, fd, status;
	unsigned int hung = 0;
	bool data_ok, fits;
	pid_t ret;

	while ((opt = getopt(argc, argv, "n:s:b:c:")) != -1) {
		switch (opt) {
		case 'n':
			resets = strtoul(optarg, NULL, 0);
			break;
		case 's':
			size = parse_size(optarg);
			break;
		case 'b':
			buflen = parse_size(optarg);
			break;
		case 'c':
			chunk = parse_size(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1 || !chunk || buflen % chunk ||
	    buflen / chunk > 16)
		usage(argv[0]);

	tb_start();
	sigbus_init();

	fd = blk_open(blk, &disk);
	if (fd < 0) {
		tb_skip("reset under I/O: no block device in $CLIENT_BLK (%s)",
			 blk ? blk : "unset");
		return tb_end();
	}
	data_ok = blk_has_pattern(fd);
	close(fd);
	tb_ok(data_ok, "%s holds the testbed's data image (read into DRAM)",
	       blk);
	tb_diag("reading %s (%llu MiB) into p2pmem of %s, %s",
		 blk, (unsigned long long)disk >> 20, argv[optind],
		 nop2p() ? "no P2P path: reads must fail" : "P2P path");

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	VFIO_ASSERT_NE(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	sh->bar = -1;

	/* The readers must not hold the VFIO files: start them first */
	for (e = 0; e < NR_READERS; e++) {
		args[e] = (struct reader_args) {
			.bdf = argv[optind], .blk = blk, .buflen = buflen,
			.chunk = chunk, .engine = e, .at = e * buflen,
		};
		pid[e] = start_reader(&args[e]);
	}

	why = p2p_dev_open(&d, argv[optind]);
	if (why || !(d.device->info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		tb_skip("%s", why ? why : "device has no VFIO_DEVICE_RESET");
		sh->stop = 1;
		for (e = 0; e < NR_READERS; e++)
			waitpid(pid[e], NULL, 0);
		return tb_end();
	}
	if (size > d.bar_size)
		size = d.bar_size;
	/* The owner's VFIO-fd mapping comes after the readers' buffers */
	v_at = NR_READERS * buflen;
	fits = v_at + chunk <= size;
	tb_ok(fits, "the readers' buffers (%d x %zu bytes, placed one after the other) and the owner's (%zu bytes) fit in the registered range (%llu bytes)",
	      NR_READERS, buflen, chunk, (unsigned long long)size);
	blk_fd = fits ? blk_open(blk, &disk) : -1;
	if (fits && blk_fd < 0)
		tb_ok(false, "the owner opens %s for its reads into the VFIO-fd mapping",
		      blk);
	if (!fits || blk_fd < 0) {
		sh->stop = 1;
		for (e = 0; e < NR_READERS; e++)
			waitpid(pid[e], NULL, 0);
		p2p_dev_close(&d);
		return tb_end();
	}
	sh->bar = d.bar;

	timeout_s = nvme_io_timeout();
	marker = malloc(buflen);
	back = malloc(buflen > chunk ? buflen : chunk);
	VFIO_ASSERT_TRUE(marker && back);

	for (i = 0; i < resets; i++) {
		sh->epoch = i + 1;
		if (p2p_register(d.fd, d.bar, 0, size)) {
			reg_fail++;
			vfio_pci_cmd_set(d.device, PCI_COMMAND_MEMORY);
			continue;
		}
		if (!readers_busy(i + 1, 20)) {
			if (!stalls++)
				tb_diag("reset %lu: readers did not read into the new registration",
					 i);
		}

		/*
		 * The owner's read through the VFIO device fd: the disk's bytes
		 * land in the BAR at the offset the mapping was made at
		 */
		vmap = p2p_vfio_mmap_at(&d, chunk, v_at);
		if (vmap == MAP_FAILED) {
			if (!v_fail++)
				tb_diag("reset %lu: mmap of the P2P region at BAR%u+0x%llx: %s",
					i, d.bar, (unsigned long long)v_at,
					errname(errno));
			vmap = NULL;
		} else {
			v_maps++;
			v_off = next_offset(&v_seed, disk, chunk);
			vret = pread(blk_fd, vmap, chunk, v_off);
			verr = vret < 0 ? errno : 0;
			if (vret == (ssize_t)chunk && !nop2p()) {
				v_reads++;
				VFIO_ASSERT_EQ(pread(d.fd, back, chunk,
						     d.bar_offset + v_at),
					       (ssize_t)chunk);
				bad = data_ok ? pattern_check((u64 *)back, v_off,
							      chunk) : -1;
				if (bad >= 0 && !v_fail++)
					tb_diag("reset %lu: the BAR at 0x%llx does not hold the disk's bytes from 0x%llx read into the VFIO-fd mapping there (first bad byte %ld)",
						i, (unsigned long long)v_at,
						(unsigned long long)v_off, bad);
			} else if (vret < 0 && nop2p() && p2p_io_refused(verr)) {
				v_refused++;
			} else if (!v_fail++) {
				tb_diag("reset %lu: O_DIRECT read into the VFIO-fd mapping: %zd (%s)",
					i, vret, errname(verr));
			}
		}
		/* Let the reset land at a different point of the reads */
		msleep(rand() % 8);

		t = now();
		if (raw_reset(d.fd))
			reset_fail++;
		t = (now() - t) * 1e3;
		done++;
		sum_ms += t;
		if (t > max_ms)
			max_ms = t;
		/*
		 * The reset does not wait for the reads in flight, whose DMA
		 * may still land (the UAPI says so); the drain does, and GET
		 * reports it.
		 */
		if (!p2p_range_drained(&d, 0, size, nvme_io_timeout()) ||
		    !p2p_clean(&d))
			clean_fail++;
		if (vmap) {
			if (sigbus_on(vmap, false) &&
			    sigbus_on(vmap + chunk - 1, true))
				v_dead++;
			munmap(vmap, chunk);
		}

		/*
		 * Nothing may land in the buffers of this registration once the
		 * drain is over; the readers cannot map anything new before
		 * the next register.
		 */
		fill_pattern(marker, buflen, i);
		for (e = 0; e < NR_READERS; e++) {
			r = &sh->r[e];
			if (r->epoch != i + 1 || r->bar != d.bar)
				continue;
			VFIO_ASSERT_EQ(pwrite(d.fd, marker, buflen,
					      d.bar_offset + r->where),
				       (ssize_t)buflen);
		}
		msleep(30);
		for (e = 0; e < NR_READERS; e++) {
			r = &sh->r[e];
			if (r->epoch != i + 1 || r->bar != d.bar)
				continue;
			marker_checks++;
			VFIO_ASSERT_EQ(pread(d.fd, back, buflen,
					     d.bar_offset + r->where),
				       (ssize_t)buflen);
			if (memcmp(marker, back, buflen) && !marker_fail++)
				tb_diag("reset %lu: the %s reader's buffer at BAR 0x%llx changed after the reset",
					 i, engine_name[e],
					 (unsigned long long)r->where);
		}
		vfio_pci_cmd_set(d.device, PCI_COMMAND_MEMORY);
	}

	sh->stop = 1;
	t = now();
	for (e = 0; e < NR_READERS; e++) {
		while ((ret = waitpid(pid[e], &status, WNOHANG)) == 0 &&
		       now() - t < READER_EXIT_S)
			msleep(10);
		if (ret == 0) {
			/* Still reading: a hang, whatever it is stuck in */
			tb_diag("%s reader %d did not exit within %d s of the stop: killed",
				engine_name[e], pid[e], READER_EXIT_S);
			hung++;
			kill(pid[e], SIGKILL);
			waitpid(pid[e], &status, 0);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			tb_diag("%s reader ended with status 0x%x",
				engine_name[e], status);
		}
	}

	tap_metric("resets_under_io", "%lu", done);
	tap_metric("reset_max_ms", "%.1f", max_ms);
	tap_metric("reset_avg_ms", "%.1f", done ? sum_ms / done : 0);
	tap_metric("nvme_io_timeout_s", "%u", timeout_s);
	for (e = 0; e < NR_READERS; e++) {
		r = &sh->r[e];
		tb_diag("%s reader: %llu maps (%llu refused), reads: %llu ok, %llu EFAULT, %llu refused, %llu short, %llu other (last %s), %llu bad data, longest %.1f ms; after the teardown: %llu dead (%llu after a moment), %llu alive",
			 engine_name[e], r->maps, r->map_fail, r->ios_ok,
			 r->ios_efault, r->ios_refused, r->ios_short,
			 r->ios_other, errname(r->other_errno), r->data_bad,
			 r->max_io_ms, r->sigbus_after_efault, r->late_dead,
			 r->alive_after_efault);
		tap_metric(e ? "io_uring_reads_ok" : "psync_reads_ok", "%llu",
			   r->ios_ok);
		tap_metric(e ? "io_uring_reads_efault" : "psync_reads_efault",
			   "%llu", r->ios_efault);
	}

	tb_ok(done == resets && !reg_fail,
	       "%lu of %lu resets under I/O (%lu registers failed)", done,
	       resets, reg_fail);
	tb_ok(!reset_fail && !clean_fail,
	       "every VFIO_DEVICE_RESET succeeded and ended the registration (%lu+%lu failures)",
	       reset_fail, clean_fail);
	tb_ok(max_ms < timeout_s * 1000.0,
	       "no hang: every reset returned within the NVMe I/O timeout: longest %.1f ms < %u s",
	       max_ms, timeout_s);
	tb_ok(!stalls,
	       "both readers mapped again and read after every register (%lu stalls)",
	       stalls);
	tb_ok(!sh->r[0].map_wrong && !sh->r[1].map_wrong,
	      "every mapping of the readers is where it was placed, as /proc/self/maps says (%llu+%llu were not)",
	      sh->r[0].map_wrong, sh->r[1].map_wrong);
	tb_ok(!hung,
	      "no hang: both readers finished their reads and exited within %d s of the stop (%u did not)",
	      READER_EXIT_S, hung);
	for (e = 0; e < NR_READERS; e++) {
		r = &sh->r[e];
		if (nop2p())
			tb_ok(!r->ios_ok && !r->ios_other && !r->ios_short &&
			       r->ios_refused,
			       "%s: with no P2P path every read failed cleanly (%llu refused, %llu succeeded, %llu other)",
			       engine_name[e], r->ios_refused, r->ios_ok,
			       r->ios_other + r->ios_short);
		else
			tb_ok(!r->ios_refused && !r->ios_other && r->ios_ok,
			       "%s: every read completed (or stopped short) or failed with EFAULT after the teardown (%llu ok, %llu short, %llu EFAULT, %llu other)",
			       engine_name[e], r->ios_ok, r->ios_short,
			       r->ios_efault, r->ios_refused + r->ios_other);
		if (nop2p())
			tb_skip("%s: data check: no P2P path", engine_name[e]);
		else if (!data_ok)
			tb_skip("%s: data check: %s is not the data image",
				 engine_name[e], blk);
		else
			tb_ok(!r->data_bad,
			       "%s: the bytes read into the BAR are the disk's (%llu bad reads)",
			       engine_name[e], r->data_bad);
		/*
		 * A reader notices the teardown by a read failing with
		 * EFAULT, or by SIGBUS while it checks what it read.
		 */
		tb_ok(r->ios_efault + r->sigbus_verify &&
		       r->sigbus_after_efault && !r->alive_after_efault,
		       "%s: after each teardown reads failed with EFAULT or the data raised SIGBUS, and the mapping was dead (%llu EFAULT, %llu SIGBUS in a check, %llu dead, %llu alive)",
		       engine_name[e], r->ios_efault, r->sigbus_verify,
		       r->sigbus_after_efault, r->alive_after_efault);
	}
	tb_ok(marker_checks && !marker_fail,
	       "no DMA landed in the BAR after a reset returned: marker intact in %lu of %lu buffers",
	       marker_checks - marker_fail, marker_checks);
	if (nop2p())
		tb_ok(v_maps == done && v_refused == v_maps && !v_fail,
		      "owner: every VFIO-fd mapping of the P2P region worked and, with no P2P path, every O_DIRECT read into it failed cleanly (%lu maps, %lu refused, %lu failures)",
		      v_maps, v_refused, v_fail);
	else
		tb_ok(v_maps == done && v_reads == v_maps && !v_fail,
		      "owner: every VFIO-fd mapping of the P2P region worked and every O_DIRECT read into it put the disk's bytes in the BAR at its offset, read back with pread() of the BAR region%s (%lu maps, %lu reads, %lu failures)",
		      data_ok ? "" : " (bytes not checked: not the data image)",
		      v_maps, v_reads, v_fail);
	tb_ok(v_maps && v_dead == v_maps,
	      "owner: the VFIO-fd mapping raised SIGBUS after every reset (%lu of %lu)",
	      v_dead, v_maps);
	close(blk_fd);

	p2p_unregister(d.fd, d.bar);
	p2p_dev_close(&d);
	return tb_end();
}
