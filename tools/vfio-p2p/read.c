// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-p2p read: O_DIRECT read of a block device into a p2pmem buffer, for
 * demos and tests.  The buffer is bs * qd bytes; the read walks the range
 * in bs chunks through that ring of slots, in order, so that --cksum can
 * checksum the data with the CPU before a slot is reused.  With --at the
 * buffer is placed at that offset of the BAR (vfio_p2p_map_at()), and
 * only then is its location known and printed.  With --vfio it is mapped
 * through the VFIO device file that "vfio-p2p register" passed down
 * (vfio_p2p_vfio_map_at()), placed too.  --verify reads the buffer's place
 * back through the BAR's VFIO region afterwards and compares.
 *
 * The reader itself (reader.h) is shared with "vfio-p2p bounce", which
 * reads into a DRAM ring the same way and copies each chunk into a BAR.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include <liburing.h>

#include "cmds.h"
#include "explain.h"
#include "pci.h"
#include "reader.h"
#include "util.h"
#include "vfio.h"
#include "vfio_p2p_vfio.h"
#include "vfio_p2p_where.h"

uint64_t reader_chunk_len(const struct reader *r, uint64_t i)
{
	uint64_t left = r->bytes - i * r->bs;

	return left < r->bs ? left : r->bs;
}

static uint8_t *slot(const struct reader *r, uint64_t i)
{
	return r->buf + (i % r->qd) * r->bs;
}

static void consume(struct reader *r, uint64_t i)
{
	if (r->consume)
		r->consume(r, i, slot(r, i), reader_chunk_len(r, i));
}

/* Returns 0 or -errno; -ENODATA for a short read */
static int read_psync(struct reader *r)
{
	uint64_t i, len, done;
	ssize_t n;

	for (i = 0; i < r->nchunks; i++) {
		len = reader_chunk_len(r, i);
		for (done = 0; done < len; done += (uint64_t)n) {
			n = pread(r->fd, slot(r, i) + done, len - done,
				  (off_t)(r->offset + i * r->bs + done));
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n < 0)
				return -errno;
			if (!n) {
				r->short_at = r->offset + i * r->bs + done;
				r->short_len = len - done;
				return -ENODATA;
			}
		}
		consume(r, i);
	}
	return 0;
}

static int read_io_uring(struct reader *r)
{
	uint64_t next_sub = 0, next_con = 0, i;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned int inflight = 0;
	struct io_uring ring;
	bool *done;
	int ret, err = 0;

	done = calloc(r->qd, sizeof(*done));
	if (!done)
		return -ENOMEM;
	ret = io_uring_queue_init(r->qd, &ring, 0);
	if (ret) {
		free(done);
		msg("io_uring_queue_init: %s", strerror(-ret));
		return ret;
	}

	while (next_con < r->nchunks || inflight) {
		while (!err && next_sub < r->nchunks && next_sub < next_con + r->qd) {
			sqe = io_uring_get_sqe(&ring);
			if (!sqe)
				break;
			io_uring_prep_read(sqe, r->fd, slot(r, next_sub),
					   (unsigned int)reader_chunk_len(r, next_sub),
					   r->offset + next_sub * r->bs);
			io_uring_sqe_set_data64(sqe, next_sub);
			next_sub++;
			inflight++;
		}
		if (!inflight)
			break;
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR) {
			err = err ? err : ret;
			break;
		}
		while (!io_uring_peek_cqe(&ring, &cqe)) {
			i = io_uring_cqe_get_data64(cqe);
			if (cqe->res < 0) {
				err = err ? err : cqe->res;
			} else if ((uint64_t)cqe->res != reader_chunk_len(r, i)) {
				if (!err) {
					r->short_at = r->offset + i * r->bs + (uint64_t)cqe->res;
					r->short_len = reader_chunk_len(r, i) - (uint64_t)cqe->res;
					err = -ENODATA;
				}
			}
			done[i % r->qd] = true;
			inflight--;
			io_uring_cqe_seen(&ring, cqe);
		}
		/* In order, so that the consumer sees the data in order */
		while (!err && next_con < next_sub && done[next_con % r->qd]) {
			done[next_con % r->qd] = false;
			consume(r, next_con);
			next_con++;
		}
		if (err && !inflight)
			break;
	}

	io_uring_queue_exit(&ring);
	free(done);
	return err;
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int reader_run(struct reader *r, enum p2p_engine engine)
{
	return engine == ENGINE_IO_URING ? read_io_uring(r) : read_psync(r);
}

