// SPDX-License-Identifier: GPL-2.0-only
/*
 * hard_races [-t SECONDS] [-c SECONDS] [-e SECONDS] [-v SECONDS] BDF:
 * racing registration against everything else that touches the BAR.
 *
 * Phase 1 (-t, default 20 s): threads that register (the whole BAR or a
 * random granule range, so that several ranges of the BAR come and go),
 * unregister one of them, mmap() the BAR through VFIO, export a
 * DMABUF of it, VFIO_DEVICE_RESET, toggle memory decode, mmap() p2pmem,
 * mmap() the BAR's VFIO_REGION_TYPE_PCI_P2P region through the device fd
 * at a random page and touch it, and GET, each in a loop with short random
 * pauses. Invariants, checked all the time:
 *  - a VFIO mmap() or DMABUF that exists is never seen with GET saying
 *    registered, checked from both sides: the holder asks GET while it
 *    holds, and a register that succeeds while the same mapping or DMABUF
 *    was alive from before its call to after it is a violation;
 *  - GET lists well-formed ranges: each REGISTERED or DRAINING, non-empty,
 *    aligned, inside the BAR and ending after the offset asked from, and
 *    offset, size and state 0 past the last; the granule a power of two;
 *  - a p2pmem mapping placed at a random page of the BAR under test
 *    (PCI_P2PMEM_MMAP_OFFSET; half of the mappings, the others from
 *    anywhere) says, in /proc/self/maps, that it is there, and one from
 *    anywhere does not name a place; accessing either works or raises
 *    SIGBUS;
 *  - a VFIO-fd mapping of the P2P region raises SIGBUS once a teardown
 *    (an unregister of a range it lies in, a reset, decode off) that began
 *    after its mmap() returned has returned: each takes memory_lock for
 *    write, under which registrations end and their mappings are unmapped;
 *    an unregister ends one range, and the mappings in it only;
 *  - every call returns an error the UAPI lists for the situation.
 * Phase 2 (-c, default half of -t): one thread opens the device, registers
 * the whole BAR and closes the device again, while others map p2pmem, read
 * the block device ($CLIENT_BLK) into it with O_DIRECT and read the p2pmem
 * attributes; after each close p2pmem must be gone.  (No VFIO-fd mapping
 * here: its VMA holds the device file, so the close would not end anything.)
 * Phase 3 (-e, default half of -t): teardowns racing p2pmem mmap(): no
 * mapping may escape a teardown (see below).
 * Phase 4 (-v, default a quarter of -t): a VFIO-fd mapping of the P2P
 * region and a p2pmem/allocate mapping placed at the same bytes, made at
 * once, over and over, while the registration ends by unregister, reset
 * or decode off in turn: never both succeed, the loser gets EBUSY (EINVAL
 * once the teardown began), after each teardown every mapping made raises
 * SIGBUS, and the next register has all of its granule available.
 *
 * A call that does not return (a deadlock, or a teardown that waits for
 * ever) fails the test after the phase; lockdep and KASAN report on the
 * console.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>

#include "hard.h"

static struct p2p_dev dev;
static volatile int stop;
static const char *blk_path;

/* An odd value while a VFIO mmap / DMABUF is held, bumped on each change */
static volatile u64 vmmap_seq, dmabuf_seq;

enum op {
	OP_REGISTER, OP_UNREGISTER, OP_VFIO_MMAP, OP_DMABUF, OP_RESET,
	OP_DECODE, OP_P2PMEM, OP_VFIO_P2P, OP_GET, OP_REOPEN, OP_READ, OP_ATTR,
	OP_TEARDOWN, OP_HOLD, OP_C_OWNER, OP_C_VFIO, OP_C_SYSFS, NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"register", "unregister", "vfio_mmap", "dmabuf", "reset", "decode",
	"p2pmem_mmap", "vfio_p2p_mmap", "get", "close_reopen", "odirect_read",
	"attr_read", "teardown", "p2pmem_hold", "contest_owner",
	"contest_vfio", "contest_sysfs",
};

struct op_stats {
	u64 calls, ok, sigbus;
	u64 err[8];		/* the errors seen, by slot */
	int errno_of[8];
	u64 unexpected;		/* errors the UAPI does not list here */
	u64 violations;
	double max_ms;
};

static struct op_stats stats[NR_OPS];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static int notes;

/* What each thread is doing, to name a call that does not come back */
struct thread {
	void *(*fn)(void *);
	void *arg;
	pthread_t tid;
	bool done;
	volatile int op;
	volatile double started;	/* 0 when not in a call */
};

static __thread struct thread *self;

static void violation(enum op op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void violation(enum op op, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	pthread_mutex_lock(&stats_lock);
	stats[op].violations++;
	if (notes++ < 20) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		tb_diag("violation in %s: %s", op_name[op], buf);
	}
	pthread_mutex_unlock(&stats_lock);
}

static void op_begin(enum op op)
{
	self->op = op;
	self->started = now();
}

/* Account the result of a call; @allowed lists the errors it may return */
static void op_end(enum op op, int ret, const int *allowed)
{
	struct op_stats *s = &stats[op];
	double ms = (now() - self->started) * 1e3;
	bool unexpected = ret < 0;
	int i;

	self->started = 0;
	for (i = 0; ret < 0 && allowed && allowed[i]; i++)
		if (allowed[i] == -ret)
			unexpected = false;

	pthread_mutex_lock(&stats_lock);
	s->calls++;
	if (ms > s->max_ms)
		s->max_ms = ms;
	if (ret >= 0)
		s->ok++;
	for (i = 0; ret < 0 && i < 8; i++) {
		if (!s->errno_of[i])
			s->errno_of[i] = -ret;
		if (s->errno_of[i] == -ret) {
			s->err[i]++;
			break;
		}
	}
	if (unexpected && !s->unexpected++ && notes++ < 20)
		tb_diag("violation in %s: unexpected error %s", op_name[op],
			 errname(-ret));
	pthread_mutex_unlock(&stats_lock);
}

static void count_sigbus(enum op op)
{
	pthread_mutex_lock(&stats_lock);
	stats[op].sigbus++;
	pthread_mutex_unlock(&stats_lock);
}

static unsigned int rnd(unsigned int *seed, unsigned int n)
{
	return rand_r(seed) % n;
}

static void pause_ms(unsigned int *seed, unsigned int max)
{
	unsigned int us = rnd(seed, max * 1000 + 1);

	if (us)
		usleep(us);
}

/*
 * Every range GET lists is well formed; returns whether a registered range
 * overlaps [@start, @start + @len) (any registered range if @len is 0).
 * The list may change between two GETs: each GET is checked on its own.
 */
