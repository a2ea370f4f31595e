// SPDX-License-Identifier: GPL-2.0-only
/*
 * hard_stuck BDF: revoking a registered BAR cannot hang its user while P2P
 * I/O into the BAR is stuck.
 *
 * For each case, in fresh processes: an owner opens BDF, registers the
 * first granule of the BAR; a reader, which holds no VFIO file, maps
 * p2pmem/allocate placed at READ_AT of the BAR (PCI_P2PMEM_MMAP_OFFSET,
 * which /proc/self/maps must then name) and, once the host stalls the
 * client NVMe ($CTL stall client), starts an O_DIRECT read of the data
 * image ($CLIENT_BLK) into the mapping, which must still be in flight two
 * seconds later.  Then the owner revokes the BAR by
 *   reset       VFIO_DEVICE_RESET,
 *   hot-reset   VFIO_DEVICE_PCI_HOT_RESET,
 *   close       closing the device and its IOMMU files,
 *   kill        dying of SIGKILL inside VFIO_DEVICE_RESET,
 *   decode-off  clearing PCI_COMMAND_MEMORY through the config region,
 * and must be done (returned, or dead) within REVOKE_S: the parent watches
 * with a clock, so a revocation that waits for the I/O is a failure, not a
 * hang, and the parent releases the I/O ($CTL release client) either way.
 *
 * While the read is still stuck after the revocation: GET reports the
 * registered granule as VFIO_DEVICE_P2P_STATE_DRAINING, and registering, a VFIO
 * mmap() and a DMABUF export of the BAR fail with EBUSY (reset, hot-reset,
 * decode-off: memory decode is turned back on first, so that EBUSY is
 * told apart from EIO); a new open of the device fails with EBUSY (close,
 * kill); the reader's mapping raises SIGBUS.  After the release the read
 * completes with the image's bytes, which must be in the BAR (read back
 * through the VFIO region at the buffer's BAR offset, on a reopened device
 * for close and kill), and within DRAIN_S the drain ends: GET reports
 * no range (after a reopen that works for close and kill) and the BAR
 * registers again.  Last, no kernel report (WARN, lockdep, hung task...)
 * while the program ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/pci_regs.h>

#include "hard.h"
#include "pattern.h"


/* A revocation returns, or its process is dead, within this */
#define REVOKE_S	10
/* The read must still be in flight this long after it was issued */
#define INFLIGHT_S	2
/* A released read completes within this */
#define RELEASE_S	60
/* The drain ends within this once the read has completed */
#define DRAIN_S		10
/* A child that missed a bound ends within this after the release */
#define CHILD_EXIT_S	60
/* Steps of the children that are not revocations (open, register, checks) */
#define STEP_S		30
/* Children kill themselves after this, whatever happens to the parent */
#define CHILD_ALARM_S	240

#define READ_LEN	(256 << 10)
/* Where the reader's buffer goes: inside the granule, not at its start */
#define READ_AT		READ_LEN
#define DISK_STRIDE	(8 << 20)

enum revoke { RV_RESET, RV_HOT_RESET, RV_CLOSE, RV_KILL, RV_DECODE_OFF, NR_CASES };

static const char *const rv_name[NR_CASES] = {
	"reset", "hot-reset", "close", "kill", "decode-off",
};

static const char *const rv_what[NR_CASES] = {
	"VFIO_DEVICE_RESET",
	"VFIO_DEVICE_PCI_HOT_RESET",
	"close of the device, iommufd/group and container",
	"the owner killed inside VFIO_DEVICE_RESET",
	"clearing PCI_COMMAND_MEMORY through the config region",
};

/* Commands to the owner and the checker, in this order */
enum { CMD_NONE, CMD_ACT, CMD_CHECK, CMD_AFTER, CMD_EXIT };
/* States they reach */
enum { ST_NONE, ST_READY, ST_ACTED, ST_CHECKED, ST_AFTER, ST_FAILED = -1 };

/* The owner of the device, or the checker that opens it after close/kill */
struct dev_sh {
	int cmd;
	int state;
	char why[200];		/* ST_FAILED: what failed; skip: why */
	int skip;
	int dmabuf_pre;		/* export before registering: 0 or -errno */
	u32 bar;		/* the BAR registered, for the reader */

	/* From the parent */
	u64 where;		/* BAR offset of the reader's buffer */
	u64 disk_off;		/* where the read comes from */
	int locate_ret;		/* the reader found @where, or -errno */

	/* The revocation */
	int in_act;
	int acted;
	double t_act0, t_act1;
	int act_ret;

