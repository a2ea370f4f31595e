// SPDX-License-Identifier: GPL-2.0
/*
 * Command line parsing of vfio-p2p, kept apart from the commands so that
 * the unit tests can run it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "util.h"

const char *const command_env[NR_ENV] = {
	[ENV_ALLOCATE] = "VFIO_P2P_ALLOCATE",
	[ENV_BDF] = "VFIO_P2P_BDF",
	[ENV_BAR] = "VFIO_P2P_BAR",
	[ENV_OFFSET] = "VFIO_P2P_OFFSET",
	[ENV_SIZE] = "VFIO_P2P_SIZE",
	[ENV_REGISTER_NS] = "VFIO_P2P_REGISTER_NS",
	[ENV_DEVICE_FD] = "VFIO_P2P_DEVICE_FD",
	[ENV_REGION_INDEX] = "VFIO_P2P_REGION_INDEX",
	[ENV_REGION_OFFSET] = "VFIO_P2P_REGION_OFFSET",
	[ENV_MMAP_FILE] = "VFIO_P2P_MMAP_FILE",
	[ENV_MMAP_AT] = "VFIO_P2P_MMAP_AT",
};

static const char main_help[] =
"usage: vfio-p2p COMMAND [ARG...]\n"
"       vfio-p2p COMMAND --help\n"
"       vfio-p2p --version\n"
"\n"
"Registers a memory BAR of a vfio-pci device as P2P memory\n"
"(VFIO_DEVICE_FEATURE_P2P_REGISTER), runs a command while it is registered,\n"
"and tells where p2pmem buffers lie in their BAR.\n"
"\n"
"commands:\n"
"  probe BDF             what stands between BDF and P2P registration: driver,\n"
"                        IOMMU group, kernel support, BARs, registrations\n"
"  register BDF --bar N  register a range of BAR N, then --hold, or run\n"
"                        -- COMMAND (VFIO_P2P_* in its environment, see\n"
"                        'vfio-p2p register --help') and unregister when it\n"
"                        exits; --preload puts the buffers a program maps\n"
"                        from a file (fio mem=mmapshared) in the BAR\n"
"  where ADDR...         device, BAR and offset in the BAR of placed p2pmem\n"
"                        buffers of a process\n"
"  read --dev BLOCKDEV   O_DIRECT read of BLOCKDEV into p2pmem (--at places\n"
"                        the buffer in the BAR, --vfio maps it through the\n"
"                        VFIO device file, --verify reads the BAR back) or DRAM\n"
"  bounce BDF --bar N    the way without registration: read into DRAM, copy\n"
"                        into the BAR mmap()ed through VFIO\n"
"\n"
"'vfio-p2p COMMAND --help' tells more of each, 'vfio-p2p help COMMAND' too.\n"
"BDF is [dddd:]bb:dd.f. Numbers take 0x and K, M, G suffixes (binary).\n"
"Exit status: 0 success, 1 not ready or failed, 2 usage error.\n";

static const char probe_help[] =
"usage: vfio-p2p probe BDF\n"
"\n"
"Tells what stands between BDF and P2P registration: the bound driver (and\n"
"how to bind it to vfio-pci), the IOMMU group and whether VFIO can use it,\n"
"the locked memory limit (RLIMIT_MEMLOCK) that registrations are charged\n"
"to, whether the running kernel supports the feature, each BAR (kind, size,\n"
"address, registrable or why not, what registering all of it is charged)\n"
"and each range of it the kernel reports, on a line of its own:\n"
"\n"
"  bar 2 range: 0x0-0x3fffff (4 MiB), registered, charges 64 KiB of memlock\n"
"  bar 2 range: 0x400000-0x5fffff (2 MiB), draining: ended, I/O in flight\n"
"\n"
"(draining: the registration ended but I/O to the range is in flight, and\n"
"the range stays busy until it is over), the granule the kernel aligns\n"
"ranges to (from the kernel, which the BARs are checked against; 2 MiB,\n"
"assumed, if the kernel was not asked), and the device's p2pmem (size and\n"
"available, as sysfs says).\n"
"\n"
"Opens the device through VFIO, which vfio-pci may answer with a reset.\n"
"Exit status 0 if the device is ready, 1 if not.\n";

static const char register_help[] =
"usage: vfio-p2p register BDF --bar N [--offset X] [--size Y] --hold\n"
"       vfio-p2p register BDF --bar N [--offset X] [--size Y] -- COMMAND [ARG...]\n"
"       vfio-p2p register BDF --bar N [--offset X] [--size Y] --preload\n"
"                [--at OFFSET] -- COMMAND [ARG...]\n"
"\n"
"Registers Y bytes from offset X of memory BAR N of BDF (bound to vfio-pci)\n"
"as P2P memory: default the whole BAR, --size 0 to its end; X, Y and the\n"
"address of the range must be multiples of the granule that the kernel\n"
"reports once the device is open (2 MiB on x86_64; before it opens the\n"
"device, register checks against 2 MiB, the smallest there is). Prints one\n"
"line with the range, the time the ioctl took (measured, wall clock) and the\n"
"struct pages the range costs (computed: 64 bytes per 4 KiB), then:\n"
"\n"
"  --hold        prints the p2pmem path and waits; SIGINT or SIGTERM\n"
"                unregisters, exit status 0\n"
"  -- COMMAND    runs COMMAND, forwarding SIGINT, SIGTERM, SIGHUP, SIGQUIT,\n"
"                unregisters when it exits and exits with its status (128 +\n"
"                signal if it was killed, 127 if it could not be run)\n"
"  --preload     runs COMMAND with libvfio-p2p-preload.so (next to vfio-p2p,\n"
"                or $VFIO_P2P_PRELOAD) in front of LD_PRELOAD: a shared mmap()\n"
"                at offset 0 of the empty file $VFIO_P2P_MMAP_FILE maps the\n"
"                P2P pages through the VFIO device file instead, from BAR\n"
"                offset --at OFFSET (default: the start of the range) on, each\n"
"                buffer after the one before, ENOMEM past the range's end;\n"
"                VFIO_P2P_PRELOAD_VERBOSE=1 prints where each one went\n"
"\n"
"fio, two ways (fio-jobs/ of the source tree):\n"
"  register BDF --bar 2 -- sh -c 'P2PMEM=$VFIO_P2P_ALLOCATE fio JOB'\n"
"      JOB has mem=mmapshared:${P2PMEM}: p2pmem/allocate of sysfs, buffers\n"
"      from anywhere in the range; needs root, or access to that file\n"
"  register BDF --bar 2 --preload -- fio JOB\n"
"      JOB has mem=mmapshared:${VFIO_P2P_MMAP_FILE}: through the VFIO device\n"
"      file, from --at on; no root, no sysfs file\n"
"\n"
"Unregistering ends the range at offset X and no other (a BAR can have\n"
"several registered ranges that do not overlap; EEXIST for one that does),\n"
"and prints the range and the time that ioctl took (measured). The\n"
"registration also ends when the VFIO device file closes (register and\n"
"whatever of COMMAND still holds it have exited), on any device reset,\n"
"memory decode off and low power entry: p2pmem mappings raise SIGBUS from\n"
"then on.\n"
"\n"
"No root needed, only the VFIO files of BDF: the struct pages are charged to\n"
"the user's locked memory, 1/64 of the range rounded up to pages, against\n"
"RLIMIT_MEMLOCK ('ulimit -l', prlimit; ENOMEM beyond it, unless the process\n"
"has CAP_IPC_LOCK). 'vfio-p2p probe BDF' shows the limit and the charge.\n"
"\n"
"environment of COMMAND (numbers in decimal):\n"
"  VFIO_P2P_ALLOCATE      /sys/bus/pci/devices/BDF/p2pmem/allocate\n"
"  VFIO_P2P_BDF           the device, dddd:bb:dd.f\n"
"  VFIO_P2P_BAR           the BAR index N\n"
"  VFIO_P2P_OFFSET        start of the registered range in the BAR, bytes\n"
"  VFIO_P2P_SIZE          size of the registered range, bytes\n"
"  VFIO_P2P_REGISTER_NS   how long the registering ioctl took, ns (measured)\n"
"  VFIO_P2P_DEVICE_FD     the VFIO device file descriptor, which COMMAND\n"
"                         inherits: VFIO ioctls, pread() of the BAR region,\n"
"                         mmap() of P2P pages ('vfio-p2p read --vfio')\n"
"  VFIO_P2P_REGION_INDEX  index of the page-backed region of BAR N in the\n"
"                         device file (VFIO_REGION_TYPE_PCI_P2P)\n"
"  VFIO_P2P_REGION_OFFSET offset of that region in the device file: a shared\n"
"                         mmap() of the fd at it + X maps the P2P pages at\n"
"                         offset X of the BAR (both unset if the kernel has\n"
"                         no such region)\n"
"with --preload, also (and libvfio-p2p-preload.so first in LD_PRELOAD):\n"
"  VFIO_P2P_MMAP_FILE     the placeholder file to map: an empty regular file\n"
"                         in $TMPDIR (default /tmp), removed afterwards\n"
"  VFIO_P2P_MMAP_AT       BAR offset of the first buffer (--at), bytes\n";

static const char where_help[] =
"usage: vfio-p2p where [--pid PID] ADDR...\n"
"\n"
"For each address (hex) in a p2pmem mapping of process PID (default: this\n"
"one), prints the device, the BAR and the offset in the BAR:\n"
"\n"
"    0x7f12c4a01000 0000:03:00.0 bar 2 offset 0x201000\n"
"\n"
"It decodes the file offset of the mapping in /proc/PID/maps, which is\n"
"what the mapping asked for: PCI_P2PMEM_MMAP_OFFSET(bar, offset), (bar + 1)\n"
"<< 48 | offset, for a buffer placed there ('vfio-p2p read --at',\n"
"vfio_p2p_map_at()). A buffer mapped at file offset 0 came from anywhere in\n"
"the P2P memory and the kernel does not say where: 'where' says so (ENXIO)\n"
"and exits 1.\n"
"\n"
"A buffer mapped through the VFIO device file ('vfio-p2p read --vfio',\n"
"vfio_p2p_vfio_map_at()) is at the file offset of the BAR's P2P region plus\n"
"the offset in the BAR, and only a holder of that file can tell where the\n"
"regions are: run under 'vfio-p2p register -- COMMAND', 'where' asks the\n"
"file in VFIO_P2P_DEVICE_FD (the one the reader inherited too), and prints\n"
"\n"
"    0x7f12c4a01000 0000:03:00.0 bar 2 offset 0x201000 (VFIO device file\n"
"    /dev/vfio/devices/vfio0, region 9)\n"
"\n"
"(on one line); without it, or for another device file, it says who can\n"
"tell (ENODEV) and exits 1.\n"
"\n"
"environment: VFIO_P2P_DEVICE_FD, VFIO_P2P_BDF (set by 'vfio-p2p register').\n";

static const char read_help[] =
"usage: vfio-p2p read --dev BLOCKDEV --bytes N [--offset X]\n"
"                     [--engine psync|io_uring] [--bs N] [--qd N]\n"
"                     [--p2pmem PATH] [--at OFFSET [--bar N]] [--verify]\n"
"                     [--cksum] [--pause]\n"
"       vfio-p2p read ... --vfio [--at OFFSET] [--bar N] [--verify]\n"
"       vfio-p2p read --dev BLOCKDEV --bytes N [--offset X] --dram ...\n"
"\n"
"A helper for demos and tests: maps a buffer of bs x qd bytes of p2pmem,\n"
"O_DIRECT-reads N bytes of BLOCKDEV from offset X into it, bs at a time, and\n"
"prints the throughput (measured: wall clock of the reads) and where the\n"
"buffer is.\n"
"\n"
"  --p2pmem PATH   the p2pmem/allocate file to map (default:\n"
"                  $VFIO_P2P_ALLOCATE, set by 'vfio-p2p register -- COMMAND')\n"
"  --at OFFSET     place the buffer OFFSET bytes into the registered BAR\n"
"                  (page aligned, inside the registered range): then the\n"
"                  data is known to be there, and 'where' can tell it too.\n"
"                  Without --at the buffer comes from anywhere in the P2P\n"
"                  memory, and the kernel does not say where\n"
"  --bar N         the BAR of --at (default: $VFIO_P2P_BAR)\n"
"  --vfio          map the buffer through the VFIO device file\n"
"                  ($VFIO_P2P_DEVICE_FD, inherited from 'vfio-p2p register'),\n"
"                  its page-backed region of the BAR, at --at OFFSET (default:\n"
"                  $VFIO_P2P_OFFSET, the start of the registered range); no\n"
"                  sysfs file, no root. 'where' under the same register\n"
"                  decodes it too\n"
"  --verify        after the reads, read the buffer's place in the BAR back\n"
"                  with pread() of the BAR's VFIO region (not the mapping)\n"
"                  and compare it with the buffer and with BLOCKDEV; needs a\n"
"                  placed buffer (--vfio or --at) and $VFIO_P2P_DEVICE_FD.\n"
"                  The place is filled with 0xa5 through VFIO first, so that\n"
"                  stale bytes cannot pass. Exit 1 on a mismatch\n"
"  --dram          read into DRAM instead: the baseline\n"
"  --engine E      psync (default: one read at a time) or io_uring\n"
"  --bs N          bytes per read (default 1 MiB)\n"
"  --qd N          reads in flight with io_uring (default 8)\n"
"  --cksum         print the POSIX cksum of the data as the CPU reads it back\n"
"                  from the buffer, to compare with\n"
"                  'dd if=BLOCKDEV bs=1M count=... iflag=direct | cksum'\n"
"  --pause         keep the buffer mapped after printing, until SIGTERM or\n"
"                  SIGINT\n"
"\n"
"environment: VFIO_P2P_ALLOCATE, VFIO_P2P_BAR, VFIO_P2P_DEVICE_FD and\n"
"VFIO_P2P_OFFSET, as above; the others of 'vfio-p2p register --help'\n"
"(VFIO_P2P_SIZE, VFIO_P2P_BDF) name the registered range and the device in\n"
"the messages.\n";

static const char bounce_help[] =
"usage: vfio-p2p bounce BDF --bar N --dev BLOCKDEV --bytes N [--offset X]\n"
"                       [--engine psync|io_uring] [--bs N] [--qd N]\n"
"\n"
"The way to get data from a block device into a BAR without registration,\n"
"to compare with: opens BDF through VFIO, mmap()s the start of BAR N through\n"
"the VFIO region, O_DIRECT-reads N bytes of BLOCKDEV from offset X into a\n"
"DRAM ring of qd buffers of bs bytes (as 'read' does, same defaults) and\n"
"copies each chunk with the CPU into the BAR, chunk i at offset\n"
"(i mod qd) x bs. Prints TAP, the wall time and CPU time of the reads and\n"
"copies (measured: clock and getrusage), then reads the BAR back through\n"
"the VFIO region and compares it with the device. The BAR must not be\n"
"registered, nor the device open elsewhere. Exit 0 if every check passed.\n";

const char *cmd_name(enum p2p_cmd cmd)
{
	switch (cmd) {
	case CMD_PROBE:
		return "probe";
	case CMD_REGISTER:
		return "register";
	case CMD_WHERE:
		return "where";
	case CMD_READ:
		return "read";
	case CMD_BOUNCE:
		return "bounce";
	default:
		return "";
	}
}

const char *help_text(enum p2p_cmd cmd)
{
	switch (cmd) {
	case CMD_PROBE:
		return probe_help;
	case CMD_REGISTER:
		return register_help;
	case CMD_WHERE:
		return where_help;
	case CMD_READ:
		return read_help;
	case CMD_BOUNCE:
		return bounce_help;
	default:
		return main_help;
	}
}

const char *version_text(void)
{
	return "vfio-p2p " VFIO_P2P_VERSION "\n"
	       "UAPI: VFIO_DEVICE_FEATURE_P2P_REGISTER, several ranges per BAR, listed by\n"
	       "GET with their state and the granule; p2pmem/allocate placed at file\n"
	       "offset PCI_P2PMEM_MMAP_OFFSET(bar, offset) = (bar + 1) << 48 | offset;\n"
	       "P2P pages through the VFIO device file: region VFIO_REGION_TYPE_PCI_P2P,\n"
	       "subtype the BAR, decoded by 'where' with the regions of the device file\n"
	       "held (VFIO_DEVICE_GET_REGION_INFO): BAR offset = file offset - region offset\n";
}

void usage_error_line(char *buf, size_t len, enum p2p_cmd cmd, const char *err)
{
	const char *name = cmd_name(cmd);

	snprintf(buf, len, "%s (see 'vfio-p2p %s%s--help')", err, name,
		 *name ? " " : "");
}

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * If argv[*i] is option @name, as "--name value" or "--name=value", point
 * @val at the value and advance *i past it.  1 if matched, 0 if not,
 * -EINVAL if the value is missing.
 */
