// SPDX-License-Identifier: GPL-2.0
/*
 * p2pread: read a block device holding the data image (pattern.h) with
 * O_DIRECT into a buffer, and check every byte that landed. The buffer is
 * DRAM or an mmap of a p2pmem "allocate" file, so the same run measures
 * the P2P path against DRAM. Prints TAP (testbed/guest/lib/tb.h).
 *
 *   p2pread -d /dev/nvme0n1 [-m .../p2pmem/allocate [-a BAR -p BAR_OFFSET]]
 *           [-e psync|io_uring] [-b BS] [-q QD] [-B BUFSZ] [-t TOTAL]
 *           [-o OFFSET] [-L | -x]
 *
 * OFFSET is where the reads start in the device; BAR_OFFSET where in BAR
 * BAR the p2pmem buffer is placed.
 *
 * The read goes in passes of BUFSZ bytes: each pass fills the whole buffer
 * from the next BUFSZ bytes of the device (reads of BS bytes, QD of them
 * in flight with io_uring) and waits for all of them; then every byte of
 * the buffer is compared with the image before the next pass overwrites
 * it. Every byte of TOTAL is checked once. The result line's seconds and
 * CPU seconds count the passes' reads only, not the checks.
 *
 * -L (for throughput runs, make bench's xfer): no wait between passes, the
 * reads stream through the buffer as a ring, and only what it holds at the
 * end, the last pass, is checked; the TAP line says so.
 *
 * Where the bytes are read back from:
 *  - a DRAM buffer: the buffer itself;
 *  - a p2pmem buffer placed with -a BAR -p BAR_OFFSET: not the p2pmem
 *    mapping the device wrote through, but an independent mapping of the
 *    same bytes of the BAR, made through /sys/bus/pci/devices/BDF/resourceN
 *    at BAR_OFFSET of BAR N. The buffer is mapped at the file offset that
 *    places it there (vfio_p2p_map_at(), vfio_p2p_where.h), and the
 *    location that the mapping's file offset decodes to must be that one.
 *    Data that the kernel put anywhere else leaves the poison at
 *    BAR_OFFSET, and the check fails. This serves both providers of the
 *    test bed: the nvme driver's CMB, and a BAR of a vfio-pci device
 *    registered by `vfio-p2p register ... -- p2pread`.
 *    The VFIO region is not used for the latter: the tool holds the VFIO
 *    device open while its command runs, and vfio-pci lets one opener at a
 *    time have a device (a second open of the cdev, or of its group, is
 *    refused), so p2pread cannot open it. resourceN reaches the same
 *    bytes by their physical address. After the last pass the buffer is
 *    also checked through the p2pmem mapping: what a user of the mapping
 *    sees must be the same.
 *  - a p2pmem buffer that is not placed (-m alone): the kernel takes it
 *    from anywhere and does not say where (vfio_p2p_where() must answer
 *    -ENXIO), so only the p2pmem mapping can show the bytes. The TAP says
 *    so; the test bed's callers place their buffers.
 *
 * The buffer is filled with a poison byte first, so that stale data cannot
 * pass for the image; a pass whose reads did not land holds the previous
 * pass's bytes, which belong to other image offsets and fail the check.
 *
 * -x: there is no P2P path (the nop2p topology). The read must fail with
 * EINVAL, what the block layer gives a P2P page that the DMA device cannot
 * reach (blk_rq_dma_map_iter_start(): PCI_P2PDMA_MAP_NOT_SUPPORTED is
 * BLK_STS_INVAL), with psync and io_uring alike, and every byte of the
 * buffer must still be the poison, read back as above.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <liburing.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "pattern.h"
#include "tb.h"
#include "vfio_p2p_where.h"

#define POISON		0xa5
/* What a refused P2P read returns, see the comment at the top */
#define REFUSED_ERRNO	EINVAL

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

/*
 * LEN bytes from OFF into BUF with pread, BS at a time, wrapping every
 * BUFSZ bytes of the buffer
 */