	/* While the read is stuck */
	int get_ret;
	u32 get_state;
	u64 get_offset, get_size;
	int reg_ret, mmap_ret, dmabuf_ret;
	/* Another range of the BAR, registered and ended meanwhile */
	int other_reg_ret, other_get_ret, other_unreg_ret;
	u32 other_state;
	u64 other_offset, other_size;
	double other_unreg_s;
	int open_ret;
	char open_step[64];

	/* After the release */
	int readback_ret;
	long data_bad;		/* first bad byte, -1: all good */
	u64 found_at;		/* where the data was found (BAR scan) */
	int drain_ok;
	double drain_s;
	u32 drain_state;
	int reg2_ret;
};

struct reader_sh {
	int cmd;	/* 1 map, 2 read, 3 exit */
	int state;	/* 1 mapped, 2 issued, ST_FAILED */
	int map_ret;
	u32 bar;
	u64 where;
	int locate_ret;
	int done;
	long res;
	double t_issued, t_done;
	int touch_req, touch_done;
	int sigbus;
};

struct shared {
	struct dev_sh own;
	struct dev_sh chk;
	struct reader_sh rd;
};

static struct shared *sh;

/*
 * The parent and its children talk through @sh: a command or a state is
 * stored with release after the data it stands for, and loaded with acquire.
 */