static bool check_get_range(enum op op, u64 start, u64 len)
{
	u64 from = 0, n, max = dev.bar_size / P2P_GRANULE;
	struct vfio_device_feature_p2p_register get;
	bool hit = false;
	int ret;

	for (n = 0; n <= max; n++) {
		ret = raw_p2p_get(dev.fd, dev.bar, from, &get);
		if (ret) {
			violation(op, "GET from 0x%llx failed: %s",
				  (unsigned long long)from, errname(-ret));
			return hit;
		}
		if (!get.granule || (get.granule & (get.granule - 1)))
			violation(op, "GET granule 0x%llx",
				  (unsigned long long)get.granule);
		if (!get.size) {
			if (get.offset || get.state)
				violation(op, "GET from 0x%llx: no range, but offset 0x%llx state 0x%x",
					  (unsigned long long)from,
					  (unsigned long long)get.offset, get.state);
			return hit;
		}
		/* REGISTERED or DRAINING, not both, nothing else */
		if (get.state != VFIO_DEVICE_P2P_STATE_REGISTERED &&
		    get.state != VFIO_DEVICE_P2P_STATE_DRAINING)
			violation(op, "GET state 0x%x", get.state);
		if (get.size % P2P_GRANULE || get.offset % P2P_GRANULE ||
		    get.offset + get.size > dev.bar_size ||
		    get.offset + get.size <= from) {
			violation(op, "GET from 0x%llx: range 0x%llx+0x%llx",
				  (unsigned long long)from,
				  (unsigned long long)get.offset,
				  (unsigned long long)get.size);
			return hit;
		}
		if ((get.state & VFIO_DEVICE_P2P_STATE_REGISTERED) &&
		    (!len || (get.offset < start + len &&
			      start < get.offset + get.size)))
			hit = true;
		from = get.offset + get.size;
	}
	violation(op, "GET listed more than %llu ranges", (unsigned long long)max);
	return hit;
}

/*
 * The first range GET lists from @from on, or from 0 if there is none
 * there: whether it is registered
 */
static bool registered_from(u64 from, struct vfio_device_feature_p2p_register *get)
{
	if (raw_p2p_get(dev.fd, dev.bar, from, get))
		return false;
	if (!get->size && from && raw_p2p_get(dev.fd, dev.bar, 0, get))
		return false;
	return get->size && get->state == VFIO_DEVICE_P2P_STATE_REGISTERED;
}

static bool check_get(enum op op)
{
	return check_get_range(op, 0, 0);
}

/* The length of the VFIO mmap of the BAR from offset 0 while vmmap_seq is odd */
static u64 vmmap_len;

static void *registrar(void *arg)
{
	/* EAGAIN: a reset or decode off came while the register was made */
	static const int allowed[] = { EEXIST, EBUSY, EIO, EAGAIN, 0 };
	unsigned int seed = 1, granules = dev.bar_size / P2P_GRANULE;
	u64 vm1, vm2, db1, db2, off, size;
	int ret;

	while (!stop) {
		if (rnd(&seed, 2)) {
			off = 0;
			size = 0;
		} else {
			size = 1 + rnd(&seed, granules);
			off = rnd(&seed, granules - size + 1) * P2P_GRANULE;
			size *= P2P_GRANULE;
		}
		vm1 = vmmap_seq;
		db1 = dmabuf_seq;
		op_begin(OP_REGISTER);
		ret = p2p_register(dev.fd, dev.bar, off, size);
		op_end(OP_REGISTER, ret, allowed);
		vm2 = vmmap_seq;
		db2 = dmabuf_seq;
		/* The mmap and the DMABUF cover the BAR from offset 0 */
		if (!ret && vm1 == vm2 && (vm1 & 1) &&
		    off < __atomic_load_n(&vmmap_len, __ATOMIC_SEQ_CST))
			violation(OP_REGISTER, "registered over a VFIO mmap of the BAR");
		if (!ret && db1 == db2 && (db1 & 1) && off < P2P_GRANULE)
			violation(OP_REGISTER, "registered over a DMABUF of the BAR");
		pause_ms(&seed, 4);
	}
	return NULL;
}

/*
 * Phase 1's teardown calls that end every range (reset, decode off),
 * counted when they begin and when they return.  Each takes memory_lock for
 * write, under which registrations end and their mappings are unmapped: a
 * VFIO-fd mapping of the P2P region made before a teardown began raises
 * SIGBUS once that teardown has returned.  More returned than had begun
 * when a mapping was made means that one of them began after it.
 */
static volatile u64 td_begun, td_returned;
static u64 vp_checked, vp_stale;

static void td_begin(void)
{
	__atomic_add_fetch(&td_begun, 1, __ATOMIC_SEQ_CST);
}

static void td_return(void)
{
	__atomic_add_fetch(&td_returned, 1, __ATOMIC_SEQ_CST);
}

/*
 * The unregistrations of phase 1 that named their range exactly (the
 * kernel refuses a size that is not the range's), for the VFIO-fd mappings:
 * one ends the mappings in its range, and no others.  Each has the number
 * unreg_begun had when it began; the last UNREG_LOG are kept.
 */
#define UNREG_LOG	64
static struct {
	u64 seq;		/* 0: none */
	u64 offset, size;
	bool returned;		/* returned 0: the range is unregistered */
} unreg_log[UNREG_LOG];
static u64 unreg_begun;
static pthread_mutex_t unreg_lock = PTHREAD_MUTEX_INITIALIZER;

static u64 unreg_log_begin(u64 offset, u64 size)
{
	u64 seq;

	pthread_mutex_lock(&unreg_lock);
	seq = ++unreg_begun;
	unreg_log[seq % UNREG_LOG].seq = seq;
	unreg_log[seq % UNREG_LOG].offset = offset;
	unreg_log[seq % UNREG_LOG].size = size;
	unreg_log[seq % UNREG_LOG].returned = false;
	pthread_mutex_unlock(&unreg_lock);
	return seq;
}

static void unreg_log_return(u64 seq)
{
	pthread_mutex_lock(&unreg_lock);
	if (unreg_log[seq % UNREG_LOG].seq == seq)
		unreg_log[seq % UNREG_LOG].returned = true;
	pthread_mutex_unlock(&unreg_lock);
}

static u64 unreg_log_now(void)
{
	u64 seq;

	pthread_mutex_lock(&unreg_lock);
	seq = unreg_begun;
	pthread_mutex_unlock(&unreg_lock);
	return seq;
}

/*
 * Whether an unregistration that began after @seq has returned 0 and ended
 * a range that contains [@offset, @offset + @len)
 */
static bool unreg_log_covers(u64 seq, u64 offset, u64 len)
{
	bool found = false;
	int i;

	pthread_mutex_lock(&unreg_lock);
	for (i = 0; i < UNREG_LOG && !found; i++)
		found = unreg_log[i].seq > seq && unreg_log[i].returned &&
			unreg_log[i].offset <= offset &&
			offset + len <= unreg_log[i].offset + unreg_log[i].size;
	pthread_mutex_unlock(&unreg_lock);
	return found;
}

/*
 * Unregister one of the registered ranges of the BAR: the first that GET
 * lists from a random granule on, with its size or 0; sometimes a granule
 * where none may start, for ENOENT.
 */