static int opt_val(int argc, char **argv, int *i, const char *name,
		   const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc)
		return -EINVAL;
	*val = argv[++*i];
	return 1;
}

static int num_opt(const char *name, const char *val, uint64_t *out,
		   char *err, size_t len)
{
	int ret = parse_u64(val, out);

	if (ret == -ERANGE)
		return fail(err, len, "%s %s: number too large", name, val);
	if (ret)
		return fail(err, len, "%s %s: not a number", name, val);
	return 0;
}

static const char *const num_opts[] = {
	"--bar", "--offset", "--size", "--pid", "--bytes", "--bs", "--qd", "--at",
};

static int parse_common(int argc, char **argv, int *i, struct p2p_opts *o,
			char *err, size_t len)
{
	const char *val = NULL;
	uint64_t v;
	size_t k;
	int ret;

	for (k = 0; k < ARRAY_SIZE(num_opts); k++) {
		ret = opt_val(argc, argv, i, num_opts[k], &val);
		if (!ret)
			continue;
		if (ret < 0)
			return fail(err, len, "%s needs a value", num_opts[k]);
		if (num_opt(num_opts[k], val, &v, err, len))
			return -EINVAL;
		switch (k) {
		case 0:
			if (v >= PCI_NUM_BARS)
				return fail(err, len, "--bar %s: a BAR is 0 to 5", val);
			o->bar = (int)v;
			break;
		case 1:
			if (o->cmd == CMD_READ || o->cmd == CMD_BOUNCE)
				o->dev_offset = v;
			else
				o->offset = v;
			break;
		case 2:
			o->size = v;
			break;
		case 3:
			if (!v || v > 0x7fffffff)
				return fail(err, len, "--pid %s: not a process id", val);
			o->pid = (pid_t)v;
			break;
		case 4:
			if (!v)
				return fail(err, len, "--bytes must be more than 0");
			o->bytes = v;
			break;
		case 5:
			if (!v || v > (1ULL << 30))
				return fail(err, len, "--bs %s: 1 byte to 1 GiB", val);
			o->bs = v;
			break;
		case 6:
			if (!v || v > 4096)
				return fail(err, len, "--qd %s: 1 to 4096", val);
			o->qd = (unsigned int)v;
			break;
		case 7:
			o->place = true;
			o->at = v;
			break;
		}
		return 1;
	}

	ret = opt_val(argc, argv, i, "--dev", &val);
	if (ret) {
		if (ret < 0 || !*val)
			return fail(err, len, "--dev needs a block device");
		o->dev = val;
		return 1;
	}
	ret = opt_val(argc, argv, i, "--p2pmem", &val);
	if (ret) {
		if (ret < 0 || !*val)
			return fail(err, len, "--p2pmem needs a path");
		o->p2pmem = val;
		return 1;
	}
	ret = opt_val(argc, argv, i, "--engine", &val);
	if (ret) {
		if (ret < 0)
			return fail(err, len, "--engine needs a value");
		if (!strcmp(val, "psync"))
			o->engine = ENGINE_PSYNC;
		else if (!strcmp(val, "io_uring"))
			o->engine = ENGINE_IO_URING;
		else
			return fail(err, len, "--engine %s: psync or io_uring", val);
		return 1;
	}
	if (!strcmp(argv[*i], "--hold"))
		o->hold = true;
	else if (!strcmp(argv[*i], "--dram"))
		o->dram = true;
	else if (!strcmp(argv[*i], "--cksum"))
		o->cksum = true;
	else if (!strcmp(argv[*i], "--pause"))
		o->pause = true;
	else if (!strcmp(argv[*i], "--vfio"))
		o->vfio = true;
	else if (!strcmp(argv[*i], "--verify"))
		o->verify = true;
	else if (!strcmp(argv[*i], "--preload"))
		o->preload = true;
	else
		return 0;
	return 1;
}