static int get_flag(int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void set_flag(int *p, int val)
{
	__atomic_store_n(p, val, __ATOMIC_RELEASE);
}

static const char *bdf, *blk;
static pid_t main_pid;
static bool stalled;

static int ctl(const char *action)
{
	const char *path = getenv("CTL");
	int status;
	pid_t pid;

	if (!path || !*path)
		return -ENOENT;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execl(path, path, action, "client", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
}

static void release_io(void)
{
	int ret;

	if (!stalled)
		return;
	ret = ctl("release");
	if (ret)
		tb_diag("$CTL release client failed: %d", ret);
	stalled = false;
}

static void release_at_exit(void)
{
	if (getpid() == main_pid)
		release_io();
}

static void child_init(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(CHILD_ALARM_S);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static pid_t spawn(void (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (!pid) {
		child_init();
		fn(arg);
		_exit(0);
	}
	return pid;
}

/* Child side: wait until the parent gives @want or a later command */
static bool wait_cmd(int *cmd, int want)
{
	while (get_flag(cmd) < want)
		msleep(2);
	return get_flag(cmd) == want;
}

/* Parent side: wait until @state reaches @want (or fails) */
static bool wait_state(int *state, int want, double secs)
{
	double t0 = now();

	while (get_flag(state) < want && get_flag(state) != ST_FAILED &&
	       now() - t0 < secs)
		msleep(2);
	return get_flag(state) >= want;
}

/* Reap @pid within @secs: its wait status, or -1 if it is still there */
static int reap(pid_t pid, double secs)
{
	double t0 = now();
	int status;
	pid_t ret;

	do {
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			return status;
		if (ret < 0)
			return -2;
		msleep(5);
	} while (now() - t0 < secs);
	return -1;
}

/* Kill a child that is still there and reap it, bounded */
static void finish(pid_t pid, const char *who)
{
	int status;

	if (pid <= 0)
		return;
	status = reap(pid, 5);
	if (status == -1) {
		kill(pid, SIGKILL);
		status = reap(pid, CHILD_EXIT_S);
		if (status == -1)
			tb_diag("%s %d did not die within %d s of SIGKILL: abandoned",
				who, pid, CHILD_EXIT_S);
	}
}

static u32 inflight_reads(void)
{
	const char *ns = strrchr(blk, '/') ? strrchr(blk, '/') + 1 : blk;
	unsigned int r = 0, w = 0;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/inflight", ns);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%u %u", &r, &w) != 2)
		r = 0;
	fclose(f);
	return r;
}

/* What /proc/PID/syscall says the task is in: its number, or -1 */
static long syscall_of(pid_t pid)
{
	char path[64], buf[64] = "";
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9')
		nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr;
}

/* ---- reader: no VFIO file, maps p2pmem and reads into it ---- */

static int blk_fd = -1;
static void *rd_buf;

static void *read_thread(void *arg)
{
	struct reader_sh *r = arg;
	ssize_t ret;

	r->t_issued = now();
	set_flag(&r->state, 2);
	ret = pread(blk_fd, rd_buf, READ_LEN, sh->own.disk_off);
	r->res = ret < 0 ? -errno : ret;
	r->t_done = now();
	set_flag(&r->done, 1);
	return NULL;
}

static void reader(void *arg)
{
	struct reader_sh *r = &sh->rd;
	pthread_t th;
	bool started = false;
	u64 disk;
	int fd;

	sigbus_init();
	fd = blk_open(blk, &disk);
	if (fd < 0) {
		r->map_ret = fd;
		set_flag(&r->state, ST_FAILED);
		_exit(3);
	}
	blk_fd = fd;

	if (!wait_cmd(&r->cmd, 1))
		_exit(0);
	rd_buf = p2pmem_mmap_at(bdf, READ_LEN, sh->own.bar, READ_AT);
	if (rd_buf == MAP_FAILED) {
		r->map_ret = -errno;
		set_flag(&r->state, ST_FAILED);
		_exit(3);
	}
	r->locate_ret = p2pmem_locate(rd_buf, &r->bar, &r->where);
	/* Where it asked to be, or the data is looked for in the whole BAR */
	if (!r->locate_ret && (r->bar != sh->own.bar || r->where != READ_AT))
		r->locate_ret = -EDOM;
	set_flag(&r->state, 1);

	if (wait_cmd(&r->cmd, 2)) {
		if (pthread_create(&th, NULL, read_thread, r))
			_exit(3);
		started = true;
	}
	while (get_flag(&r->cmd) < 3) {
		if (get_flag(&r->touch_req) && !get_flag(&r->touch_done)) {
			r->sigbus = sigbus_on(rd_buf, false);
			set_flag(&r->touch_done, 1);
		}
		msleep(2);
	}
	if (started)
		pthread_join(th, NULL);
	munmap(rd_buf, READ_LEN);
	_exit(0);
}

/* ---- owner and checker: the VFIO side ---- */

static void failed(struct dev_sh *o, bool skip, const char *fmt, ...)
	__printf(3, 4);

static void failed(struct dev_sh *o, bool skip, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
	o->skip = skip;
	set_flag(&o->state, ST_FAILED);
	_exit(0);
}

static int set_decode(struct p2p_dev *d, bool on)
{
	u16 cmd = vfio_pci_config_readw(d->device, PCI_COMMAND);
	ssize_t ret;

	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & ~PCI_COMMAND_MEMORY;
	ret = pwrite(d->fd, &cmd, sizeof(cmd),
		     d->device->config_space.offset + PCI_COMMAND);
	if (ret < 0)
		return -errno;
	return ret == sizeof(cmd) ? 0 : -EIO;
}

/*
 * Open @bdf the way libvfio does, but report the failure instead of
 * asserting: 0 or -errno, and in @step the call that failed.
 */
static int try_open(char *step, size_t len)
{
	struct iommu *iommu = iommu_init(default_iommu_mode);
	int fd, group_fd = -1, ret = 0;

	if (iommu->mode->container_path) {
		struct vfio_pci_device *dev = vfio_pci_device_alloc(bdf, iommu);

		vfio_pci_group_setup(dev, bdf);
		vfio_container_set_iommu(dev);
		__vfio_pci_group_get_device_fd(dev, bdf, NULL);
		fd = dev->fd;
		if (fd < 0) {
			ret = -errno;
			snprintf(step, len, "VFIO_GROUP_GET_DEVICE_FD");
		}
		group_fd = dev->group_fd;
		vfio_pci_device_free(dev);
	} else {
		const char *path = vfio_pci_get_cdev_path(bdf);

		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			snprintf(step, len, "open(%s)", path);
		} else {
			ret = __vfio_device_bind_iommufd(fd, iommu->iommufd,
							 NULL);
			if (ret)
				snprintf(step, len, "VFIO_DEVICE_BIND_IOMMUFD");
		}
		free((void *)path);
	}
	if (fd >= 0)
		close(fd);
	if (group_fd > 0)
		close(group_fd);
	iommu_cleanup(iommu);
	return ret;
}

/* pread() of exactly @len bytes: 0 or -errno */
static int pread_all(int fd, void *buf, size_t len, u64 off)
{
	ssize_t ret = pread(fd, buf, len, off);

	if (ret < 0)
		return -errno;
	return ret == (ssize_t)len ? 0 : -EIO;
}

/* Read the reader's buffer back through the VFIO region and check it */
static void read_back(struct p2p_dev *d, struct dev_sh *o)
{
	size_t scan = P2P_GRANULE;
	u64 *buf;
	u64 off;

	o->data_bad = 0;
	buf = malloc(scan);
	if (!buf) {
		o->readback_ret = -ENOMEM;
		return;
	}
	o->readback_ret = 0;
	if (!o->locate_ret) {
		o->readback_ret = pread_all(d->fd, buf, READ_LEN,
					    d->bar_offset + o->where);
		if (!o->readback_ret)
			o->data_bad = pattern_check(buf, o->disk_off, READ_LEN);
		o->found_at = o->where;
		free(buf);
		return;
	}
	/* No BAR offset from /proc/self/maps: look for the data instead */
	o->readback_ret = pread_all(d->fd, buf, scan, d->bar_offset);
	if (o->readback_ret) {
		free(buf);
		return;
	}
	for (off = 0; off + READ_LEN <= scan; off += 4096) {
		o->data_bad = pattern_check(buf + off / 8, o->disk_off,
					    READ_LEN);
		if (o->data_bad < 0) {
			o->found_at = off;
			break;
		}
	}
	free(buf);
}

/*
 * Wait for the drain of the registered granule to end, within DRAIN_S:
 * then GET reports no range of the BAR at all
 */
static void wait_drain(struct p2p_dev *d, struct dev_sh *o, double t0)
{
	struct vfio_device_feature_p2p_register get = {};
	double left = DRAIN_S - (now() - t0);

	p2p_range_drained(d, 0, P2P_GRANULE, left > 0 ? left : 0);
	o->drain_ok = !raw_p2p_get(d->fd, d->bar, 0, &get) && !get.state &&
		      !get.size;
	o->drain_state = get.state;
	o->drain_s = now() - t0;
}

static void register_again(struct p2p_dev *d, struct dev_sh *o)
{
	o->reg2_ret = p2p_register(d->fd, d->bar, 0, P2P_GRANULE);
	if (!o->reg2_ret)
		p2p_unregister_at(d->fd, d->bar, 0, P2P_GRANULE);
}

/* While the read is stuck, through the owner's open device */
static void check_stuck(struct p2p_dev *d, struct dev_sh *o)
{
	struct vfio_device_feature_p2p_register get;
	void *map;
	int ret;

	o->get_ret = raw_p2p_get(d->fd, d->bar, 0, &get);
	o->get_state = get.state;
	o->get_offset = get.offset;
	o->get_size = get.size;
	/* Not undone if it works: unregistering would wait for the drain */
	o->reg_ret = p2p_register(d->fd, d->bar, 0, P2P_GRANULE);
	map = mmap(NULL, d->page, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		   d->bar_offset);
	o->mmap_ret = map == MAP_FAILED ? -errno : 0;
	if (map != MAP_FAILED)
		munmap(map, d->page);
	ret = raw_dmabuf(d->fd, d->bar, 0, P2P_GRANULE);
	if (ret >= 0)
		close(ret);
	o->dmabuf_ret = ret < 0 ? ret : 0;

	/*
	 * The next granule is not held up by the draining one: it registers,
	 * GET lists it after the draining range, and ending it waits for its
	 * own drain only, which is over at once.
	 */
	o->other_reg_ret = p2p_register(d->fd, d->bar, P2P_GRANULE, P2P_GRANULE);
	if (o->other_reg_ret)
		return;
	o->other_get_ret = raw_p2p_get(d->fd, d->bar, o->get_offset + o->get_size,
				       &get);
	o->other_state = get.state;
	o->other_offset = get.offset;
	o->other_size = get.size;
	o->other_unreg_s = now();
	o->other_unreg_ret = p2p_unregister_at(d->fd, d->bar, P2P_GRANULE,
					       P2P_GRANULE);
	o->other_unreg_s = now() - o->other_unreg_s;
}

static void owner(void *arg)
{
	enum revoke rv = (enum revoke)(long)arg;
	struct dev_sh *o = &sh->own;
	struct p2p_dev d;
	const char *why;
	void *fill;
	int ret;

	why = p2p_dev_open(&d, bdf);
	if (why)
		failed(o, true, "%s", why);
	if ((rv == RV_RESET || rv == RV_KILL) &&
	    !(d.device->info.flags & VFIO_DEVICE_FLAGS_RESET))
		failed(o, true, "device has no VFIO_DEVICE_RESET");
	if (rv == RV_HOT_RESET) {
		why = p2p_hot_reset_unusable(&d);
		if (why)
			failed(o, true, "%s", why);
	}
	if (d.bar_size < P2P_GRANULE)
		failed(o, true, "BAR%u smaller than a granule", d.bar);

	ret = raw_dmabuf(d.fd, d.bar, 0, P2P_GRANULE);
	if (ret >= 0)
		close(ret);
	o->dmabuf_pre = ret < 0 ? ret : 0;

	/* What was in the BAR before is not what the read brings */
	fill = malloc(P2P_GRANULE);
	if (!fill)
		failed(o, false, "malloc");
	fill_pattern(fill, P2P_GRANULE, 0x5717c);
	if (pwrite(d.fd, fill, P2P_GRANULE, d.bar_offset) != P2P_GRANULE)
		failed(o, false, "fill the BAR through the VFIO region: %s",
		       errname(errno));
	free(fill);

	ret = p2p_register(d.fd, d.bar, 0, P2P_GRANULE);
	if (ret)
		failed(o, false, "register BAR%u [0, 2 MiB): %s", d.bar,
		       errname(-ret));
	o->bar = d.bar;
	set_flag(&o->state, ST_READY);

	if (!wait_cmd(&o->cmd, CMD_ACT))
		goto out;
	o->t_act0 = now();
	set_flag(&o->in_act, 1);
	switch (rv) {
	case RV_RESET:
	case RV_KILL:
		ret = raw_reset(d.fd);
		break;
	case RV_HOT_RESET:
		ret = p2p_hot_reset(&d);
		break;
	case RV_CLOSE:
		p2p_dev_close(&d);
		ret = 0;
		break;
	case RV_DECODE_OFF:
		ret = set_decode(&d, false);
		break;
	default:
		ret = -EINVAL;
	}
	o->t_act1 = now();
	o->act_ret = ret;
	set_flag(&o->acted, 1);
	set_flag(&o->state, ST_ACTED);
	if (rv == RV_KILL) {
		/* Only SIGKILL ends this process */
		for (;;)
			pause();
	}
	if (rv == RV_CLOSE) {
		/* The checker takes over */
		wait_cmd(&o->cmd, CMD_EXIT);
		_exit(0);
	}

	/* Decode on again, so that the checks below see the drain only */
	set_decode(&d, true);
	if (wait_cmd(&o->cmd, CMD_CHECK)) {
		check_stuck(&d, o);
		set_flag(&o->state, ST_CHECKED);
	}
	if (wait_cmd(&o->cmd, CMD_AFTER)) {
		double t0 = now();

		read_back(&d, o);
		wait_drain(&d, o, t0);
		register_again(&d, o);
		set_flag(&o->state, ST_AFTER);
	}
out:
	p2p_unregister_at(d.fd, d.bar, 0, P2P_GRANULE);
	p2p_dev_close(&d);
	wait_cmd(&o->cmd, CMD_EXIT);
	_exit(0);
}

/* After close and kill: a new process opens the device */
static void checker(void *arg)
{
	struct dev_sh *o = &sh->chk;
	struct p2p_dev d;
	const char *why;
	double t0;

	if (wait_cmd(&o->cmd, CMD_CHECK)) {
		o->open_ret = try_open(o->open_step, sizeof(o->open_step));
		set_flag(&o->state, ST_CHECKED);
	}
	if (!wait_cmd(&o->cmd, CMD_AFTER))
		_exit(0);
	t0 = now();
	do {
		o->open_ret = try_open(o->open_step, sizeof(o->open_step));
		if (!o->open_ret)
			break;
		msleep(50);
	} while (now() - t0 < DRAIN_S);
	o->drain_s = now() - t0;
	if (o->open_ret)
		failed(o, false, "the device did not open within %d s of the read's end: %s at %s",
		       DRAIN_S, errname(-o->open_ret), o->open_step);

	why = p2p_dev_open(&d, bdf);
	if (why)
		failed(o, false, "%s", why);
	vfio_pci_cmd_set(d.device, PCI_COMMAND_MEMORY);
	read_back(&d, o);
	wait_drain(&d, o, t0);
	register_again(&d, o);
	set_flag(&o->state, ST_AFTER);
	p2p_dev_close(&d);
	wait_cmd(&o->cmd, CMD_EXIT);
	_exit(0);
}

/* ---- the parent: one case ---- */

static void run_case(enum revoke rv, bool dmabuf)
{
	const char *n = rv_name[rv];
	struct dev_sh *o = &sh->own, *c = &sh->chk, *v;
	struct reader_sh *r = &sh->rd;
	pid_t rpid, opid, cpid = -1;
	bool in_ioctl = false, in_flight, returned = false, done;
	bool by_checker = rv == RV_CLOSE || rv == RV_KILL;
	double t_kill = 0, took, t;
	int status = -1, ret;
	u32 busy;

	memset(sh, 0, sizeof(*sh));
	sh->own.disk_off = (u64)(rv + 1) * DISK_STRIDE;

	/* The reader first: it must not inherit any VFIO file */
	rpid = spawn(reader, NULL);
	opid = spawn(owner, (void *)(long)rv);
	if (rpid < 0 || opid < 0) {
		tb_ok(false, "%s: fork: %s", n, errname(errno));
		goto out;
	}
	if (!wait_state(&o->state, ST_READY, STEP_S)) {
		if (get_flag(&o->state) == ST_FAILED && o->skip)
			tb_skip("%s: %s", n, o->why);
		else
			tb_ok(false, "%s: owner opened %s and registered its BAR (%s)",
			      n, bdf, get_flag(&o->state) == ST_FAILED ? o->why :
			      "no answer");
		goto out;
	}
	set_flag(&r->cmd, 1);
	if (!wait_state(&r->state, 1, STEP_S)) {
		tb_ok(false, "%s: reader mapped p2pmem/allocate at BAR%u+0x%x (%s)", n,
		      o->bar, READ_AT,
		      get_flag(&r->state) == ST_FAILED ? errname(-r->map_ret) :
		      "no answer");
		goto out;
	}
	o->where = r->where;
	o->locate_ret = r->locate_ret;
	if (r->locate_ret) {
		tb_ok(false, "%s: the reader's mapping says it is where it was placed, BAR%u+0x%x (%s: BAR%u+0x%llx)",
		      n, o->bar, READ_AT, errname(-r->locate_ret), r->bar,
		      (unsigned long long)r->where);
		tb_diag("%s: the BAR will be scanned for the data", n);
	}

	ret = ctl("stall");
	if (ret) {
		tb_ok(false, "%s: $CTL stall client (%d)", n, ret);
		goto out;
	}
	stalled = true;
	set_flag(&r->cmd, 2);
	wait_state(&r->state, 2, STEP_S);
	t = now();
	while (!get_flag(&r->done) && now() - t < INFLIGHT_S)
		msleep(10);
	busy = inflight_reads();
	in_flight = get_flag(&r->state) == 2 && !get_flag(&r->done) && busy;
	tb_ok(in_flight,
	      "%s: O_DIRECT read of %d KiB into p2pmem at BAR%u+0x%llx still in flight %d s after the stall (%u reads in flight)",
	      n, READ_LEN >> 10, r->bar, (unsigned long long)r->where,
	      INFLIGHT_S, busy);
	if (!in_flight)
		goto release;

	/* The revocation, watched */
	if (by_checker)
		cpid = spawn(checker, NULL);
	set_flag(&o->cmd, CMD_ACT);
	t = now();
	if (rv == RV_KILL) {
		while (!get_flag(&o->in_act) && now() - t < STEP_S)
			msleep(1);
		/* Right away, but inside the ioctl if it can be seen */
		t = now();
		while (!get_flag(&o->acted) && now() - t < 0.2 &&
		       syscall_of(opid) != SYS_ioctl)
			;
		in_ioctl = syscall_of(opid) == SYS_ioctl ||
			   (get_flag(&o->in_act) && !get_flag(&o->acted));
		t_kill = now();
		kill(opid, SIGKILL);
		status = reap(opid, REVOKE_S);
		took = now() - t_kill;
		returned = status != -1;
		if (returned)
			opid = -1;
	} else {
		returned = wait_state(&o->state, ST_ACTED, REVOKE_S);
		took = returned ? o->t_act1 - o->t_act0 : now() - t;
	}
	tb_ok(returned, "%s: no hang: %s %s within %d s with the read stuck (%s%.2f s)",
	      n, rv_what[rv], rv == RV_KILL ? "died" : "returned", REVOKE_S,
	      returned ? "took " : "still there after ", took);
	if (rv == RV_KILL)
		/*
		 * A reset that does not wait for the I/O has often returned
		 * before the signal: the owner must die of it either way.
		 */
		tb_ok(returned && WIFSIGNALED(status) &&
		      WTERMSIG(status) == SIGKILL,
		      "%s: the owner died of SIGKILL sent while it reset (inside the ioctl: %s; status 0x%x)",
		      n, in_ioctl ? "yes" : "no", status);
	else
		tb_ok(returned && !o->act_ret, "%s: %s succeeded (%s)", n,
		      rv_what[rv], returned ? errname(-o->act_ret) :
		      "not returned");

	if (!returned) {
		tb_ok(false, "%s: checks while the read is stuck not made: %s had not %s",
		      n, rv_what[rv], rv == RV_KILL ? "died" : "returned");
		goto release;
	}

	/* While the read is still stuck */
	v = by_checker ? c : o;
	set_flag(&v->cmd, CMD_CHECK);
	if (!wait_state(&v->state, ST_CHECKED, STEP_S)) {
		tb_ok(false, "%s: checks while the read is stuck finished within %d s (%s)",
		      n, STEP_S,
		      get_flag(&v->state) == ST_FAILED ? v->why : "no answer");
		goto release;
	}
	set_flag(&r->touch_req, 1);
	wait_state(&r->touch_done, 1, STEP_S);
	busy = inflight_reads();
	if (by_checker) {
		tb_ok(c->open_ret == -EBUSY,
		      "%s: opening the device again fails with EBUSY while the read is stuck (%s%s%s)",
		      n, errname(-c->open_ret), c->open_ret ? " at " : "",
		      c->open_ret ? c->open_step : "");
	} else {
		tb_ok(!o->get_ret && o->get_state == VFIO_DEVICE_P2P_STATE_DRAINING &&
		      !o->get_offset && o->get_size == P2P_GRANULE,
		      "%s: GET reports the registered granule DRAINING and not REGISTERED while the read is stuck (%s, range 0x%llx+0x%llx, state 0x%x)",
		      n, errname(-o->get_ret), (unsigned long long)o->get_offset,
		      (unsigned long long)o->get_size, o->get_state);
		tb_ok(o->reg_ret == -EBUSY,
		      "%s: registering the BAR again fails with EBUSY while draining (%s)",
		      n, errname(-o->reg_ret));
		tb_ok(o->mmap_ret == -EBUSY,
		      "%s: mmap() of the BAR through the VFIO device fails with EBUSY while draining (%s)",
		      n, errname(-o->mmap_ret));
		tb_ok(!o->other_reg_ret,
		      "%s: the next granule of the BAR registers while the first drains (%s)",
		      n, errname(-o->other_reg_ret));
		tb_ok(!o->other_reg_ret && !o->other_get_ret &&
		      o->other_state == VFIO_DEVICE_P2P_STATE_REGISTERED &&
		      o->other_offset == P2P_GRANULE && o->other_size == P2P_GRANULE,
		      "%s: GET from the end of the draining range reports the next granule REGISTERED (%s, range 0x%llx+0x%llx, state 0x%x)",
		      n, errname(-o->other_get_ret),
		      (unsigned long long)o->other_offset,
		      (unsigned long long)o->other_size, o->other_state);
		tb_ok(!o->other_reg_ret && !o->other_unreg_ret &&
		      o->other_unreg_s < REVOKE_S,
		      "%s: unregistering the next granule does not wait for the stuck read (%s, %.2f s, bound %d s)",
		      n, errname(-o->other_unreg_ret), o->other_unreg_s, REVOKE_S);
		if (!dmabuf)
			tb_skip("%s: DMABUF export while draining: no VFIO_DEVICE_FEATURE_DMA_BUF",
				n);
		else
			tb_ok(o->dmabuf_ret == -EBUSY,
			      "%s: DMABUF export of the BAR fails with EBUSY while draining (%s; %s before registering)",
			      n, errname(-o->dmabuf_ret),
			      errname(-o->dmabuf_pre));
	}
	tb_ok(get_flag(&r->touch_done) && r->sigbus,
	      "%s: the reader's p2pmem mapping raises SIGBUS after the revocation (%s)",
	      n, !get_flag(&r->touch_done) ? "no answer" :
	      r->sigbus ? "SIGBUS" : "readable");
	tb_ok(!get_flag(&r->done) && busy,
	      "%s: the read was still in flight after these checks (%u reads in flight)",
	      n, busy);

release:
	t = now();
	release_io();
	while (get_flag(&r->state) == 2 && !get_flag(&r->done) &&
	       now() - t < RELEASE_S)
		msleep(10);
	done = get_flag(&r->done);
	tb_ok(done && r->res == READ_LEN,
	      "%s: the read completed within %d s of the release with all its bytes (%ld, %.2f s after the release, %.2f s after it was issued)",
	      n, RELEASE_S, done ? r->res : 0L, done ? r->t_done - t : 0,
	      done ? r->t_done - r->t_issued : 0);
	if (!in_flight)
		goto out;

	/* A revocation that was stuck ends now, or its process does */
	if (!returned) {
		if (rv == RV_KILL) {
			status = reap(opid, CHILD_EXIT_S);
			if (status != -1)
				opid = -1;
			returned = status != -1;
		} else {
			returned = wait_state(&o->state, ST_ACTED,
					      CHILD_EXIT_S);
		}
		tb_diag("%s: %s %s %.1f s after the release", n, rv_what[rv],
			returned ? "ended" : "still not done", now() - t);
		if (!returned)
			goto out;
	}
	if (by_checker && cpid < 0)
		cpid = spawn(checker, NULL);
	if (rv == RV_CLOSE)
		set_flag(&o->cmd, CMD_EXIT);
	/* After a revocation that was late, straight to these (no CHECK) */
	v = by_checker ? c : o;
	v->where = o->where;
	v->locate_ret = o->locate_ret;
	v->disk_off = o->disk_off;
	set_flag(&v->cmd, CMD_AFTER);
	if (!wait_state(&v->state, ST_AFTER, DRAIN_S + STEP_S)) {
		tb_ok(false, "%s: checks after the release finished (%s)", n,
		      get_flag(&v->state) == ST_FAILED ? v->why : "no answer");
		goto out;
	}
	if (v->readback_ret)
		tb_ok(false, "%s: read the BAR back through the VFIO region (%s)",
		      n, errname(-v->readback_ret));
	else
		tb_ok(v->data_bad < 0,
		      "%s: the read's bytes landed in the BAR: BAR%u+0x%llx, read back through the VFIO region%s, is the image at 0x%llx (%s%ld)",
		      n, r->bar, (unsigned long long)v->found_at,
		      by_checker ? " of the reopened device" : "",
		      (unsigned long long)v->disk_off,
		      v->data_bad < 0 ? "all " : "first bad byte ",
		      v->data_bad < 0 ? (long)READ_LEN : v->data_bad);
	tb_ok(v->drain_ok,
	      "%s: the drain ended within %d s of the read%s: GET reports no range, neither DRAINING nor REGISTERED (state 0x%x, %.2f s)",
	      n, DRAIN_S, by_checker ? ", the device opened again" : "",
	      v->drain_state, v->drain_s);
	tb_ok(!v->reg2_ret, "%s: the BAR registers again after the drain (%s)",
	      n, errname(-v->reg2_ret));

out:
	release_io();
	set_flag(&o->cmd, CMD_EXIT);
	set_flag(&c->cmd, CMD_EXIT);
	set_flag(&r->cmd, 3);
	finish(cpid, "checker");
	finish(opid, "owner");
	finish(rpid, "reader");
}

/* Whether the device exports DMABUFs: asked in a child, like the cases */
static void probe_dmabuf(void *arg)
{
	struct p2p_dev d;
	int ret;

	if (p2p_dev_open(&d, bdf)) {
		sh->own.dmabuf_pre = -ENODEV;
		_exit(0);
	}
	ret = raw_dmabuf(d.fd, d.bar, 0, P2P_GRANULE);
	if (ret >= 0)
		close(ret);
	sh->own.dmabuf_pre = ret < 0 ? ret : 0;
	p2p_dev_close(&d);
	_exit(0);
}

int main(int argc, char *argv[])
{
	char marker[128], first[256];
	bool data_ok, dmabuf;
	double t0 = now();
	u64 disk;
	int fd, i, ret;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF (reads $CLIENT_BLK, stalls it with $CTL)\n",
			argv[0]);
		return 2;
	}
	bdf = argv[1];
	blk = getenv("CLIENT_BLK");
	main_pid = getpid();

	tb_start();
	snprintf(marker, sizeof(marker), "hard_stuck: [%d] start on %s",
		 main_pid, bdf);
	tb_kmsg_mark("%s", marker);

	if (nop2p()) {
		tb_skip("%s",
			"revocation with P2P I/O stuck: the topology has no P2P path, a read into p2pmem fails at once");
		return tb_end();
	}
	fd = blk_open(blk, &disk);
	if (fd < 0) {
		tb_ok(false, "a block device in $CLIENT_BLK (%s: %s)",
		      blk ? blk : "unset", errname(-fd));
		return tb_end();
	}
	data_ok = blk_has_pattern(fd);
	close(fd);
	tb_ok(data_ok && disk >= (u64)(NR_CASES + 1) * DISK_STRIDE,
	      "%s holds the testbed's data image (%llu MiB)", blk,
	      (unsigned long long)disk >> 20);
	if (!getenv("CTL") || !*getenv("CTL")) {
		tb_ok(false, "$CTL names the control channel (testbed/guest/ctl.sh)");
		return tb_end();
	}

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	VFIO_ASSERT_NE(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	atexit(release_at_exit);

	pid = spawn(probe_dmabuf, NULL);
	if (reap(pid, STEP_S) == -1)
		finish(pid, "probe");
	dmabuf = sh->own.dmabuf_pre != -ENOTTY;
	tb_diag("%s: revocations must end within %d s with a read stuck; %s",
		bdf, REVOKE_S, dmabuf ? "DMABUF export available" :
		"no DMABUF export (ENOTTY)");

	for (i = 0; i < NR_CASES; i++) {
		double tc = now();

		run_case(i, dmabuf);
		tb_diag("%s: %.1f s", rv_name[i], now() - tc);
	}

	ret = tb_kernel_reports_since(marker, first, sizeof(first));
	tb_ok(!ret, "kernel log has no WARN/BUG/KASAN/lockdep/hung-task report over the run (%s)",
	      ret < 0 ? first : ret ? first : "none");
	tap_metric("hard_stuck_s", "%.1f", now() - t0);
	return tb_end();
}
