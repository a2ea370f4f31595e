// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest tests' C helper, see tb.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tb.h"

static pthread_mutex_t tb_lock = PTHREAD_MUTEX_INITIALIZER;
static int tb_n, tb_failed, tb_skipped;

void tb_start(void)
{
	pthread_mutex_lock(&tb_lock);
	printf("TAP version 13\n");
	fflush(stdout);
	pthread_mutex_unlock(&tb_lock);
}

/* One TAP line; newlines in the text would break it, so they become spaces */
static void tb_line(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024], *p;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("%s %d %s\n", prefix, ++tb_n, buf);
	fflush(stdout);
}

void tb_ok(bool pass, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&tb_lock);
	va_start(ap, fmt);
	tb_line(pass ? "ok" : "not ok", fmt, ap);
	va_end(ap);
	if (!pass)
		tb_failed++;
	pthread_mutex_unlock(&tb_lock);
}

void tb_skip(const char *fmt, ...)
{
	char reason[1000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&tb_lock);
	printf("ok %d # SKIP %s\n", ++tb_n, reason);
	fflush(stdout);
	tb_skipped++;
	pthread_mutex_unlock(&tb_lock);
}

void tb_diag(const char *fmt, ...)
{
	char buf[2048], *line, *next;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&tb_lock);
	for (line = buf; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		printf("# %s\n", line);
	}
	fflush(stdout);
	pthread_mutex_unlock(&tb_lock);
}

int tb_end(void)
{
	int ret;

	pthread_mutex_lock(&tb_lock);
	printf("1..%d\n", tb_n);
	fflush(stdout);
	ret = tb_failed ? 1 : 0;
	pthread_mutex_unlock(&tb_lock);
	return ret;
}

int tb_count(void)
{
	return __atomic_load_n(&tb_n, __ATOMIC_RELAXED);
}

int tb_failures(void)
{
	return __atomic_load_n(&tb_failed, __ATOMIC_RELAXED);
}

int tb_skips(void)
{
	return __atomic_load_n(&tb_skipped, __ATOMIC_RELAXED);
}

