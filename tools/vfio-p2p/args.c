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

const char usage_text[] =
"usage: vfio-p2p probe BDF\n"
"       vfio-p2p register BDF --bar N [--offset X] [--size Y] --hold\n"
"       vfio-p2p register BDF --bar N [--offset X] [--size Y] -- COMMAND [ARG...]\n"
"       vfio-p2p where [--pid PID] ADDR...\n"
"       vfio-p2p read --dev BLOCKDEV --bytes N [--offset X] [--engine psync|io_uring]\n"
"                     [--bs N] [--qd N] [--p2pmem PATH | --dram] [--cksum] [--pause]\n"
"       vfio-p2p bounce BDF --bar N --dev BLOCKDEV --bytes N [--offset X]\n"
"                       [--engine psync|io_uring] [--bs N] [--qd N]\n"
"\n"
"probe     what stands between BDF and P2P registration: driver, IOMMU group,\n"
"          kernel support, BARs, current registrations (exit 0 if ready)\n"
"register  register a range of memory BAR N of BDF (vfio-pci) as P2P memory,\n"
"          run COMMAND with VFIO_P2P_ALLOCATE, VFIO_P2P_BDF, VFIO_P2P_BAR,\n"
"          VFIO_P2P_OFFSET, VFIO_P2P_SIZE in its environment, unregister when\n"
"          it exits, exit with its status; --hold: wait for SIGINT/SIGTERM\n"
"where     device, BAR and offset in the BAR of addresses in p2pmem mappings\n"
"          of process PID\n"
"read      O_DIRECT read of BLOCKDEV into a buffer mapped from\n"
"          $VFIO_P2P_ALLOCATE (or --p2pmem PATH, or DRAM with --dram); prints\n"
"          throughput and where the buffer is; --cksum prints cksum(1) of\n"
"          the data; --pause keeps the buffer mapped until SIGTERM/SIGINT\n"
"bounce    the way without registration, to compare with: O_DIRECT read of\n"
"          BLOCKDEV into DRAM, each chunk copied into BAR N mmap()ed through\n"
"          VFIO; prints throughput and CPU time, then checks the BAR (TAP)\n"
"\n"
"Numbers take 0x and K, M, G suffixes (binary). BDF is [dddd:]bb:dd.f.\n";

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
	"--bar", "--offset", "--size", "--pid", "--bytes", "--bs", "--qd",
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
	else
		return 0;
	return 1;
}

/* Which options each command takes */
static bool allowed(enum p2p_cmd cmd, const char *arg)
{
	static const char *const reg[] = { "--bar", "--offset", "--size", "--hold" };
	static const char *const where[] = { "--pid" };
	static const char *const rd[] = {
		"--dev", "--bytes", "--offset", "--engine", "--bs", "--qd",
		"--p2pmem", "--dram", "--cksum", "--pause",
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
		if (o->dram && o->p2pmem)
			return fail(err, len, "read takes --dram or --p2pmem, not both");
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
	case CMD_HELP:
		break;
	}
	return 0;
}

int parse_args(int argc, char **argv, struct p2p_opts *o, char *err, size_t len)
{
	bool have_bdf = false;
	const char *sub;
	int i, ret;

	memset(o, 0, sizeof(*o));
	o->bar = -1;
	o->engine = ENGINE_PSYNC;
	if (len)
		err[0] = '\0';

	if (argc < 2)
		return fail(err, len, "no command given");
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
		o->cmd = CMD_HELP;
		return 0;
	}
	if (!strcmp(sub, "probe"))
		o->cmd = CMD_PROBE;
	else if (!strcmp(sub, "register"))
		o->cmd = CMD_REGISTER;
	else if (!strcmp(sub, "where"))
		o->cmd = CMD_WHERE;
	else if (!strcmp(sub, "read"))
		o->cmd = CMD_READ;
	else if (!strcmp(sub, "bounce"))
		o->cmd = CMD_BOUNCE;
	else
		return fail(err, len, "unknown command '%s'", sub);

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			o->cmd = CMD_HELP;
			return 0;
		}
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