/* Which options each command takes */
static bool allowed(enum p2p_cmd cmd, const char *arg)
{
	static const char *const reg[] = {
		"--bar", "--offset", "--size", "--hold", "--preload", "--at",
	};
	static const char *const where[] = { "--pid" };
	static const char *const rd[] = {
		"--dev", "--bytes", "--offset", "--engine", "--bs", "--qd",
		"--p2pmem", "--dram", "--cksum", "--pause", "--at", "--bar",
		"--vfio", "--verify",
	};
	static const char *const bounce[] = {
		"--bar", "--dev", "--bytes", "--offset", "--engine", "--bs", "--qd",
	};
	const char *const *list;
	size_t n, k, l;

	switch (cmd) {
	case CMD_REGISTER:
		list = reg;
		n = ARRAY_SIZE(reg);
		break;
	case CMD_WHERE:
		list = where;
		n = ARRAY_SIZE(where);
		break;
	case CMD_READ:
		list = rd;
		n = ARRAY_SIZE(rd);
		break;
	case CMD_BOUNCE:
		list = bounce;
		n = ARRAY_SIZE(bounce);
		break;
	default:
		return false;
	}
	for (k = 0; k < n; k++) {
		l = strlen(list[k]);
		if (!strncmp(arg, list[k], l) && (!arg[l] || arg[l] == '='))
			return true;
	}
	return false;
}