void tb_kmsg_mark(const char *fmt, ...)
{
	char buf[900];
	va_list ap;
	int fd, len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(buf))
		len = sizeof(buf) - 1;
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != len)
		tb_diag("tb_kmsg_mark: cannot write to /dev/kmsg: %s",
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The patterns of testbed/splat.sh, from the environment */
static int tb_kmsg_init(struct tb_kmsg *k, bool in_faults)
{
	const char *splat = getenv("SPLAT_RE");
	const char *alloc = getenv("ALLOC_FAIL_RE");

	memset(k, 0, sizeof(*k));
	k->fd = -1;
	k->in_faults = in_faults;
	k->begin = getenv("FAULTS_BEGIN");
	k->end = getenv("FAULTS_END");
	if (!splat || !*splat || !alloc || !*alloc || !k->begin ||
	    !*k->begin || !k->end || !*k->end) {
		snprintf(k->why, sizeof(k->why),
			 "SPLAT_RE, ALLOC_FAIL_RE, FAULTS_BEGIN or FAULTS_END missing from the environment (the guest init exports them from testbed/splat.sh)");
		fprintf(stderr, "tb: %s\n", k->why);
		return -1;
	}
	if (regcomp(&k->splat, splat, REG_EXTENDED | REG_NOSUB)) {
		snprintf(k->why, sizeof(k->why), "SPLAT_RE does not compile");
		return -1;
	}
	if (regcomp(&k->alloc, alloc, REG_EXTENDED | REG_NOSUB)) {
		regfree(&k->splat);
		snprintf(k->why, sizeof(k->why), "ALLOC_FAIL_RE does not compile");
		return -1;
	}
	k->ready = true;
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0) {
		snprintf(k->why, sizeof(k->why), "/dev/kmsg: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

void tb_kmsg_close(struct tb_kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	if (k->ready) {
		regfree(&k->splat);
		regfree(&k->alloc);
	}
	k->ready = false;
}

/*
 * Read the next record into @rec and point @msg at its text: 1, 0 at the
 * end of the log, -1 on an error.  Records overwritten before they could
 * be read set k->lost.
 */
static int tb_kmsg_next(struct tb_kmsg *k, char *rec, size_t size, char **msg)
{
	ssize_t len;
	char *p;

	for (;;) {
		len = read(k->fd, rec, size - 1);
		if (len < 0 && errno == EPIPE) {
			k->lost = true;
			continue;
		}
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			return 0;
		if (len <= 0) {
			snprintf(k->why, sizeof(k->why), "reading /dev/kmsg: %s",
				 len ? strerror(errno) : "end of file");
			return -1;
		}
		rec[len] = '\0';
		/* "PRI,SEQ,USEC,FLAGS;TEXT\n" then " KEY=VALUE" lines */
		p = strchr(rec, ';');
		p = p ? p + 1 : rec;
		p[strcspn(p, "\n")] = '\0';
		*msg = p;
		return 1;
	}
}

/*
 * One record, the way splat.sh's console_reports() and SPLAT_RE see a
 * console line: 1 if it is a kernel report.
 */
static int tb_kmsg_feed(struct tb_kmsg *k, const char *msg, bool count)
{
	if (strstr(msg, k->begin)) {
		k->in_faults = true;
		return 0;
	}
	if (strstr(msg, k->end)) {
		k->in_faults = false;
		k->in_alloc = false;
		return 0;
	}
	if (k->in_faults && !regexec(&k->alloc, msg, 0, NULL, 0)) {
		k->in_alloc = true;
		k->alloc_lines = 0;
		if (count)
			k->alloc_reports++;
		return 0;
	}
	if (k->in_alloc) {
		if (strstr(msg, "</TASK>") || ++k->alloc_lines > 80)
			k->in_alloc = false;
		return 0;
	}
	if (regexec(&k->splat, msg, 0, NULL, 0))
		return 0;
	if (count && !k->reports++)
		snprintf(k->first, sizeof(k->first), "%s", msg);
	return count;
}

int tb_kmsg_follow(struct tb_kmsg *k, bool in_faults)
{
	if (tb_kmsg_init(k, in_faults))
		return -1;
	lseek(k->fd, 0, SEEK_END);
	return 0;
}

int tb_kmsg_scan(struct tb_kmsg *k)
{
	char rec[8192], *msg;
	int ret, n = 0;

	if (k->fd < 0)
		return -1;
	while ((ret = tb_kmsg_next(k, rec, sizeof(rec), &msg)) > 0)
		n += tb_kmsg_feed(k, msg, true);
	if (ret < 0)
		return -1;
	if (k->lost) {
		snprintf(k->why, sizeof(k->why),
			 "kernel log records were overwritten before they could be read");
		return -1;
	}
	return n;
}

int tb_kernel_reports_since(const char *marker, char *out, size_t len)
{
	char rec[8192], *msg;
	struct tb_kmsg k;
	bool found = false;
	int ret;

	if (tb_kmsg_init(&k, false))
		goto fail;
	while ((ret = tb_kmsg_next(&k, rec, sizeof(rec), &msg)) > 0) {
		if (strstr(msg, marker)) {
			/* The last occurrence counts */
			found = true;
			k.lost = false;
			k.reports = 0;
			k.alloc_reports = 0;
			k.first[0] = '\0';
			continue;
		}
		tb_kmsg_feed(&k, msg, found);
	}
	if (ret < 0)
		goto fail;
	if (!found) {
		snprintf(k.why, sizeof(k.why),
			 "marker \"%.100s\" not in the kernel log (left the ring buffer?)",
			 marker);
		goto fail;
	}
	if (k.lost) {
		snprintf(k.why, sizeof(k.why),
			 "kernel log records after the marker were overwritten before they could be read");
		goto fail;
	}
	if (out && len)
		snprintf(out, len, "%s", k.first);
	tb_kmsg_close(&k);
	return k.reports;

fail:
	if (out && len)
		snprintf(out, len, "%s", k.why);
	tb_kmsg_close(&k);
	return -1;
}
