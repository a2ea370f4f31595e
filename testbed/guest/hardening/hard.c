// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared helpers of the P2P registration hardening tests, see hard.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/compiler.h>
#include <linux/fs.h>
#include <linux/kernel.h>

#include "hard.h"
#include "pattern.h"

void tap_metric(const char *name, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tb_diag("metric %s=%s", name, buf);
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void msleep(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

bool nop2p(void)
{
	const char *env = getenv("NOP2P");

	return env && *env && strcmp(env, "0");
}

bool p2p_io_refused(int err)
{
	return err == EREMOTEIO || err == EINVAL || err == EOPNOTSUPP;
}

const char *errname(int err)
{
	static __thread char buf[16];

	switch (err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EREMOTEIO: return "EREMOTEIO";
	case ENOSYS: return "ENOSYS";
	case EBADF: return "EBADF";
	case EINTR: return "EINTR";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECANCELED: return "ECANCELED";
	}
	snprintf(buf, sizeof(buf), "errno%d", err);
	return buf;
}

/* The jump buffer of the guarded access the thread is in, if any */
static __thread sigjmp_buf *sigbus_jmp;

static void sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	if (!sigbus_jmp) {
		/* Not expected here: die of it as if nothing caught it */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(*sigbus_jmp, 1);
}

void sigbus_init(void)
{
	struct sigaction sa = {
		.sa_sigaction = sigbus_handler,
		.sa_flags = SA_SIGINFO | SA_NODEFER,
	};

	sigemptyset(&sa.sa_mask);
	VFIO_ASSERT_EQ(sigaction(SIGBUS, &sa, NULL), 0);
}

bool sigbus_in(void (*fn)(void *arg), void *arg)
{
	sigjmp_buf jmp;
	bool faulted;

	sigbus_jmp = &jmp;
	if (sigsetjmp(jmp, 1)) {
		faulted = true;
	} else {
		fn(arg);
		faulted = false;
	}
	sigbus_jmp = NULL;

	return faulted;
}

struct one_access {
	volatile u8 *addr;
	bool write;
};

static void do_one_access(void *arg)
{
	struct one_access *a = arg;
	u8 v = *a->addr;

	if (a->write)
		*a->addr = v;
}

bool sigbus_on(void *addr, bool write)
{
	struct one_access a = { .addr = addr, .write = write };

	return sigbus_in(do_one_access, &a);
}

struct word_copy {
	volatile u64 *dst;
	const volatile u64 *src;
	size_t words;
};

static void do_word_copy(void *arg)
{
	struct word_copy *c = arg;
	size_t i;

	for (i = 0; i < c->words; i++)
		c->dst[i] = c->src[i];
}

bool sigbus_copy(void *dst, const void *src, size_t len)
{
	struct word_copy c = { .dst = dst, .src = src, .words = len / 8 };

	return sigbus_in(do_word_copy, &c);
}

long meminfo_kb(const char *field)
{
	size_t flen = strlen(field);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			val = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

static int write_file(const char *path, const char *val)
{
	ssize_t len = strlen(val), ret;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, len);
	close(fd);
	if (ret < 0)
		return -errno;
	return ret == len ? 0 : -EIO;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ret = read(fd, buf, len - 1);
	close(fd);
	if (ret < 0)
		return -errno;
	buf[ret] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Shrink every slab cache */
static void shrink_slabs(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	dir = opendir("/sys/kernel/slab");
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 de->d_name);
		write_file(path, "1");
	}
	if (dir)
		closedir(dir);
}

void settle_memory(void)
{
	int round;

	sync();
	/*
	 * Shrinking a slab cache also empties its part of the KASAN
	 * quarantine, which otherwise holds freed objects for a while.  A
	 * second round after a pause frees what RCU callbacks (kfree_rcu(),
	 * kmemleak's metadata) released in between.
	 */
	for (round = 0; round < 2; round++) {
		write_file("/proc/sys/vm/drop_caches", "3");
		shrink_slabs();
		write_file("/proc/sys/vm/compact_memory", "1");
		msleep(500);
	}
}

/* Save a debugfs fault attribute and set it, if it exists */
static void fail_attr_set(struct fail_nth *f, const char *path,
			  const char *val)
{
	int i = f->nr_saved;

	if (i >= (int)ARRAY_SIZE(f->saved))
		return;
	if (read_file(path, f->saved[i].val, sizeof(f->saved[i].val)))
		return;
	snprintf(f->saved[i].path, sizeof(f->saved[i].path), "%s", path);
	if (!write_file(path, val))
		f->nr_saved++;
}

#define FAIL_PAGE_ALLOC "/sys/kernel/debug/fail_page_alloc/"

int fail_nth_init(struct fail_nth *f)
{
	char path[128];

	memset(f, 0, sizeof(*f));
	if (access("/proc/self/fail-nth", F_OK))
		return -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	f->fd = open(path, O_RDWR);
	if (f->fd < 0)
		return -errno;

	/*
	 * Sleeping allocations are fault points too, and so are the ones
	 * with __GFP_HIGHMEM, and a forced failure must not print: the
	 * console is scanned for backtraces.  min-order is saved here and
	 * set by fail_nth_order0().
	 */
	fail_attr_set(f, "/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	fail_attr_set(f, "/sys/kernel/debug/failslab/verbose", "0");
	fail_attr_set(f, FAIL_PAGE_ALLOC "ignore-gfp-wait", "N");
	fail_attr_set(f, FAIL_PAGE_ALLOC "ignore-gfp-highmem", "N");
	fail_attr_set(f, FAIL_PAGE_ALLOC "verbose", "0");
	fail_attr_set(f, FAIL_PAGE_ALLOC "min-order", "1");
	fail_attr_set(f, "/sys/kernel/debug/fail_usercopy/verbose", "0");
	fail_attr_set(f, "/sys/kernel/debug/fail_futex/verbose", "0");
	fail_attr_set(f, "/sys/kernel/debug/fail_function/verbose", "0");
	return 0;
}

void fail_nth_verbose(struct fail_nth *f, int level)
{
	char val[4];

	snprintf(val, sizeof(val), "%d", level);
	write_file("/sys/kernel/debug/failslab/verbose", val);
	write_file(FAIL_PAGE_ALLOC "verbose", val);
}

int fail_nth_order0(struct fail_nth *f, bool on)
{
	return write_file(FAIL_PAGE_ALLOC "min-order", on ? "0" : "1");
}

void fail_nth_exit(struct fail_nth *f)
{
	while (f->nr_saved--)
		write_file(f->saved[f->nr_saved].path,
			   f->saved[f->nr_saved].val);
	if (f->fd > 0)
		close(f->fd);
	f->fd = -1;
}

void fail_nth_arm(struct fail_nth *f, unsigned int n)
{
	char buf[16];
	int len;

	f->armed = n;
	len = snprintf(buf, sizeof(buf), "%u", n);
	VFIO_ASSERT_EQ(pwrite(f->fd, buf, len, 0), (ssize_t)len);
}

bool fail_nth_disarm(struct fail_nth *f)
{
	char buf[16] = {};
	ssize_t ret;

	ret = pread(f->fd, buf, sizeof(buf) - 1, 0);
	VFIO_ASSERT_GT(ret, 0, "read fail-nth\n");
	VFIO_ASSERT_EQ(pwrite(f->fd, "0", 1, 0), 1);

	/* The count left: 0 once the Nth fault point was reached */
	f->left = strtoul(buf, NULL, 10);
	return f->left == 0;
}

unsigned int fail_nth_passed(const struct fail_nth *f)
{
	return f->armed - f->left;
}

/* A VFIO_DEVICE_FEATURE buffer with room for a small payload */
struct feature_buf {
	union {
		struct vfio_device_feature hdr;
		u64 align;
	};
	u64 payload[8];
};

static int raw_feature(int fd, u32 flags, const void *data, size_t size)
{
	struct feature_buf buf = {};

	buf.hdr.argsz = sizeof(buf.hdr) + size;
	buf.hdr.flags = flags;
	memcpy(buf.hdr.data, data, size);
	return ioctl(fd, VFIO_DEVICE_FEATURE, &buf);
}

int raw_p2p_set(int fd, u32 bar, u32 flags, u64 offset, u64 size)
{
	struct vfio_device_feature_p2p_register reg = {
		.region_index = bar,
		.flags = flags,
		.offset = offset,
		.size = size,
	};

	if (raw_feature(fd, VFIO_DEVICE_FEATURE_SET |
			VFIO_DEVICE_FEATURE_P2P_REGISTER, &reg, sizeof(reg)))
		return -errno;
	return 0;
}

int raw_p2p_get(int fd, u32 bar, u64 offset,
		struct vfio_device_feature_p2p_register *get)
{
	struct feature_buf buf = {};

	memset(get, 0, sizeof(*get));
	get->region_index = bar;
	get->offset = offset;
	buf.hdr.argsz = sizeof(buf.hdr) + sizeof(*get);
	buf.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_P2P_REGISTER;
	memcpy(buf.hdr.data, get, sizeof(*get));
	if (ioctl(fd, VFIO_DEVICE_FEATURE, &buf))
		return -errno;
	memcpy(get, buf.hdr.data, sizeof(*get));
	return 0;
}

int raw_dmabuf(int fd, u32 bar, u64 offset, u64 length)
{
	struct {
		struct vfio_device_feature_dma_buf db;
		struct vfio_region_dma_range range;
	} arg = {
		.db.region_index = bar,
		.db.open_flags = O_RDWR | O_CLOEXEC,
		.db.nr_ranges = 1,
		.range.offset = offset,
		.range.length = length,
	};
	int ret;

	ret = raw_feature(fd, VFIO_DEVICE_FEATURE_GET |
			  VFIO_DEVICE_FEATURE_DMA_BUF, &arg, sizeof(arg));
	return ret < 0 ? -errno : ret;
}

int raw_reset(int fd)
{
	return ioctl(fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

/*
 * Whether a range that overlaps [@offset, @end) is draining: 1, 0, or
 * -errno of a failed GET
 */
static int range_draining(struct p2p_dev *d, u64 offset, u64 end)
{
	struct vfio_device_feature_p2p_register get;
	u64 from = offset;
	int ret;

	while (from < end) {
		ret = raw_p2p_get(d->fd, d->bar, from, &get);
		if (ret)
			return ret;
		if (!get.size || get.offset >= end)
			return 0;
		if (get.state & VFIO_DEVICE_P2P_STATE_DRAINING)
			return 1;
		/* A GET that does not move on would loop */
		if (get.offset + get.size <= from)
			return -EPROTO;
		from = get.offset + get.size;
	}
	return 0;
}

bool p2p_range_drained(struct p2p_dev *d, u64 offset, u64 size, double timeout)
{
	u64 end = size ? offset + size : d->bar_size;
	double t0 = now();
	int ret;

	do {
		ret = range_draining(d, offset, end);
		if (ret < 0)
			return false;
		if (!ret)
			return true;
		msleep(20);
	} while (now() - t0 < timeout);

	return false;
}

int p2p_unregister_all(struct p2p_dev *d)
{
	struct vfio_device_feature_p2p_register get;
	u64 from = 0;
	int ret, first = 0;

	for (;;) {
		ret = raw_p2p_get(d->fd, d->bar, from, &get);
		if (ret)
			return first ? first : ret;
		if (!get.size)
			return first;
		if (get.offset + get.size <= from)
			return first ? first : -EPROTO;
		if (get.state & VFIO_DEVICE_P2P_STATE_REGISTERED) {
			ret = raw_p2p_set(d->fd, d->bar, VFIO_DEVICE_P2P_UNREGISTER,
					  get.offset, get.size);
			if (ret && !first)
				first = ret;
		}
		from = get.offset + get.size;
	}
}

bool p2p_clean(struct p2p_dev *d)
{
	struct vfio_device_feature_p2p_register get;

	if (raw_p2p_get(d->fd, d->bar, 0, &get))
		return false;
	return !get.state && !get.offset && !get.size && p2pmem_absent(d->bdf);
}

bool p2p_shows(struct p2p_dev *d, u64 offset, u64 size)
{
	struct vfio_device_feature_p2p_register get;

	if (raw_p2p_get(d->fd, d->bar, offset, &get))
		return false;
	return get.state == VFIO_DEVICE_P2P_STATE_REGISTERED &&
	       get.offset == offset && get.size == size &&
	       p2pmem_attr(d->bdf, "size") == (s64)size;
}

int p2pmem_open(const char *bdf)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/allocate",
		 bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

u64 bar_phys(const char *bdf, u32 bar)
{
	unsigned long long start = 0, end, flags;
	char path[PATH_MAX], line[128];
	FILE *f;
	u32 i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (i = 0; i <= bar && fgets(line, sizeof(line), f); i++)
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return i == bar + 1 ? start : 0;
}

int blk_open(const char *path, u64 *size)
{
	struct stat st;
	int fd;

	if (!path || !*path)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode) ||
	    ioctl(fd, BLKGETSIZE64, size)) {
		close(fd);
		return -ENOTBLK;
	}
	return fd;
}

bool blk_has_pattern(int fd)
{
	static const u64 offs[] = { 0, 64 << 10, 1 << 20 };
	size_t len = 64 << 10, i;
	bool ok = true;
	void *buf;

	if (posix_memalign(&buf, 4096, len))
		return false;
	for (i = 0; ok && i < ARRAY_SIZE(offs); i++)
		ok = pread(fd, buf, len, offs[i]) == (ssize_t)len &&
		     pattern_check(buf, offs[i], len) < 0;
	free(buf);
	return ok;
}

u64 parse_size(const char *s)
{
	char *end;
	u64 v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G':
	case 'g':
		v <<= 10;
		fallthrough;
	case 'M':
	case 'm':
		v <<= 10;
		fallthrough;
	case 'K':
	case 'k':
		v <<= 10;
	}
	return v;
}

unsigned int nvme_io_timeout(void)
{
	unsigned int t = 30;
	FILE *f;

	f = fopen("/sys/module/nvme_core/parameters/io_timeout", "r");
	if (f) {
		if (fscanf(f, "%u", &t) != 1)
			t = 30;
		fclose(f);
	}
	return t;
}
