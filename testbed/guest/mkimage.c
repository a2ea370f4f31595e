// SPDX-License-Identifier: GPL-2.0
/* mkimage FILE MIB: write the pattern image the client NVMe serves. */
#include <stdio.h>
#include <stdlib.h>
#include "pattern.h"

int main(int argc, char **argv)
{
	static uint64_t buf[1 << 17];	/* 1 MiB */
	unsigned long mib, i;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE MIB\n", argv[0]);
		return 2;
	}
	mib = strtoul(argv[2], NULL, 0);
	f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	for (i = 0; i < mib; i++) {
		pattern_fill(buf, i << 20, sizeof(buf));
		if (fwrite(buf, sizeof(buf), 1, f) != 1) {
			perror(argv[1]);
			return 1;
		}
	}
	return fclose(f) ? 1 : 0;
}
