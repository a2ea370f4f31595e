// SPDX-License-Identifier: GPL-2.0
/*
 * p2pread: read a block device with O_DIRECT into a buffer and check that
 * the bytes landed. The buffer is either DRAM or an mmap of a p2pmem
 * "allocate" file, so the same run measures the P2P path against DRAM.
 * Prints TAP; the last line says whether everything passed.
 *
 *   p2pread -d /dev/nvme0n1 [-m .../p2pmem/allocate] [-e psync|io_uring]
 *           [-b BS] [-q QD] [-B BUFSZ] [-t TOTAL] [-o OFFSET] [-x]
 *
 * -x: the read is expected to fail (no P2P path): pass if it fails with an
 * error and nothing is read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "pattern.h"
#include "vfio_p2p_where.h"

static int tap_n, tap_failed;

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		tap_failed++;
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Read TOTAL bytes from OFF into BUF (wrapping every BUFSZ) with pread. */
static int read_psync(int fd, char *buf, size_t bufsz, size_t bs, size_t total,
		      off_t off)
{
	size_t done;
	ssize_t r;

	for (done = 0; done < total; done += bs) {
		r = pread(fd, buf + done % bufsz, bs, off + done);
		if (r < 0)
			return -errno;
		if ((size_t)r != bs)
			return -EIO;
	}
	return 0;
}

static int read_uring(int fd, char *buf, size_t bufsz, size_t bs, size_t total,
		      off_t off, unsigned int qd)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	size_t submitted = 0, completed = 0;
	int ret, err = 0;

	ret = io_uring_queue_init(qd, &ring, 0);
	if (ret)
		return ret;
	while (completed < total) {
		while (!err && submitted < total && submitted - completed < qd * bs) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			if (!sqe)
				break;
			io_uring_prep_read(sqe, fd, buf + submitted % bufsz, bs,
					   off + submitted);
			submitted += bs;
		}
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0) {
			err = ret;
			break;
		}
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			if (cqe->res < 0 && !err)
				err = cqe->res;
			else if (cqe->res >= 0 && (size_t)cqe->res != bs && !err)
				err = -EIO;
			io_uring_cqe_seen(&ring, cqe);
			completed += bs;
		}
		if (err && completed >= submitted)
			break;
	}
	io_uring_queue_exit(&ring);
	return err;
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *p2pmem = NULL, *engine = "psync";
	size_t bs = 128 << 10, bufsz = 4 << 20, total = 0;
	unsigned int qd = 8;
	int expect_fail = 0, fd, c, ret;
	off_t off = 0;
	double t0, c0, secs, cpu;
	char *buf;
	long bad;

	while ((c = getopt(argc, argv, "d:m:e:b:q:B:t:o:x")) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'm': p2pmem = optarg; break;
		case 'e': engine = optarg; break;
		case 'b': bs = strtoull(optarg, NULL, 0); break;
		case 'q': qd = strtoul(optarg, NULL, 0); break;
		case 'B': bufsz = strtoull(optarg, NULL, 0); break;
		case 't': total = strtoull(optarg, NULL, 0); break;
		case 'o': off = strtoll(optarg, NULL, 0); break;
		case 'x': expect_fail = 1; break;
		default:
			fprintf(stderr, "usage: see the comment at the top of p2pread.c\n");
			return 2;
		}
	}
	if (!dev || bs % 4096 || bufsz % bs || (strcmp(engine, "psync") && strcmp(engine, "io_uring"))) {
		fprintf(stderr, "p2pread: need -d DEV, BS a multiple of 4096, BUFSZ a multiple of BS, engine psync or io_uring\n");
		return 2;
	}
	if (!total)
		total = bufsz;
	if (total % bufsz) {
		fprintf(stderr, "p2pread: TOTAL must be a multiple of BUFSZ\n");
		return 2;
	}

	printf("TAP version 13\n1..%d\n", expect_fail ? 2 : 3);
	if (p2pmem) {
		int mfd = open(p2pmem, O_RDWR);

		buf = mfd < 0 ? MAP_FAILED :
		      mmap(NULL, bufsz, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		tap(buf != MAP_FAILED, "mmap %zu bytes of %s%s%s", bufsz, p2pmem,
		    buf == MAP_FAILED ? ": " : "", buf == MAP_FAILED ? strerror(errno) : "");
		if (mfd >= 0)
			close(mfd);
	} else {
		buf = aligned_alloc(4096, bufsz);
		tap(buf != NULL, "allocate %zu bytes of DRAM", bufsz);
		if (!buf)
			buf = MAP_FAILED;
	}
	if (buf == MAP_FAILED)
		goto out;
	if (p2pmem) {
		/* Where in which BAR the buffer is: what a driver would tell its device. */
		int bar;
		uint64_t bar_off;

		if (!vfio_p2p_where(buf, &bar, &bar_off))
			printf("# where bar=%d offset=0x%llx\n", bar,
			       (unsigned long long)bar_off);
	}
	/* Poison the buffer so stale data cannot pass for the image. */
	memset(buf, 0xa5, bufsz);

	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		tap(0, "open %s O_DIRECT: %s", dev, strerror(errno));
		goto out;
	}
	t0 = now();
	c0 = cpu_seconds();
	if (!strcmp(engine, "psync"))
		ret = read_psync(fd, buf, bufsz, bs, total, off);
	else
		ret = read_uring(fd, buf, bufsz, bs, total, off, qd);
	secs = now() - t0;
	cpu = cpu_seconds() - c0;
	close(fd);

	if (expect_fail) {
		tap(ret < 0, "%s O_DIRECT read into %s fails cleanly: %s", engine,
		    p2pmem ? "p2pmem" : "DRAM", ret < 0 ? strerror(-ret) : "it succeeded");
		goto out;
	}
	tap(ret == 0, "%s O_DIRECT read of %zu bytes (bs %zu, qd %u) into %s%s%s",
	    engine, total, bs, qd, p2pmem ? "p2pmem" : "DRAM",
	    ret ? ": " : "", ret ? strerror(-ret) : "");
	if (ret)
		goto out;
	printf("# result engine=%s target=%s bytes=%zu seconds=%.6f cpu=%.6f mbps=%.1f\n",
	       engine, p2pmem ? "p2pmem" : "dram", total, secs, cpu,
	       total / secs / 1e6);
	/* The buffer holds the last pass: which image offset is in each slot. */
	bad = -1;
	for (size_t slot = 0; slot < bufsz && bad < 0; slot += bs) {
		size_t last = slot + (total - bs - slot) / bufsz * bufsz;

		bad = pattern_check((uint64_t *)(buf + slot), off + last, bs);
		if (bad >= 0)
			bad += slot;
	}
	tap(bad < 0, "bytes in the buffer match the image%s",
	    bad < 0 ? "" : " (first mismatch below)");
	if (bad >= 0)
		printf("# mismatch at buffer offset %ld: got %#llx\n", bad,
		       (unsigned long long)*(uint64_t *)(buf + bad));
out:
	printf("# %d passed, %d failed\n", tap_n - tap_failed, tap_failed);
	return tap_failed || tap_n < (expect_fail ? 2 : 3) ? 1 : 0;
}