static void *unregistrar(void *arg)
{
	static const int allowed[] = { ENOENT, 0 };
	unsigned int seed = 2, granules = dev.bar_size / P2P_GRANULE;
	struct vfio_device_feature_p2p_register get;
	u64 off, size, seq = 0;
	int ret;

	while (!stop) {
		pause_ms(&seed, 30);
		off = rnd(&seed, granules) * P2P_GRANULE;
		size = 0;
		if (rnd(&seed, 8) && registered_from(off, &get)) {
			off = get.offset;
			size = rnd(&seed, 2) ? get.size : 0;
		}
		op_begin(OP_UNREGISTER);
		if (size)
			seq = unreg_log_begin(off, size);
		ret = raw_p2p_set(dev.fd, dev.bar, VFIO_DEVICE_P2P_UNREGISTER, off, size);
		if (size && !ret)
			unreg_log_return(seq);
		op_end(OP_UNREGISTER, ret, allowed);
	}
	return NULL;
}

static void *vfio_mapper(void *arg)
{
	static const int allowed[] = { EBUSY, 0 };
	size_t len = rand() % 2 ? dev.bar_size : P2P_GRANULE;
	unsigned int seed = 3;
	void *p;

	while (!stop) {
		op_begin(OP_VFIO_MMAP);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 dev.fd, dev.bar_offset);
		op_end(OP_VFIO_MMAP, p == MAP_FAILED ? -errno : 0, allowed);
		if (p == MAP_FAILED) {
			pause_ms(&seed, 2);
			continue;
		}
		__atomic_store_n(&vmmap_len, len, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&vmmap_seq, 1, __ATOMIC_SEQ_CST);
		if (check_get_range(OP_VFIO_MMAP, 0, len))
			violation(OP_VFIO_MMAP, "GET says registered over the VFIO mmap of the BAR");
		/* Faults may see decode off or a reset: SIGBUS is fine */
		if (sigbus_on(p, false))
			count_sigbus(OP_VFIO_MMAP);
		pause_ms(&seed, 2);
		if (check_get_range(OP_VFIO_MMAP, 0, len))
			violation(OP_VFIO_MMAP, "GET says registered over the VFIO mmap of the BAR");
		__atomic_add_fetch(&vmmap_seq, 1, __ATOMIC_SEQ_CST);
		munmap(p, len);
		len = len == P2P_GRANULE ? dev.bar_size : P2P_GRANULE;
		/* Leave the BAR free most of the time */
		pause_ms(&seed, 20);
	}
	return NULL;
}

static void *dmabuf_exporter(void *arg)
{
	static const int allowed[] = { EBUSY, 0 };
	unsigned int seed = 4;
	int fd;

	while (!stop) {
		op_begin(OP_DMABUF);
		fd = raw_dmabuf(dev.fd, dev.bar, 0, P2P_GRANULE);
		op_end(OP_DMABUF, fd, allowed);
		if (fd < 0) {
			pause_ms(&seed, 2);
			continue;
		}
		__atomic_add_fetch(&dmabuf_seq, 1, __ATOMIC_SEQ_CST);
		if (check_get_range(OP_DMABUF, 0, P2P_GRANULE))
			violation(OP_DMABUF, "GET says registered over a DMABUF of the BAR");
		pause_ms(&seed, 2);
		if (check_get_range(OP_DMABUF, 0, P2P_GRANULE))
			violation(OP_DMABUF, "GET says registered over a DMABUF of the BAR");
		__atomic_add_fetch(&dmabuf_seq, 1, __ATOMIC_SEQ_CST);
		close(fd);
		pause_ms(&seed, 20);
	}
	return NULL;
}

static void *resetter(void *arg)
{
	unsigned int seed = 5;
	int ret;

	while (!stop) {
		pause_ms(&seed, 80);
		op_begin(OP_RESET);
		td_begin();
		ret = raw_reset(dev.fd);
		if (!ret)
			td_return();
		op_end(OP_RESET, ret, NULL);
	}
	return NULL;
}

static void *decoder(void *arg)
{
	unsigned int seed = 6;

	while (!stop) {
		pause_ms(&seed, 150);
		op_begin(OP_DECODE);
		td_begin();
		vfio_pci_cmd_clear(dev.device, PCI_COMMAND_MEMORY);
		td_return();
		pause_ms(&seed, 3);
		vfio_pci_cmd_set(dev.device, PCI_COMMAND_MEMORY);
		op_end(OP_DECODE, 0, NULL);
	}
	return NULL;
}

/*
 * Map some p2pmem, from anywhere or placed at a random page of the BAR,
 * write to it, unmap; optionally read the disk into it
 */
static void p2pmem_once(unsigned int *seed, bool io, int blk_fd, u64 disk)
{
	static const int allowed[] = { ENOENT, ENODEV, ENOMEM, 0 };
	/* Placed: nothing registered there (EINVAL), or taken (EBUSY) */
	static const int placed_allowed[] = { ENOENT, ENODEV, ENOMEM, EINVAL,
					      EBUSY, 0 };
	static const int io_allowed[] = { EFAULT, 0 };
	static const int nop2p_allowed[] = { EFAULT, EINVAL, EREMOTEIO,
					     EOPNOTSUPP, 0 };
	size_t len = (1 + rnd(seed, 16)) * dev.page, k;
	bool placed = rnd(seed, 2);
	u64 where, off, at = 0;
	ssize_t ret;
	int err;
	u8 *p;
	u32 bar;

	op_begin(OP_P2PMEM);
	if (placed) {
		at = rnd(seed, (dev.bar_size - len) / dev.page + 1) * dev.page;
		p = p2pmem_mmap_at(dev.bdf, len, dev.bar, at);
	} else {
		p = p2pmem_mmap(dev.bdf, len, MAP_SHARED, 0);
	}
	op_end(OP_P2PMEM, p == MAP_FAILED ? -errno : 0,
	       placed ? placed_allowed : allowed);
	if (p == MAP_FAILED) {
		pause_ms(seed, 2);
		return;
	}
	/* (A placed one cannot be located once a teardown deleted the file) */
	err = p2pmem_locate(p, &bar, &where);
	if (placed && !err && (bar != dev.bar || where != at))
		violation(OP_P2PMEM, "mapping placed at BAR%u 0x%llx says BAR%u 0x%llx",
			  dev.bar, (unsigned long long)at, bar,
			  (unsigned long long)where);
	if (!placed && !err)
		violation(OP_P2PMEM, "mapping from anywhere says BAR%u 0x%llx", bar,
			  (unsigned long long)where);
	for (k = 0; k < len; k += dev.page) {
		if (sigbus_on(p + k, true)) {
			count_sigbus(OP_P2PMEM);
			break;
		}
	}
	if (io && blk_fd >= 0) {
		off = rnd(seed, disk / len) * len;
		op_begin(OP_READ);
		ret = pread(blk_fd, p, len, off);
		op_end(OP_READ, ret < 0 ? -errno : 0,
		       nop2p() ? nop2p_allowed : io_allowed);
		if (ret >= 0 && ret != (ssize_t)len)
			violation(OP_READ, "short read %zd of %zu", ret, len);
	}
	pause_ms(seed, 2);
	munmap(p, len);
}