static int read_psync(int fd, char *buf, size_t bufsz, size_t bs, off_t off,
		      size_t len)
{
	size_t done;
	ssize_t r;

	for (done = 0; done < len; done += bs) {
		r = pread(fd, buf + done % bufsz, bs, off + done);
		if (r < 0)
			return -errno;
		if ((size_t)r != bs)
			return -EIO;
	}
	return 0;
}

/* The same with io_uring, QD reads in flight; returns when all completed */
static int read_uring(struct io_uring *ring, int fd, char *buf, size_t bufsz,
		      size_t bs, off_t off, size_t len, unsigned int qd)
{
	struct io_uring_cqe *cqe;
	size_t submitted = 0, completed = 0;
	int ret, err = 0;

	while (completed < submitted || (!err && submitted < len)) {
		while (!err && submitted < len && submitted - completed < qd * bs) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

			if (!sqe)
				break;
			io_uring_prep_read(sqe, fd, buf + submitted % bufsz, bs,
					   off + submitted);
			submitted += bs;
		}
		ret = io_uring_submit_and_wait(ring, 1);
		if (ret < 0 && ret != -EINTR)
			return err ? err : ret;
		while (io_uring_peek_cqe(ring, &cqe) == 0) {
			if (cqe->res < 0 && !err)
				err = cqe->res;
			else if (cqe->res >= 0 && (size_t)cqe->res != bs && !err)
				err = -EIO;
			io_uring_cqe_seen(ring, cqe);
			completed += bs;
		}
	}
	return err;
}

/* The first byte of BUF that is not the poison, or -1 */
static long poison_check(const volatile unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != POISON)
			return (long)i;
	return -1;
}

/*
 * Map LEN bytes at OFFSET of BAR of the device that has the p2pmem file
 * P2PMEM (.../BDF/p2pmem/allocate) through its resourceN file. Returns the
 * address of OFFSET, or MAP_FAILED with errno set; *PATH names the file.
 */
