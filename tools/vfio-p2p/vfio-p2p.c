// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-p2p: register a BAR of a vfio-pci device as P2P memory
 * (VFIO_DEVICE_FEATURE_P2P_REGISTER), run a command with it, and tell
 * where p2pmem buffers lie in their BAR.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "args.h"
#include "cmds.h"
#include "explain.h"
#include "pci.h"
#include "reader.h"
#include "util.h"
#include "vfio.h"
#include "vfio_p2p_preload.h"
#include "vfio_p2p_vfio.h"
#include "vfio_p2p_where.h"

#define EXPLAIN_LEN	4096

void print_explained(const char *text)
{
	size_t len = strlen(text);

	while (len && text[len - 1] == '\n')
		len--;
	msg("%.*s", (int)len, text);
}

int usage_error(enum p2p_cmd cmd, const char *fmt, ...)
{
	char err[256], line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, sizeof(err), fmt, ap);
	va_end(ap);
	usage_error_line(line, sizeof(line), cmd, err);
	msg("%s", line);
	return EXIT_USAGE;
}

/* Print explanation lines to stdout, indented, as part of a report */
static void print_indented(const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("    %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/*
 * Checks shared by probe and register: the device exists, is bound to
 * vfio-pci and its IOMMU group is viable.  Explains the first problem in
 * @sb; returns whether the device is ready for VFIO.
 */
bool device_usable(const char *bdf, struct sbuf *sb, char *driver,
		   size_t dlen, int *group)
{
	struct pci_group_member m[64];
	int n, i, ret;
	bool viable = true;

	ret = pci_driver(bdf, driver, dlen);
	if (ret) {
		sbuf_printf(sb, "cannot read the driver of %s: %s\n", bdf, strerror(-ret));
		return false;
	}
	if (!pci_driver_is_vfio(driver)) {
		explain_not_vfio(sb, bdf, driver);
		return false;
	}
	ret = pci_iommu_group(bdf, group);
	if (ret) {
		*group = -1;
		explain_no_group(sb, bdf);
		return false;
	}
	n = pci_group_members(*group, m, (int)ARRAY_SIZE(m));
	for (i = 0; i < n; i++)
		if (!pci_driver_group_ok(m[i].driver))
			viable = false;
	if (!viable) {
		explain_group(sb, bdf, *group, m, n);
		return false;
	}
	return true;
}

/* The locked memory that registrations are charged to */
struct memlock {
	bool known;
	uint64_t limit;		/* UINT64_MAX: unlimited */
	bool ipc_lock;
};

static void memlock_get(struct memlock *m)
{
	m->known = !memlock_limit(&m->limit);
	m->ipc_lock = have_cap(CAP_IPC_LOCK_NR);
}

static bool memlock_limited(const struct memlock *m)
{
	return m->known && !m->ipc_lock && m->limit != UINT64_MAX;
}

/*
 * ", all of it charges 4 MiB of memlock" for a line of probe; @what NULL
 * gives ", charges ...".  The largest range that fits is a multiple of
 * @granule (0: not known, P2P_GRANULE_FALLBACK).
 */
static void print_charge(uint64_t size, const struct memlock *m, const char *what,
			 uint64_t granule)
{
	uint64_t page = page_size(), need = p2p_memlock_charge(size, page);
	char s1[32], s2[32];

	printf(", %s%scharges %s of memlock", what ? what : "", what ? " " : "",
	       fmt_size(need, s1, sizeof(s1)));
	if (memlock_limited(m) && need > m->limit)
		printf(" (over the limit: ENOMEM; at most %s fits)",
		       fmt_size(p2p_memlock_max_size(m->limit, page, granule), s2, sizeof(s2)));
}

/* Ranges of one BAR that probe lists; more are counted, not shown */
#define PROBE_RANGES	64

/*
 * The end of the line of BAR @bar and a line per range: the ranges that
 * GET reports, registered or draining.  @granule is what GET reported
 * before (0: not known).  Returns 0 or the -errno of GET.
 */
static int print_bar_ranges(struct vfio_dev *dev, int bar, const struct pci_bar *b,
			    const struct memlock *ml, uint64_t granule)
{
	struct p2p_reg r[PROBE_RANGES];
	int n, i, shown, nreg = 0, ndrain = 0;
	char s1[32], s2[32];
	uint64_t g;
	int err;

	fmt_size(granule ? granule : P2P_GRANULE_FALLBACK, s2, sizeof(s2));
	err = p2p_list(dev, bar, r, PROBE_RANGES, &n, &g);
	if (err == -EOPNOTSUPP) {
		printf("%s aligned, but the kernel cannot register it (not claimed by "
		       "vfio-pci?)\n", s2);
		return err;
	}
	if (err) {
		printf("%s aligned, registration state unknown: %s\n", s2, strerror(-err));
		return err;
	}
	if (!n) {
		printf("registrable, not registered");
		print_charge(b->size, ml, "all of it", granule);
		printf("\n");
		return 0;
	}

	shown = n < PROBE_RANGES ? n : PROBE_RANGES;
	for (i = 0; i < shown; i++) {
		if (r[i].registered)
			nreg++;
		else if (r[i].draining)
			ndrain++;
	}
	printf("registrable, %d range%s", n, n == 1 ? "" : "s");
	if (n > shown)
		printf(" (%d shown)", shown);
	printf(": %d registered, %d draining\n", nreg, ndrain);
	for (i = 0; i < shown; i++) {
		printf("bar %d range: 0x%llx-0x%llx (%s), ", bar,
		       (unsigned long long)r[i].offset,
		       (unsigned long long)(r[i].offset + r[i].size - 1),
		       fmt_size(r[i].size, s1, sizeof(s1)));
		if (r[i].registered) {
			printf("registered");
			print_charge(r[i].size, ml, NULL, granule);
			printf("\n");
		} else if (r[i].draining) {
			printf("draining: ended, I/O in flight\n");
		} else {
			printf("in an unknown state\n");
		}
	}
	return 0;
}

static void print_group(const char *bdf, int group)
{
	struct pci_group_member m[64];
	int n, i;
	bool viable = true;

	n = pci_group_members(group, m, (int)ARRAY_SIZE(m));
	for (i = 0; i < n; i++)
		if (!pci_driver_group_ok(m[i].driver))
			viable = false;
	printf("iommu group: %d, %s (", group, viable ? "viable" : "not viable");
	for (i = 0; i < n; i++)
		printf("%s%s%s %s", i ? ", " : "", m[i].bdf,
		       strcmp(m[i].bdf, bdf) ? "" : "*",
		       *m[i].driver ? m[i].driver : "no driver");
	printf(")\n");
}

int cmd_probe(const struct p2p_opts *o)
{
	char buf[EXPLAIN_LEN], driver[64], id[32] = "?", cls[32] = "?";
	char kind[64], s1[32], s2[32], path[PATH_MAX], why[1024];
	struct pci_bar bars[PCI_NUM_BARS];
	bool ready = true, opened = false, supported = false, any = false;
	const char *bdf = o->bdf;
	struct vfio_dev dev;
	uint64_t size, avail, granule = 0;
	struct memlock ml;
	struct sbuf sb;
	int group = -1, ret, i;

	if (!pci_dev_exists(bdf)) {
		msg("no PCI device %s (see /sys/bus/pci/devices, or lspci -D)", bdf);
		return EXIT_NOT_READY;
	}
	pci_ids(bdf, id, sizeof(id), cls, sizeof(cls));
	printf("device:      %s [%s] class %s\n", bdf, id, cls);

	sbuf_init(&sb, buf, sizeof(buf));
	if (!device_usable(bdf, &sb, driver, sizeof(driver), &group))
		ready = false;
	if (*driver)
		printf("driver:      %s%s\n", driver,
		       pci_driver_is_vfio(driver) ? "" : " (not vfio-pci)");
	else
		printf("driver:      none\n");
	if (group >= 0 || !pci_iommu_group(bdf, &group))
		print_group(bdf, group);
	else
		printf("iommu group: none\n");
	if (!ready)
		print_indented(buf);

	/* No privilege: the struct pages are charged to locked memory */
	memlock_get(&ml);
	printf("privilege:   none needed beyond the VFIO files; registering is charged to "
	       "locked memory\n");
	if (!ml.known)
		printf("memlock:     RLIMIT_MEMLOCK unknown\n");
	else if (ml.limit == UINT64_MAX)
		printf("memlock:     unlimited (RLIMIT_MEMLOCK)\n");
	else
		printf("memlock:     limit %s (RLIMIT_MEMLOCK)%s\n",
		       fmt_size(ml.limit, s1, sizeof(s1)),
		       ml.ipc_lock ? ", not applied: CAP_IPC_LOCK" :
		       ", shared with the user's other locked memory (io_uring, iommufd)");

	if (ready) {
		ret = vfio_dev_open(&dev, bdf, why, sizeof(why));
		if (ret) {
			printf("vfio:        cannot open the device\n");
			print_indented(why);
			ready = false;
		} else {
			opened = true;
			printf("vfio:        %s (%s)\n", dev.path, dev.how);
		}
	}

	if (opened) {
		struct p2p_ctx c = { .bdf = bdf, .bar = -1 };

		ret = p2p_feature_probe(&dev);
		if (ret) {
			printf("kernel:      P2P registration not available\n");
			sbuf_init(&sb, buf, sizeof(buf));
			explain_feature(&sb, OP_PROBE, -ret, &c);
			print_indented(buf);
			ready = false;
		} else {
			supported = true;
			printf("kernel:      P2P registration supported\n");
			/* What the BARs are checked against below */
			if (p2p_granule(&dev, -1, &granule))
				granule = 0;
		}
	} else {
		printf("kernel:      not asked (device not opened)\n");
	}

	ret = pci_read_bars(bdf, bars);
	if (ret) {
		printf("bars:        cannot read %s: %s\n",
		       pci_path(path, sizeof(path), bdf, "resource"), strerror(-ret));
		ready = false;
	}
	for (i = 0; !ret && i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &bars[i];
		const char *no = pci_bar_unregistrable(b, granule, why, sizeof(why));
		int err;

		if (!b->size)
			continue;
		printf("bar %d:       %s, %s at 0x%llx, ", i,
		       pci_bar_kind(b, kind, sizeof(kind)),
		       fmt_size(b->size, s1, sizeof(s1)),
		       (unsigned long long)b->start);
		if (no) {
			printf("not registrable: %s\n", no);
			continue;
		}
		if (!supported) {
			/* Granule 0: assumed, the fallback */
			printf("%s aligned, registrable%s",
			       fmt_size(P2P_GRANULE_FALLBACK, s2, sizeof(s2)),
			       opened ? " if the kernel could" : "");
			print_charge(b->size, &ml, "all of it", 0);
			printf("\n");
			any = true;
			continue;
		}
		err = print_bar_ranges(&dev, i, b, &ml, granule);
		if (err != -EOPNOTSUPP)
			any = true;
	}
	/* The same for every BAR: the kernel's memremap_compat_align() */
	if (granule)
		printf("granule:     %s (from the kernel: the address and size of a "
		       "registered range are multiples of it)\n",
		       fmt_size(granule, s2, sizeof(s2)));
	else if (!ret)
		printf("granule:     %s (assumed: GET did not answer; the smallest there is, "
		       "the kernel's may be larger)\n",
		       fmt_size(P2P_GRANULE_FALLBACK, s2, sizeof(s2)));
	if (!ret && !any) {
		printf("             no BAR of %s can be registered\n", bdf);
		ready = false;
	}

	pci_path(path, sizeof(path), bdf, "p2pmem");
	if (pci_p2pmem(bdf, &size, &avail))
		printf("p2pmem:      none\n");
	else if (!size)
		/* The files stay from the first registration until unbind */
		printf("p2pmem:      %s: no range registered\n", path);
	else
		printf("p2pmem:      %s: size %s, available %s\n", path,
		       fmt_size(size, s1, sizeof(s1)),
		       fmt_size(avail, s2, sizeof(s2)));

	if (opened)
		vfio_dev_close(&dev);
	printf("ready:       %s\n", ready ? "yes" : "no");
	return ready ? 0 : EXIT_NOT_READY;
}

static const int fwd_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void set_env_num(const char *name, unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	setenv(name, buf, 1);
}

/* register --preload: the interposer, and what it redirects */
struct preload {
	char so[PATH_MAX];	/* libvfio-p2p-preload.so */
	char file[PATH_MAX];	/* the placeholder, VFIO_P2P_MMAP_FILE */
	uint64_t at;		/* VFIO_P2P_MMAP_AT */
};

/*
 * The interposer: $VFIO_P2P_PRELOAD, or libvfio-p2p-preload.so next to this
 * program, as an absolute path that LD_PRELOAD can hold.  Says what is
 * wrong; 0 or -errno.
 */
static int preload_find(char *so, size_t len)
{
	const char *env = getenv(VFIO_P2P_PRELOAD_ENV);
	char exe[PATH_MAX], path[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0) {
			int err = errno;

			msg("--preload: cannot find this program (/proc/self/exe): %s; set %s "
			    "to the path of %s", strerror(err), VFIO_P2P_PRELOAD_ENV,
			    VFIO_P2P_PRELOAD_SO);
			return -err;
		}
		exe[n] = '\0';
		snprintf(path, sizeof(path), "%s/%s", dirname(exe), VFIO_P2P_PRELOAD_SO);
	}
	if (!realpath(path, exe) || access(exe, R_OK)) {
		int err = errno;

		msg("--preload: cannot read %s: %s (build it with 'make -C tools/vfio-p2p', "
		    "it goes next to vfio-p2p; or set %s)", path, strerror(err),
		    VFIO_P2P_PRELOAD_ENV);
		return -err;
	}
	if (strpbrk(exe, ": ")) {
		msg("--preload: %s: LD_PRELOAD cannot hold a path with ':' or ' '", exe);
		return -EINVAL;
	}
	if (strlen(exe) >= len)
		return -ENAMETOOLONG;
	strcpy(so, exe);
	return 0;
}

/*
 * The place of the first buffer, --at or the range's start, inside the
 * range registered, and the placeholder file; says what is wrong.
 * 0 or -errno.
 */
static int preload_prepare(const struct p2p_opts *o, const struct p2p_reg *r,
			   bool have_region, struct preload *pl)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (!have_region) {
		msg("--preload maps through the page-backed region of BAR %d in the VFIO "
		    "device file (VFIO_REGION_TYPE_PCI_P2P), and the running kernel has "
		    "none: use the sysfs way, mem=mmapshared:$VFIO_P2P_ALLOCATE", o->bar);
		return -ENOENT;
	}
	pl->at = o->place ? o->at : r->offset;
	if (pl->at < r->offset || pl->at - r->offset >= r->size) {
		msg("--at 0x%llx is outside the range registered, BAR %d 0x%llx-0x%llx",
		    (unsigned long long)pl->at, o->bar, (unsigned long long)r->offset,
		    (unsigned long long)(r->offset + r->size - 1));
		return -EINVAL;
	}
	snprintf(pl->file, sizeof(pl->file), "%s/vfio-p2p-mmap.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(pl->file);
	if (fd < 0) {
		int err = errno;

		msg("--preload: cannot create the placeholder file %s: %s (set TMPDIR to a "
		    "writable directory)", pl->file, strerror(err));
		pl->file[0] = '\0';
		return -err;
	}
	close(fd);
	return 0;
}

/* LD_PRELOAD=SO, followed by what it was */
static void preload_env(const struct preload *pl)
{
	const char *old = getenv("LD_PRELOAD");
	char buf[2 * PATH_MAX];

	setenv(command_env[ENV_MMAP_FILE], pl->file, 1);
	set_env_num(command_env[ENV_MMAP_AT], pl->at);
	snprintf(buf, sizeof(buf), "%s%s%s", pl->so, old && *old ? ":" : "",
		 old ? old : "");
	setenv("LD_PRELOAD", buf, 1);
}

/*
 * Run the command with the VFIO device file of @dev inherited; @pr is the
 * page-backed region of the BAR, NULL if the kernel has none; @pl what
 * --preload sets up, NULL without it.  Returns its exit status in the
 * shell's way.
 */
static int run_command(const struct p2p_opts *o, const sigset_t *oldmask,
		       const sigset_t *waitset, const char *allocate,
		       const struct p2p_reg *r, uint64_t register_ns,
		       const struct vfio_dev *dev, const struct vfio_p2p_vfio_region *pr,
		       const struct preload *pl)
{
	int status, sig;
	siginfo_t si;
	pid_t child, w;

	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child < 0) {
		msg("cannot fork: %s", strerror(errno));
		return EXIT_NOT_READY;
	}
	if (!child) {
		/* Each of them is in register's help (args.c) */
		setenv(command_env[ENV_ALLOCATE], allocate, 1);
		setenv(command_env[ENV_BDF], o->bdf, 1);
		set_env_num(command_env[ENV_BAR], (unsigned long long)o->bar);
		set_env_num(command_env[ENV_OFFSET], r->offset);
		set_env_num(command_env[ENV_SIZE], r->size);
		set_env_num(command_env[ENV_REGISTER_NS], register_ns);
		/* The device file stays open across exec: COMMAND may use it */
		status = fcntl(dev->device_fd, F_GETFD);
		if (status < 0 || fcntl(dev->device_fd, F_SETFD, status & ~FD_CLOEXEC)) {
			msg("cannot pass the VFIO device file to %s: %s", o->command[0],
			    strerror(errno));
			_exit(126);
		}
		set_env_num(command_env[ENV_DEVICE_FD], (unsigned long long)dev->device_fd);
		if (pr) {
			set_env_num(command_env[ENV_REGION_INDEX], pr->index);
			set_env_num(command_env[ENV_REGION_OFFSET], pr->offset);
		} else {
			/* Not those of an outer register */
			unsetenv(command_env[ENV_REGION_INDEX]);
			unsetenv(command_env[ENV_REGION_OFFSET]);
		}
		if (pl) {
			preload_env(pl);
		} else {
			unsetenv(command_env[ENV_MMAP_FILE]);
			unsetenv(command_env[ENV_MMAP_AT]);
		}
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		execvp(o->command[0], o->command);
		status = errno;
		msg("cannot run %s: %s", o->command[0], strerror(status));
		_exit(status == ENOENT ? 127 : 126);
	}

	for (;;) {
		w = waitpid(child, &status, WNOHANG);
		if (w == child)
			break;
		if (w < 0 && errno != EINTR) {
			msg("waitpid: %s", strerror(errno));
			return EXIT_NOT_READY;
		}
		sig = sigwaitinfo(waitset, &si);
		if (sig < 0 || sig == SIGCHLD)
			continue;
		/*
		 * A signal from the terminal went to the whole foreground
		 * process group, the command included: do not send it twice.
		 */
		if (si.si_code != SI_KERNEL)
			kill(child, sig);
	}

	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * Whether the range of @o can be registered in BAR @c->b, with the granule
 * @c->granule (0: the fallback, before the device is open); says why not.
 * Returns 0 if it can be, as far as sysfs and the granule tell.
 */
static int check_range(const struct p2p_opts *o, const struct p2p_ctx *c)
{
	char buf[EXPLAIN_LEN];
	struct sbuf sb;

	if (pci_bar_unregistrable(c->b, c->granule, buf, sizeof(buf))) {
		sbuf_init(&sb, buf, sizeof(buf));
		explain_feature(&sb, OP_REGISTER, EOPNOTSUPP, c);
		print_explained(buf);
		return -EOPNOTSUPP;
	}
	if (pci_range_invalid(c->b, o->offset, o->size, c->granule, buf, sizeof(buf))) {
		msg("cannot register BAR %d of %s: %s", o->bar, o->bdf, buf);
		return -EINVAL;
	}
	return 0;
}

int cmd_register(const struct p2p_opts *o)
{
	char buf[EXPLAIN_LEN], driver[64], s1[32], s2[32], allocate[PATH_MAX];
	struct pci_bar bars[PCI_NUM_BARS];
	sigset_t waitset, oldmask;
	struct vfio_dev dev;
	struct p2p_reg r = { 0 };
	struct p2p_ctx c = {
		.bdf = o->bdf, .bar = o->bar, .offset = o->offset, .size = o->size,
	};
	struct vfio_p2p_vfio_region preg;
	struct preload pl = { .file = "" };
	struct memlock ml;
	struct sbuf sb;
	int group, ret, status;
	uint64_t register_ns;
	double t0, t1;
	siginfo_t si;
	bool have_preg;
	size_t i;

	/* For the explanation of ENOMEM: what the charge is measured against */
	memlock_get(&ml);
	c.memlock_known = ml.known;
	c.memlock = ml.limit;
	c.ipc_lock = ml.ipc_lock;

	sbuf_init(&sb, buf, sizeof(buf));
	if (!pci_dev_exists(o->bdf)) {
		msg("no PCI device %s (see /sys/bus/pci/devices, or lspci -D)", o->bdf);
		return EXIT_NOT_READY;
	}
	if (!device_usable(o->bdf, &sb, driver, sizeof(driver), &group)) {
		print_explained(buf);
		return EXIT_NOT_READY;
	}
	/*
	 * What sysfs shows is enough to refuse the obvious mistakes early,
	 * before opening the device (which vfio-pci may answer with a reset).
	 * The granule is not known yet (c.granule 0): these checks use
	 * P2P_GRANULE_FALLBACK, the smallest there is; check_range() checks
	 * again with the granule GET reports once the device is open.
	 */
	if (!pci_read_bars(o->bdf, bars)) {
		c.b = &bars[o->bar];
		if (check_range(o, &c))
			return EXIT_NOT_READY;
	}
	if (o->preload) {
		if (o->place && o->at % page_size())
			return usage_error(CMD_REGISTER, "--at 0x%llx is not a multiple of the "
					   "page size (%llu)", (unsigned long long)o->at,
					   (unsigned long long)page_size());
		if (preload_find(pl.so, sizeof(pl.so)))
			return EXIT_NOT_READY;
	}

	/*
	 * Block the signals that end the registration before making it, so
	 * that one arriving meanwhile unregisters cleanly afterwards.
	 */
	sigemptyset(&waitset);
	for (i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaddset(&waitset, fwd_signals[i]);
	sigaddset(&waitset, SIGCHLD);
	sigprocmask(SIG_BLOCK, &waitset, &oldmask);

	ret = vfio_dev_open(&dev, o->bdf, buf, sizeof(buf));
	if (ret) {
		print_explained(buf);
		return EXIT_NOT_READY;
	}

	ret = p2p_feature_probe(&dev);
	t0 = t1 = 0;
	/* From here on, the granule from the kernel (if GET answers) */
	if (!ret && !p2p_granule(&dev, o->bar, &c.granule) && c.b && check_range(o, &c)) {
		vfio_dev_close(&dev);
		return EXIT_NOT_READY;
	}
	if (!ret) {
		/* What registering costs: the SET ioctl alone */
		t0 = now_seconds();
		ret = p2p_register(&dev, o->bar, o->offset, o->size);
		t1 = now_seconds();
	}
	if (ret) {
		sbuf_init(&sb, buf, sizeof(buf));
		explain_feature(&sb, OP_REGISTER, -ret, &c);
		print_explained(buf);
		vfio_dev_close(&dev);
		return EXIT_NOT_READY;
	}
	/*
	 * The range that starts at --offset: the other ranges of the BAR do
	 * not overlap it, so GET from there finds it first.
	 */
	ret = p2p_get_at(&dev, o->bar, o->offset, &r);
	if (ret || !r.registered || r.offset != o->offset) {
		/* Cannot happen, but the range printed must be the real one */
		r.offset = o->offset;
		r.size = o->size ? o->size : c.b ? c.b->size - o->offset : 0;
	}
	/* What unregistering names, and its errors explain */
	c.offset = r.offset;
	c.size = r.size;

	/* The page-backed view of the BAR, for COMMAND's environment */
	have_preg = !vfio_p2p_vfio_region(dev.device_fd, o->bar, &preg);

	pci_path(allocate, sizeof(allocate), o->bdf, "p2pmem/allocate");
	register_ns = (uint64_t)((t1 - t0) * 1e9 + 0.5);
	printf("registered %s BAR %d range 0x%llx-0x%llx (%s) as P2P memory in %.3f ms "
	       "(measured: the ioctl), struct pages %s (computed: 64 B per 4 KiB)\n",
	       o->bdf, o->bar, (unsigned long long)r.offset,
	       (unsigned long long)(r.offset + r.size - 1),
	       fmt_size(r.size, s1, sizeof(s1)), register_ns / 1e6,
	       fmt_size(r.size / SZ_4K * P2P_PAGE_STRUCT, s2, sizeof(s2)));
	if (access(allocate, F_OK))
		msg("warning: %s does not exist: %s", allocate, strerror(errno));

	if (o->hold) {
		printf("p2pmem: %s\n", allocate);
		printf("holding (pid %d): SIGINT or SIGTERM unregisters\n", (int)getpid());
		fflush(stdout);
		do {
			ret = sigwaitinfo(&waitset, &si);
		} while (ret < 0 || ret == SIGCHLD);
		status = 0;
	} else if (o->preload && preload_prepare(o, &r, have_preg, &pl)) {
		status = EXIT_NOT_READY;
	} else {
		if (o->preload)
			printf("preload: %s for %s: its shared mmap()s of %s at offset 0 map BAR "
			       "%d from 0x%llx on through the VFIO device file\n", pl.so,
			       o->command[0], pl.file, o->bar, (unsigned long long)pl.at);
		status = run_command(o, &oldmask, &waitset, allocate, &r, register_ns, &dev,
				     have_preg ? &preg : NULL, o->preload ? &pl : NULL);
		if (*pl.file)
			unlink(pl.file);
	}

	t0 = now_seconds();
	/* Size 0 if it is not known: the registration at the offset, whatever its size */
	ret = p2p_unregister(&dev, o->bar, r.offset, r.size);
	t1 = now_seconds();
	if (ret) {
		sbuf_init(&sb, buf, sizeof(buf));
		explain_feature(&sb, OP_UNREGISTER, -ret, &c);
		print_explained(buf);
		if (o->hold)
			status = EXIT_NOT_READY;
	} else {
		printf("unregistered %s BAR %d range 0x%llx-0x%llx in %.3f ms (measured: the "
		       "ioctl)\n", o->bdf, o->bar, (unsigned long long)r.offset,
		       (unsigned long long)(r.offset + r.size - 1), (t1 - t0) * 1e3);
	}
	vfio_dev_close(&dev);
	fflush(stdout);
	return status;
}

/*
 * The regions of the VFIO device file "vfio-p2p register -- COMMAND" passed
 * down, to decode mappings of that file with: only a holder of the file can
 * tell where its regions lie, and whatever runs under the same register
 * holds the same file.  Returns NULL and why not in @why.
 */
static struct vfio_p2p_regions *where_regions(struct vfio_p2p_regions *regs,
					      char *why, size_t len)
{
	const char *env_bdf = getenv(command_env[ENV_BDF]);
	int fd, ret;

	ret = env_device_fd(&fd);
	if (ret) {
		snprintf(why, len, "%s is %s", command_env[ENV_DEVICE_FD],
			 ret == -EBADF ? "not an open file descriptor here" : "not set");
		return NULL;
	}
	ret = vfio_p2p_vfio_regions(fd, regs);
	if (ret) {
		snprintf(why, len, "%s=%d: %s", command_env[ENV_DEVICE_FD], fd,
			 ret == -ENOTTY ? "not a VFIO device file" : strerror(-ret));
		return NULL;
	}
	if (!*regs->bdf && env_bdf && pci_is_bdf(env_bdf, strlen(env_bdf)))
		snprintf(regs->bdf, sizeof(regs->bdf), "%s", env_bdf);
	return regs;
}

int cmd_where(const struct p2p_opts *o)
{
	struct vfio_p2p_regions regs, *rp;
	struct vfio_p2p_loc *loc;
	int i, ret, status = 0;
	char pid[32], why[128];

	loc = malloc(sizeof(*loc));
	if (!loc) {
		msg("out of memory");
		return EXIT_NOT_READY;
	}
	snprintf(pid, sizeof(pid), "%d", o->pid ? (int)o->pid : (int)getpid());
	rp = where_regions(&regs, why, sizeof(why));

	for (i = 0; i < o->naddrs; i++) {
		unsigned long long a = o->addrs[i];

		ret = vfio_p2p_locate_dev(o->pid, a, rp, loc);
		switch (ret) {
		case 0:
			if (loc->vfio)
				printf("0x%llx %s bar %d offset 0x%llx (VFIO device file %s, "
				       "region %d)\n", a, *loc->bdf ? loc->bdf : "?", loc->bar,
				       (unsigned long long)loc->bar_offset, loc->path, loc->region);
			else
				printf("0x%llx %s bar %d offset 0x%llx\n", a, loc->bdf,
				       loc->bar, (unsigned long long)loc->bar_offset);
			continue;
		case -EFAULT:
			msg("0x%llx: not mapped in process %s", a, pid);
			break;
		case -ENOENT:
			if (loc->vfio)
				msg("0x%llx: in a mapping of the VFIO device file %s at file offset "
				    "0x%llx, outside its P2P regions: a BAR or another region of "
				    "the device, not P2P pages",
				    a, loc->path, (unsigned long long)loc->file_offset);
			else
				msg("0x%llx: not in a p2pmem mapping (process %s maps %s there)",
				    a, pid, *loc->path ? loc->path : "anonymous memory");
			break;
		case -ENODEV:
			if (rp)
				msg("0x%llx: in a mapping of another VFIO device file (%s, file "
				    "offset 0x%llx) than %s: only a holder of that file can tell "
				    "which region and BAR that is",
				    a, loc->path, (unsigned long long)loc->file_offset,
				    command_env[ENV_DEVICE_FD]);
			else
				msg("0x%llx: in a mapping of the VFIO device file %s at file offset "
				    "0x%llx: only a holder of that file can tell which region and "
				    "BAR that is, and %s; run 'where' under the 'vfio-p2p register' "
				    "that passed the file down, or call vfio_p2p_vfio_where() in "
				    "the process",
				    a, loc->path, (unsigned long long)loc->file_offset, why);
			break;
		case -ENXIO:
			msg("0x%llx: in a p2pmem mapping of %s mapped at offset 0, from anywhere: the "
			    "kernel does not say where; place it (mmap() at "
			    "PCI_P2PMEM_MMAP_OFFSET(bar, offset), vfio_p2p_map_at(), "
			    "vfio-p2p read --at)",
			    a, loc->bdf);
			break;
		case -ESTALE:
			if (loc->bar < 0)
				msg("0x%llx: in a mapping of %s that is gone: the P2P memory was "
				    "removed (e.g. vfio-pci was unbound) and accesses raise SIGBUS",
				    a, loc->path);
			else
				msg("0x%llx: in a mapping of %s that is gone: it was %s bar %d "
				    "offset 0x%llx, but the P2P memory was removed (e.g. vfio-pci "
				    "was unbound) and accesses raise SIGBUS",
				    a, loc->path, *loc->bdf ? loc->bdf : "?", loc->bar,
				    (unsigned long long)loc->bar_offset);
			break;
		case -EINVAL:
			msg("0x%llx: the file offset of the p2pmem mapping of %s names no BAR: it "
			    "is neither 0 nor PCI_P2PMEM_MMAP_OFFSET(bar 0 to 5, offset)",
			    a, loc->path);
			break;
		case -ESRCH:
			msg("no process %s", pid);
			break;
		default:
			msg("cannot read /proc/%s/maps: %s%s", pid, strerror(-ret),
			    ret == -EACCES ? " (run as root or as the owner of the process)" : "");
			break;
		}
		status = EXIT_NOT_READY;
	}
	free(loc);
	return status;
}

int main(int argc, char **argv)
{
	char err[256], line[512];
	struct p2p_opts o;

	if (parse_args(argc, argv, &o, err, sizeof(err))) {
		usage_error_line(line, sizeof(line), o.help_for, err);
		msg("%s", line);
		return EXIT_USAGE;
	}

	switch (o.cmd) {
	case CMD_PROBE:
		return cmd_probe(&o);
	case CMD_REGISTER:
		return cmd_register(&o);
	case CMD_WHERE:
		return cmd_where(&o);
	case CMD_READ:
		return cmd_read(&o);
	case CMD_BOUNCE:
		return cmd_bounce(&o);
	case CMD_VERSION:
		fputs(version_text(), stdout);
		return 0;
	default:
		break;
	}
	fputs(help_text(o.help_for), stdout);
	return 0;
}
