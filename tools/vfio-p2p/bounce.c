// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-p2p bounce: how data gets from a block device into a BAR without P2P
 * registration, the baseline the registered path is compared with.  The
 * BAR is mmap()ed through the VFIO device file (not registered), O_DIRECT
 * reads land in a DRAM ring of qd buffers of bs bytes (the reader of
 * "vfio-p2p read"), and the CPU copies each chunk from there into the BAR.
 *
 * The chunks go to a window of the same size at the start of the BAR, in
 * turn: chunk i to BAR offset (i % qd) * bs.  That is where "vfio-p2p
 * read" under a registration has the NVMe put them (its p2pmem buffer is
 * bs * qd bytes), so both ways move the same bytes into the same amount of
 * BAR.
 *
 * The throughput and CPU time (getrusage, user + system) cover the reads
 * and the copies.  Afterwards each slot of the window is read back through
 * the VFIO region with pread(), not through the mapping, and compared with
 * the chunk of the device that was copied there last, read again into
 * DRAM.  Prints a "# result" line in the format of the test bed's
 * p2pread, and the check as "verify: ok: ..." or "verify: not ok: ...",
 * as "vfio-p2p read --verify" does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "cmds.h"
#include "pci.h"
#include "reader.h"
#include "util.h"
#include "vfio.h"

#define EXPLAIN_LEN	4096

struct bounce {
	uint8_t *bar;		/* the window of the BAR, mmap()ed through VFIO */
	uint64_t nslots;	/* chunks of bs in it: qd */
};

static void copy_chunk(struct reader *r, uint64_t i, const uint8_t *data, uint64_t len)
{
	struct bounce *b = r->priv;

	memcpy(b->bar + (i % b->nslots) * r->bs, data, len);
}

/*
 * Compare every slot of the window that was written with the chunk that
 * was copied there last.  Returns 0 if they all match, 1 on a mismatch (@bad
 * gets its BAR offset, @dev_at the device offset of the chunk), -errno if
 * a read failed.
 */
