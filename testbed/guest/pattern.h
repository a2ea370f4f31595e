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

/*
 * The offset whose word @word is: pattern_word() undone step by step (each
 * xorshift, and the multiplication by an odd number, is a bijection), so
 * that bytes of the image found somewhere tell where in the image they come
 * from.  Any @word gives an offset; pattern_check() there says whether the
 * bytes around it really are the image's.
 */
static inline uint64_t pattern_offset(uint64_t word)
{
	uint64_t x = word, inv = 0x9e3779b97f4a7c15ull;
	int i;

	x ^= x >> 29;
	x ^= x >> 58;
	/* Newton's iteration for the inverse mod 2^64: 5 steps, 64 bits */
	for (i = 0; i < 5; i++)
		inv *= 2 - 0x9e3779b97f4a7c15ull * inv;
	x *= inv;
	x ^= x >> 31;
	x ^= x >> 62;
	return (x - PATTERN_SEED) << 3;
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