/* Logical block size and size of @fd: a block device or a regular file */
static int dev_geometry(int fd, const char *dev, uint64_t *lbs, uint64_t *size)
{
	struct stat st;
	int sz, ret;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKSSZGET, &sz) || ioctl(fd, BLKGETSIZE64, size)) {
			ret = -errno;
			msg("%s: cannot get the block size: %s", dev, strerror(-ret));
			return ret;
		}
		*lbs = (uint64_t)sz;
	} else if (S_ISREG(st.st_mode)) {
		*lbs = 4096;
		*size = (uint64_t)st.st_size;
	} else {
		msg("%s is neither a block device nor a file", dev);
		return -ENOTBLK;
	}
	return 0;
}

int reader_open(struct reader *r, const struct p2p_opts *o)
{
	uint64_t lbs = 512, devsize = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = open(o->dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (r->fd < 0) {
		ret = errno;
		msg("cannot open %s for O_DIRECT reading: %s%s", o->dev, strerror(ret),
		    ret == EACCES ? " (no read permission: run as root, or as a user that the "
				    "device node lets read it)" :
		    ret == EINVAL ? " (it does not support O_DIRECT)" : "");
		return -ret;
	}
	ret = dev_geometry(r->fd, o->dev, &lbs, &devsize);
	if (ret)
		goto err;
	ret = -EINVAL;
	if (o->dev_offset % lbs || o->bytes % lbs) {
		msg("--offset 0x%llx and --bytes %llu must be multiples of the logical block size "
		    "of %s (%llu)",
		    (unsigned long long)o->dev_offset, (unsigned long long)o->bytes,
		    o->dev, (unsigned long long)lbs);
		goto err;
	}
	if (o->dev_offset > devsize || o->bytes > devsize - o->dev_offset) {
		msg("%s has %llu bytes: cannot read %llu bytes at offset 0x%llx",
		    o->dev, (unsigned long long)devsize,
		    (unsigned long long)o->bytes, (unsigned long long)o->dev_offset);
		goto err;
	}

	r->offset = o->dev_offset;
	r->bytes = o->bytes;
	r->bs = o->bs ? o->bs : (1ULL << 20);
	if (r->bs > r->bytes)
		r->bs = r->bytes;
	if (r->bs % lbs) {
		msg("--bs %llu must be a multiple of the logical block size of %s (%llu)",
		    (unsigned long long)r->bs, o->dev, (unsigned long long)lbs);
		goto err;
	}
	r->nchunks = (r->bytes + r->bs - 1) / r->bs;
	r->qd = o->qd ? o->qd : o->engine == ENGINE_IO_URING ? 8 : 1;
	if (r->qd > r->nchunks)
		r->qd = (unsigned int)r->nchunks;
	return 0;
err:
	close(r->fd);
	r->fd = -1;
	return ret;
}

static void wait_for_signal(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("paused (pid %d): SIGTERM or SIGINT unmaps the buffer and exits\n",
	       (int)getpid());
	fflush(stdout);
	do {
		sig = sigwaitinfo(&set, NULL);
	} while (sig < 0);
}

static void cksum_chunk(struct reader *r, uint64_t i, const uint8_t *data, uint64_t len)
{
	uint32_t *crc = r->priv;

	(void)i;
	*crc = cksum_update(*crc, data, len);
}

/* The device of .../<BDF>/p2pmem/allocate, "" if @path is not like that */
static void allocate_bdf(const char *path, char bdf[PCI_BDF_LEN])
{
	const char *p = strstr(path, "/p2pmem/allocate");

	bdf[0] = '\0';
	if (p && p - path >= 12 && pci_is_bdf(p - 12, 12)) {
		memcpy(bdf, p - 12, 12);
		bdf[12] = '\0';
	}
}

/* A decimal number from the environment; false if unset or not a number */
static bool env_u64(enum p2p_env e, uint64_t *v)
{
	const char *s = getenv(command_env[e]);

	return s && *s && !parse_u64(s, v);
}

/*
 * Where --at or --vfio puts the buffer: the BAR from --bar or $VFIO_P2P_BAR,
 * the offset from --at or, for --vfio, $VFIO_P2P_OFFSET; and the range
 * registered under "vfio-p2p register" if the buffer is of its device: @path
 * is its p2pmem, or (NULL) the buffer is mapped through its device file.
 * Returns 0 or the exit status of a usage error.
 */
static int read_place(const struct p2p_opts *o, const char *path,
		      struct p2p_place *pl)
{
	const char *alloc = getenv(command_env[ENV_ALLOCATE]);
	uint64_t page = page_size(), bar, off, size;
	bool env_bar = env_u64(ENV_BAR, &bar) && bar < PCI_NUM_BARS;
	bool ours = !path || (alloc && !strcmp(alloc, path));
	const char *opt = o->vfio && !o->place ? "--vfio" : "--at";

	if (o->bar >= 0)
		pl->bar = o->bar;
	else if (env_bar)
		pl->bar = (int)bar;
	else
		return usage_error(CMD_READ, "%s needs a BAR: --bar N, or %s from "
				   "'vfio-p2p register BDF --bar N -- ...'",
				   opt, command_env[ENV_BAR]);
	if (o->place)
		pl->at = o->at;
	else if (env_u64(ENV_OFFSET, &off))
		pl->at = off;
	else
		return usage_error(CMD_READ, "--vfio needs --at OFFSET, or %s from "
				   "'vfio-p2p register BDF --bar N -- ...'",
				   command_env[ENV_OFFSET]);
	if (pl->at % page)
		return usage_error(CMD_READ, "%s 0x%llx is not a multiple of the page size "
				   "(%llu)", o->place ? "--at" : command_env[ENV_OFFSET],
				   (unsigned long long)pl->at, (unsigned long long)page);

	if (env_bar && bar == (uint64_t)pl->bar && ours &&
	    env_u64(ENV_OFFSET, &off) && env_u64(ENV_SIZE, &size) && size) {
		pl->range_known = true;
		pl->range_offset = off;
		pl->range_size = size;
	}
	return 0;
}

/* See cmds.h */
int env_device_fd(int *fd)
{
	uint64_t v;

	if (!env_u64(ENV_DEVICE_FD, &v))
		return -ENOENT;
	if (v > INT_MAX || fcntl((int)v, F_GETFD) < 0)
		return -EBADF;
	*fd = (int)v;
	return 0;
}

#define VERIFY_POISON	0xa5

/*
 * --verify, before the reads: the BAR region of the buffer's BAR, and the
 * buffer's place in the BAR filled with VERIFY_POISON through it, so that
 * bytes from before cannot pass for the device's.  Says what failed.
 */
static int verify_prepare(int devfd, const struct p2p_place *pl, uint64_t len,
			  struct vfio_region *reg)
{
	const uint64_t chunk = 1ULL << 20;
	struct vfio_dev d = { .device_fd = devfd };
	uint64_t done, n;
	uint8_t *poison;
	int ret;

	ret = vfio_region_get(&d, pl->bar, reg);
	if (ret) {
		printf("verify: not ok: cannot get the VFIO region of BAR %d: %s\n", pl->bar,
		       strerror(-ret));
		return ret;
	}
	if (!reg->readable || !reg->writable || pl->at > reg->size ||
	    len > reg->size - pl->at) {
		printf("verify: not ok: BAR %d (%llu bytes) cannot be read and written at "
		       "0x%llx-0x%llx through its VFIO region\n", pl->bar,
		       (unsigned long long)reg->size, (unsigned long long)pl->at,
		       (unsigned long long)(pl->at + len - 1));
		return -EINVAL;
	}
	poison = malloc(chunk);
	if (!poison)
		return -ENOMEM;
	memset(poison, VERIFY_POISON, chunk);
	for (done = 0, ret = 0; done < len; done += n) {
		n = len - done < chunk ? len - done : chunk;
		ret = pwrite_full(devfd, poison, n, reg->offset + pl->at + done);
		if (ret)
			break;
	}
	free(poison);
	if (ret)
		printf("verify: not ok: cannot fill BAR %d at 0x%llx through its VFIO region: "
		       "%s\n", pl->bar, (unsigned long long)(pl->at + done), strerror(-ret));
	return ret;
}

/*
 * --verify, after the reads: each slot of the ring, read back with pread()
 * of the BAR region (not through the mapping), must hold the chunk of the
 * device that was read into it last, as the buffer does.  Prints the
 * verdict; returns 0 if everything matched.
 */
static int verify_bar(const struct reader *r, int devfd, const struct vfio_region *reg,
		      const struct p2p_place *pl, const char *bdf, const char *dev)
{
	uint64_t used = r->nchunks < r->qd ? r->nchunks : r->qd;
	uint64_t j, i, len, k, at, total = 0, end = 0;
	uint8_t *want, *got, *buf;
	const char *why;
	char s1[32];
	int ret = 0;

	/* O_DIRECT needs an aligned buffer: a mapping is page aligned */
	want = mmap(NULL, r->bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	got = malloc(r->bs);
	if (want == MAP_FAILED || !got) {
		printf("verify: not ok: out of memory\n");
		ret = -ENOMEM;
		goto out;
	}
	for (j = 0; j < used; j++) {
		i = j + (r->nchunks - 1 - j) / r->qd * r->qd;
		len = reader_chunk_len(r, i);
		at = pl->at + j * r->bs;
		buf = r->buf + j * r->bs;
		ret = pread_full(devfd, got, len, reg->offset + at);
		if (ret) {
			printf("verify: not ok: cannot read BAR %d at 0x%llx back through its VFIO "
			       "region: %s\n", pl->bar, (unsigned long long)at, strerror(-ret));
			goto out;
		}
		ret = pread_full(r->fd, want, len, r->offset + i * r->bs);
		if (ret) {
			printf("verify: not ok: cannot read %s at 0x%llx again: %s\n", dev,
			       (unsigned long long)(r->offset + i * r->bs),
			       ret == -ENODATA ? "short read" : strerror(-ret));
			goto out;
		}
		total += len;
		if (at + len > end)
			end = at + len;
		if (!memcmp(got, want, len) && !memcmp(got, buf, len))
			continue;
		for (k = 0; k < len && got[k] == want[k] && got[k] == buf[k]; k++)
			;
		why = got[k] == VERIFY_POISON && want[k] != VERIFY_POISON ?
		      ": the BAR still holds the poison written before the read, the data did "
		      "not land there" :
		      got[k] == want[k] ? ": the mapping does not show what the BAR holds" : "";
		printf("verify: not ok: BAR %d offset 0x%llx of %s: 0x%02x read back through the "
		       "VFIO region, 0x%02x in the buffer, 0x%02x at offset 0x%llx of %s%s\n",
		       pl->bar, (unsigned long long)(at + k), bdf, got[k], buf[k], want[k],
		       (unsigned long long)(r->offset + i * r->bs + k), dev, why);
		ret = 1;
		goto out;
	}
	printf("verify: ok: BAR %d 0x%llx-0x%llx of %s, read back with pread() of its VFIO "
	       "region (not the mapping), holds the buffer's bytes and %s's: %s, the last "
	       "chunk read into %s%llu %s\n",
	       pl->bar, (unsigned long long)pl->at, (unsigned long long)(end - 1), bdf, dev,
	       fmt_size(total, s1, sizeof(s1)), used > 1 ? "each of " : "",
	       (unsigned long long)used, used > 1 ? "slots" : "slot");
out:
	if (want != MAP_FAILED)
		munmap(want, r->bs);
	free(got);
	fflush(stdout);
	return ret;
}

int cmd_read(const struct p2p_opts *o)
{
	char buf[4096];
	char client[PCI_BDF_LEN] = "", bdf[PCI_BDF_LEN] = "";
	char target[128], s1[32], s2[32], s3[32];
	const char *path = NULL, *engine, *env_bdf = getenv(command_env[ENV_BDF]);
	struct p2p_place place = { .bar = -1 };
	struct vfio_p2p_loc *loc = NULL;
	struct vfio_p2p_regions regs;
	struct reader r = { .fd = -1 };
	struct vfio_region barreg;
	uint64_t maplen = 0;
	uint32_t crc = 0;
	bool located = false;
	double t0, t1;
	struct sbuf sb;
	int ret, mfd, devfd = -1, status = EXIT_NOT_READY;

	if (o->vfio || o->verify) {
		ret = env_device_fd(&devfd);
		if (ret) {
			msg("%s through the VFIO device file, but %s is %s\n"
			    "  Run it under 'vfio-p2p register BDF --bar N -- vfio-p2p read ...', "
			    "which passes the device file to its command.",
			    o->vfio ? "--vfio maps the buffer" : "--verify reads the BAR back",
			    command_env[ENV_DEVICE_FD],
			    ret == -EBADF ? "not an open file descriptor here" : "not set");
			return EXIT_NOT_READY;
		}
	}
	if (o->vfio) {
		if (env_bdf && pci_is_bdf(env_bdf, strlen(env_bdf)))
			snprintf(bdf, sizeof(bdf), "%s", env_bdf);
		ret = read_place(o, NULL, &place);
		if (ret)
			return ret;
	} else if (!o->dram) {
		path = o->p2pmem ? o->p2pmem : getenv(command_env[ENV_ALLOCATE]);
		if (!path || !*path) {
			msg("no p2pmem to read into: VFIO_P2P_ALLOCATE is not set\n"
			    "  Run it under 'vfio-p2p register BDF --bar N -- vfio-p2p read ...', "
			    "give --p2pmem /sys/bus/pci/devices/BDF/p2pmem/allocate, or use --dram "
			    "for a DRAM baseline.");
			return EXIT_NOT_READY;
		}
		allocate_bdf(path, bdf);
		if (o->place) {
			ret = read_place(o, path, &place);
			if (ret)
				return ret;
		}
		if (o->verify && (!*bdf || !env_bdf || strcmp(bdf, env_bdf))) {
			msg("--verify reads the BAR back through %s, the VFIO device file of %s, "
			    "but %s is %s%s",
			    command_env[ENV_DEVICE_FD], env_bdf ? env_bdf : "an unknown device",
			    path, *bdf ? "of " : "not a device's p2pmem/allocate", bdf);
			return EXIT_NOT_READY;
		}
	}

	if (reader_open(&r, o))
		return EXIT_NOT_READY;
	if (o->cksum)
		r.consume = cksum_chunk;
	r.priv = &crc;
	maplen = (r.bs * r.qd + SZ_4K - 1) & ~(SZ_4K - 1);

	if (o->dram) {
		r.buf = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r.buf == MAP_FAILED) {
			msg("cannot allocate %llu bytes: %s",
			    (unsigned long long)maplen, strerror(errno));
			goto out;
		}
		snprintf(target, sizeof(target), "DRAM");
	} else if (o->vfio) {
		r.buf = vfio_p2p_vfio_map_at(devfd, place.bar, place.at, maplen, &ret);
		if (!r.buf) {
			sbuf_init(&sb, buf, sizeof(buf));
			explain_vfio_mmap(&sb, -ret, devfd, maplen, *bdf ? bdf : NULL, &place);
			print_explained(buf);
			goto out;
		}
		/*
		 * What /proc/self/maps says, decoded with the regions of the
		 * device file as 'where' under the same register does
		 */
		loc = calloc(1, sizeof(*loc));
		if (!loc)
			goto out;
		loc->bar = -1;
		ret = vfio_p2p_vfio_regions(devfd, &regs);
		if (!ret) {
			if (!*regs.bdf && *bdf)
				snprintf(regs.bdf, sizeof(regs.bdf), "%s", bdf);
			ret = vfio_p2p_locate_dev(0, (uint64_t)(uintptr_t)r.buf, &regs, loc);
		}
		if (ret || loc->bar != place.bar || loc->bar_offset != place.at) {
			msg("the buffer mapped at offset 0x%llx of BAR %d through the VFIO device "
			    "file does not read back from /proc/self/maps as that: %s (bar %d "
			    "offset 0x%llx, file offset 0x%llx)",
			    (unsigned long long)place.at, place.bar,
			    ret ? strerror(-ret) : "another place", loc->bar,
			    (unsigned long long)loc->bar_offset,
			    (unsigned long long)loc->file_offset);
			goto out;
		}
		if (!*bdf)
			snprintf(bdf, sizeof(bdf), "%s", loc->bdf);
		located = true;
		snprintf(target, sizeof(target), "p2pmem of %s BAR %d through VFIO",
			 *bdf ? bdf : "the VFIO device", place.bar);
	} else {
		loc = calloc(1, sizeof(*loc));
		if (!loc)
			goto out;
		if (o->place) {
			r.buf = vfio_p2p_map_at(path, place.bar, place.at, maplen, &ret);
			ret = -ret;
		} else {
			mfd = open(path, O_RDWR | O_CLOEXEC);
			if (mfd < 0) {
				ret = errno;
				r.buf = MAP_FAILED;
			} else {
				r.buf = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
					     MAP_SHARED, mfd, 0);
				ret = errno;
				close(mfd);
			}
			if (r.buf == MAP_FAILED)
				r.buf = NULL;
		}
		if (!r.buf) {
			sbuf_init(&sb, buf, sizeof(buf));
			explain_mmap(&sb, ret, path, maplen, *bdf ? bdf : NULL,
				     o->place ? &place : NULL);
			print_explained(buf);
			goto out;
		}
		/* What /proc/self/maps says, as any process would see it */
		ret = vfio_p2p_locate(0, (uint64_t)(uintptr_t)r.buf, loc);
		if (o->place) {
			if (ret || loc->bar != place.bar || loc->bar_offset != place.at) {
				msg("the buffer placed at offset 0x%llx of BAR %d of %s does not "
				    "read back from /proc/self/maps as that: %s (bar %d offset "
				    "0x%llx)",
				    (unsigned long long)place.at, place.bar, path,
				    ret ? strerror(-ret) : "another place", loc->bar,
				    (unsigned long long)loc->bar_offset);
				goto out;
			}
			located = true;
			snprintf(target, sizeof(target), "p2pmem of %s BAR %d",
				 loc->bdf, loc->bar);
		} else if (ret == -ENXIO) {
			/* Mapped from anywhere: the device is known, the place is not */
			snprintf(target, sizeof(target), "p2pmem of %s", loc->bdf);
		} else {
			snprintf(target, sizeof(target), "%s", path);
		}
	}
	pci_blockdev_bdf(o->dev, client);

	if (o->verify && verify_prepare(devfd, &place, maplen, &barreg))
		goto out;

	engine = o->engine == ENGINE_IO_URING ? "io_uring" : "psync";
	t0 = now_seconds();
	ret = reader_run(&r, o->engine);
	t1 = now_seconds();
	if (ret == -ENODATA) {
		msg("short read from %s at 0x%llx: %llu bytes missing (did the device shrink?)",
		    o->dev, (unsigned long long)r.short_at,
		    (unsigned long long)r.short_len);
		goto out;
	}
	if (ret) {
		sbuf_init(&sb, buf, sizeof(buf));
		if (o->dram)
			sbuf_printf(&sb, "O_DIRECT read from %s into DRAM failed: %s\n",
				    o->dev, strerror(-ret));
		else
			explain_read(&sb, -ret, o->dev, client,
				     loc && *loc->bdf ? loc->bdf : *bdf ? bdf :
				     path ? path : "the VFIO device");
		print_explained(buf);
		goto out;
	}

	printf("read %s from %s%s%s at 0x%llx into %s in %.3f s, %.1f MiB/s (measured; %s, "
	       "bs %s, qd %u%s)\n",
	       fmt_size(r.bytes, s1, sizeof(s1)), o->dev,
	       *client ? " " : "", client,
	       (unsigned long long)r.offset, target, t1 - t0,
	       t1 > t0 ? (double)r.bytes / (1 << 20) / (t1 - t0) : 0.0,
	       engine, fmt_size(r.bs, s2, sizeof(s2)), r.qd,
	       o->cksum ? ", with cksum" : "");
	fmt_size(maplen, s3, sizeof(s3));
	if (located && o->vfio)
		printf("buffer: 0x%llx %s bar %d offset 0x%llx (%s, mapped through the VFIO "
		       "device file: region %d)\n",
		       (unsigned long long)(uintptr_t)r.buf, *bdf ? bdf : "?", loc->bar,
		       (unsigned long long)loc->bar_offset, s3, loc->region);
	else if (located)
		printf("buffer: 0x%llx %s bar %d offset 0x%llx (%s, placed with --at)\n",
		       (unsigned long long)(uintptr_t)r.buf, loc->bdf, loc->bar,
		       (unsigned long long)loc->bar_offset, s3);
	else if (o->dram)
		printf("buffer: 0x%llx DRAM (%s)\n", (unsigned long long)(uintptr_t)r.buf, s3);
	else if (*loc->bdf)
		printf("buffer: 0x%llx p2pmem of %s (%s), not placed: the kernel does not say "
		       "where in the BAR it is (--at places it)\n",
		       (unsigned long long)(uintptr_t)r.buf, loc->bdf, s3);
	else
		printf("buffer: 0x%llx %s (%s), not a p2pmem mapping\n",
		       (unsigned long long)(uintptr_t)r.buf, path, s3);
	if (o->cksum)
		printf("cksum: %u %llu\n", cksum_finish(crc, r.bytes),
		       (unsigned long long)r.bytes);
	fflush(stdout);
	if (o->verify && verify_bar(&r, devfd, &barreg, &place, *bdf ? bdf : "the device",
				    o->dev))
		goto out;
	if (o->pause)
		wait_for_signal();
	status = 0;
out:
	if (r.buf && r.buf != MAP_FAILED)
		munmap(r.buf, maplen);
	free(loc);
	close(r.fd);
	return status;
}