static int check_bar(struct reader *r, const struct bounce *b, struct vfio_dev *d,
		     const struct vfio_region *reg, uint64_t *bad, uint64_t *dev_at)
{
	uint64_t used = r->nchunks < b->nslots ? r->nchunks : b->nslots;
	uint64_t j, i, len, k;
	uint8_t *want, *got;
	int ret = 0;

	/* O_DIRECT needs an aligned buffer: a mapping is page aligned */
	want = mmap(NULL, r->bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	got = malloc(r->bs);
	if (want == MAP_FAILED || !got) {
		ret = -ENOMEM;
		goto out;
	}
	for (j = 0; j < used && !ret; j++) {
		i = j + (r->nchunks - 1 - j) / b->nslots * b->nslots;
		len = reader_chunk_len(r, i);
		ret = pread_full(r->fd, want, len, r->offset + i * r->bs);
		if (!ret)
			ret = pread_full(d->device_fd, got, len, reg->offset + j * r->bs);
		if (ret || !memcmp(want, got, len))
			continue;
		for (k = 0; k < len && want[k] == got[k]; k++)
			;
		*bad = j * r->bs + k;
		*dev_at = r->offset + i * r->bs + k;
		ret = 1;
	}
out:
	if (want != MAP_FAILED)
		munmap(want, r->bs);
	free(got);
	return ret;
}

int cmd_bounce(const struct p2p_opts *o)
{
	char buf[EXPLAIN_LEN], driver[64], client[PCI_BDF_LEN] = "", s1[32], s2[32], s3[32];
	const char *engine = o->engine == ENGINE_IO_URING ? "io_uring" : "psync";
	struct reader r = { .fd = -1 };
	struct bounce b = { .bar = MAP_FAILED };
	struct vfio_region reg;
	struct vfio_dev dev;
	bool opened = false;
	uint64_t ringlen = 0, used, bad = 0, dev_at = 0;
	double t0, t1, c0, c1;
	struct sbuf sb;
	int group, ret, status = EXIT_NOT_READY;

	sbuf_init(&sb, buf, sizeof(buf));
	if (!pci_dev_exists(o->bdf)) {
		msg("no PCI device %s (see /sys/bus/pci/devices, or lspci -D)", o->bdf);
		goto fail_open;
	}
	if (!device_usable(o->bdf, &sb, driver, sizeof(driver), &group)) {
		print_explained(buf);
		goto fail_open;
	}
	if (reader_open(&r, o))
		goto fail_open;
	ret = vfio_dev_open(&dev, o->bdf, buf, sizeof(buf));
	if (ret) {
		print_explained(buf);
		goto fail_open;
	}
	opened = true;
	ret = vfio_region_get(&dev, o->bar, &reg);
	if (ret) {
		msg("cannot get the region of BAR %d of %s: %s", o->bar, o->bdf, strerror(-ret));
		goto fail_open;
	}
	if (!reg.size || !reg.mmappable || !reg.readable || !reg.writable) {
		msg("BAR %d of %s %s", o->bar, o->bdf,
		    !reg.size ? "is not implemented" :
		    !reg.mmappable ? "cannot be mmap()ed through VFIO (an I/O port BAR, or "
				     "smaller than a page)" :
				     "cannot be both read and written through VFIO");
		goto fail_open;
	}
	ringlen = (r.bs * r.qd + SZ_4K - 1) & ~(SZ_4K - 1);
	if (ringlen > reg.size) {
		msg("--bs %s x --qd %u is more than BAR %d of %s (%s)", fmt_size(r.bs, s1, sizeof(s1)),
		    r.qd, o->bar, o->bdf, fmt_size(reg.size, s2, sizeof(s2)));
		goto fail_open;
	}
	b.nslots = r.qd;
	b.bar = mmap(NULL, ringlen, PROT_READ | PROT_WRITE, MAP_SHARED, dev.device_fd,
		     (off_t)reg.offset);
	if (b.bar == MAP_FAILED) {
		ret = errno;
		msg("cannot mmap() BAR %d of %s through VFIO: %s%s", o->bar, o->bdf, strerror(ret),
		    ret == EBUSY ? "\n  A range of the BAR there is registered as P2P memory, or "
				   "its registration ended and is still draining: a "
				   "registration and an mmap() through VFIO exclude each "
				   "other." :
		    ret == EINVAL && reg.caps ? "\n  Only parts of this BAR can be mmap()ed "
						"(sparse mmap areas, e.g. around the MSI-X "
						"table): use another BAR." : "");
		goto fail_open;
	}
	printf("opened %s through VFIO (%s), the first %s of BAR %d (%s) mmap()ed through its "
	       "region\n", o->bdf, dev.how, fmt_size(ringlen, s1, sizeof(s1)), o->bar,
	       fmt_size(reg.size, s2, sizeof(s2)));

	r.buf = mmap(NULL, ringlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r.buf == MAP_FAILED) {
		r.buf = NULL;
		msg("cannot allocate %llu bytes of DRAM: %s", (unsigned long long)ringlen,
		    strerror(errno));
		goto out;
	}
	r.consume = copy_chunk;
	r.priv = &b;
	/*
	 * Fault both buffers in before the clock starts, as a long-lived user
	 * would have them, and poison the window so that stale bytes cannot
	 * pass the check.
	 */
	used = (r.nchunks < b.nslots ? r.nchunks : b.nslots) * r.bs;
	memset(r.buf, 0x5a, ringlen);
	memset(b.bar, 0xa5, used);
	pci_blockdev_bdf(o->dev, client);

	t0 = now_seconds();
	c0 = cpu_seconds();
	ret = reader_run(&r, o->engine);
	c1 = cpu_seconds();
	t1 = now_seconds();
	if (ret) {
		msg("%s O_DIRECT read of %llu bytes of %s into DRAM, to be copied into BAR %d "
		    "(bs %s, qd %u), failed: %s", engine, (unsigned long long)r.bytes, o->dev,
		    o->bar, fmt_size(r.bs, s1, sizeof(s1)), r.qd,
		    ret == -ENODATA ? "short read" : strerror(-ret));
		goto out;
	}
	printf("# bounced %s from %s%s%s at 0x%llx into %s BAR %d through DRAM in %.3f s, "
	       "%.1f MiB/s, CPU %.3f s (measured: clock and getrusage)\n",
	       fmt_size(r.bytes, s1, sizeof(s1)), o->dev, *client ? " " : "", client,
	       (unsigned long long)r.offset, o->bdf, o->bar, t1 - t0,
	       t1 > t0 ? (double)r.bytes / (1 << 20) / (t1 - t0) : 0.0, c1 - c0);
	printf("# result engine=bounce-%s target=bar bytes=%llu seconds=%.6f cpu=%.6f mbps=%.1f\n",
	       engine, (unsigned long long)r.bytes, t1 - t0, c1 - c0,
	       t1 > t0 ? (double)r.bytes / (t1 - t0) / 1e6 : 0.0);
	fflush(stdout);

	ret = check_bar(&r, &b, &dev, &reg, &bad, &dev_at);
	if (ret < 0) {
		printf("verify: not ok: cannot read BAR %d back through the VFIO region, or %s "
		       "again: %s\n", o->bar, o->dev, strerror(-ret));
	} else if (ret) {
		printf("verify: not ok: BAR %d does not hold the bytes of %s: first mismatch at "
		       "BAR offset 0x%llx (device offset 0x%llx)\n", o->bar, o->dev,
		       (unsigned long long)bad, (unsigned long long)dev_at);
	} else {
		printf("verify: ok: BAR %d holds the bytes of %s: the %s written last, read back "
		       "through the VFIO region, match the device\n", o->bar, o->dev,
		       fmt_size(used, s3, sizeof(s3)));
		status = 0;
	}
	goto out;

fail_open:
	msg("cannot bounce into BAR %d of %s: it must be opened through VFIO and mmap()ed "
	    "through its region", o->bar, o->bdf);
out:
	if (r.buf)
		munmap(r.buf, ringlen);
	if (b.bar != MAP_FAILED)
		munmap(b.bar, ringlen);
	if (opened)
		vfio_dev_close(&dev);
	if (r.fd >= 0)
		close(r.fd);
	fflush(stdout);
	return status;
}