static void *map_resource(const char *p2pmem, int bar, uint64_t offset,
			  size_t len, char *path, size_t pathlen)
{
	char dir[PATH_MAX];
	uint64_t start = offset & ~(uint64_t)(getpagesize() - 1);
	void *p;
	int fd, err;

	snprintf(dir, sizeof(dir), "%s", p2pmem);
	/* .../BDF/p2pmem/allocate -> .../BDF */
	snprintf(path, pathlen, "%s/resource%d", dirname(dirname(dir)), bar);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return MAP_FAILED;
	p = mmap(NULL, len + (offset - start), PROT_READ, MAP_SHARED, fd, start);
	err = errno;
	close(fd);
	errno = err;
	return p == MAP_FAILED ? p : (char *)p + (offset - start);
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *p2pmem = NULL, *engine = "psync";
	size_t bs = 128 << 10, bufsz = 4 << 20, total = 0, bufsz_read, pass;
	unsigned int qd = 8, npass, nloop, bad_passes = 0;
	int expect_fail = 0, last_only = 0, want_bar = -1, fd, c, ret = 0, bar = -1;
	uint64_t place_off = 0;
	bool place = false;
	off_t off = 0;
	double secs = 0, cpu = 0, t0, c0;
	const char *view_name = "the buffer";
	char res_path[PATH_MAX] = "";
	volatile unsigned char *view;
	struct io_uring ring;
	uint64_t bar_off = 0;
	long bad = -1;
	off_t at;
	char *buf;

	while ((c = getopt(argc, argv, "d:m:a:p:e:b:q:B:t:o:Lx")) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'm': p2pmem = optarg; break;
		case 'a': want_bar = atoi(optarg); break;
		case 'p': place = true; place_off = strtoull(optarg, NULL, 0); break;
		case 'e': engine = optarg; break;
		case 'b': bs = strtoull(optarg, NULL, 0); break;
		case 'q': qd = strtoul(optarg, NULL, 0); break;
		case 'B': bufsz = strtoull(optarg, NULL, 0); break;
		case 't': total = strtoull(optarg, NULL, 0); break;
		case 'o': off = strtoll(optarg, NULL, 0); break;
		case 'L': last_only = 1; break;
		case 'x': expect_fail = 1; break;
		default:
			fprintf(stderr, "usage: see the comment at the top of p2pread.c\n");
			return 2;
		}
	}
	if (!dev || !bs || bs % 4096 || !bufsz || bufsz % bs || !qd ||
	    (last_only && expect_fail) ||
	    (strcmp(engine, "psync") && strcmp(engine, "io_uring"))) {
		fprintf(stderr, "p2pread: need -d DEV, BS a multiple of 4096, BUFSZ a multiple of BS, QD > 0, engine psync or io_uring, not both -L and -x\n");
		return 2;
	}
	if ((want_bar >= 0) != place || (place && (!p2pmem || want_bar > 5 ||
						   place_off % getpagesize()))) {
		fprintf(stderr, "p2pread: -a BAR and -p BAR_OFFSET go together, with -m, BAR 0 to 5, BAR_OFFSET page aligned\n");
		return 2;
	}
	if (!total)
		total = bufsz;
	if (total % bufsz) {
		fprintf(stderr, "p2pread: TOTAL must be a multiple of BUFSZ\n");
		return 2;
	}
	npass = total / bufsz;
	if (last_only) {
		/* One stream through the ring; the passes are not told apart */
		bufsz_read = total;
		nloop = 1;
	} else {
		bufsz_read = bufsz;
		nloop = npass;
	}

	tb_start();
	if (p2pmem && place) {
		buf = vfio_p2p_map_at(p2pmem, want_bar, place_off, bufsz, &ret);
		tb_ok(buf != NULL, "mmap %zu bytes of %s placed at BAR %d offset 0x%llx%s%s",
		      bufsz, p2pmem, want_bar, (unsigned long long)place_off,
		      buf ? "" : ": ", buf ? "" : strerror(-ret));
		if (!buf)
			return tb_end();
		/* What a driver tells its device, and what any process can read */
		ret = vfio_p2p_where(buf, &bar, &bar_off);
		if (ret)
			tb_ok(false, "where the mapping's file offset says the buffer is: %s",
			      strerror(-ret));
		else
			tb_ok(bar == want_bar && bar_off == place_off,
			      "the mapping's file offset says BAR %d offset 0x%llx: where it was placed",
			      bar, (unsigned long long)bar_off);
		if (ret || bar != want_bar || bar_off != place_off)
			return tb_end();
		printf("# where bar=%d offset=0x%llx\n", bar, (unsigned long long)bar_off);
		view = map_resource(p2pmem, bar, bar_off, bufsz, res_path,
				    sizeof(res_path));
		tb_ok(view != MAP_FAILED, "map the same %zu bytes through %s at 0x%llx%s%s",
		      bufsz, res_path, (unsigned long long)bar_off,
		      view == MAP_FAILED ? ": " : "",
		      view == MAP_FAILED ? strerror(errno) : "");
		if (view == MAP_FAILED)
			return tb_end();
		view_name = res_path;
	} else if (p2pmem) {
		int mfd = open(p2pmem, O_RDWR);

		buf = mfd < 0 ? MAP_FAILED :
		      mmap(NULL, bufsz, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		tb_ok(buf != MAP_FAILED, "mmap %zu bytes of %s from anywhere%s%s", bufsz, p2pmem,
		      buf == MAP_FAILED ? ": " : "",
		      buf == MAP_FAILED ? strerror(errno) : "");
		if (mfd >= 0)
			close(mfd);
		if (buf == MAP_FAILED)
			return tb_end();
		ret = vfio_p2p_where(buf, &bar, &bar_off);
		tb_ok(ret == -ENXIO,
		      "the kernel does not say where an unplaced buffer is (ENXIO: %s): it is checked through the p2pmem mapping only",
		      ret ? strerror(-ret) : "it names a place");
		if (ret != -ENXIO)
			return tb_end();
		view = (volatile unsigned char *)buf;
		view_name = "the p2pmem mapping";
	} else {
		buf = aligned_alloc(4096, bufsz);
		tb_ok(buf != NULL, "allocate %zu bytes of DRAM", bufsz);
		if (!buf)
			return tb_end();
		view = (volatile unsigned char *)buf;
	}
	memset(buf, POISON, bufsz);

	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		tb_ok(false, "open %s O_DIRECT: %s", dev, strerror(errno));
		return tb_end();
	}
	if (!strcmp(engine, "io_uring")) {
		ret = io_uring_queue_init(qd, &ring, 0);
		if (ret) {
			tb_ok(false, "io_uring_queue_init(%u): %s", qd, strerror(-ret));
			return tb_end();
		}
	}
	for (pass = 0; pass < nloop; pass++) {
		at = off + pass * bufsz;

		t0 = now();
		c0 = cpu_seconds();
		if (!strcmp(engine, "psync"))
			ret = read_psync(fd, buf, bufsz, bs, at, bufsz_read);
		else
			ret = read_uring(&ring, fd, buf, bufsz, bs, at, bufsz_read, qd);
		secs += now() - t0;
		cpu += cpu_seconds() - c0;
		if (ret || expect_fail || last_only)
			break;
		bad = pattern_check((const volatile uint64_t *)view, at, bufsz);
		if (bad >= 0 && !bad_passes++)
			tb_diag("pass %zu: first mismatch at buffer offset %ld (image offset %lld): got %#llx",
				pass, bad, (long long)(at + bad),
				(unsigned long long)*(const volatile uint64_t *)(view + bad));
	}
	if (!strcmp(engine, "io_uring"))
		io_uring_queue_exit(&ring);
	close(fd);

	if (expect_fail) {
		tb_ok(ret == -REFUSED_ERRNO,
		      "%s O_DIRECT read into %s is refused with %s: %s", engine,
		      p2pmem ? "p2pmem" : "DRAM", strerrorname_np(REFUSED_ERRNO),
		      ret ? strerror(-ret) : "it succeeded");
		bad = poison_check(view, bufsz);
		tb_ok(bad < 0, "every byte of the buffer is still the poison, read through %s%s",
		      view_name, bad < 0 ? "" : " (first change below)");
		if (bad >= 0)
			tb_diag("buffer offset %ld: %#x", bad, view[bad]);
		return tb_end();
	}
	tb_ok(ret == 0, "%s O_DIRECT read of %zu bytes (bs %zu, qd %u) into %s%s%s",
	      engine, total, bs, qd, p2pmem ? "p2pmem" : "DRAM",
	      ret ? ": " : "", ret ? strerror(-ret) : "");
	if (ret)
		return tb_end();
	printf("# result engine=%s target=%s bytes=%zu seconds=%.6f cpu=%.6f mbps=%.1f\n",
	       engine, p2pmem ? "p2pmem" : "dram", total, secs, cpu,
	       total / secs / 1e6);
	if (last_only) {
		at = off + (npass - 1) * bufsz;
		bad = pattern_check((const volatile uint64_t *)view, at, bufsz);
		tb_ok(bad < 0, "the last of the %u passes (%zu of %zu bytes; -L: the others are not checked) matches the image, read through %s%s",
		      npass, bufsz, total, view_name, bad < 0 ? "" : " (first mismatch below)");
		if (bad >= 0)
			tb_diag("buffer offset %ld: got %#llx", bad,
				(unsigned long long)*(const volatile uint64_t *)(view + bad));
	} else {
		tb_ok(!bad_passes, "every byte of the %u passes (%zu bytes) matches the image, read through %s%s",
		      npass, total, view_name, bad_passes ? " (first mismatch above)" : "");
	}
	if (p2pmem && place) {
		/* The last pass once more, as a user of the mapping sees it */
		bad = pattern_check((const volatile uint64_t *)buf,
				    off + (npass - 1) * bufsz, bufsz);
		tb_ok(bad < 0, "the p2pmem mapping shows the same bytes as %s%s",
		      view_name, bad < 0 ? "" : " (first mismatch below)");
		if (bad >= 0)
			tb_diag("buffer offset %ld: got %#llx", bad,
				(unsigned long long)*(uint64_t *)(buf + bad));
	}
	return tb_end();
}