static void *p2pmem_user(void *arg)
{
	unsigned int seed = (uintptr_t)arg;

	while (!stop)
		p2pmem_once(&seed, false, -1, 0);
	return NULL;
}

static void *p2pmem_reader(void *arg)
{
	unsigned int seed = 7;
	u64 disk = 0;
	int fd;

	fd = blk_open(blk_path, &disk);
	while (!stop)
		p2pmem_once(&seed, true, fd, disk);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/*
 * mmap() the P2P region of the BAR through the VFIO device fd at a random
 * page, touch it, hold it a moment: racing the registrars, the teardowns
 * and the p2pmem mappings placed at random pages (EBUSY where one is)
 */
static void *vfio_p2p_mapper(void *arg)
{
	/* Not in the registered range (EINVAL), or taken (EBUSY) */
	static const int allowed[] = { EINVAL, EBUSY, 0 };
	unsigned int seed = 16;
	u64 at, begun, returned, unreg;
	size_t len, k;
	bool dead;
	int err;
	u8 *p;

	struct vfio_device_feature_p2p_register get;

	while (!stop) {
		len = (1 + rnd(&seed, 16)) * dev.page;
		/*
		 * Mostly inside a registered range, if there is one: the first
		 * that GET lists from a random page on
		 */
		at = rnd(&seed, dev.bar_size / dev.page) * dev.page;
		if (rnd(&seed, 4) && registered_from(at, &get) && get.size >= len)
			at = get.offset +
			     rnd(&seed, (get.size - len) / dev.page + 1) * dev.page;
		else
			at = rnd(&seed, (dev.bar_size - len) / dev.page + 1) *
			     dev.page;
		op_begin(OP_VFIO_P2P);
		p = p2p_vfio_mmap_at(&dev, len, at);
		err = p == MAP_FAILED ? errno : 0;
		begun = __atomic_load_n(&td_begun, __ATOMIC_SEQ_CST);
		unreg = unreg_log_now();
		op_end(OP_VFIO_P2P, -err, allowed);
		if (p == MAP_FAILED) {
			pause_ms(&seed, 2);
			continue;
		}
		/* Works, or a teardown came: SIGBUS */
		for (k = 0; k < len; k += dev.page) {
			if (sigbus_on(p + k, true)) {
				count_sigbus(OP_VFIO_P2P);
				break;
			}
		}
		/* Long enough for the resetter (every 80 ms or so) to come */
		pause_ms(&seed, 100);
		returned = __atomic_load_n(&td_returned, __ATOMIC_SEQ_CST);
		if (returned > begun || unreg_log_covers(unreg, at, len)) {
			dead = sigbus_on(p, false) && sigbus_on(p + len - 1, true);
			pthread_mutex_lock(&stats_lock);
			vp_checked++;
			if (!dead && !vp_stale++)
				tb_diag("a VFIO-fd mapping of BAR%u+0x%llx (%zu bytes) was accessible after a teardown that began after its mmap() had returned",
					dev.bar, (unsigned long long)at, len);
			pthread_mutex_unlock(&stats_lock);
		}
		munmap(p, len);
		pause_ms(&seed, 5);
	}
	return NULL;
}

static void *getter(void *arg)
{
	unsigned int seed = 8;

	while (!stop) {
		op_begin(OP_GET);
		check_get(OP_GET);
		op_end(OP_GET, 0, NULL);
		pause_ms(&seed, 1);
	}
	return NULL;
}

/* A p2pmem attribute that may vanish under us: value, or -errno */
static s64 attr_racy(const char *attr)
{
	char path[128], buf[32] = {};
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/%s",
		 dev.bdf, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return len ? -errno : -EIO;
	return strtoll(buf, NULL, 10);
}

static void *attr_reader(void *arg)
{
	unsigned int seed = 9;
	s64 size, avail;

	while (!stop) {
		op_begin(OP_ATTR);
		size = attr_racy("size");
		avail = attr_racy("available");
		op_end(OP_ATTR, 0, NULL);
		if ((size > 0 && size != (s64)dev.bar_size) ||
		    avail > (s64)dev.bar_size)
			violation(OP_ATTR, "size %lld available %lld",
				  (long long)size, (long long)avail);
		pause_ms(&seed, 1);
	}
	return NULL;
}

/*
 * Phase 3: does the teardown reach every mapping? An mmap() of p2pmem that
 * returns while the teardown removes the sysfs group may be linked into the
 * address space only after the teardown unmapped the file; the teardown then
 * waits for its pages until the process unmaps them. Holders keep their
 * mappings while a teardown is in progress: a mapping that stays accessible
 * for ESCAPE_S seconds of a teardown escaped it.
 */
#define ESCAPE_S	3
#define HOLD_MS		30

static volatile u64 teardowns_started, teardowns_done;
static volatile double teardown_t0;
static u64 escapes;

static void *teardown_loop(void *arg)
{
	static const int allowed[] = { 0 };
	unsigned int seed = 15;
	int ret;

	while (!stop) {
		ret = p2p_register(dev.fd, dev.bar, 0, P2P_GRANULE);
		if (ret)
			violation(OP_TEARDOWN, "register: %s", errname(-ret));
		/* Long enough for the holders to map, short enough to race */
		usleep(20000);
		pause_ms(&seed, 60);
		teardown_t0 = now();
		__atomic_add_fetch(&teardowns_started, 1, __ATOMIC_SEQ_CST);
		op_begin(OP_TEARDOWN);
		ret = p2p_unregister_at(dev.fd, dev.bar, 0, P2P_GRANULE);
		op_end(OP_TEARDOWN, ret, allowed);
		__atomic_add_fetch(&teardowns_done, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void *holder(void *arg)
{
	static const int allowed[] = { ENOENT, ENODEV, ENOMEM, 0 };
	unsigned int seed = (uintptr_t)arg;
	size_t len = 16 * dev.page;
	double t_map;
	u8 *p;

	while (!stop) {
		op_begin(OP_P2PMEM);
		p = p2pmem_mmap(dev.bdf, len, MAP_SHARED, 0);
		op_end(OP_P2PMEM, p == MAP_FAILED ? -errno : 0, allowed);
		if (p == MAP_FAILED) {
			pause_ms(&seed, 1);
			continue;
		}
		t_map = now();
		op_begin(OP_HOLD);
		for (;;) {
			if (sigbus_on(p, true)) {
				count_sigbus(OP_HOLD);
				break;
			}
			if (teardowns_started != teardowns_done) {
				/* The teardown must unmap us, and soon */
				if (now() - teardown_t0 > ESCAPE_S &&
				    teardown_t0 > t_map - ESCAPE_S) {
					pthread_mutex_lock(&stats_lock);
					if (!escapes++)
						tb_diag("a p2pmem mapping stayed accessible %.1f s into a teardown, which waits for it",
							 now() - teardown_t0);
					pthread_mutex_unlock(&stats_lock);
					break;
				}
			} else if ((now() - t_map) * 1e3 > HOLD_MS || stop) {
				break;
			}
			usleep(2000);
		}
		op_end(OP_HOLD, 0, NULL);
		munmap(p, len);
	}
	return NULL;
}

/*
 * Phase 4: contests for the same bytes between a VFIO-fd mapping of the P2P
 * region and a p2pmem/allocate mapping placed there, racing the end of the
 * registration.  Rounds: the owner registers a granule (a different one
 * each round; all of it must be available: the pool is whole), lets the
 * pairs contest for a moment and ends the registration by unregister,
 * VFIO_DEVICE_RESET or decode off, in turn, while they go on.  The two
 * threads of a pair map the same fresh bytes of their half of the granule
 * at once (or one of them a few microseconds late), touch what they got and
 * keep it until the round is over.  Then every mapping of the round must
 * raise SIGBUS, and all are unmapped before the next register.
 */
#define C_PAIRS		2
#define C_MAX_PAGES	4
#define C_MAX_MAPS	(P2P_GRANULE / C_PAIRS / 4096)

enum { C_VFIO, C_SYSFS };
enum { C_UNREGISTER, C_DECODE, C_RESET, NR_C_KINDS };

static const char *const c_kind_name[NR_C_KINDS] = {
	"unregister", "decode off", "VFIO_DEVICE_RESET",
};

static volatile u64 c_round;		/* registered, contests may begin */
static volatile u64 c_td_begun;		/* the round whose teardown began */
static volatile u64 c_td_done;		/* ... and returned */
static volatile u64 c_parked;		/* contestants done, all rounds */
static volatile u64 c_base;		/* the granule of the round */
static volatile int c_owner_done;	/* the contestants may leave */
static bool c_has_reset;

struct c_result {
	void *p;
	int err;
	bool td;	/* the teardown of the round had begun at the return */
};

struct c_pair {
	pthread_barrier_t barrier;
	int index;
	/* Set by the VFIO side, for both, before the first barrier */
	int go;
	u64 at;
	size_t len;
	int delay;	/* which side starts late, -1 neither */
	unsigned int delay_us;
	struct c_result res[2];
};

struct c_arg {
	struct c_pair *pair;
	int side;
};

static struct c_pair c_pairs[C_PAIRS];
static struct c_arg c_args[C_PAIRS][2];

/* Outcomes, under stats_lock */
static struct {
	u64 rounds, kinds[NR_C_KINDS], pool_bad;
	u64 contests, won[2], busy, late, after, transient;
	u64 maps[2], dead[2], stale[2];
} cst;

static void c_count(u64 *counter)
{
	pthread_mutex_lock(&stats_lock);
	(*counter)++;
	pthread_mutex_unlock(&stats_lock);
}

static void *contest_owner(void *arg)
{
	unsigned int seed = 31, nr_kinds = c_has_reset ? 3 : 2;
	u64 granules = dev.bar_size / P2P_GRANULE, r = 0, off;
	s64 avail;
	int ret, kind;

	while (!stop) {
		off = ((r + 1) * 7 % granules) * P2P_GRANULE;
		op_begin(OP_C_OWNER);
		ret = p2p_register(dev.fd, dev.bar, off, P2P_GRANULE);
		op_end(OP_C_OWNER, ret, NULL);
		if (ret) {
			violation(OP_C_OWNER, "round %llu: register: %s",
				  (unsigned long long)r + 1, errname(-ret));
			msleep(10);
			continue;
		}
		avail = p2pmem_attr(dev.bdf, "available");
		if (avail != (s64)P2P_GRANULE) {
			c_count(&cst.pool_bad);
			violation(OP_C_OWNER, "round %llu: %lld of the %d bytes registered available",
				  (unsigned long long)r + 1, (long long)avail,
				  P2P_GRANULE);
		}
		r++;
		c_base = off;
		__atomic_store_n(&c_round, r, __ATOMIC_SEQ_CST);

		/* Contests for a moment, then the teardown races them */
		usleep(2000 + rnd(&seed, 20000));
		kind = r % nr_kinds;
		__atomic_store_n(&c_td_begun, r, __ATOMIC_SEQ_CST);
		op_begin(OP_C_OWNER);
		switch (kind) {
		case C_UNREGISTER:
			ret = p2p_unregister_at(dev.fd, dev.bar, off, P2P_GRANULE);
			break;
		case C_DECODE:
			vfio_pci_cmd_clear(dev.device, PCI_COMMAND_MEMORY);
			ret = 0;
			break;
		default:
			ret = raw_reset(dev.fd);
			break;
		}
		op_end(OP_C_OWNER, ret, NULL);
		__atomic_store_n(&c_td_done, r, __ATOMIC_SEQ_CST);
		if (check_get(OP_C_OWNER))
			violation(OP_C_OWNER, "round %llu: GET not clean after %s",
				  (unsigned long long)r, c_kind_name[kind]);

		/* The contestants check and unmap their mappings */
		while (__atomic_load_n(&c_parked, __ATOMIC_SEQ_CST) <
		       2 * C_PAIRS * r)
			usleep(200);
		if (kind == C_DECODE)
			vfio_pci_cmd_set(dev.device, PCI_COMMAND_MEMORY);
		pthread_mutex_lock(&stats_lock);
		cst.rounds++;
		cst.kinds[kind]++;
		pthread_mutex_unlock(&stats_lock);
	}
	/* Only after a whole round: the contestants wait for each one */
	c_owner_done = 1;
	return NULL;
}

/* A registration gone, as the side that got @err may see it */
static bool c_gone(int side, int err)
{
	return err == EINVAL ||
	       (side == C_SYSFS && (err == ENODEV || err == ENOENT));
}

/*
 * The outcome of one contest.  Never both.  EBUSY only if the other side
 * took the bytes: it won, or it was a p2pmem mapping that had allocated
 * them when the teardown came (ENODEV).  EINVAL (ENODEV, ENOENT) only once
 * the teardown had begun.
 */
static void c_judge(struct c_pair *pr, u64 round)
{
	const struct c_result *v = &pr->res[C_VFIO], *f = &pr->res[C_SYSFS];
	bool vw = v->p != MAP_FAILED, fw = f->p != MAP_FAILED;
	int side;

	pthread_mutex_lock(&stats_lock);
	cst.contests++;
	if (vw && fw)
		;
	else if (vw || fw)
		cst.won[vw ? C_VFIO : C_SYSFS]++;
	else if (v->err == EBUSY && f->err == ENODEV)
		cst.transient++;
	else
		cst.after++;
	if (vw != fw && (vw ? f->err : v->err) == EBUSY)
		cst.busy++;
	else if (vw != fw)
		cst.late++;
	pthread_mutex_unlock(&stats_lock);

	if (vw && fw) {
		violation(OP_C_VFIO, "round %llu: both the VFIO-fd and the p2pmem mapping of BAR%u+0x%llx (%zu bytes) succeeded",
			  (unsigned long long)round, dev.bar,
			  (unsigned long long)pr->at, pr->len);
		return;
	}
	for (side = 0; side < 2; side++) {
		const struct c_result *me = &pr->res[side];
		const struct c_result *other = &pr->res[!side];

		if (me->p != MAP_FAILED)
			continue;
		if (me->err == EBUSY && other->p == MAP_FAILED &&
		    !(side == C_VFIO && other->err == ENODEV && other->td))
			violation(side == C_VFIO ? OP_C_VFIO : OP_C_SYSFS,
				  "round %llu: EBUSY at BAR%u+0x%llx though the other side got %s",
				  (unsigned long long)round, dev.bar,
				  (unsigned long long)pr->at,
				  errname(other->err));
		if (c_gone(side, me->err) && !me->td)
			violation(side == C_VFIO ? OP_C_VFIO : OP_C_SYSFS,
				  "round %llu: %s at BAR%u+0x%llx before the teardown began",
				  (unsigned long long)round, errname(me->err),
				  dev.bar, (unsigned long long)pr->at);
	}
}

/* Spin for @us microseconds: a late start, without sleeping */
static void spin_us(unsigned int us)
{
	double end = now() + us / 1e6;

	while (now() < end)
		;
}

static void *contestant(void *arg)
{
	static const int vfio_allowed[] = { EINVAL, EBUSY, 0 };
	static const int sysfs_allowed[] = { EINVAL, EBUSY, ENODEV, ENOENT, 0 };
	struct c_arg *a = arg;
	struct c_pair *pr = a->pair;
	bool leader = a->side == C_VFIO;
	unsigned int seed = 40 + 2 * pr->index + a->side;
	u64 round = 0, r, cursor = 0, area, pages;
	static __thread void *maps[C_MAX_MAPS];
	static __thread size_t lens[C_MAX_MAPS];
	struct c_result *me = &pr->res[a->side];
	int nr, tries, i, err, pfd;
	size_t k;
	bool td;
	void *p;

	area = P2P_GRANULE / C_PAIRS;
	for (;;) {
		/* Not on stop: the owner may be about to start a round */
		while ((r = __atomic_load_n(&c_round, __ATOMIC_SEQ_CST)) ==
		       round && !c_owner_done)
			usleep(200);
		if (r == round)
			break;
		round = r;
		nr = 0;
		tries = 0;
		cursor = 0;

		for (;;) {
			if (leader) {
				pages = 1 + rnd(&seed, C_MAX_PAGES);
				pr->go = __atomic_load_n(&c_td_done, __ATOMIC_SEQ_CST) != round &&
					 cursor + pages * dev.page <= area &&
					 tries++ < (int)C_MAX_MAPS;
				pr->at = c_base + pr->index * area + cursor;
				pr->len = pages * dev.page;
				cursor += pages * dev.page;
				i = rnd(&seed, 4);
				pr->delay = i < 2 ? i : -1;
				pr->delay_us = rnd(&seed, 200);
			}
			/* The sysfs side opens first: only the mmap() races */
			pfd = leader ? -1 : p2pmem_open(dev.bdf);
			pthread_barrier_wait(&pr->barrier);
			if (!pr->go) {
				if (pfd >= 0)
					close(pfd);
				break;
			}

			if (pr->delay == a->side)
				spin_us(pr->delay_us);
			op_begin(leader ? OP_C_VFIO : OP_C_SYSFS);
			if (leader) {
				p = p2p_vfio_mmap_at(&dev, pr->len, pr->at);
				err = p == MAP_FAILED ? errno : 0;
			} else if (pfd >= 0) {
				p = mmap(NULL, pr->len, PROT_READ | PROT_WRITE,
					 MAP_SHARED, pfd,
					 PCI_P2PMEM_MMAP_OFFSET(dev.bar, pr->at));
				err = p == MAP_FAILED ? errno : 0;
				close(pfd);
			} else {
				p = MAP_FAILED;
				err = -pfd;
			}
			td = __atomic_load_n(&c_td_begun, __ATOMIC_SEQ_CST) == round;
			op_end(leader ? OP_C_VFIO : OP_C_SYSFS, -err,
			       leader ? vfio_allowed : sysfs_allowed);
			*me = (struct c_result){ .p = p, .err = err, .td = td };
			if (p != MAP_FAILED) {
				maps[nr] = p;
				lens[nr++] = pr->len;
				for (k = 0; k < pr->len; k += dev.page) {
					if (!sigbus_on(p + k, true))
						continue;
					/* Only the teardown kills it */
					if (__atomic_load_n(&c_td_begun, __ATOMIC_SEQ_CST) != round)
						violation(leader ? OP_C_VFIO : OP_C_SYSFS,
							  "round %llu: SIGBUS on a mapping of BAR%u+0x%llx before the teardown began",
							  (unsigned long long)round,
							  dev.bar,
							  (unsigned long long)pr->at);
					count_sigbus(leader ? OP_C_VFIO : OP_C_SYSFS);
					break;
				}
			}
			pthread_barrier_wait(&pr->barrier);
			if (leader)
				c_judge(pr, round);
		}

		/* Every mapping of the round is dead once the teardown returned */
		while (__atomic_load_n(&c_td_done, __ATOMIC_SEQ_CST) != round)
			usleep(200);
		for (i = 0; i < nr; i++) {
			pthread_mutex_lock(&stats_lock);
			cst.maps[a->side]++;
			pthread_mutex_unlock(&stats_lock);
			if (sigbus_on(maps[i], false) &&
			    sigbus_on(maps[i] + lens[i] - 1, true)) {
				c_count(&cst.dead[a->side]);
			} else {
				pthread_mutex_lock(&stats_lock);
				if (!cst.stale[a->side]++)
					tb_diag("round %llu: a %s mapping was accessible after the %s that ended its registration",
						(unsigned long long)round,
						leader ? "VFIO-fd" : "p2pmem",
						c_kind_name[round % (c_has_reset ? 3 : 2)]);
				pthread_mutex_unlock(&stats_lock);
			}
			munmap(maps[i], lens[i]);
		}
		__atomic_add_fetch(&c_parked, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* Phase 2: the only thread using the device file */
static void *reopener(void *arg)
{
	static const int allowed[] = { 0 };
	unsigned int seed = 10;
	int ret;

	while (!stop) {
		op_begin(OP_REOPEN);
		p2p_dev_reopen(&dev);
		ret = p2p_register(dev.fd, dev.bar, 0, 0);
		op_end(OP_REOPEN, ret, allowed);
		pause_ms(&seed, 30);
		op_begin(OP_REOPEN);
		p2p_dev_release(&dev);
		op_end(OP_REOPEN, 0, NULL);
		if (!p2pmem_absent(dev.bdf))
			violation(OP_REOPEN, "p2pmem present after the device was closed");
		pause_ms(&seed, 5);
	}
	p2p_dev_reopen(&dev);
	return NULL;
}

static void *trampoline(void *arg)
{
	self = arg;
	return self->fn(self->arg);
}

/* Run @threads for @seconds; false if one of them did not come back */
static bool run_phase(struct thread *threads, int nr, double seconds)
{
	struct timespec deadline;
	bool all = true;
	int i;

	stop = 0;
	for (i = 0; i < nr; i++)
		VFIO_ASSERT_EQ(pthread_create(&threads[i].tid, NULL,
					      trampoline, &threads[i]), 0);
	msleep(seconds * 1000);
	stop = 1;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 90;
	for (i = 0; i < nr; i++) {
		threads[i].done = !pthread_timedjoin_np(threads[i].tid, NULL,
							&deadline);
		all &= threads[i].done;
	}
	for (i = 0; i < nr; i++)
		if (!threads[i].done)
			tb_diag("thread %d stuck in %s for %.0f s", i,
				 op_name[threads[i].op],
				 now() - threads[i].started);
	return all;
}

static void report_ops(enum op first, enum op last)
{
	char errs[160];
	size_t len;
	int i, k;

	for (i = first; i <= last; i++) {
		struct op_stats *s = &stats[i];

		if (!s->calls)
			continue;
		len = 0;
		errs[0] = '\0';
		for (k = 0; k < 8 && s->errno_of[k]; k++)
			len += snprintf(errs + len, sizeof(errs) - len, " %s:%llu",
					errname(s->errno_of[k]),
					(unsigned long long)s->err[k]);
		tb_diag("%-13s %7llu calls, %7llu ok, errors:%s%s, %llu SIGBUS, longest %.1f ms",
			 op_name[i], (unsigned long long)s->calls,
			 (unsigned long long)s->ok, len ? errs : " none",
			 s->unexpected ? " (some unexpected)" : "",
			 (unsigned long long)s->sigbus, s->max_ms);
		tap_metric(op_name[i], "%llu", (unsigned long long)s->calls);
	}
}

static u64 sum_violations(void)
{
	u64 v = 0;
	int i;

	for (i = 0; i < NR_OPS; i++)
		v += stats[i].violations + stats[i].unexpected;
	return v;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-t SECONDS] [-c CLOSE_SECONDS] [-e ESCAPE_SECONDS] [-v CONTEST_SECONDS] BDF\n",
		prog);
	exit(2);
}

int main(int argc, char *argv[])
{
	struct thread phase1[] = {
		{ registrar }, { registrar }, { unregistrar }, { vfio_mapper },
		{ dmabuf_exporter }, { resetter }, { decoder },
		{ p2pmem_user, (void *)11 }, { p2pmem_user, (void *)12 },
		{ getter }, { vfio_p2p_mapper },
	};
	struct thread phase2[] = {
		{ reopener }, { p2pmem_user, (void *)13 },
		{ p2pmem_user, (void *)14 }, { p2pmem_reader }, { attr_reader },
	};
	struct thread phase3[] = {
		{ teardown_loop }, { holder, (void *)21 }, { holder, (void *)22 },
		{ holder, (void *)23 },
	};
	struct thread phase4[1 + 2 * C_PAIRS] = { { contest_owner } };
	double seconds = 20, close_seconds = -1, escape_seconds = -1, t0, t1;
	double contest_seconds = -1;
	u64 v1, v2, v4, reopen_calls;
	bool reset, back, region, final_ok;
	const char *why;
	int opt, ret, i;

	while ((opt = getopt(argc, argv, "t:c:e:v:")) != -1) {
		switch (opt) {
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'c':
			close_seconds = strtod(optarg, NULL);
			break;
		case 'e':
			escape_seconds = strtod(optarg, NULL);
			break;
		case 'v':
			contest_seconds = strtod(optarg, NULL);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		usage(argv[0]);
	if (close_seconds < 0)
		close_seconds = seconds / 2;
	if (escape_seconds < 0)
		escape_seconds = seconds / 2;
	if (contest_seconds < 0)
		contest_seconds = seconds / 4;

	tb_start();
	sigbus_init();
	blk_path = getenv("CLIENT_BLK");

	why = p2p_dev_open(&dev, argv[optind]);
	if (why) {
		tb_skip("%s", why);
		return tb_end();
	}
	reset = dev.device->info.flags & VFIO_DEVICE_FLAGS_RESET;
	ret = raw_dmabuf(dev.fd, dev.bar, 0, P2P_GRANULE);
	if (ret >= 0)
		close(ret);
	if (!reset)
		phase1[5].fn = getter;
	if (ret == -ENOTTY)
		phase1[4].fn = getter;
	region = dev.p2p_region >= 0;
	if (!region) {
		phase1[10].fn = getter;
		tb_ok(false, "BAR%u has a VFIO_REGION_TYPE_PCI_P2P region (phase 1 maps it, phase 4 needs it)",
		      dev.bar);
	}
	tb_diag("phase 1: %.0f s, %s, %s", seconds,
		 reset ? "with resets" : "no VFIO_DEVICE_RESET",
		 ret == -ENOTTY ? "no DMABUF" : "with DMABUF export");

	t0 = now();
	back = run_phase(phase1, ARRAY_SIZE(phase1), seconds);
	t1 = now() - t0;
	tap_metric("race_seconds_phase1", "%.1f", t1);
	report_ops(OP_REGISTER, OP_GET);
	tb_ok(back, "no hang: phase 1: every thread came back");
	if (!back) {
		/* A thread is stuck in the kernel with the device: give up */
		fflush(stdout);
		tb_end();
		_exit(1);
	}
	v1 = sum_violations();
	tb_ok(!v1,
	       "phase 1: registration never coexisted with a VFIO mmap or DMABUF, GET stayed well formed, every error was one the UAPI lists (%llu violations)",
	       (unsigned long long)v1);
	tb_ok(stats[OP_REGISTER].ok && stats[OP_VFIO_MMAP].ok &&
	       stats[OP_P2PMEM].ok &&
	       (ret == -ENOTTY || stats[OP_DMABUF].ok),
	       "phase 1: each side won some races (register %llu, vfio mmap %llu, dmabuf %llu, p2pmem %llu)",
	       (unsigned long long)stats[OP_REGISTER].ok,
	       (unsigned long long)stats[OP_VFIO_MMAP].ok,
	       (unsigned long long)stats[OP_DMABUF].ok,
	       (unsigned long long)stats[OP_P2PMEM].ok);
	/*
	 * Registrations live briefly here (the resetter and decode off end
	 * them), so few or no VFIO-fd mappings may succeed: phase 4, which
	 * keeps a registration in place for each round, is where they are
	 * sure to be made and checked.  This line fails on any mapping that
	 * outlived a teardown.
	 */
	if (region)
		tb_ok(!vp_stale,
		      "phase 1: %llu VFIO-fd mappings of the P2P region raced register, unregister, reset, decode off and placed p2pmem mappings; each that a teardown began after raised SIGBUS once it returned (%llu checked, %llu accessible; phase 4 makes sure of some)",
		      (unsigned long long)stats[OP_VFIO_P2P].ok,
		      (unsigned long long)vp_checked,
		      (unsigned long long)vp_stale);

	/* Phase 1 may leave several ranges registered */
	vfio_pci_cmd_set(dev.device, PCI_COMMAND_MEMORY);
	p2p_unregister_all(&dev);
	tb_ok(p2p_clean(&dev), "phase 1: the device ends unregistered");

	memset(stats, 0, sizeof(stats));
	p2p_dev_release(&dev);
	t0 = now();
	back = run_phase(phase2, ARRAY_SIZE(phase2), close_seconds);
	t1 = now() - t0;
	tap_metric("race_seconds_phase2", "%.1f", t1);
	report_ops(OP_P2PMEM, OP_ATTR);
	tb_ok(back, "no hang: phase 2: every thread came back (no close hung)");
	if (!back) {
		fflush(stdout);
		tb_end();
		_exit(1);
	}
	v2 = sum_violations();
	reopen_calls = stats[OP_REOPEN].calls / 2;
	tb_ok(!v2,
	       "phase 2: p2pmem gone after every close, mappings and reads failed cleanly (%llu violations)",
	       (unsigned long long)v2);
	tb_ok(reopen_calls && stats[OP_P2PMEM].ok,
	       "phase 2: %llu close/reopen cycles raced with %llu p2pmem mappings",
	       (unsigned long long)reopen_calls,
	       (unsigned long long)stats[OP_P2PMEM].ok);

	p2p_unregister_all(&dev);
	tb_ok(p2p_clean(&dev), "phase 2: the device ends unregistered");

	memset(stats, 0, sizeof(stats));
	t0 = now();
	back = run_phase(phase3, ARRAY_SIZE(phase3), escape_seconds);
	t1 = now() - t0;
	tap_metric("race_seconds_phase3", "%.1f", t1);
	report_ops(OP_P2PMEM, OP_HOLD);
	tb_ok(back, "no hang: phase 3: every thread came back");
	if (!back) {
		fflush(stdout);
		tb_end();
		_exit(1);
	}
	tap_metric("escaped_mappings", "%llu", (unsigned long long)escapes);
	tb_ok(!escapes && !sum_violations(),
	       "phase 3: %llu teardowns racing with p2pmem mmap() unmapped every mapping (%llu stayed mapped %d s into a teardown)",
	       (unsigned long long)stats[OP_TEARDOWN].calls,
	       (unsigned long long)escapes, ESCAPE_S);
	p2p_unregister_all(&dev);
	tb_ok(p2p_clean(&dev), "phase 3: the device ends unregistered");

	if (!region)
		goto out;
	memset(stats, 0, sizeof(stats));
	c_has_reset = reset;
	for (i = 0; i < C_PAIRS; i++) {
		c_pairs[i].index = i;
		VFIO_ASSERT_EQ(pthread_barrier_init(&c_pairs[i].barrier, NULL, 2), 0);
		c_args[i][C_VFIO] = (struct c_arg){ &c_pairs[i], C_VFIO };
		c_args[i][C_SYSFS] = (struct c_arg){ &c_pairs[i], C_SYSFS };
		phase4[1 + 2 * i] = (struct thread){ contestant, &c_args[i][C_VFIO] };
		phase4[2 + 2 * i] = (struct thread){ contestant, &c_args[i][C_SYSFS] };
	}
	t0 = now();
	back = run_phase(phase4, ARRAY_SIZE(phase4), contest_seconds);
	t1 = now() - t0;
	tap_metric("race_seconds_phase4", "%.1f", t1);
	report_ops(OP_C_OWNER, OP_C_SYSFS);
	tb_ok(back, "no hang: phase 4: every thread came back");
	if (!back) {
		fflush(stdout);
		tb_end();
		_exit(1);
	}
	tb_diag("phase 4: %llu rounds (%llu unregister, %llu decode off, %llu reset), %llu contests: VFIO-fd won %llu, p2pmem won %llu, the loser got EBUSY %llu times, came after the teardown %llu times; neither won %llu times (%llu a p2pmem mapping revoked while it was made)",
		(unsigned long long)cst.rounds,
		(unsigned long long)cst.kinds[C_UNREGISTER],
		(unsigned long long)cst.kinds[C_DECODE],
		(unsigned long long)cst.kinds[C_RESET],
		(unsigned long long)cst.contests,
		(unsigned long long)cst.won[C_VFIO],
		(unsigned long long)cst.won[C_SYSFS],
		(unsigned long long)cst.busy, (unsigned long long)cst.late,
		(unsigned long long)(cst.after + cst.transient),
		(unsigned long long)cst.transient);
	v4 = sum_violations();
	tb_ok(!v4,
	      "phase 4: a VFIO-fd and a p2pmem mapping of the same bytes never both succeeded, EBUSY only when the other had them, EINVAL only once the teardown began, no SIGBUS before it, every error one the UAPI lists (%llu violations)",
	      (unsigned long long)v4);
	tb_ok(cst.rounds >= (reset ? 3 : 2) && cst.kinds[C_UNREGISTER] &&
	      cst.kinds[C_DECODE] && (!reset || cst.kinds[C_RESET]) &&
	      cst.maps[C_VFIO] && !cst.stale[C_VFIO] && !cst.stale[C_SYSFS],
	      "phase 4: after each of %llu teardowns (unregister, decode off%s) every mapping made in its round raised SIGBUS: %llu VFIO-fd and %llu p2pmem mappings, %llu+%llu accessible",
	      (unsigned long long)cst.rounds, reset ? ", reset" : "",
	      (unsigned long long)cst.maps[C_VFIO],
	      (unsigned long long)cst.maps[C_SYSFS],
	      (unsigned long long)cst.stale[C_VFIO],
	      (unsigned long long)cst.stale[C_SYSFS]);
	tb_ok(cst.rounds && !cst.pool_bad,
	      "phase 4: the pool came back whole after every teardown: each of %llu registers had all of its granule available (%llu did not)",
	      (unsigned long long)cst.rounds,
	      (unsigned long long)cst.pool_bad);
	tb_ok(cst.won[C_VFIO] && cst.won[C_SYSFS] && cst.busy,
	      "phase 4: each side won some contests and the other lost them with EBUSY (VFIO-fd won %llu, p2pmem won %llu, EBUSY %llu of %llu contests)",
	      (unsigned long long)cst.won[C_VFIO],
	      (unsigned long long)cst.won[C_SYSFS],
	      (unsigned long long)cst.busy,
	      (unsigned long long)cst.contests);
	vfio_pci_cmd_set(dev.device, PCI_COMMAND_MEMORY);
	p2p_unregister_all(&dev);
	final_ok = p2p_clean(&dev) && !p2p_register(dev.fd, dev.bar, 0, 0) &&
		   p2pmem_attr(dev.bdf, "available") == (s64)dev.bar_size;
	p2p_unregister(dev.fd, dev.bar);
	tb_ok(final_ok && p2p_clean(&dev),
	      "phase 4: the device ends unregistered, and a register of the whole BAR has all of it available");
	for (i = 0; i < C_PAIRS; i++)
		pthread_barrier_destroy(&c_pairs[i].barrier);

out:
	p2p_dev_close(&dev);
	return tb_end();
}
