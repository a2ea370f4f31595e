/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The data image's content: every 8-byte word is a function of its byte
 * offset in the image, so any range can be checked without the image.
 */
#ifndef TESTBED_PATTERN_H
#define TESTBED_PATTERN_H

#include <stdint.h>
#include <stddef.h>

#define PATTERN_SEED 0x5646494f50325021ull	/* "VFIOP2P!" */

static inline uint64_t pattern_word(uint64_t offset)
{
	uint64_t x = (offset >> 3) + PATTERN_SEED;

	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return x;
}

static inline void pattern_fill(uint64_t *buf, uint64_t offset, size_t len)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		buf[i] = pattern_word(offset + i * 8);
}

/* Returns the byte index of the first mismatch, or -1. */
static inline long pattern_check(const volatile uint64_t *buf, uint64_t offset,
				 size_t len)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (buf[i] != pattern_word(offset + i * 8))
			return (long)(i * 8);
	return -1;
}

#endif
