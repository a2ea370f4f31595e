// SPDX-License-Identifier: GPL-2.0
/*
 * The core of libvfio-p2p-preload.so: which mmap() calls to redirect to
 * the VFIO device file, and where to.  See vfio_p2p_preload.h; preload.c
 * holds the wrappers.  Needs libc only, and nothing of it in the hot path
 * that is not async-signal-safe.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vfio_p2p_preload.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif

/* ---- lines, built without stdio (async-signal-safe) ---- */

struct line {
	char buf[320];
	size_t n;
};

static void add_str(struct line *l, const char *s)
{
	while (*s && l->n < sizeof(l->buf) - 1)
		l->buf[l->n++] = *s++;
}

static void add_num(struct line *l, uint64_t v, unsigned int base)
{
	char d[24];
	int i = 0;

	if (base == 16)
		add_str(l, "0x");
	do {
		d[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i && l->n < sizeof(l->buf) - 1)
		l->buf[l->n++] = d[--i];
}

/* Write the line with a newline, keeping errno */
static void put_line(const struct vfio_p2p_preload *p, struct line *l)
{
	int err = errno;
	ssize_t ret;
	size_t done = 0;

	l->buf[l->n++] = '\n';
	while (done < l->n) {
		ret = write(p->log_fd, l->buf + done, l->n - done);
		if (ret <= 0 && errno != EINTR)
			break;
		if (ret > 0)
			done += (size_t)ret;
	}
	errno = err;
}

/* Whether the line @bit is still to be printed; marks it printed */
static bool first_time(struct vfio_p2p_preload *p, unsigned int bit)
{
	return !(__atomic_fetch_or(&p->warned, bit, __ATOMIC_RELAXED) & bit);
}

/* ---- the environment, once at load ---- */

/* A decimal number, all of the string */
static bool env_num(char *(*get)(const char *), const char *name, uint64_t *v)
{
	const char *s = get(name);
	uint64_t n = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return true;
}

static enum vfio_p2p_preload_state broken(struct vfio_p2p_preload *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum vfio_p2p_preload_state broken(struct vfio_p2p_preload *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->state = VFIO_P2P_PRELOAD_BROKEN;
	return p->state;
}

enum vfio_p2p_preload_state vfio_p2p_preload_init(struct vfio_p2p_preload *p,
						  char *(*get)(const char *name),
						  uint64_t page)
{
	const char *file = get(VFIO_P2P_MMAP_FILE_ENV), *s;
	uint64_t fd, bar, start, size, at;
	struct stat st;

	memset(p, 0, sizeof(*p));
	p->log_fd = 2;
	p->device_fd = -1;
	p->page = page ? page : 4096;
	s = get(VFIO_P2P_PRELOAD_VERBOSE_ENV);
	p->verbose = s && *s && strcmp(s, "0");
	s = get("VFIO_P2P_BDF");
	if (s)
		snprintf(p->bdf, sizeof(p->bdf), "%s", s);
	if (!file || !*file)
		return p->state = VFIO_P2P_PRELOAD_OFF;

	if (stat(file, &st))
		return broken(p, "%s=%s: %s: its mappings fail (EINVAL)",
			      VFIO_P2P_MMAP_FILE_ENV, file, strerror(errno));
	p->have_file = true;
	p->file_dev = st.st_dev;
	p->file_ino = st.st_ino;

	if (!env_num(get, "VFIO_P2P_DEVICE_FD", &fd) || fd > 0x7fffffff)
		return broken(p, "%s is set, but VFIO_P2P_DEVICE_FD is not a file descriptor",
			      VFIO_P2P_MMAP_FILE_ENV);
	if (!env_num(get, "VFIO_P2P_REGION_OFFSET", &p->region_offset))
		return broken(p, "%s is set, but VFIO_P2P_REGION_OFFSET is not (a kernel "
			      "without the page-backed region?)", VFIO_P2P_MMAP_FILE_ENV);
	if (!env_num(get, "VFIO_P2P_BAR", &bar) || bar > 5 ||
	    !env_num(get, "VFIO_P2P_OFFSET", &start) || !env_num(get, "VFIO_P2P_SIZE", &size) ||
	    !size || start > UINT64_MAX - size)
		return broken(p, "%s is set, but VFIO_P2P_BAR, _OFFSET and _SIZE do not name "
			      "a registered range", VFIO_P2P_MMAP_FILE_ENV);
	if (!env_num(get, VFIO_P2P_MMAP_AT_ENV, &at))
		at = start;
	if (at % p->page || at < start || at >= start + size)
		return broken(p, "%s=0x%llx is not a page aligned offset inside the registered "
			      "range", VFIO_P2P_MMAP_AT_ENV, (unsigned long long)at);
	if (p->region_offset > (uint64_t)INT64_MAX - (start + size))
		return broken(p, "%s is set, but VFIO_P2P_REGION_OFFSET 0x%llx is too large",
			      VFIO_P2P_MMAP_FILE_ENV, (unsigned long long)p->region_offset);

	p->device_fd = (int)fd;
	p->bar = (int)bar;
	p->range_start = start;
	p->range_end = start + size;
	p->at = p->next = at;
	return p->state = VFIO_P2P_PRELOAD_ON;
}

void vfio_p2p_preload_warn_broken(struct vfio_p2p_preload *p)
{
	struct line l = { .n = 0 };

	if (p->state != VFIO_P2P_PRELOAD_BROKEN ||
	    !first_time(p, VFIO_P2P_PRELOAD_WARNED_BROKEN))
		return;
	add_str(&l, "vfio-p2p preload: ");
	add_str(&l, p->why);
	put_line(p, &l);
}

/* ---- the hot path ---- */

bool vfio_p2p_preload_match(struct vfio_p2p_preload *p, int fd, int flags, int64_t off)
{
	int type = flags & MAP_TYPE, err = errno;
	struct stat st;
	struct line l = { .n = 0 };

	if (p->state == VFIO_P2P_PRELOAD_OFF || !p->have_file || fd < 0)
		return false;
	if (fstat(fd, &st) || st.st_dev != p->file_dev || st.st_ino != p->file_ino) {
		errno = err;
		return false;
	}
	if ((type == MAP_SHARED || type == MAP_SHARED_VALIDATE) && !off)
		return true;
	if (first_time(p, VFIO_P2P_PRELOAD_WARNED_PRIVATE)) {
		add_str(&l, "vfio-p2p preload: a mapping of " VFIO_P2P_MMAP_FILE_ENV " ");
		add_str(&l, type == MAP_PRIVATE ? "without MAP_SHARED" : "at file offset ");
		if (type != MAP_PRIVATE)
			add_num(&l, (uint64_t)off, 16);
		add_str(&l, " is not redirected to the VFIO device file (only MAP_SHARED at "
			    "offset 0: fio mem=mmapshared:FILE)");
		put_line(p, &l);
	}
	return false;
}

static void say_mapped(struct vfio_p2p_preload *p, size_t len, uint64_t at)
{
	struct line l = { .n = 0 };

	add_str(&l, "# vfio-p2p preload: mapped ");
	add_num(&l, len, 10);
	add_str(&l, " bytes at BAR ");
	add_num(&l, (uint64_t)p->bar, 10);
	add_str(&l, "+");
	add_num(&l, at, 16);
	if (*p->bdf) {
		add_str(&l, " of ");
		add_str(&l, p->bdf);
	}
	add_str(&l, " through VFIO device fd ");
	add_num(&l, (uint64_t)p->device_fd, 10);
	put_line(p, &l);
}

static void say_no_room(struct vfio_p2p_preload *p, size_t len, uint64_t at)
{
	struct line l = { .n = 0 };

	if (!first_time(p, VFIO_P2P_PRELOAD_WARNED_ROOM))
		return;
	add_str(&l, "vfio-p2p preload: no room for ");
	add_num(&l, len, 10);
	add_str(&l, " bytes at BAR ");
	add_num(&l, (uint64_t)p->bar, 10);
	add_str(&l, "+");
	add_num(&l, at, 16);
	add_str(&l, ": the registered range ends at ");
	add_num(&l, p->range_end, 16);
	add_str(&l, " (buffers from " VFIO_P2P_MMAP_AT_ENV "=");
	add_num(&l, p->at, 16);
	add_str(&l, " on, one after the other): ENOMEM");
	put_line(p, &l);
}

void *vfio_p2p_preload_map(struct vfio_p2p_preload *p, vfio_p2p_mmap_fn map,
			   void *addr, size_t len, int prot, int flags)
{
	uint64_t rlen, cur;
	void *ret;

	if (p->state != VFIO_P2P_PRELOAD_ON || !len || len > UINT64_MAX - p->page) {
		vfio_p2p_preload_warn_broken(p);
		errno = EINVAL;
		return MAP_FAILED;
	}
	rlen = ((uint64_t)len + p->page - 1) & ~(p->page - 1);
	cur = __atomic_load_n(&p->next, __ATOMIC_RELAXED);
	for (;;) {
		if (cur > p->range_end || rlen > p->range_end - cur) {
			say_no_room(p, len, cur);
			errno = ENOMEM;
			return MAP_FAILED;
		}
		/* Claim [cur, cur + rlen): other threads get what follows */
		if (!__atomic_compare_exchange_n(&p->next, &cur, cur + rlen, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			continue;	/* cur is the new next */
		ret = map(addr, len, prot, flags, p->device_fd,
			  (int64_t)(p->region_offset + cur));
		if (ret != MAP_FAILED) {
			if (p->verbose)
				say_mapped(p, len, cur);
			return ret;
		}
		/* Taken by another process (or draining): try the next window */
		if (errno != EBUSY)
			return MAP_FAILED;
		cur = __atomic_load_n(&p->next, __ATOMIC_RELAXED);
	}
}