static int check_cmd(struct p2p_opts *o, bool have_bdf, char *err, size_t len)
{
	switch (o->cmd) {
	case CMD_PROBE:
		if (!have_bdf)
			return fail(err, len, "probe needs a BDF");
		break;
	case CMD_REGISTER:
		if (!have_bdf)
			return fail(err, len, "register needs a BDF");
		if (o->bar < 0)
			return fail(err, len, "register needs --bar N");
		if (o->hold && o->command)
			return fail(err, len, "register takes --hold or -- COMMAND, not both");
		if (!o->hold && !o->command)
			return fail(err, len, "register needs --hold or -- COMMAND");
		if (o->preload && !o->command)
			return fail(err, len, "register --preload needs -- COMMAND (the "
					      "program to preload)");
		if (o->place && !o->preload)
			return fail(err, len, "register: --at OFFSET goes with --preload");
		break;
	case CMD_WHERE:
		if (!o->naddrs)
			return fail(err, len, "where needs at least one address");
		break;
	case CMD_READ:
		if (!o->dev)
			return fail(err, len, "read needs --dev BLOCKDEV");
		if (!o->bytes)
			return fail(err, len, "read needs --bytes N");
		if (o->vfio && (o->dram || o->p2pmem))
			return fail(err, len, "read takes one of --vfio, --p2pmem and --dram");
		if (o->dram && o->p2pmem)
			return fail(err, len, "read takes --dram or --p2pmem, not both");
		if (o->dram && o->place)
			return fail(err, len, "read takes --dram or --at, not both");
		if (o->verify && o->dram)
			return fail(err, len, "read --verify reads a BAR back, not DRAM: "
					      "--vfio or --at OFFSET");
		if (o->verify && !o->vfio && !o->place)
			return fail(err, len, "read --verify needs a placed buffer: --vfio or "
					      "--at OFFSET");
		if (o->bar >= 0 && !o->place && !o->vfio)
			return fail(err, len, "read: --bar N goes with --at OFFSET or --vfio");
		if (o->engine == ENGINE_PSYNC && o->qd > 1)
			return fail(err, len, "--qd %u: psync does one read at a time, use "
					      "--engine io_uring",
				    o->qd);
		break;
	case CMD_BOUNCE:
		if (!have_bdf)
			return fail(err, len, "bounce needs a BDF");
		if (o->bar < 0)
			return fail(err, len, "bounce needs --bar N");
		if (!o->dev)
			return fail(err, len, "bounce needs --dev BLOCKDEV");
		if (!o->bytes)
			return fail(err, len, "bounce needs --bytes N");
		if (o->engine == ENGINE_PSYNC && o->qd > 1)
			return fail(err, len, "--qd %u: psync does one read at a time, use "
					      "--engine io_uring",
				    o->qd);
		break;
	default:
		break;
	}
	return 0;
}

