// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of vfio-p2p that need no device.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "util.h"

void sbuf_init(struct sbuf *sb, char *buf, size_t len)
{
	sb->buf = buf;
	sb->len = len;
	sb->pos = 0;
	if (len)
		buf[0] = '\0';
}

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->pos + 1 >= sb->len)
		return;

	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->pos, sb->len - sb->pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb->pos += (size_t)n;
	if (sb->pos >= sb->len)
		sb->pos = sb->len - 1;
}

static int suffix_shift(const char *s, unsigned int *shift)
{
	static const char units[] = "KMGTPE";
	const char *u;

	if (!*s) {
		*shift = 0;
		return 0;
	}
	u = strchr(units, toupper((unsigned char)*s));
	if (!u || !*u)
		return -EINVAL;
	*shift = 10 * (unsigned int)(u - units + 1);
	s++;
	if (!strcmp(s, "") || !strcmp(s, "iB") || !strcmp(s, "B"))
		return 0;
	return -EINVAL;
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift;
	char *end;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	if (suffix_shift(end, &shift))
		return -EINVAL;
	if (shift && v > (~0ULL >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_addr(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

const char *fmt_size(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int i = 0;

	while (i + 1 < ARRAY_SIZE(units) && n >= (1ULL << (10 * (i + 1))))
		i++;

	if (!i || !(n & ((1ULL << (10 * i)) - 1)))
		snprintf(buf, len, "%llu %s",
			 (unsigned long long)(n >> (10 * i)), units[i]);
	else
		snprintf(buf, len, "%.1f %s",
			 (double)n / (double)(1ULL << (10 * i)), units[i]);
	return buf;
}

ssize_t read_text(const char *path, char *buf, size_t len)
{
	ssize_t n, total = 0;
	int fd;

	if (!len)
		return -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	while ((size_t)total < len - 1) {
		n = read(fd, buf + total, len - 1 - (size_t)total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		total += n;
	}
	close(fd);

	while (total && (buf[total - 1] == '\n' || buf[total - 1] == ' '))
		total--;
	buf[total] = '\0';
	return total;
}

int read_u64_file(const char *path, uint64_t *out)
{
	char buf[64];
	ssize_t n;

	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return parse_u64(buf, out);
}

bool have_cap(int cap)
{
	unsigned long long eff;
	char line[256];
	bool ret = false;
	FILE *f;

	if (cap < 0 || cap > 63)
		return false;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			ret = eff & (1ULL << cap);
			break;
		}
	}
	fclose(f);
	return ret;
}

uint64_t p2p_memlock_charge(uint64_t size, uint64_t page)
{
	uint64_t bytes = size / page * P2P_PAGE_STRUCT;

	return (bytes + page - 1) / page * page;
}

uint64_t p2p_memlock_max_size(uint64_t limit, uint64_t page, uint64_t granule)
{
	uint64_t pages = limit / page;

	if (!granule)
		granule = P2P_GRANULE_FALLBACK;
	if (limit == UINT64_MAX || pages > UINT64_MAX / page / (page / P2P_PAGE_STRUCT))
		return UINT64_MAX / granule * granule;
	/* Each page of charge covers page / 64 struct pages */
	return pages * (page / P2P_PAGE_STRUCT) * page / granule * granule;
}

int memlock_limit(uint64_t *limit)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return -errno;
	*limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	return 0;
}

uint64_t page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (uint64_t)page : SZ_4K;
}

int pread_full(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ENODATA;
		done += (uint64_t)n;
	}
	return 0;
}

int pwrite_full(int fd, const void *buf, uint64_t len, uint64_t off)
{
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ENOSPC;
		done += (uint64_t)n;
	}
	return 0;
}

static void proc_comm(const char *pid, char *comm, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	if (read_text(path, comm, len) < 0)
		snprintf(comm, len, "?");
}

static bool proc_has_open(const char *pid, const char *const *paths, int npaths)
{
	char dir[PATH_MAX], link[2 * PATH_MAX], target[PATH_MAX];
	struct dirent *de;
	bool found = false;
	ssize_t n;
	DIR *d;
	int i;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		for (i = 0; i < npaths; i++)
			if (paths[i] && !strcmp(target, paths[i]))
				found = true;
	}
	closedir(d);
	return found;
}

int proc_users_of(const char *const *paths, int npaths, char *out, size_t len)
{
	char self[32], comm[64];
	struct dirent *de;
	struct sbuf sb;
	int count = 0;
	DIR *d;

	sbuf_init(&sb, out, len);
	snprintf(self, sizeof(self), "%d", (int)getpid());
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    !strcmp(de->d_name, self))
			continue;
		if (!proc_has_open(de->d_name, paths, npaths))
			continue;
		proc_comm(de->d_name, comm, sizeof(comm));
		sbuf_printf(&sb, "%spid %s (%s)", count ? ", " : "",
			    de->d_name, comm);
		count++;
	}
	closedir(d);
	return count;
}

/* CRC-32 with polynomial 0x04c11db7, most significant bit first */
static uint32_t cksum_byte(uint32_t crc, uint8_t byte)
{
	static uint32_t table[256];
	static bool ready;
	uint32_t c;
	int i, j;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i << 24;
			for (j = 0; j < 8; j++)
				c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
			table[i] = c;
		}
		ready = true;
	}
	return (crc << 8) ^ table[(crc >> 24) ^ byte];
}

uint32_t cksum_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		crc = cksum_byte(crc, p[i]);
	return crc;
}

uint32_t cksum_finish(uint32_t crc, uint64_t total_len)
{
	for (; total_len; total_len >>= 8)
		crc = cksum_byte(crc, (uint8_t)total_len);
	return ~crc;
}

void msg(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vfio-p2p: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
