// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-p2p-test-helper: small steps the tests of "register --preload" take.
 *
 *   vfio-p2p-test-helper map FILE SPEC...
 *	open(FILE, O_RDWR | O_CREAT, 0644), as fio does for mem=mmapshared,
 *	then one mapping per SPEC, kept until exit: LEN (MAP_SHARED at offset
 *	0, what the interposer redirects), LEN@OFF (at file offset OFF) or
 *	pLEN (MAP_PRIVATE).  Prints "map SPEC: ok BYTES" (the first 8 bytes,
 *	'.' for the unprintable) or "map SPEC: failed: errno N (...)".
 *   vfio-p2p-test-helper bar-fill BAR OFFSET LEN BYTE
 *	pwrite() LEN bytes BYTE at OFFSET of BAR through its VFIO region of
 *	the device file $VFIO_P2P_DEVICE_FD (not through any mapping).
 *   vfio-p2p-test-helper bar-cmp BAR OFFSET LEN FILE [FILE_OFFSET]
 *	pread() LEN bytes at OFFSET of BAR through that region and compare
 *	them with FILE from FILE_OFFSET (read with O_DIRECT where it can be).
 *	Prints "bar-cmp: ok: ..." or "bar-cmp: not ok: ..." with the first
 *	differing byte.
 *
 * Exit status 0 if all went well, 1 if not, 2 for a usage error.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "util.h"

#define CHUNK	(1U << 20)

static int usage(void)
{
	fprintf(stderr, "usage: vfio-p2p-test-helper map FILE LEN|LEN@OFF|pLEN...\n"
			"       vfio-p2p-test-helper bar-fill BAR OFFSET LEN BYTE\n"
			"       vfio-p2p-test-helper bar-cmp BAR OFFSET LEN FILE [FILE_OFFSET]\n");
	return 2;
}

static int num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int do_map(const char *file, int n, char **specs)
{
	int fd, i, k, st = 0;

	fd = open(file, O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		printf("open %s: failed: errno %d (%s)\n", file, errno, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		const char *s = specs[i], *at = strchr(s, '@');
		int flags = MAP_SHARED;
		uint64_t len, off = 0;
		char lenbuf[32];
		uint8_t *p;

		if (*s == 'p') {
			flags = MAP_PRIVATE;
			s++;
		}
		snprintf(lenbuf, sizeof(lenbuf), "%.*s", at ? (int)(at - s) : (int)strlen(s), s);
		if (num(lenbuf, &len) || (at && num(at + 1, &off)))
			return usage();
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);
		if (p == MAP_FAILED) {
			printf("map %s: failed: errno %d (%s)\n", specs[i], errno, strerror(errno));
			st = 1;
			continue;
		}
		printf("map %s: ok ", specs[i]);
		for (k = 0; k < 8 && (uint64_t)k < len; k++)
			putchar(isprint(p[k]) ? p[k] : '.');
		putchar('\n');
	}
	return st;
}