static bool is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

static bool is_version(const char *a)
{
	return !strcmp(a, "-V") || !strcmp(a, "--version");
}

/* The command called @name; CMD_HELP if there is none */
static enum p2p_cmd cmd_by_name(const char *name)
{
	int c;

	for (c = CMD_PROBE; c < NR_CMDS; c++)
		if (!strcmp(name, cmd_name((enum p2p_cmd)c)))
			return (enum p2p_cmd)c;
	return CMD_HELP;
}

int parse_args(int argc, char **argv, struct p2p_opts *o, char *err, size_t len)
{
	bool have_bdf = false;
	const char *sub;
	int i, ret;

	memset(o, 0, sizeof(*o));
	o->cmd = CMD_HELP;
	o->help_for = CMD_HELP;
	o->bar = -1;
	o->engine = ENGINE_PSYNC;
	if (len)
		err[0] = '\0';

	if (argc < 2)
		return fail(err, len, "no command given");
	sub = argv[1];
	if (is_help(sub) || !strcmp(sub, "help")) {
		if (argc > 2 && !strcmp(sub, "help")) {
			o->help_for = cmd_by_name(argv[2]);
			if (o->help_for == CMD_HELP)
				return fail(err, len, "help: unknown command '%s'", argv[2]);
		}
		if (argc > (o->help_for == CMD_HELP ? 2 : 3))
			return fail(err, len, "unexpected argument '%s' after %s",
				    argv[o->help_for == CMD_HELP ? 2 : 3], sub);
		return 0;
	}
	if (is_version(sub)) {
		if (argc > 2)
			return fail(err, len, "unexpected argument '%s' after %s", argv[2], sub);
		o->cmd = CMD_VERSION;
		return 0;
	}
	o->help_for = cmd_by_name(sub);
	if (o->help_for == CMD_HELP)
		return fail(err, len, "unknown command '%s'", sub);

	/* --help (or --version) before "--" wins over any mistake around it */
	for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
		if (is_help(argv[i]))
			return 0;
		if (is_version(argv[i])) {
			o->cmd = CMD_VERSION;
			return 0;
		}
	}
	o->cmd = o->help_for;

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			if (o->cmd != CMD_REGISTER)
				return fail(err, len, "'--' is only for register -- COMMAND");
			if (i + 1 >= argc)
				return fail(err, len, "no COMMAND after '--'");
			o->command = &argv[i + 1];
			break;
		}
		if (a[0] == '-' && a[1] == '-') {
			if (!allowed(o->cmd, a))
				return fail(err, len, "%s: unknown option for %s", a, sub);
			ret = parse_common(argc, argv, &i, o, err, len);
			if (ret < 0)
				return ret;
			if (!ret)
				return fail(err, len, "%s: unknown option for %s", a, sub);
			continue;
		}
		if (a[0] == '-' && a[1])
			return fail(err, len, "%s: unknown option for %s", a, sub);

		/* positional */
		if (o->cmd == CMD_PROBE || o->cmd == CMD_REGISTER || o->cmd == CMD_BOUNCE) {
			if (have_bdf)
				return fail(err, len, "unexpected argument '%s'", a);
			if (pci_norm_bdf(a, o->bdf))
				return fail(err, len, "'%s' is not a PCI address (dddd:bb:dd.f)",
					    a);
			have_bdf = true;
		} else if (o->cmd == CMD_WHERE) {
			if (o->naddrs >= MAX_ADDRS)
				return fail(err, len, "at most %d addresses", MAX_ADDRS);
			if (parse_addr(a, &o->addrs[o->naddrs]))
				return fail(err, len, "'%s' is not an address (hex)", a);
			o->naddrs++;
		} else {
			return fail(err, len, "unexpected argument '%s'", a);
		}
	}

	return check_cmd(o, have_bdf, err, len);
}
