/* SPDX-License-Identifier: GPL-2.0 */
/*
 * O_DIRECT reads of a block device through a ring of qd buffers of bs
 * bytes, with psync or io_uring: "vfio-p2p read" (the ring is p2pmem or
 * DRAM) and "vfio-p2p bounce" (the ring is DRAM, each chunk is copied on
 * into a BAR) share it.
 */
#ifndef VFIO_P2P_READER_H
#define VFIO_P2P_READER_H

#include <stdint.h>

#include "args.h"

struct reader {
	int fd;			/* the block device, O_DIRECT */
	uint8_t *buf;		/* the ring: qd slots of bs bytes */
	uint64_t bs;
	unsigned int qd;
	uint64_t offset;	/* in the device */
	uint64_t bytes;
	uint64_t nchunks;
	/*
	 * Called for chunk i, in order, once its data is in its slot and
	 * before the slot is reused; may be NULL.
	 */
	void (*consume)(struct reader *r, uint64_t i, const uint8_t *data,
			uint64_t len);
	void *priv;
	uint64_t short_at;	/* where a short read happened */
	uint64_t short_len;
};

/*
 * Open o->dev for O_DIRECT reading and fill in offset, bytes, bs, qd and
 * nchunks from --offset, --bytes, --bs, --qd, checked against the device.
 * Says what is wrong and returns -errno on failure; the caller sets buf
 * (bs * qd bytes) and consume, and closes fd.
 */
int reader_open(struct reader *r, const struct p2p_opts *o);
/* Read it all; 0 or -errno, -ENODATA for a short read (short_at, short_len) */
int reader_run(struct reader *r, enum p2p_engine engine);
/* Length of chunk @i: bs, or less for the last one */
uint64_t reader_chunk_len(const struct reader *r, uint64_t i);

/* CLOCK_MONOTONIC, and the CPU time (user + system) of this process, in s */
double now_seconds(void);
double cpu_seconds(void);

#endif /* VFIO_P2P_READER_H */