/* The VFIO region of BAR @bar of $VFIO_P2P_DEVICE_FD */
static int bar_region(int bar, int *fd, struct vfio_region_info *ri)
{
	const char *s = getenv("VFIO_P2P_DEVICE_FD");
	uint64_t v;

	if (!s || num(s, &v) || v > 0x7fffffff) {
		printf("VFIO_P2P_DEVICE_FD is not set: run under 'vfio-p2p register'\n");
		return -1;
	}
	*fd = (int)v;
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = (uint32_t)bar;
	if (ioctl(*fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
		printf("VFIO_DEVICE_GET_REGION_INFO of BAR %d: %s\n", bar, strerror(errno));
		return -1;
	}
	if (!(ri->flags & VFIO_REGION_INFO_FLAG_READ) ||
	    !(ri->flags & VFIO_REGION_INFO_FLAG_WRITE)) {
		printf("BAR %d cannot be read and written through its VFIO region\n", bar);
		return -1;
	}
	return 0;
}

static int do_bar(bool cmp, char **argv, int argc)
{
	uint64_t bar, off, len, byte = 0, foff = 0, done, n, k;
	struct vfio_region_info ri;
	uint8_t *a = NULL, *b = NULL;
	int fd, ffd = -1, st = 1;

	if (num(argv[0], &bar) || bar > 5 || num(argv[1], &off) || num(argv[2], &len) ||
	    (!cmp && (num(argv[3], &byte) || byte > 255)) ||
	    (cmp && argc > 4 && num(argv[4], &foff)))
		return usage();
	if (bar_region((int)bar, &fd, &ri))
		return 1;
	if (off > ri.size || len > ri.size - off) {
		printf("BAR %d is %llu bytes: 0x%llx+%llu is beyond it\n", (int)bar,
		       (unsigned long long)ri.size, (unsigned long long)off,
		       (unsigned long long)len);
		return 1;
	}
	if (posix_memalign((void **)&a, 4096, CHUNK) || posix_memalign((void **)&b, 4096, CHUNK)) {
		printf("out of memory\n");
		goto out;
	}
	if (cmp) {
		ffd = open(argv[3], O_RDONLY | O_DIRECT);
		if (ffd < 0)
			ffd = open(argv[3], O_RDONLY);
		if (ffd < 0) {
			printf("bar-cmp: not ok: cannot open %s: %s\n", argv[3], strerror(errno));
			goto out;
		}
	}
	memset(a, (int)byte, CHUNK);
	for (done = 0; done < len; done += n) {
		n = len - done < CHUNK ? len - done : CHUNK;
		if (!cmp) {
			if ((errno = -pwrite_full(fd, a, n, ri.offset + off + done))) {
				printf("bar-fill: cannot write BAR %d at 0x%llx: %s\n", (int)bar,
				       (unsigned long long)(off + done), strerror(errno));
				goto out;
			}
			continue;
		}
		if ((errno = -pread_full(fd, a, n, ri.offset + off + done))) {
			printf("bar-cmp: not ok: cannot read BAR %d at 0x%llx: %s\n", (int)bar,
			       (unsigned long long)(off + done), strerror(errno));
			goto out;
		}
		if ((errno = -pread_full(ffd, b, n, foff + done))) {
			printf("bar-cmp: not ok: cannot read %s at 0x%llx: %s\n", argv[3],
			       (unsigned long long)(foff + done), strerror(errno));
			goto out;
		}
		if (!memcmp(a, b, n))
			continue;
		for (k = 0; a[k] == b[k]; k++)
			;
		printf("bar-cmp: not ok: BAR %d offset 0x%llx holds 0x%02x, %s at 0x%llx 0x%02x\n",
		       (int)bar, (unsigned long long)(off + done + k), a[k], argv[3],
		       (unsigned long long)(foff + done + k), b[k]);
		goto out;
	}
	if (cmp)
		printf("bar-cmp: ok: BAR %d 0x%llx-0x%llx, read back with pread() of its VFIO "
		       "region (not a mapping), holds the %llu bytes of %s from 0x%llx\n",
		       (int)bar, (unsigned long long)off, (unsigned long long)(off + len - 1),
		       (unsigned long long)len, argv[3], (unsigned long long)foff);
	else
		printf("bar-fill: BAR %d 0x%llx-0x%llx filled with 0x%02x through its VFIO "
		       "region\n", (int)bar, (unsigned long long)off,
		       (unsigned long long)(off + len - 1), (unsigned int)byte);
	st = 0;
out:
	if (ffd >= 0)
		close(ffd);
	free(a);
	free(b);
	return st;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "map"))
		return do_map(argv[2], argc - 3, argv + 3);
	if (argc == 6 && !strcmp(argv[1], "bar-fill"))
		return do_bar(false, argv + 2, argc - 2);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "bar-cmp"))
		return do_bar(true, argv + 2, argc - 2);
	return usage();
}
