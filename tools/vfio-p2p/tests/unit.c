// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side unit tests of vfio-p2p: no device, no kernel support needed.
 * Prints TAP; the last line is "# N passed, N failed"; exits 1 on failure.
 *
 * Covers argument parsing, the help texts, --version and usage errors, the
 * /proc/<pid>/maps decoder (synthetic lines, and this process's own maps
 * with a file laid out like p2pmem, placed with vfio_p2p_map_at() and
 * not), the capability chain walker and argument checks of the VFIO
 * mapping library, the locked memory charge, the BAR table parser, a
 * synthetic sysfs tree (driver, IOMMU group) and the error messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "args.h"
#include "explain.h"
#include "pci.h"
#include "util.h"
#include "vfio_p2p_preload.h"
#include "vfio_p2p_vfio.h"
#include "vfio_p2p_where.h"

static int tests, passed, failed;

static bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (cond)
		passed++;
	else
		failed++;
	printf("%sok %d - ", cond ? "" : "not ", tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

/* Print @text as TAP diagnostics */
static void diag(const char *what, const char *text)
{
	const char *p = text, *nl;

	printf("# %s:\n", what);
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("#   %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static void has(const char *text, const char *needle, const char *what)
{
	if (!ok(strstr(text, needle) != NULL, "%s mentions \"%s\"", what, needle))
		diag("text", text);
}

static void lacks(const char *text, const char *needle, const char *what)
{
	if (!ok(strstr(text, needle) == NULL, "%s does not mention \"%s\"", what, needle))
		diag("text", text);
}

/* ---- numbers ---- */

static void test_numbers(void)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t v;
	} cases[] = {
		{ "4096", 0, 4096 },
		{ "0x1000", 0, 4096 },
		{ "2M", 0, 2ULL << 20 },
		{ "2MiB", 0, 2ULL << 20 },
		{ "1g", 0, 1ULL << 30 },
		{ "0x10K", 0, 16ULL << 10 },
		{ "0", 0, 0 },
		{ "", -EINVAL, 0 },
		{ "12x", -EINVAL, 0 },
		{ "2MB5", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "17179869184G", -ERANGE, 0 },
	};
	char buf[32];
	uint64_t v;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		v = 0;
		ret = parse_u64(cases[i].s, &v);
		ok(ret == cases[i].ret && (ret || v == cases[i].v),
		   "parse_u64(\"%s\") = %d, %llu", cases[i].s, ret,
		   (unsigned long long)v);
	}
	ok(!parse_addr("7f12c4a00000", &v) && v == 0x7f12c4a00000ULL,
	   "parse_addr without 0x");
	ok(!parse_addr("0x7f12c4a00000", &v) && v == 0x7f12c4a00000ULL,
	   "parse_addr with 0x");
	ok(parse_addr("7f12g", &v) == -EINVAL, "parse_addr rejects junk");

	ok(!strcmp(fmt_size(256ULL << 20, buf, sizeof(buf)), "256 MiB"),
	   "fmt_size 256 MiB: %s", buf);
	ok(!strcmp(fmt_size(4096, buf, sizeof(buf)), "4 KiB"), "fmt_size 4 KiB: %s", buf);
	ok(!strcmp(fmt_size(3, buf, sizeof(buf)), "3 B"), "fmt_size 3 B: %s", buf);
	ok(!strcmp(fmt_size(3ULL << 29, buf, sizeof(buf)), "1.5 GiB"), "fmt_size 1.5 GiB: %s", buf);
	ok(!strcmp(fmt_size(0, buf, sizeof(buf)), "0 B"), "fmt_size 0 B: %s", buf);
}

static void test_cksum(void)
{
	static uint8_t zeros[100000];
	uint32_t c;

	/* Values from coreutils cksum */
	ok(cksum_finish(cksum_update(0, "", 0), 0) == 4294967295u, "cksum of nothing");
	ok(cksum_finish(cksum_update(0, "a", 1), 1) == 1220704766u, "cksum of \"a\"");
	c = cksum_update(0, "1234", 4);
	c = cksum_update(c, "56789", 5);
	ok(cksum_finish(c, 9) == 930766865u, "cksum of \"123456789\" in two parts");
	ok(cksum_finish(cksum_update(0, zeros, sizeof(zeros)), sizeof(zeros)) == 1260869142u,
	   "cksum of 100000 zero bytes");
}

/* ---- arguments ---- */

static int parse(struct p2p_opts *o, char *err, size_t len, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "vfio-p2p";
	va_start(ap, len);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return parse_args(argc, argv, o, err, len);
}

static void parse_fails(const char *needle, const char *what, ...)
{
	char *argv[32], err[256];
	struct p2p_opts o;
	int argc = 0, ret;
	va_list ap;

	argv[argc++] = "vfio-p2p";
	va_start(ap, what);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	ret = parse_args(argc, argv, &o, err, sizeof(err));
	if (!ok(ret == -EINVAL && strstr(err, needle), "rejected: %s", what))
		diag("error", err);
}

static void test_args(void)
{
	struct p2p_opts o;
	char err[256];
	int ret;

	ret = parse(&o, err, sizeof(err), "probe", "03:00.0", NULL);
	ok(!ret && o.cmd == CMD_PROBE && !strcmp(o.bdf, "0000:03:00.0"),
	   "probe with a short BDF");

	ret = parse(&o, err, sizeof(err), "register", "0000:03:00.0", "--bar", "2",
		    "--offset", "2M", "--size=0x400000", "--", "sh", "-c", "echo --bar", NULL);
	ok(!ret && o.cmd == CMD_REGISTER && o.bar == 2 && o.offset == (2ULL << 20) &&
	   o.size == 0x400000 && !o.hold && o.command &&
	   !strcmp(o.command[0], "sh") && !strcmp(o.command[2], "echo --bar") &&
	   !o.command[3], "register -- COMMAND keeps the command's own options");

	ret = parse(&o, err, sizeof(err), "register", "0000:0A:00.0", "--bar=2", "--hold", NULL);
	ok(!ret && o.hold && !o.command && o.size == 0 && o.offset == 0 &&
	   !strcmp(o.bdf, "0000:0a:00.0"), "register --hold, BDF lowercased");

	ret = parse(&o, err, sizeof(err), "where", "--pid", "42", "7f0000001000",
		    "0x7f0000002000", NULL);
	ok(!ret && o.cmd == CMD_WHERE && o.pid == 42 && o.naddrs == 2 &&
	   o.addrs[0] == 0x7f0000001000ULL && o.addrs[1] == 0x7f0000002000ULL,
	   "where --pid with two addresses");

	ret = parse(&o, err, sizeof(err), "read", "--dev", "/dev/nvme0n1", "--bytes", "32M",
		    "--offset", "1M", "--engine", "io_uring", "--qd", "16", "--bs", "128k",
		    "--cksum", NULL);
	ok(!ret && o.cmd == CMD_READ && !strcmp(o.dev, "/dev/nvme0n1") &&
	   o.bytes == (32ULL << 20) && o.dev_offset == (1ULL << 20) &&
	   o.engine == ENGINE_IO_URING && o.qd == 16 && o.bs == (128ULL << 10) &&
	   o.cksum && !o.pause && !o.dram, "read with every option");

	ret = parse(&o, err, sizeof(err), "bounce", "03:00.0", "--bar", "2", "--dev",
		    "/dev/nvme0n1", "--bytes", "64M", "--offset", "2M", "--engine", "io_uring",
		    "--bs", "1M", "--qd", "8", NULL);
	ok(!ret && o.cmd == CMD_BOUNCE && !strcmp(o.bdf, "0000:03:00.0") && o.bar == 2 &&
	   !strcmp(o.dev, "/dev/nvme0n1") && o.bytes == (64ULL << 20) &&
	   o.dev_offset == (2ULL << 20) && o.offset == 0 && o.engine == ENGINE_IO_URING &&
	   o.bs == (1ULL << 20) && o.qd == 8, "bounce with every option, --offset in the device");

	ret = parse(&o, err, sizeof(err), "read", "--dev", "/dev/nvme0n1", "--bytes", "4M",
		    "--at", "0x200000", NULL);
	ok(!ret && o.cmd == CMD_READ && o.place && o.at == 0x200000 && o.bar == -1 &&
	   o.dev_offset == 0, "read --at without --bar (the BAR comes from the environment)");
	ret = parse(&o, err, sizeof(err), "read", "--dev", "x", "--bytes", "4M",
		    "--at=2M", "--bar", "4", "--offset", "1M", NULL);
	ok(!ret && o.place && o.at == (2ULL << 20) && o.bar == 4 &&
	   o.dev_offset == (1ULL << 20), "read --at with --bar; --offset stays the device's");
	ret = parse(&o, err, sizeof(err), "read", "--dev", "x", "--bytes", "4M", NULL);
	ok(!ret && !o.place && o.bar == -1, "read without --at: not placed");

	ret = parse(&o, err, sizeof(err), "register", "--help", NULL);
	ok(!ret && o.cmd == CMD_HELP && o.help_for == CMD_REGISTER,
	   "register --help: the help of register");
	ret = parse(&o, err, sizeof(err), "read", "--frobnicate", "--bar", "9", "-h", NULL);
	ok(!ret && o.cmd == CMD_HELP && o.help_for == CMD_READ,
	   "read ... -h: help wins over the mistakes around it");
	ret = parse(&o, err, sizeof(err), "help", "bounce", NULL);
	ok(!ret && o.cmd == CMD_HELP && o.help_for == CMD_BOUNCE, "help bounce");
	ret = parse(&o, err, sizeof(err), "--help", NULL);
	ok(!ret && o.cmd == CMD_HELP && o.help_for == CMD_HELP, "--help: the program's help");
	ret = parse(&o, err, sizeof(err), "help", NULL);
	ok(!ret && o.cmd == CMD_HELP && o.help_for == CMD_HELP, "help: the program's help");
	ret = parse(&o, err, sizeof(err), "--version", NULL);
	ok(!ret && o.cmd == CMD_VERSION, "--version");
	ret = parse(&o, err, sizeof(err), "where", "--version", NULL);
	ok(!ret && o.cmd == CMD_VERSION, "where --version");
	ret = parse(&o, err, sizeof(err), "register", "03:00.0", "--bar", "2", "--", "sh",
		    "--help", NULL);
	ok(!ret && o.cmd == CMD_REGISTER && o.command && !strcmp(o.command[1], "--help"),
	   "register -- COMMAND --help: the --help is COMMAND's");
	ret = parse(&o, err, sizeof(err), "read", "--dev", "x", "--bytes", "1", "--bar", "9",
		    NULL);
	ok(ret == -EINVAL && o.help_for == CMD_READ,
	   "a usage error of read points to the help of read");
	ret = parse(&o, err, sizeof(err), "frobnicate", NULL);
	ok(ret == -EINVAL && o.help_for == CMD_HELP,
	   "an unknown command points to the program's help");

	parse_fails("no command", "no command", NULL);
	parse_fails("unknown command", "unknown command", "frobnicate", NULL);
	parse_fails("needs --bar", "register without --bar", "register", "03:00.0", "--hold", NULL);
	parse_fails("--hold or -- COMMAND", "register without --hold or COMMAND",
		    "register", "03:00.0", "--bar", "2", NULL);
	parse_fails("not both", "register with --hold and COMMAND",
		    "register", "03:00.0", "--bar", "2", "--hold", "--", "true", NULL);
	parse_fails("a BAR is 0 to 5", "--bar 6 (the ROM)",
		    "register", "03:00.0", "--bar", "6", "--hold", NULL);
	parse_fails("not a number", "--bar two",
		    "register", "03:00.0", "--bar", "two", "--hold", NULL);
	parse_fails("needs a value", "--bar without value", "register", "03:00.0", "--bar", NULL);
	parse_fails("no COMMAND", "nothing after --",
		    "register", "03:00.0", "--bar", "2", "--", NULL);
	parse_fails("not a PCI address", "bad BDF", "probe", "03:20.0", NULL);
	parse_fails("not a PCI address", "BDF with function 8", "probe", "0000:03:00.8", NULL);
	parse_fails("needs a BDF", "probe without BDF", "probe", NULL);
	parse_fails("unexpected argument", "two BDFs", "probe", "03:00.0", "04:00.0", NULL);
	parse_fails("unknown option", "--size for read",
		    "read", "--dev", "x", "--bytes", "1", "--size", "1", NULL);
	parse_fails("unknown option", "--hold for probe", "probe", "03:00.0", "--hold", NULL);
	parse_fails("psync or io_uring", "--engine libaio", "read", "--dev", "x", "--bytes", "1",
		    "--engine", "libaio", NULL);
	parse_fails("use --engine io_uring", "psync with --qd 8",
		    "read", "--dev", "x", "--bytes", "1", "--qd", "8", NULL);
	parse_fails("needs --bytes", "read without --bytes", "read", "--dev", "x", NULL);
	parse_fails("more than 0", "read --bytes 0", "read", "--dev", "x", "--bytes", "0", NULL);
	parse_fails("not both", "read --dram --p2pmem", "read", "--dev", "x", "--bytes", "1",
		    "--dram", "--p2pmem", "/x", NULL);
	parse_fails("bounce needs a BDF", "bounce without BDF",
		    "bounce", "--bar", "2", "--dev", "x", "--bytes", "1", NULL);
	parse_fails("bounce needs --bar", "bounce without --bar",
		    "bounce", "03:00.0", "--dev", "x", "--bytes", "1", NULL);
	parse_fails("bounce needs --dev", "bounce without --dev",
		    "bounce", "03:00.0", "--bar", "2", "--bytes", "1", NULL);
	parse_fails("bounce needs --bytes", "bounce without --bytes",
		    "bounce", "03:00.0", "--bar", "2", "--dev", "x", NULL);
	parse_fails("unknown option", "bounce --dram (it always goes through DRAM)",
		    "bounce", "03:00.0", "--bar", "2", "--dev", "x", "--bytes", "1", "--dram", NULL);
	parse_fails("use --engine io_uring", "bounce psync with --qd 8",
		    "bounce", "03:00.0", "--bar", "2", "--dev", "x", "--bytes", "1", "--qd", "8",
		    NULL);
	parse_fails("not an address", "where with junk", "where", "xyz", NULL);
	parse_fails("at least one address", "where without address", "where", "--pid", "1", NULL);
	parse_fails("not a process id", "where --pid 0", "where", "--pid", "0", "1000", NULL);
	parse_fails("only for register", "-- for probe", "probe", "03:00.0", "--", "x", NULL);
	parse_fails("goes with --at", "read --bar without --at",
		    "read", "--dev", "x", "--bytes", "1", "--bar", "2", NULL);
	parse_fails("--dram or --at", "read --dram --at",
		    "read", "--dev", "x", "--bytes", "1", "--dram", "--at", "0", NULL);
	parse_fails("a BAR is 0 to 5", "read --at --bar 6",
		    "read", "--dev", "x", "--bytes", "1", "--at", "0", "--bar", "6", NULL);
	parse_fails("not a number", "read --at junk",
		    "read", "--dev", "x", "--bytes", "1", "--at", "2MB5", NULL);
	parse_fails("--at OFFSET goes with --preload", "--at for register without --preload",
		    "register", "03:00.0", "--bar", "2", "--at", "0", "--", "true", NULL);
	parse_fails("--preload needs -- COMMAND", "register --preload --hold",
		    "register", "03:00.0", "--bar", "2", "--preload", "--hold", NULL);
	parse_fails("unknown option", "--preload for read",
		    "read", "--dev", "x", "--bytes", "1", "--preload", NULL);
	ret = parse(&o, err, sizeof(err), "register", "03:00.0", "--bar", "2", "--offset", "2M",
		    "--size", "64M", "--preload", "--at", "4M", "--", "fio", "job.fio", NULL);
	ok(!ret && o.cmd == CMD_REGISTER && o.preload && o.place && o.at == (4ULL << 20) &&
	   o.offset == (2ULL << 20) && o.size == (64ULL << 20) && o.command &&
	   !strcmp(o.command[0], "fio"), "register --preload --at -- fio");
	ret = parse(&o, err, sizeof(err), "register", "03:00.0", "--bar", "2", "--preload",
		    "--", "fio", NULL);
	ok(!ret && o.preload && !o.place, "register --preload without --at (the range's start)");
	parse_fails("help: unknown command", "help of an unknown command", "help", "frob", NULL);

	ret = parse(&o, err, sizeof(err), "read", "--dev", "x", "--bytes", "4M", "--vfio",
		    "--verify", NULL);
	ok(!ret && o.vfio && o.verify && !o.place && o.bar == -1,
	   "read --vfio --verify without --at (the place comes from the environment)");
	ret = parse(&o, err, sizeof(err), "read", "--dev", "x", "--bytes", "4M", "--vfio",
		    "--bar", "4", "--at", "2M", NULL);
	ok(!ret && o.vfio && !o.verify && o.place && o.at == (2ULL << 20) && o.bar == 4,
	   "read --vfio --bar --at");
	ret = parse(&o, err, sizeof(err), "read", "--dev", "x", "--bytes", "4M", "--at", "2M",
		    "--verify", NULL);
	ok(!ret && !o.vfio && o.verify && o.place, "read --at --verify (sysfs, placed)");
	parse_fails("one of --vfio, --p2pmem and --dram", "read --vfio --dram",
		    "read", "--dev", "x", "--bytes", "1", "--vfio", "--dram", NULL);
	parse_fails("one of --vfio, --p2pmem and --dram", "read --vfio --p2pmem",
		    "read", "--dev", "x", "--bytes", "1", "--vfio", "--p2pmem", "/x", NULL);
	parse_fails("needs a placed buffer", "read --verify without --at or --vfio",
		    "read", "--dev", "x", "--bytes", "1", "--verify", NULL);
	parse_fails("not DRAM", "read --verify --dram",
		    "read", "--dev", "x", "--bytes", "1", "--dram", "--verify", NULL);
	parse_fails("unknown option", "--vfio for register",
		    "register", "03:00.0", "--bar", "2", "--vfio", "--hold", NULL);
	parse_fails("unknown option", "--verify for bounce",
		    "bounce", "03:00.0", "--bar", "2", "--dev", "x", "--bytes", "1", "--verify",
		    NULL);
	parse_fails("unexpected argument", "--version with more", "--version", "read", NULL);
}

/* ---- help, version, usage errors ---- */

/* Whether every line of @text is at most 80 columns */
static bool fits_80(const char *text, char *first_long, size_t len)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl - p > 80) {
			snprintf(first_long, len, "%.*s", (int)(nl - p), p);
			return false;
		}
		p = *nl ? nl + 1 : nl;
	}
	return true;
}

static void test_help(void)
{
	/* Each command's options, as parse_args() takes them */
	static const struct {
		enum p2p_cmd cmd;
		const char *opts[14];
	} cmds[] = {
		{ CMD_PROBE, { NULL } },
		{ CMD_REGISTER, { "--bar", "--offset", "--size", "--hold", "-- COMMAND",
				  "--preload", "--at OFFSET" } },
		{ CMD_WHERE, { "--pid" } },
		{ CMD_READ, { "--dev", "--bytes", "--offset", "--engine", "--bs", "--qd",
			      "--p2pmem", "--dram", "--cksum", "--pause", "--at", "--bar",
			      "--vfio", "--verify" } },
		{ CMD_BOUNCE, { "--bar", "--dev", "--bytes", "--offset", "--engine", "--bs",
				"--qd" } },
	};
	char what[64], want[64], line[512], long_line[512];
	const char *text;
	size_t i, k;

	text = help_text(CMD_HELP);
	has(text, "usage: vfio-p2p COMMAND", "the program's help");
	has(text, "vfio-p2p COMMAND --help", "the program's help");
	has(text, "--version", "the program's help");
	ok(fits_80(text, long_line, sizeof(long_line)),
	   "the program's help fits in 80 columns%s%s", *long_line ? ": " : "", long_line);
	*long_line = '\0';

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const char *name = cmd_name(cmds[i].cmd);

		text = help_text(cmds[i].cmd);
		snprintf(what, sizeof(what), "help of %s", name);
		snprintf(want, sizeof(want), "usage: vfio-p2p %s", name);
		ok(!strncmp(text, want, strlen(want)), "%s starts with \"%s\"", what, want);
		for (k = 0; k < ARRAY_SIZE(cmds[i].opts) && cmds[i].opts[k]; k++)
			has(text, cmds[i].opts[k], what);
		ok(fits_80(text, long_line, sizeof(long_line)), "%s fits in 80 columns%s%s",
		   what, *long_line ? ": " : "", long_line);
		*long_line = '\0';
		snprintf(want, sizeof(want), "  %s ", name);
		has(help_text(CMD_HELP), want, "the program's help");
	}

	/* Every variable that register sets for COMMAND, with what it is */
	text = help_text(CMD_REGISTER);
	for (i = 0; i < NR_ENV; i++) {
		snprintf(want, sizeof(want), "\n  %s ", command_env[i]);
		if (!ok(strstr(text, want) != NULL, "help of register explains %s",
			command_env[i]))
			diag("text", text);
	}
	has(text, "LD_PRELOAD", "help of register, --preload");
	has(text, "VFIO_P2P_PRELOAD_VERBOSE=1", "help of register, --preload");
	has(text, "$VFIO_P2P_PRELOAD)", "help of register, --preload");
	has(text, "mem=mmapshared:${P2PMEM}", "help of register: fio through sysfs");
	has(text, "mem=mmapshared:${VFIO_P2P_MMAP_FILE}", "help of register: fio through VFIO");
	has(help_text(CMD_HELP), "--preload", "the program's help");
	has(text, "(measured", "help of register: the times");
	has(text, "(computed", "help of register: the struct pages");
	text = help_text(CMD_READ);
	has(text, "$VFIO_P2P_ALLOCATE", "help of read");
	has(text, "$VFIO_P2P_BAR", "help of read");
	has(text, "$VFIO_P2P_DEVICE_FD", "help of read, --vfio");
	has(text, "$VFIO_P2P_OFFSET", "help of read, --vfio's default place");
	has(text, "not the mapping", "help of read, --verify");
	has(help_text(CMD_REGISTER), "RLIMIT_MEMLOCK", "help of register: the charge");
	has(help_text(CMD_REGISTER), "1/64 of the range", "help of register: the charge");
	lacks(help_text(CMD_REGISTER), "CAP_SYS_RAWIO", "help of register");
	has(help_text(CMD_REGISTER), "inherits", "help of register: the device file");
	has(help_text(CMD_PROBE), "RLIMIT_MEMLOCK", "help of probe");
	lacks(help_text(CMD_PROBE), "CAP_SYS_RAWIO", "help of probe");
	has(text, "does not say where", "help of read, without --at");
	has(text, "(measured", "help of read: the throughput");
	has(help_text(CMD_WHERE), "ENXIO", "help of where");
	has(help_text(CMD_WHERE), "VFIO_P2P_DEVICE_FD", "help of where: VFIO mappings");
	has(help_text(CMD_WHERE), "region 9)", "help of where: VFIO mappings");
	has(help_text(CMD_WHERE), "ENODEV", "help of where: VFIO mappings");
	has(help_text(CMD_REGISTER), "granule that the kernel", "help of register: the granule");
	lacks(help_text(CMD_REGISTER), "must be multiples of 2 MiB", "help of register");
	has(help_text(CMD_PROBE), "assumed", "help of probe: the granule fallback");
	has(help_text(CMD_BOUNCE), "(measured", "help of bounce");

	text = version_text();
	snprintf(want, sizeof(want), "vfio-p2p %s\n", VFIO_P2P_VERSION);
	ok(!strncmp(text, want, strlen(want)), "--version: \"vfio-p2p %s\" first",
	   VFIO_P2P_VERSION);
	has(text, "(bar + 1) << 48 | offset", "--version");
	has(text, "file offset - region offset", "--version: what where decodes");
	ok(fits_80(text, long_line, sizeof(long_line)), "--version fits in 80 columns%s%s",
	   *long_line ? ": " : "", long_line);

	usage_error_line(line, sizeof(line), CMD_READ, "read needs --dev BLOCKDEV");
	ok(!strcmp(line, "read needs --dev BLOCKDEV (see 'vfio-p2p read --help')"),
	   "usage error of read: one line, with its help: %s", line);
	usage_error_line(line, sizeof(line), CMD_HELP, "unknown command 'frob'");
	ok(!strcmp(line, "unknown command 'frob' (see 'vfio-p2p --help')"),
	   "usage error without a command: the program's help: %s", line);
}

/* ---- maps lines ---- */

#define P2P_PATH "/sys/devices/pci0000:00/0000:00:12.0/0000:03:00.0/p2pmem/allocate"

static void test_maps_lines(void)
{
	struct vfio_p2p_map m;
	char line[512], bdf[16];
	uint64_t off;
	int bar, ret;

	ok(PCI_P2PMEM_MMAP_OFFSET(2, 0x200000) == 0x0003000000200000ULL &&
	   PCI_P2PMEM_MMAP_OFFSET(0, 0) == 1ULL << 48 &&
	   PCI_P2PMEM_MMAP_OFFSET_MASK == 0xffffffffffffULL,
	   "PCI_P2PMEM_MMAP_OFFSET(2, 2 MiB) is 0x0003000000200000");

	snprintf(line, sizeof(line), "7f12c4a00000-7f12c4c00000 rw-s 0003000000200000 00:15 12345  "
				     "                    %s\n",
		 P2P_PATH);
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && m.start == 0x7f12c4a00000ULL && m.end == 0x7f12c4c00000ULL &&
	   m.pgoff == 0x0003000000200000ULL && !strcmp(m.perms, "rw-s") &&
	   m.dev_major == 0 && m.dev_minor == 0x15 && m.inode == 12345 &&
	   !strcmp(m.path, P2P_PATH) && !m.deleted, "p2pmem maps line splits");
	ok(vfio_p2p_map_bdf(&m, bdf) && !strcmp(bdf, "0000:03:00.0"),
	   "p2pmem maps line names its device");
	ret = vfio_p2p_decode(m.pgoff, m.start, 0x7f12c4a01234ULL, &bar, &off);
	ok(!ret && bar == 2 && off == 0x201234, "decode: bar 2 offset 0x201234 (got %d 0x%llx)",
	   bar, (unsigned long long)off);
	bar = 7;
	ret = vfio_p2p_decode(0, 0x1000, 0x1000, &bar, &off);
	ok(ret == -ENXIO && bar == 7, "decode: file offset 0 is -ENXIO, from anywhere (%d)", ret);
	ret = vfio_p2p_decode(0x3000, 0x1000, 0x1000, &bar, &off);
	ok(ret == -ENXIO, "decode: a part split off an offset 0 mapping is -ENXIO too (%d)", ret);
	ret = vfio_p2p_decode(PCI_P2PMEM_MMAP_OFFSET(0, 0), 0x1000, 0x1000, &bar, &off);
	ok(!ret && bar == 0 && off == 0, "decode: bar 0 offset 0 (%d, %d 0x%llx)", ret, bar,
	   (unsigned long long)off);
	ret = vfio_p2p_decode(0x0006ffffffe00000ULL, 0x1000, 0x2000, &bar, &off);
	ok(!ret && bar == 5 && off == 0xffffffe01000ULL, "decode: bar 5, offset near 2^48");
	ok(vfio_p2p_decode(0x0007000000000000ULL, 0x1000, 0x1000, &bar, &off) == -EINVAL,
	   "decode: BAR 6 is not a BAR");
	ok(vfio_p2p_decode(0x0200000000200000ULL, 0x1000, 0x1000, &bar, &off) == -EINVAL,
	   "decode: the old (bar << 56) encoding names no BAR");
	ok(vfio_p2p_decode(PCI_P2PMEM_MMAP_OFFSET(2, 0), 0x2000, 0x1000, &bar, &off) == -EINVAL,
	   "decode: an address before the mapping is -EINVAL");

	snprintf(line, sizeof(line), "7f0000100000-7f0000300000 rw-s 0005000000000000 00:15 777   "
				     "/mnt/my sysfs copy/devices/0000:03:00.0/p2pmem/allocate\n");
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && !strcmp(m.path, "/mnt/my sysfs copy/devices/0000:03:00.0/p2pmem/allocate"),
	   "path with spaces kept whole");
	ok(vfio_p2p_map_bdf(&m, bdf) && !strcmp(bdf, "0000:03:00.0"),
	   "p2pmem path with spaces names its device");

	snprintf(line, sizeof(line), "7f0000000000-7f0000001000 r--p 00000000 08:01 42    "
				     "/home/u/My Files/p2pmem/allocate\n");
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && !strcmp(m.path, "/home/u/My Files/p2pmem/allocate") &&
	   m.dev_major == 8 && m.dev_minor == 1 && !vfio_p2p_map_bdf(&m, bdf),
	   "p2pmem/allocate not under a PCI device is not p2pmem");

	snprintf(line, sizeof(line), "7f12c4a00000-7f12c4c00000 rw-s 0003000000400000 00:15 12345  "
				     "%s (deleted)\n",
		 P2P_PATH);
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && m.deleted && !strcmp(m.path, P2P_PATH), "deleted p2pmem mapping");

	snprintf(line, sizeof(line), "7f0000000000-7f0000001000 rw-s 00000000 00:05 9 /tmp/a file "
				     "(deleted) (deleted)\n");
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && m.deleted && !strcmp(m.path, "/tmp/a file (deleted)"),
	   "only the kernel's \" (deleted)\" is stripped");

	snprintf(line, sizeof(line), "55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0              "
				     "            [heap]\n");
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && !strcmp(m.path, "[heap]") && !vfio_p2p_map_bdf(&m, bdf), "[heap]");

	snprintf(line, sizeof(line), "7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0 \n");
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && !strcmp(m.path, ""), "anonymous mapping, trailing space");

	snprintf(line, sizeof(line), "7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0");
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && !strcmp(m.path, ""), "anonymous mapping, no newline");

	snprintf(line, sizeof(line), "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0      "
				     "            [vsyscall]\n");
	ret = vfio_p2p_parse_maps_line(line, &m);
	ok(!ret && m.start == 0xffffffffff600000ULL && !strcmp(m.perms, "--xp"), "[vsyscall]");

	snprintf(line, sizeof(line), "garbage\n");
	ok(vfio_p2p_parse_maps_line(line, &m) == -EINVAL, "garbage line rejected");
	snprintf(line, sizeof(line), "2000-1000 rw-p 00000000 00:00 0\n");
	ok(vfio_p2p_parse_maps_line(line, &m) == -EINVAL, "end before start rejected");
	snprintf(line, sizeof(line), "1000-2000 rw-p 00000000 00:00 0x\n");
	ok(vfio_p2p_parse_maps_line(line, &m) == -EINVAL, "junk after inode rejected");
}

static void test_locate_in(void)
{
	static const char maps[] =
		"55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]\n"
		"7f12c4a00000-7f12c4c00000 rw-s 0003000000200000 00:15 12345      " P2P_PATH "\n"
		"7f12c4c00000-7f12c4e00000 rw-s 0003000000600000 00:15 12345      " P2P_PATH
		" (deleted)\n"
		"7f12c5000000-7f12c5001000 rw-s 0007000000000000 00:15 12345      " P2P_PATH "\n"
		"7f12c5100000-7f12c5500000 rw-s 00000000 00:15 12345              " P2P_PATH "\n"
		"7f12c5500000-7f12c5600000 rw-s 00000000 00:15 12345              " P2P_PATH
		" (deleted)\n"
		"7f12c6000000-7f12c6001000 r--p 00000000 08:01 42                         "
		"/usr/lib/lib with space.so\n";
	struct vfio_p2p_loc loc;
	FILE *f;
	int ret;

	f = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	ret = vfio_p2p_locate_in(f, 0x7f12c4b00010ULL, &loc);
	fclose(f);
	ok(!ret && !strcmp(loc.bdf, "0000:03:00.0") && loc.bar == 2 &&
	   loc.bar_offset == 0x300010 && loc.map_start == 0x7f12c4a00000ULL &&
	   loc.map_bar_offset == 0x200000 && !strcmp(loc.path, P2P_PATH),
	   "locate: address in the middle of a placed p2pmem mapping");

	f = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	ret = vfio_p2p_locate_in(f, 0x7f12c4c00000ULL, &loc);
	fclose(f);
	ok(ret == -ESTALE && loc.bar == 2 && loc.bar_offset == 0x600000,
	   "locate: deleted mapping is -ESTALE, location still given");

	f = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	ret = vfio_p2p_locate_in(f, 0x7f12c5000000ULL, &loc);
	fclose(f);
	ok(ret == -EINVAL && loc.bar == -1, "locate: offset naming BAR 6 is -EINVAL");

	f = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	ret = vfio_p2p_locate_in(f, 0x7f12c5300000ULL, &loc);
	fclose(f);
	ok(ret == -ENXIO && loc.bar == -1 && !strcmp(loc.bdf, "0000:03:00.0") &&
	   loc.map_start == 0x7f12c5100000ULL && !strcmp(loc.path, P2P_PATH),
	   "locate: mapped at offset 0 is -ENXIO, device and mapping given, no BAR");

	f = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	ret = vfio_p2p_locate_in(f, 0x7f12c5500000ULL, &loc);
	fclose(f);
	ok(ret == -ESTALE && loc.bar == -1,
	   "locate: deleted mapping at offset 0 is -ESTALE, no BAR");

	f = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	ret = vfio_p2p_locate_in(f, 0x7f12c6000800ULL, &loc);
	fclose(f);
	ok(ret == -ENOENT && !strcmp(loc.path, "/usr/lib/lib with space.so"),
	   "locate: other file is -ENOENT, with its path");

	f = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	ret = vfio_p2p_locate_in(f, 0x7f12c4c00000ULL - 1, &loc);
	fclose(f);
	ok(!ret && loc.bar_offset == 0x3fffff, "locate: last byte of a mapping");

	f = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	ret = vfio_p2p_locate_in(f, 0x1000, &loc);
	fclose(f);
	ok(ret == -EFAULT, "locate: unmapped address is -EFAULT");
}

static void map_at_fails(const char *path, int bar, uint64_t off, size_t len,
			 int want, const char *what)
{
	int err = 0;
	void *p = vfio_p2p_map_at(path, bar, off, len, &err);

	ok(!p && err == want, "vfio_p2p_map_at %s: %s (%s)", what, strerror(-want),
	   p ? "mapped" : strerror(-err));
	if (p)
		munmap(p, len);
}

/*
 * The real /proc/self/maps, with a file laid out like sysfs in a directory
 * whose name has spaces: mapped at a file offset below 1 << 48 it reads as
 * not placed (-ENXIO); placed by vfio_p2p_map_at() at BAR 2 offset 2 MiB,
 * as there; once unlinked, as deleted.  A regular file maps at any offset
 * (only touching pages beyond its end would fault), so nothing is touched.
 */
static void test_where_self(const char *root)
{
	char path[PATH_MAX + 64];
	uint64_t off = 0;
	int fd, bar = -1, ret, err = 1;
	void *p, *q, *r;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:07:00.0/p2pmem/allocate", root);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 8 << 20)) {
		ok(false, "create %s: %s", path, strerror(errno));
		return;
	}
	p = mmap(NULL, 4 << 20, PROT_READ, MAP_SHARED, fd, 2 << 20);
	close(fd);
	if (!ok(p != MAP_FAILED, "map a p2pmem-like file"))
		return;
	ret = vfio_p2p_where((char *)p + 0x1234, &bar, &off);
	ok(ret == -ENXIO, "vfio_p2p_where, not placed: -ENXIO (%d)", ret);

	q = vfio_p2p_map_at(path, 2, 2 << 20, 4 << 20, &err);
	if (!ok(q && !err, "vfio_p2p_map_at BAR 2 offset 2 MiB: %s", strerror(-err)))
		q = NULL;
	ret = q ? vfio_p2p_where((char *)q + 0x1234, &bar, &off) : -1;
	ok(!ret && bar == 2 && off == 0x201234,
	   "vfio_p2p_where on this process: %d, bar %d offset 0x%llx", ret, bar,
	   (unsigned long long)off);
	ret = vfio_p2p_where(&bar, &bar, &off);
	ok(ret == -ENOENT, "vfio_p2p_where on the stack: -ENOENT (%d)", ret);

	map_at_fails(path, 6, 0, 4096, -EINVAL, "BAR 6");
	map_at_fails(path, -1, 0, 4096, -EINVAL, "BAR -1");
	map_at_fails(path, 2, 0x800, 4096, -EINVAL, "at an offset not page aligned");
	map_at_fails(path, 2, 0, 0, -EINVAL, "of 0 bytes");
	map_at_fails(path, 2, PCI_P2PMEM_MMAP_OFFSET_MASK + 1 - 4096, 8192, -EINVAL,
		     "past the last offset a BAR can have");
	map_at_fails("/nonexistent/p2pmem/allocate", 2, 0, 4096, -ENOENT, "of a missing file");
	ok(!vfio_p2p_map_at(path, 6, 0, 4096, NULL), "vfio_p2p_map_at fails with a NULL err");
	r = vfio_p2p_map_at(path, 3, 0, 4096, NULL);
	ok(r != NULL, "vfio_p2p_map_at works with a NULL err");
	if (r)
		munmap(r, 4096);

	unlink(path);
	if (q) {
		ret = vfio_p2p_where(q, &bar, &off);
		ok(ret == -ESTALE, "vfio_p2p_where after unlink: -ESTALE (%d)", ret);
		munmap(q, 4 << 20);
	}
	ret = vfio_p2p_where(p, &bar, &off);
	ok(ret == -ESTALE, "vfio_p2p_where after unlink, not placed: -ESTALE (%d)", ret);
	munmap(p, 4 << 20);
	ret = vfio_p2p_where(p, &bar, &off);
	ok(ret == -EFAULT, "vfio_p2p_where after munmap: -EFAULT (%d)", ret);
}

/* ---- locked memory ---- */

static void test_memlock(void)
{
	uint64_t limit = 0;

	ok(p2p_memlock_charge(256ULL << 20, 4096) == 4ULL << 20,
	   "charge of 256 MiB: 4 MiB (1/64)");
	ok(p2p_memlock_charge(64ULL << 20, 4096) == 1ULL << 20, "charge of 64 MiB: 1 MiB");
	ok(p2p_memlock_charge(2ULL << 20, 4096) == 32ULL << 10, "charge of 2 MiB: 32 KiB");
	ok(p2p_memlock_charge(4096, 4096) == 4096,
	   "charge of one page: 64 bytes, rounded up to a page");
	ok(p2p_memlock_charge((2ULL << 20) + 4096, 4096) == (32ULL << 10) + 4096,
	   "charge of 2 MiB + 4 KiB: rounded up to the next page");
	ok(p2p_memlock_charge(0, 4096) == 0, "charge of nothing");
	ok(p2p_memlock_charge(256ULL << 20, 65536) == 256ULL << 10,
	   "charge of 256 MiB with 64 KiB pages: 4 pages");
	ok(p2p_memlock_max_size(64ULL << 10, 4096, 0) == 4ULL << 20,
	   "64 KiB of memlock covers 4 MiB");
	ok(p2p_memlock_max_size((1ULL << 20) - 4096, 4096, 0) == 62ULL << 20,
	   "1 MiB - 4 KiB covers 62 MiB (2 MiB granules)");
	ok(p2p_memlock_max_size(4096, 4096, 0) == 0, "one page covers less than a granule");
	ok(p2p_memlock_max_size(UINT64_MAX, 4096, 0) >= (1ULL << 62), "no limit");
	ok(p2p_memlock_max_size((1ULL << 20) - 4096, 4096, 2ULL << 20) == 62ULL << 20,
	   "granule 2 MiB from the kernel: as the fallback");
	ok(p2p_memlock_max_size((1ULL << 20) - 4096, 4096, 16ULL << 20) == 48ULL << 20,
	   "1 MiB - 4 KiB covers 48 MiB in 16 MiB granules");
	ok(p2p_memlock_max_size(64ULL << 10, 4096, 16ULL << 20) == 0,
	   "64 KiB covers no 16 MiB granule");
	ok(p2p_memlock_max_size(UINT64_MAX, 4096, 16ULL << 20) % (16ULL << 20) == 0,
	   "no limit: a multiple of the granule");
	ok(!memlock_limit(&limit) && limit > 0, "RLIMIT_MEMLOCK of this process: %llu",
	   (unsigned long long)limit);
}

/* ---- the VFIO mapping library ---- */

struct fake_info {
	struct vfio_region_info info;
	uint8_t caps[64];
};

/* A sparse mmap capability at 32 (next: @next1), a type capability at 64 */
static void fake_info_init(struct fake_info *f, uint32_t next1)
{
	struct vfio_info_cap_header h;
	uint32_t tv[2] = { VFIO_REGION_TYPE_PCI_P2P, 2 };

	memset(f, 0, sizeof(*f));
	f->info.argsz = sizeof(*f);
	f->info.flags = VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
	f->info.index = VFIO_PCI_NUM_REGIONS;
	f->info.cap_offset = sizeof(f->info);
	f->info.size = 256ULL << 20;
	f->info.offset = 9ULL << 40;
	h.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	h.version = 1;
	h.next = next1;
	memcpy(f->caps, &h, sizeof(h));
	h.id = VFIO_REGION_INFO_CAP_TYPE;
	h.next = 0;
	memcpy(f->caps + 32, &h, sizeof(h));
	memcpy(f->caps + 32 + sizeof(h), tv, sizeof(tv));
}

static void test_vfio_lib(const char *root)
{
	uint32_t type = 0, subtype = 0;
	struct vfio_p2p_vfio_region reg;
	struct fake_info f;
	char path[PATH_MAX + 32];
	int fd, ret, err = 0;
	void *p;

	ok(sizeof(f.info) == 32 && VFIO_REGION_TYPE_PCI_P2P == 4,
	   "struct vfio_region_info is 32 bytes, VFIO_REGION_TYPE_PCI_P2P is 4");

	fake_info_init(&f, 64);
	ret = vfio_p2p_region_info_type(&f, sizeof(f), &type, &subtype);
	ok(!ret && type == VFIO_REGION_TYPE_PCI_P2P && subtype == 2,
	   "capability chain: the type capability after a sparse mmap one (%d, %u %u)", ret,
	   type, subtype);
	fake_info_init(&f, 0);
	ok(vfio_p2p_region_info_type(&f, sizeof(f), &type, &subtype) == -ENOENT,
	   "capability chain without a type capability: -ENOENT");
	fake_info_init(&f, 64);
	f.info.flags &= ~VFIO_REGION_INFO_FLAG_CAPS;
	ok(vfio_p2p_region_info_type(&f, sizeof(f), &type, &subtype) == -ENOENT,
	   "no VFIO_REGION_INFO_FLAG_CAPS: -ENOENT");
	fake_info_init(&f, 64);
	f.info.cap_offset = 0;
	ok(vfio_p2p_region_info_type(&f, sizeof(f), &type, &subtype) == -ENOENT,
	   "cap_offset 0 (the answer was cut): -ENOENT");
	fake_info_init(&f, 32);
	ok(vfio_p2p_region_info_type(&f, sizeof(f), &type, &subtype) == -EINVAL,
	   "a capability that points to itself: -EINVAL, no endless loop");
	fake_info_init(&f, 4096);
	ok(vfio_p2p_region_info_type(&f, sizeof(f), &type, &subtype) == -EINVAL,
	   "a next offset beyond the answer: -EINVAL");
	fake_info_init(&f, 64);
	ok(vfio_p2p_region_info_type(&f, 64 + 8, &type, &subtype) == -EINVAL,
	   "a type capability cut short: -EINVAL");
	fake_info_init(&f, 64);
	f.info.cap_offset = 8;
	ok(vfio_p2p_region_info_type(&f, sizeof(f), &type, &subtype) == -EINVAL,
	   "a capability inside struct vfio_region_info: -EINVAL");
	ok(vfio_p2p_region_info_type(&f, 16, &type, &subtype) == -EINVAL,
	   "an answer shorter than struct vfio_region_info: -EINVAL");

	ok(vfio_p2p_vfio_region(-1, 2, &reg) == -EBADF, "region lookup on fd -1: -EBADF");
	ok(vfio_p2p_vfio_region(0, 6, &reg) == -EINVAL, "region lookup of BAR 6: -EINVAL");
	ok(vfio_p2p_vfio_region(0, -1, &reg) == -EINVAL, "region lookup of BAR -1: -EINVAL");
	snprintf(path, sizeof(path), "%s/not-a-vfio-device", root);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (!ok(fd >= 0, "create %s", path))
		return;
	ret = vfio_p2p_vfio_region(fd, 2, &reg);
	ok(ret == -ENOTTY, "region lookup on a regular file: -ENOTTY (%d)", ret);
	p = vfio_p2p_vfio_map_at(fd, 2, 0, 4096, &err);
	ok(!p && err == -ENOTTY, "vfio_p2p_vfio_map_at on a regular file: NULL, -ENOTTY (%d)",
	   err);
	p = vfio_p2p_vfio_map_at(fd, 2, 0x800, 4096, &err);
	ok(!p && err == -EINVAL, "vfio_p2p_vfio_map_at at an offset not page aligned: -EINVAL");
	p = vfio_p2p_vfio_map_at(fd, 2, 0, 0, &err);
	ok(!p && err == -EINVAL, "vfio_p2p_vfio_map_at of 0 bytes: -EINVAL");
	p = vfio_p2p_vfio_map_at(fd, 6, 0, 4096, &err);
	ok(!p && err == -EINVAL, "vfio_p2p_vfio_map_at of BAR 6: -EINVAL");
	p = vfio_p2p_vfio_map_at(-1, 2, 0, 4096, &err);
	ok(!p && err == -EBADF, "vfio_p2p_vfio_map_at on fd -1: -EBADF");
	ok(!vfio_p2p_vfio_map_at(fd, 2, 0, 4096, NULL), "vfio_p2p_vfio_map_at with a NULL err");
	close(fd);
	unlink(path);
}

/* ---- mappings of the VFIO device file ---- */

/*
 * The regions of a vfio-pci device as VFIO_DEVICE_GET_REGION_INFO would
 * give them: BAR 2 (256 MiB) at region 9, BAR 4 (4 MiB) at region 10, the
 * file being the character device vfio0 (devtmpfs 00:05, inode 777).
 */
static void fake_regions(struct vfio_p2p_regions *t)
{
	memset(t, 0, sizeof(*t));
	t->dev_major = 0;
	t->dev_minor = 5;
	t->inode = 777;
	snprintf(t->bdf, sizeof(t->bdf), "0000:03:00.0");
	t->nr = 2;
	t->region[0].index = 9;
	t->region[0].bar = 2;
	t->region[0].offset = 9ULL << 40;
	t->region[0].size = 256ULL << 20;
	t->region[1].index = 10;
	t->region[1].bar = 4;
	t->region[1].offset = 10ULL << 40;
	t->region[1].size = 4ULL << 20;
}

static int locate_line(const char *maps, uint64_t addr, const struct vfio_p2p_regions *t,
		       struct vfio_p2p_loc *loc)
{
	FILE *f = fmemopen((void *)maps, strlen(maps), "r");
	int ret;

	if (!f)
		return -errno;
	ret = vfio_p2p_locate_in_dev(f, addr, t, loc);
	fclose(f);
	return ret;
}

#define CDEV_LINE(start, end, pgoff, ino, path)					\
	start "-" end " rw-s " pgoff " 00:05 " ino "                     " path "\n"

static void test_vfio_decode(void)
{
	/* What /proc/self/maps shows for vfio_p2p_vfio_map_at() at BAR 2 2 MiB */
	static const char cdev[] =
		CDEV_LINE("7f1200000000", "7f1200100000", "90000200000", "777",
			  "/dev/vfio/devices/vfio0");
	struct vfio_p2p_regions t, anon;
	struct vfio_p2p_loc loc;
	struct vfio_p2p_map m;
	char line[512];
	uint64_t off = 0;
	uint32_t index = 0;
	int bar = -1, ret;

	fake_regions(&t);
	ret = vfio_p2p_decode_vfio(&t, (9ULL << 40) + 0x200000, 0x7f1200000000ULL,
				   0x7f1200001234ULL, &bar, &off, &index);
	ok(!ret && bar == 2 && off == 0x201234 && index == 9,
	   "decode_vfio: region 9 + 2 MiB + 0x1234 is BAR 2 offset 0x201234 (%d, %d 0x%llx)",
	   ret, bar, (unsigned long long)off);
	ret = vfio_p2p_decode_vfio(&t, 10ULL << 40, 0x1000, 0x1000 + (4 << 20) - 1, &bar,
				   &off, NULL);
	ok(!ret && bar == 4 && off == (4 << 20) - 1,
	   "decode_vfio: last byte of the region of BAR 4 (%d, %d 0x%llx)", ret, bar,
	   (unsigned long long)off);
	ret = vfio_p2p_decode_vfio(&t, (10ULL << 40) + (4 << 20), 0x1000, 0x1000, &bar, &off,
				   NULL);
	ok(ret == -ENOENT, "decode_vfio: the end of a region is outside it (%d)", ret);
	ret = vfio_p2p_decode_vfio(&t, 2ULL << 40, 0x1000, 0x1000, &bar, &off, NULL);
	ok(ret == -ENOENT, "decode_vfio: the BAR 2 region itself (index 2) is no P2P region");
	ret = vfio_p2p_decode_vfio(&t, 9ULL << 40, 0x2000, 0x1000, &bar, &off, NULL);
	ok(ret == -EINVAL, "decode_vfio: an address before the mapping is -EINVAL");
	ret = vfio_p2p_decode_vfio(&t, UINT64_MAX - 0xfff, 0x1000, 0x3000, &bar, &off, NULL);
	ok(ret == -EINVAL, "decode_vfio: a file offset that overflows is -EINVAL");
	t.nr = 0;
	ret = vfio_p2p_decode_vfio(&t, 9ULL << 40, 0x1000, 0x1000, &bar, &off, NULL);
	ok(ret == -ENOENT, "decode_vfio: a device without P2P regions: -ENOENT");
	fake_regions(&t);

	snprintf(line, sizeof(line), "%s", cdev);
	ok(!vfio_p2p_parse_maps_line(line, &m) && m.pgoff == (9ULL << 40) + 0x200000 &&
	   vfio_p2p_map_is_vfio(&m) && vfio_p2p_map_is_dev(&m, &t) &&
	   !vfio_p2p_map_is_dev(&m, NULL), "maps line of /dev/vfio/devices/vfio0: this device");
	m.path = "/dev/vfio/devices/noiommu-vfio3";
	ok(vfio_p2p_map_is_vfio(&m), "noiommu-vfio3 is a VFIO device file");
	m.path = VFIO_P2P_MAPS_ANON_DEVICE;
	ok(vfio_p2p_map_is_vfio(&m), "anon_inode:[vfio-device] is a VFIO device file");
	m.path = "/dev/vfio/vfio";
	ok(!vfio_p2p_map_is_vfio(&m), "/dev/vfio/vfio (the container) is not a device file");
	m.path = "/dev/vfio/devices/";
	ok(!vfio_p2p_map_is_vfio(&m), "/dev/vfio/devices/ itself is not a device file");
	m.path = "/dev/vfio/devices/x/y";
	ok(!vfio_p2p_map_is_vfio(&m), "a file below /dev/vfio/devices/x is not one");
	m.path = "anon_inode:[perf_event]";
	ok(!vfio_p2p_map_is_vfio(&m), "anon_inode:[perf_event] is not one");

	/* The whole way, from a maps line */
	ret = locate_line(cdev, 0x7f1200001234ULL, &t, &loc);
	ok(!ret && loc.vfio && loc.bar == 2 && loc.bar_offset == 0x201234 &&
	   loc.region == 9 && loc.map_bar_offset == 0x200000 &&
	   loc.file_offset == (9ULL << 40) + 0x201234 &&
	   !strcmp(loc.bdf, "0000:03:00.0") && !strcmp(loc.path, "/dev/vfio/devices/vfio0"),
	   "locate_dev: a mapping of the P2P region of BAR 2 (%d, bar %d 0x%llx, region %d)",
	   ret, loc.bar, (unsigned long long)loc.bar_offset, loc.region);
	ret = locate_line(cdev, 0x7f1200001234ULL, NULL, &loc);
	ok(ret == -ENODEV && loc.vfio && loc.bar == -1 && loc.region == -1 &&
	   loc.file_offset == (9ULL << 40) + 0x201234,
	   "locate without the regions: -ENODEV, the file offset given (%d)", ret);
	t.inode = 778;
	ret = locate_line(cdev, 0x7f1200001234ULL, &t, &loc);
	ok(ret == -ENODEV && loc.vfio && loc.bar == -1,
	   "locate_dev, the regions of another device file: -ENODEV (%d)", ret);
	t.inode = 777;
	t.dev_minor = 6;
	ret = locate_line(cdev, 0x7f1200001234ULL, &t, &loc);
	ok(ret == -ENODEV, "locate_dev, same inode on another file system: -ENODEV (%d)", ret);
	fake_regions(&t);

	ret = locate_line(CDEV_LINE("7f1200000000", "7f1200001000", "20000000000", "777",
				    "/dev/vfio/devices/vfio0"), 0x7f1200000000ULL, &t, &loc);
	ok(ret == -ENOENT && loc.vfio && loc.bar == -1 && loc.region == -1 &&
	   loc.file_offset == 2ULL << 40,
	   "locate_dev: an mmap() of the BAR 2 region is not P2P pages: -ENOENT (%d)", ret);
	ret = locate_line(CDEV_LINE("7f1200000000", "7f1200100000", "a0000300000", "777",
				    "/dev/vfio/devices/vfio0 (deleted)"),
			  0x7f1200000010ULL, &t, &loc);
	ok(ret == -ESTALE && loc.deleted && loc.bar == 4 && loc.bar_offset == 0x300010,
	   "locate_dev: the device file deleted: -ESTALE, the place still given (%d)", ret);
	/* A mapping split by munmap(): its file offset moves with its start */
	ret = locate_line(CDEV_LINE("7f1200080000", "7f1200100000", "90000280000", "777",
				    "/dev/vfio/devices/vfio0"), 0x7f1200080000ULL, &t, &loc);
	ok(!ret && loc.bar == 2 && loc.bar_offset == 0x280000,
	   "locate_dev: the rest of a split mapping (%d, 0x%llx)", ret,
	   (unsigned long long)loc.bar_offset);

	/* The group interface: one anonymous inode for every device file */
	memcpy(&anon, &t, sizeof(anon));
	anon.dev_minor = 0xe;
	anon.inode = 1055;
	anon.bdf[0] = '\0';
	ret = locate_line("7f1200000000-7f1200100000 rw-s 90000000000 00:0e 1055       "
			  "anon_inode:[vfio-device]\n", 0x7f1200000000ULL, &anon, &loc);
	ok(!ret && loc.bar == 2 && loc.bar_offset == 0 && !*loc.bdf,
	   "locate_dev, group interface: anon_inode:[vfio-device] (%d)", ret);
	ret = locate_line("7f1200000000-7f1200100000 rw-s 90000000000 00:0e 1055       "
			  "anon_inode:[perf_event]\n", 0x7f1200000000ULL, &anon, &loc);
	ok(ret == -ENOENT && !loc.vfio,
	   "locate_dev: another anonymous file of the same inode is not the device (%d)", ret);

	/* p2pmem/allocate mappings decode as before, regions or not */
	ret = locate_line("7f12c4a00000-7f12c4c00000 rw-s 0003000000200000 00:15 12345  "
			  P2P_PATH "\n", 0x7f12c4a00010ULL, &t, &loc);
	ok(!ret && !loc.vfio && loc.bar == 2 && loc.bar_offset == 0x200010 &&
	   !strcmp(loc.bdf, "0000:03:00.0"), "locate_dev: a placed p2pmem mapping (%d)", ret);
	ret = locate_line("7f12c5100000-7f12c5500000 rw-s 00000000 00:15 12345  "
			  P2P_PATH "\n", 0x7f12c5100000ULL, &t, &loc);
	ok(ret == -ENXIO && !loc.vfio, "locate_dev: p2pmem from anywhere is still -ENXIO");
}

/*
 * The real /proc/self/maps: a regular file stands in for a VFIO character
 * device (the regions name its st_dev and st_ino), mapped at the offset of
 * a fake region of BAR 2 plus 2 MiB.  Nothing is touched.
 */
static void test_vfio_where_self(const char *root)
{
	struct vfio_p2p_regions t;
	char path[PATH_MAX + 32];
	uint64_t off = 0;
	int fd, bar = -1, ret;
	struct stat st;
	void *p;

	snprintf(path, sizeof(path), "%s/fake-vfio-device", root);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (!ok(fd >= 0 && !fstat(fd, &st), "create %s", path))
		return;
	fake_regions(&t);
	t.dev_major = major(st.st_dev);
	t.dev_minor = minor(st.st_dev);
	t.inode = st.st_ino;
	t.region[0].offset = 1ULL << 30;
	p = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, fd, (off_t)(t.region[0].offset + (2 << 20)));
	if (!ok(p != MAP_FAILED, "map the stand-in at its region + 2 MiB")) {
		close(fd);
		return;
	}
	ret = vfio_p2p_where_dev((char *)p + 0x1234, &t, &bar, &off);
	ok(!ret && bar == 2 && off == 0x201234,
	   "vfio_p2p_where_dev on this process: %d, bar %d offset 0x%llx", ret, bar,
	   (unsigned long long)off);
	ret = vfio_p2p_where((char *)p + 0x1234, &bar, &off);
	ok(ret == -ENOENT, "vfio_p2p_where without the regions: not p2pmem (%d)", ret);
	ret = vfio_p2p_where_dev(&bar, &t, &bar, &off);
	ok(ret == -ENOENT, "vfio_p2p_where_dev on the stack: -ENOENT (%d)", ret);

	ret = vfio_p2p_vfio_regions(fd, &t);
	ok(ret == -ENOTTY, "vfio_p2p_vfio_regions of a regular file: -ENOTTY (%d)", ret);
	ret = vfio_p2p_vfio_regions(-1, &t);
	ok(ret == -EBADF, "vfio_p2p_vfio_regions of fd -1: -EBADF (%d)", ret);
	ret = vfio_p2p_vfio_where(fd, p, &bar, &off);
	ok(ret == -ENOTTY, "vfio_p2p_vfio_where with a regular file: -ENOTTY (%d)", ret);
	munmap(p, 1 << 20);
	close(fd);
	unlink(path);
}

/* ---- BARs ---- */

static const char resource_text[] =
	"0x00000000fe800000 0x00000000fe800fff 0x0000000000040200\n"	/* 4 KiB mem */
	"0x000000000000c000 0x000000000000c03f 0x0000000000040101\n"	/* I/O */
	"0x0000000800000000 0x000000080fffffff 0x000000000014220c\n"	/* 256 MiB 64-bit pref */
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"	/* upper half */
	"0x00000000fd100000 0x00000000fd4fffff 0x0000000000040200\n"	/* 4 MiB, 1 MiB aligned */
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x00000000fe840000 0x00000000fe87ffff 0x0000000000046200\n"	/* ROM */
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

static void test_bars(void)
{
	struct pci_bar b[PCI_NUM_BARS];
	char why[512], kind[64];
	const char *r;

	ok(!pci_parse_resource(resource_text, b), "parse a resource file");
	ok(b[0].mem && !b[0].mem64 && !b[0].prefetch && b[0].size == 4096 &&
	   b[0].start == 0xfe800000ULL, "BAR 0: 4 KiB 32-bit mem");
	ok(b[1].io && !b[1].mem && b[1].size == 64, "BAR 1: I/O");
	ok(b[2].mem && b[2].mem64 && b[2].prefetch && b[2].size == (256ULL << 20) &&
	   b[2].start == 0x800000000ULL, "BAR 2: 256 MiB 64-bit prefetchable");
	ok(!b[3].size && !b[5].size, "BARs 3 and 5 not implemented");
	ok(!strcmp(pci_bar_kind(&b[2], kind, sizeof(kind)), "mem 64-bit prefetchable"),
	   "kind of BAR 2: %s", kind);
	ok(!strcmp(pci_bar_kind(&b[1], kind, sizeof(kind)), "I/O port"), "kind of BAR 1: %s", kind);

	r = pci_bar_unregistrable(&b[0], 0, why, sizeof(why));
	ok(r && strstr(r, "smaller than 2 MiB"), "BAR 0 too small: %s", r ? r : "(null)");
	r = pci_bar_unregistrable(&b[1], 0, why, sizeof(why));
	ok(r && strstr(r, "I/O port"), "BAR 1 is I/O: %s", r ? r : "(null)");
	ok(!pci_bar_unregistrable(&b[2], 0, why, sizeof(why)), "BAR 2 registrable");
	r = pci_bar_unregistrable(&b[3], 0, why, sizeof(why));
	ok(r && strstr(r, "not implemented"), "BAR 3 not implemented");
	r = pci_bar_unregistrable(&b[4], 0, why, sizeof(why));
	ok(r && strstr(r, "not a multiple of 2 MiB"), "BAR 4 misaligned: %s", r ? r : "(null)");

	ok(!pci_range_invalid(&b[2], 0, 0, 0, why, sizeof(why)), "whole BAR 2");
	ok(!pci_range_invalid(&b[2], 2 << 20, 4 << 20, 0, why, sizeof(why)), "BAR 2 2M+4M");
	ok(!pci_range_invalid(&b[2], 254 << 20, 0, 0, why, sizeof(why)), "last 2 MiB of BAR 2");
	r = pci_range_invalid(&b[2], 0x123, 0, 0, why, sizeof(why));
	ok(r && strstr(r, "page size"), "offset 0x123: %s", r ? r : "(null)");
	r = pci_range_invalid(&b[2], 1 << 20, 0, 0, why, sizeof(why));
	ok(r && strstr(r, "not a multiple of 2 MiB") && strstr(r, "0x800100000"),
	   "offset 1 MiB: %s", r ? r : "(null)");
	r = pci_range_invalid(&b[2], 0, 3 << 20, 0, why, sizeof(why));
	ok(r && strstr(r, "--size 3 MiB is not a multiple of 2 MiB"), "size 3 MiB: %s",
	   r ? r : "(null)");
	r = pci_range_invalid(&b[2], 256 << 20, 0, 0, why, sizeof(why));
	ok(r && strstr(r, "beyond the end"), "offset at the end: %s", r ? r : "(null)");
	r = pci_range_invalid(&b[2], 128 << 20, 256 << 20, 0, why, sizeof(why));
	ok(r && strstr(r, "ends beyond"), "range past the end: %s", r ? r : "(null)");
	r = pci_range_invalid(&b[2], 2 << 20, ~0ULL - 4095, 0, why, sizeof(why));
	ok(r && strstr(r, "ends beyond"), "overflowing range: %s", r ? r : "(null)");
	r = pci_range_invalid(&b[1], 0, 0, 0, why, sizeof(why));
	ok(r && strstr(r, "BAR 1 cannot be registered"), "range in I/O BAR: %s", r ? r : "(null)");

	/* The granule from the kernel, once the device is open */
	r = pci_bar_unregistrable(&b[0], 0, why, sizeof(why));
	ok(r && strstr(r, "assumed"), "granule not known: the fallback says it is assumed: %s",
	   r ? r : "(null)");
	r = pci_bar_unregistrable(&b[0], 2 << 20, why, sizeof(why));
	ok(r && strstr(r, "smaller than 2 MiB,") && !strstr(r, "assumed"),
	   "granule 2 MiB from the kernel: not assumed: %s", r ? r : "(null)");
	r = pci_bar_unregistrable(&b[2], 512ULL << 20, why, sizeof(why));
	ok(r && strstr(r, "smaller than 512 MiB"), "BAR 2 below a 512 MiB granule: %s",
	   r ? r : "(null)");
	r = pci_bar_unregistrable(&b[4], 16ULL << 20, why, sizeof(why));
	ok(r && strstr(r, "smaller than 16 MiB"), "BAR 4 below a 16 MiB granule: %s",
	   r ? r : "(null)");
	ok(!pci_bar_unregistrable(&b[4], 1 << 20, why, sizeof(why)),
	   "BAR 4 (4 MiB, 1 MiB aligned) registrable with a 1 MiB granule");
	ok(!pci_range_invalid(&b[4], 1 << 20, 1 << 20, 1 << 20, why, sizeof(why)),
	   "BAR 4 1M+1M with a 1 MiB granule");
	r = pci_range_invalid(&b[2], 2 << 20, 16 << 20, 16ULL << 20, why, sizeof(why));
	ok(r && strstr(r, "not a multiple of 16 MiB;") && strstr(r, "0x800200000"),
	   "offset 2 MiB with a 16 MiB granule: %s", r ? r : "(null)");
	r = pci_range_invalid(&b[2], 16 << 20, 8 << 20, 16ULL << 20, why, sizeof(why));
	ok(r && strstr(r, "--size 8 MiB is not a multiple of 16 MiB;"),
	   "size 8 MiB with a 16 MiB granule: %s", r ? r : "(null)");
	ok(!pci_range_invalid(&b[2], 16 << 20, 32 << 20, 16ULL << 20, why, sizeof(why)),
	   "BAR 2 16M+32M with a 16 MiB granule");

	ok(pci_parse_resource("0x0 0x0\n", b) == -EINVAL, "short line rejected");
	ok(pci_parse_resource("0x0 0x0 0x0\n0x0 0x0 0x0\n", b) == -EINVAL,
	   "fewer than 6 lines rejected");
	ok(pci_parse_resource("0x2000 0x1000 0x200\n0x0 0x0 0x0\n0x0 0x0 0x0\n"
			      "0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n", b) == -EINVAL,
	   "end before start rejected");
	ok(pci_parse_resource("0x1000 0x1fff 0x200 junk\n0x0 0x0 0x0\n0x0 0x0 0x0\n"
			      "0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n", b) == -EINVAL,
	   "junk after a line rejected");
}

static void test_bdf(void)
{
	char out[PCI_BDF_LEN];

	ok(!pci_norm_bdf("03:00.0", out) && !strcmp(out, "0000:03:00.0"), "short BDF");
	ok(!pci_norm_bdf("0001:FF:1F.7", out) && !strcmp(out, "0001:ff:1f.7"), "upper case BDF");
	ok(pci_norm_bdf("0000:03:20.0", out) == -EINVAL, "device 0x20 rejected");
	ok(pci_norm_bdf("03:00", out) == -EINVAL, "no function rejected");
	ok(pci_norm_bdf("zz:00.0", out) == -EINVAL, "non-hex bus rejected");
	ok(pci_norm_bdf("0000:03:00.0x", out) == -EINVAL, "trailing junk rejected");
}

/* ---- synthetic sysfs ---- */

static int put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static int mkdirs(const char *root, const char *rel)
{
	char path[PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int lnk(const char *root, const char *rel, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return symlink(target, path) ? -errno : 0;
}

/*
 * devices: 0000:03:00.0 nvme, 0000:03:00.1 snd_hda_intel, 0000:00:1c.0
 * pcieport in group 7; 0000:04:00.0 vfio-pci alone in group 8.
 */
static int make_sysfs(const char *root)
{
	static const char *const devs[][3] = {
		{ "0000:03:00.0", "nvme", "7" },
		{ "0000:03:00.1", "snd_hda_intel", "7" },
		{ "0000:00:1c.0", "pcieport", "7" },
		{ "0000:04:00.0", "vfio-pci", "8" },
		{ "0000:05:00.0", "", "9" },
	};
	char rel[256], target[256];
	size_t i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(devs); i++) {
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s", devs[i][0]);
		ret |= mkdirs(root, rel);
		if (*devs[i][1]) {
			snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", devs[i][0]);
			snprintf(target, sizeof(target), "../../../../bus/pci/drivers/%s",
				 devs[i][1]);
			ret |= lnk(root, rel, target);
		}
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%s/devices", devs[i][2]);
		ret |= mkdirs(root, rel);
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", devs[i][0]);
		snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%s", devs[i][2]);
		ret |= lnk(root, rel, target);
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%s/devices/%s",
			 devs[i][2], devs[i][0]);
		snprintf(target, sizeof(target), "../../../../bus/pci/devices/%s", devs[i][0]);
		ret |= lnk(root, rel, target);
	}
	ret |= put(root, "bus/pci/devices/0000:04:00.0/resource", resource_text);
	ret |= put(root, "bus/pci/devices/0000:04:00.0/vendor", "0x1af4\n");
	ret |= put(root, "bus/pci/devices/0000:04:00.0/device", "0x1110\n");
	ret |= put(root, "bus/pci/devices/0000:04:00.0/class", "0x050000\n");
	ret |= mkdirs(root, "bus/pci/devices/0000:04:00.0/vfio-dev/vfio3");
	ret |= mkdirs(root, "bus/pci/devices/0000:04:00.0/p2pmem");
	ret |= put(root, "bus/pci/devices/0000:04:00.0/p2pmem/size", "268435456\n");
	ret |= put(root, "bus/pci/devices/0000:04:00.0/p2pmem/available", "260046848\n");
	ret |= mkdirs(root, "bus/pci/devices/0000:07:00.0/p2pmem");
	return ret;
}

static void test_sysfs(void)
{
	struct pci_group_member m[8];
	struct pci_bar b[PCI_NUM_BARS];
	char drv[64], text[4096], id[32], cls[32], name[32];
	uint64_t size = 0, avail = 0;
	struct sbuf sb;
	int group = -1, n;

	ok(pci_dev_exists("0000:03:00.0") && !pci_dev_exists("0000:09:00.0"),
	   "device existence");
	ok(!pci_driver("0000:03:00.0", drv, sizeof(drv)) && !strcmp(drv, "nvme"),
	   "driver of 0000:03:00.0: %s", drv);
	ok(!pci_driver_is_vfio(drv), "nvme is not vfio-pci");
	ok(!pci_driver("0000:05:00.0", drv, sizeof(drv)) && !*drv, "no driver");
	ok(pci_driver("0000:09:00.0", drv, sizeof(drv)) == -ENODEV, "driver of a missing device");
	ok(pci_driver_is_vfio("vfio-pci") && pci_driver_is_vfio("mlx5_vfio_pci") &&
	   !pci_driver_is_vfio("vfio"), "vfio-pci and variant drivers");

	ok(!pci_iommu_group("0000:03:00.0", &group) && group == 7, "IOMMU group 7");
	n = pci_group_members(7, m, 8);
	ok(n == 3 && !strcmp(m[0].bdf, "0000:00:1c.0") && !strcmp(m[0].driver, "pcieport") &&
	   !strcmp(m[1].bdf, "0000:03:00.0") && !strcmp(m[2].driver, "snd_hda_intel"),
	   "group 7 members, sorted, with drivers");
	ok(pci_driver_group_ok("pcieport") && pci_driver_group_ok("") &&
	   pci_driver_group_ok("vfio-pci") && !pci_driver_group_ok("snd_hda_intel"),
	   "drivers allowed in a VFIO group");

	sbuf_init(&sb, text, sizeof(text));
	explain_not_vfio(&sb, "0000:03:00.0", "nvme");
	has(text, "0000:03:00.0 is bound to nvme, not to vfio-pci", "not-vfio message");
	has(text, "echo vfio-pci > /sys/bus/pci/devices/0000:03:00.0/driver_override",
	    "not-vfio message");
	has(text, "echo 0000:03:00.0 > /sys/bus/pci/devices/0000:03:00.0/driver/unbind",
	    "not-vfio message");
	has(text, "echo 0000:03:00.0 > /sys/bus/pci/drivers_probe", "not-vfio message");
	has(text, "modprobe vfio-pci", "not-vfio message without a vfio-pci driver");

	sbuf_init(&sb, text, sizeof(text));
	explain_not_vfio(&sb, "0000:05:00.0", "");
	has(text, "not bound to any driver", "unbound message");
	lacks(text, "unbind", "unbound message");

	sbuf_init(&sb, text, sizeof(text));
	explain_group(&sb, "0000:03:00.0", 7, m, n);
	has(text, "IOMMU group 7 of 0000:03:00.0 is not viable", "group message");
	has(text, "0000:03:00.1 bound to snd_hda_intel", "group message");
	has(text, "echo 0000:03:00.1 > /sys/bus/pci/devices/0000:03:00.1/driver/unbind",
	    "group message");
	lacks(text, "0000:00:1c.0 bound", "group message");

	ok(!pci_iommu_group("0000:04:00.0", &group) && group == 8 &&
	   pci_group_members(8, m, 8) == 1, "group 8: one device");
	ok(!pci_vfio_cdev("0000:04:00.0", name, sizeof(name)) && !strcmp(name, "vfio3"),
	   "VFIO cdev name: %s", name);
	ok(pci_vfio_cdev("0000:03:00.0", name, sizeof(name)) == -ENOENT, "no VFIO cdev");
	ok(!pci_ids("0000:04:00.0", id, sizeof(id), cls, sizeof(cls)) &&
	   !strcmp(id, "1af4:1110") && !strcmp(cls, "0x050000"), "ids %s class %s", id, cls);
	ok(!pci_read_bars("0000:04:00.0", b) && b[2].size == (256ULL << 20),
	   "BARs read from sysfs");
	ok(!pci_p2pmem("0000:04:00.0", &size, &avail) && size == (256ULL << 20) &&
	   avail == (248ULL << 20), "p2pmem size and available");
	ok(pci_p2pmem("0000:03:00.0", &size, &avail) == -ENOENT, "no p2pmem");
}

/* ---- error messages ---- */

static void feature_msg(enum p2p_op op, int err, const struct p2p_ctx *c,
			char *text, size_t len)
{
	struct sbuf sb;

	sbuf_init(&sb, text, len);
	explain_feature(&sb, op, err, c);
}

static void test_messages(void)
{
	struct pci_bar b[PCI_NUM_BARS];
	struct p2p_ctx c = { .bdf = "0000:04:00.0", .bar = 2 };
	struct p2p_place place = { .bar = -1 };
	char text[4096];
	struct sbuf sb;

	pci_parse_resource(resource_text, b);
	c.b = &b[2];

	feature_msg(OP_PROBE, ENOTTY, &c, text, sizeof(text));
	has(text, "does not implement VFIO_DEVICE_FEATURE_P2P_REGISTER", "ENOTTY");
	has(text, "CONFIG_VFIO_PCI_P2P", "ENOTTY");

	feature_msg(OP_REGISTER, EPERM, &c, text, sizeof(text));
	has(text, "needs no privilege", "EPERM (not a registration error any more)");
	has(text, "security module", "EPERM");
	lacks(text, "as root", "EPERM");

	feature_msg(OP_REGISTER, EBUSY, &c, text, sizeof(text));
	has(text, "mmap()ed through the VFIO device file", "EBUSY");
	has(text, "DMABUF", "EBUSY");
	has(text, "still draining", "EBUSY: or an ended registration");
	has(text, "range 0x0-0xfffffff of BAR 2", "EBUSY: the range, the whole BAR by default");

	feature_msg(OP_REGISTER, EIO, &c, text, sizeof(text));
	has(text, "memory decode is off", "EIO");
	has(text, "low power", "EIO");

	c.offset = 2 << 20;
	c.size = 4 << 20;
	feature_msg(OP_REGISTER, EEXIST, &c, text, sizeof(text));
	has(text, "range 0x200000-0x5fffff of BAR 2 of 0000:04:00.0 overlaps a range that is "
		  "already registered", "EEXIST: names the range");
	has(text, "several registrations", "EEXIST: a BAR can have several");
	lacks(text, "one registration at a time", "EEXIST");

	feature_msg(OP_UNREGISTER, ENOENT, &c, text, sizeof(text));
	has(text, "range 0x200000-0x5fffff of BAR 2 of 0000:04:00.0 was no longer registered",
	    "ENOENT: names the range");
	has(text, "reset", "ENOENT");

	/* Without the BAR's size, a range to its end */
	c.size = 0;
	c.b = NULL;
	feature_msg(OP_UNREGISTER, ENOENT, &c, text, sizeof(text));
	has(text, "range 0x200000 to the end of BAR 2", "ENOENT: a range to the end");
	/* Not the errors of another operation */
	feature_msg(OP_REGISTER, ENOENT, &c, text, sizeof(text));
	has(text, "P2P registration of BAR 2 of 0000:04:00.0 failed", "ENOENT of a register");
	c.offset = 0;
	c.b = &b[2];

	c.bar = 1;
	c.b = &b[1];
	feature_msg(OP_REGISTER, EOPNOTSUPP, &c, text, sizeof(text));
	has(text, "BAR 1 of 0000:04:00.0 cannot be registered", "EOPNOTSUPP on I/O BAR");
	has(text, "I/O port", "EOPNOTSUPP on I/O BAR");

	c.bar = 0;
	c.b = &b[0];
	feature_msg(OP_REGISTER, EOPNOTSUPP, &c, text, sizeof(text));
	has(text, "smaller than 2 MiB", "EOPNOTSUPP on a 4 KiB BAR");

	c.bar = 2;
	c.b = &b[2];
	feature_msg(OP_REGISTER, EOPNOTSUPP, &c, text, sizeof(text));
	has(text, "not claimed it", "EOPNOTSUPP on a good BAR");

	feature_msg(OP_PROBE, EOPNOTSUPP, &c, text, sizeof(text));
	has(text, "variant driver", "EOPNOTSUPP from PROBE");

	c.offset = 1 << 20;
	feature_msg(OP_REGISTER, EINVAL, &c, text, sizeof(text));
	has(text, "not a multiple of 2 MiB", "EINVAL with a 1 MiB offset");
	has(text, "assumed", "EINVAL, granule not known");
	c.granule = 16 << 20;
	c.offset = 2 << 20;
	feature_msg(OP_REGISTER, EINVAL, &c, text, sizeof(text));
	has(text, "not a multiple of 16 MiB;", "EINVAL with the granule from the kernel");
	lacks(text, "assumed", "EINVAL with the granule from the kernel");
	c.b = NULL;
	feature_msg(OP_REGISTER, EINVAL, &c, text, sizeof(text));
	has(text, "multiples of the granule, 16 MiB.", "EINVAL without the BAR: the granule");
	c.bar = 0;
	c.b = &b[0];
	feature_msg(OP_REGISTER, EOPNOTSUPP, &c, text, sizeof(text));
	has(text, "smaller than 16 MiB", "EOPNOTSUPP of a 4 KiB BAR, 16 MiB granule");
	c.bar = 2;
	c.b = &b[2];
	feature_msg(OP_REGISTER, EOPNOTSUPP, &c, text, sizeof(text));
	has(text, "memory BAR of at least 16 MiB", "EOPNOTSUPP on a good BAR, 16 MiB granule");
	c.offset = 0;
	c.size = 64 << 20;
	c.memlock_known = true;
	c.memlock = 64 << 10;
	feature_msg(OP_REGISTER, ENOMEM, &c, text, sizeof(text));
	has(text, "less than the charge of the smallest range, one granule (256 KiB)",
	    "ENOMEM: 64 KiB covers no 16 MiB granule");
	c.memlock_known = false;
	c.memlock = 0;
	c.granule = 0;
	c.size = 0;

	c.offset = 0;
	c.size = 64 << 20;
	feature_msg(OP_REGISTER, ENOMEM, &c, text, sizeof(text));
	has(text, "1 MiB", "ENOMEM names the struct page memory");
	has(text, "RLIMIT_MEMLOCK is not known", "ENOMEM, limit unknown");

	c.memlock_known = true;
	c.memlock = 64 << 10;
	feature_msg(OP_REGISTER, ENOMEM, &c, text, sizeof(text));
	has(text, "registering 64 MiB of BAR 2 of 0000:04:00.0 needs 1 MiB of locked memory, "
		  "more than RLIMIT_MEMLOCK allows (64 KiB)", "ENOMEM over the limit");
	has(text, "1/64 of the range", "ENOMEM over the limit");
	has(text, "rounded up to pages, here 1 MiB (computed) for 64 MiB", "ENOMEM over the limit");
	has(text, "'ulimit -l 1024'", "ENOMEM over the limit");
	has(text, "'prlimit --memlock=1048576:1048576'", "ENOMEM over the limit");
	has(text, "CAP_IPC_LOCK", "ENOMEM over the limit");
	has(text, "at most 4 MiB fits in 64 KiB", "ENOMEM over the limit");

	c.memlock = 8 << 20;
	feature_msg(OP_REGISTER, ENOMEM, &c, text, sizeof(text));
	has(text, "out of memory (ENOMEM)", "ENOMEM within the limit");
	has(text, "RLIMIT_MEMLOCK of this process is 8 MiB", "ENOMEM within the limit");
	has(text, "other locked memory", "ENOMEM within the limit");
	has(text, "dmesg", "ENOMEM within the limit");

	c.ipc_lock = true;
	c.memlock = 64 << 10;
	feature_msg(OP_REGISTER, ENOMEM, &c, text, sizeof(text));
	has(text, "CAP_IPC_LOCK, which lifts the limit", "ENOMEM with CAP_IPC_LOCK");
	lacks(text, "ulimit", "ENOMEM with CAP_IPC_LOCK");

	c.ipc_lock = false;
	c.size = 0;
	c.offset = 128 << 20;
	feature_msg(OP_REGISTER, ENOMEM, &c, text, sizeof(text));
	has(text, "registering 128 MiB of BAR 2", "ENOMEM, size 0: to the end of the BAR");
	has(text, "needs 2 MiB of locked memory", "ENOMEM, size 0: to the end of the BAR");
	c.offset = 0;
	c.memlock_known = false;

	sbuf_init(&sb, text, sizeof(text));
	explain_read(&sb, EINVAL, "/dev/nvme0n1", "0000:01:00.0", "0000:03:00.0");
	has(text, "no P2P DMA path between the client 0000:01:00.0 (/dev/nvme0n1) and the provider "
		  "0000:03:00.0",
	    "read EINVAL");
	has(text, "whitelisted host bridge", "read EINVAL");
	has(text, "dmesg", "read EINVAL");

	sbuf_init(&sb, text, sizeof(text));
	explain_read(&sb, EREMOTEIO, "/dev/nvme0n1", "", "0000:03:00.0");
	has(text, "the device behind it", "read EREMOTEIO without client");
	has(text, "common PCIe switch", "read EREMOTEIO");

	sbuf_init(&sb, text, sizeof(text));
	explain_in_use(&sb, "0000:04:00.0", "pid 12 (qemu)");
	has(text, "already open through VFIO by pid 12 (qemu)", "in-use message");

	sbuf_init(&sb, text, sizeof(text));
	explain_mmap(&sb, ENOMEM, "/sys/bus/pci/devices/0000:04:00.0/p2pmem/allocate",
		     64 << 20, "0000:04:00.0", NULL);
	has(text, "256 MiB of P2P memory, 248 MiB of it available", "mmap ENOMEM");

	place.bar = 2;
	place.at = 254 << 20;
	sbuf_init(&sb, text, sizeof(text));
	explain_mmap(&sb, EINVAL, "/sys/bus/pci/devices/0000:04:00.0/p2pmem/allocate",
		     4 << 20, "0000:04:00.0", &place);
	has(text, "cannot place 4 MiB at offset 0xfe00000 of BAR 2 of 0000:04:00.0",
	    "placed mmap EINVAL");
	has(text, "0xfe00000-0x101fffff does not lie inside one registered range",
	    "placed mmap EINVAL");
	has(text, "leave out --at", "placed mmap EINVAL");
	place.range_known = true;
	place.range_offset = 0;
	place.range_size = 256 << 20;
	sbuf_init(&sb, text, sizeof(text));
	explain_mmap(&sb, EINVAL, "/sys/bus/pci/devices/0000:04:00.0/p2pmem/allocate",
		     4 << 20, "0000:04:00.0", &place);
	has(text, "The range registered of BAR 2 is 0x0-0xfffffff", "placed mmap EINVAL, range known");
	sbuf_init(&sb, text, sizeof(text));
	explain_mmap(&sb, EBUSY, "/sys/bus/pci/devices/0000:04:00.0/p2pmem/allocate",
		     4 << 20, "0000:04:00.0", &place);
	has(text, "some of 0xfe00000-0x101fffff is allocated already", "placed mmap EBUSY");
	has(text, "Choose another --at", "placed mmap EBUSY");
	sbuf_init(&sb, text, sizeof(text));
	explain_mmap(&sb, ENODEV, "/sys/bus/pci/devices/0000:04:00.0/p2pmem/allocate",
		     4 << 20, "0000:04:00.0", &place);
	has(text, "no P2P memory there", "placed mmap ENODEV");

	sbuf_init(&sb, text, sizeof(text));
	explain_mmap(&sb, EACCES, "/sys/bus/pci/devices/0000:04:00.0/p2pmem/allocate",
		     4 << 20, "0000:04:00.0", NULL);
	has(text, "read --vfio", "mmap EACCES points to the VFIO device file");

	place.range_known = true;
	sbuf_init(&sb, text, sizeof(text));
	explain_vfio_mmap(&sb, EINVAL, 5, 4 << 20, "0000:04:00.0", &place);
	has(text, "0xfe00000-0x101fffff does not lie inside one registered range",
	    "VFIO mmap EINVAL");
	has(text, "The range registered of BAR 2 is 0x0-0xfffffff", "VFIO mmap EINVAL");
	lacks(text, "leave out --at", "VFIO mmap EINVAL");
	sbuf_init(&sb, text, sizeof(text));
	explain_vfio_mmap(&sb, EBUSY, 5, 4 << 20, "0000:04:00.0", &place);
	has(text, "is allocated already", "VFIO mmap EBUSY");
	has(text, "share one pool", "VFIO mmap EBUSY");
	sbuf_init(&sb, text, sizeof(text));
	explain_vfio_mmap(&sb, ENOENT, 5, 4 << 20, "0000:04:00.0", &place);
	has(text, "has no page-backed region for BAR 2", "VFIO mmap ENOENT");
	has(text, "leave out --vfio", "VFIO mmap ENOENT");
	sbuf_init(&sb, text, sizeof(text));
	explain_vfio_mmap(&sb, ENOTTY, 5, 4 << 20, "0000:04:00.0", &place);
	has(text, "file descriptor 5 is not a VFIO device file", "VFIO mmap ENOTTY");
	has(text, "VFIO_P2P_DEVICE_FD", "VFIO mmap ENOTTY");

	sbuf_init(&sb, text, sizeof(text));
	explain_no_group(&sb, "0000:04:00.0");
	has(text, "no IOMMU group", "no-group message");
}

/* ---- the LD_PRELOAD interposer (vfio_p2p_preload.[ch], preload.c) ---- */

/* The environment the interposer sees, for vfio_p2p_preload_init() */
static const char *penv[16][2];

static void penv_set(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(penv) && penv[i][0]; i++)
		if (!strcmp(penv[i][0], name))
			break;
	if (i == ARRAY_SIZE(penv))
		return;
	penv[i][0] = name;
	penv[i][1] = value;
}

static char *penv_get(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(penv) && penv[i][0]; i++)
		if (!strcmp(penv[i][0], name))
			return (char *)penv[i][1];
	return NULL;
}

static void *map_real(void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	return mmap(addr, len, prot, flags, fd, (off_t)off);
}

/* A mapping function that records the offsets asked and answers EBUSY for one */
static int64_t fake_offs[256];
static unsigned int fake_n;
static int64_t fake_busy = -1;
static int fake_errno;

static void *map_fake(void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	unsigned int i = __atomic_fetch_add(&fake_n, 1, __ATOMIC_RELAXED);

	(void)addr;
	(void)len;
	(void)prot;
	(void)flags;
	(void)fd;
	if (i < ARRAY_SIZE(fake_offs))
		fake_offs[i] = off;
	if (off == fake_busy || fake_errno) {
		errno = fake_errno ? fake_errno : EBUSY;
		return MAP_FAILED;
	}
	return (void *)(uintptr_t)(0x10000000 + (uint64_t)i * 0x1000);
}

/* What @fd (a file) holds from offset 0, NUL terminated; the number of lines */
static int slurp(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	int lines = 0;
	char *p;

	buf[n > 0 ? n : 0] = '\0';
	for (p = buf; (p = strchr(p, '\n')); p++)
		lines++;
	return lines;
}

#define PRELOAD_REGION	(1ULL << 36)	/* where the stand-in's "region" starts */
#define PRELOAD_SIZE	(16ULL << 20)	/* the "registered range": 0 to 16 MiB */
#define PRELOAD_AT	(2ULL << 20)
#define PLEN		(PATH_MAX + 64)

struct preload_thread {
	struct vfio_p2p_preload *p;
	int fails;
};

static void *preload_thread(void *arg)
{
	struct preload_thread *t = arg;
	int i;

	for (i = 0; i < 32; i++)
		if (vfio_p2p_preload_map(t->p, map_fake, NULL, 4096, PROT_READ,
					 MAP_SHARED) == MAP_FAILED)
			t->fails++;
	return NULL;
}

/*
 * The stand-in for the device file: sparse, "WINDOW-A" at the region's
 * offset + PRELOAD_AT, "WINDOW-B" 8 KiB further.  Returns its fd.
 */
static int preload_standin(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)(PRELOAD_REGION + PRELOAD_SIZE)) ||
	    pwrite(fd, "WINDOW-A", 8, (off_t)(PRELOAD_REGION + PRELOAD_AT)) != 8 ||
	    pwrite(fd, "WINDOW-B", 8, (off_t)(PRELOAD_REGION + PRELOAD_AT + 8192)) != 8) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_preload(const char *root)
{
	char standin[PLEN], ph[PLEN], other[PLEN], logp[PLEN];
	char fdnum[16], region[32], at[32], size[32], out[2048];
	struct vfio_p2p_preload p;
	struct preload_thread t[4];
	pthread_t th[4];
	int dfd, pfd, ofd, lfd, i, k;
	uint8_t *a, *b;
	bool distinct;

	snprintf(standin, sizeof(standin), "%s/standin", root);
	snprintf(ph, sizeof(ph), "%s/mmap file", root);
	snprintf(other, sizeof(other), "%s/other", root);
	snprintf(logp, sizeof(logp), "%s/preload.log", root);
	dfd = preload_standin(standin);
	pfd = open(ph, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ofd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0600);
	lfd = open(logp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (!ok(dfd >= 0 && pfd >= 0 && ofd >= 0 && lfd >= 0 && !ftruncate(ofd, 4096) &&
		pwrite(ofd, "OTHERFIL", 8, 0) == 8,
		"preload: a sparse stand-in for the device file, a placeholder, another file"))
		goto out;

	/* Nothing to do without VFIO_P2P_MMAP_FILE */
	memset(penv, 0, sizeof(penv));
	ok(vfio_p2p_preload_init(&p, penv_get, 4096) == VFIO_P2P_PRELOAD_OFF &&
	   !vfio_p2p_preload_match(&p, pfd, MAP_SHARED, 0),
	   "preload: without VFIO_P2P_MMAP_FILE nothing is redirected");

	snprintf(fdnum, sizeof(fdnum), "%d", dfd);
	snprintf(region, sizeof(region), "%llu", PRELOAD_REGION);
	snprintf(size, sizeof(size), "%llu", PRELOAD_SIZE);
	snprintf(at, sizeof(at), "%llu", PRELOAD_AT);
	penv_set("VFIO_P2P_MMAP_FILE", ph);
	penv_set("VFIO_P2P_DEVICE_FD", fdnum);
	penv_set("VFIO_P2P_BAR", "2");
	penv_set("VFIO_P2P_OFFSET", "0");
	penv_set("VFIO_P2P_SIZE", size);
	penv_set("VFIO_P2P_BDF", "0000:03:00.0");
	ok(vfio_p2p_preload_init(&p, penv_get, 4096) == VFIO_P2P_PRELOAD_BROKEN &&
	   strstr(p.why, "VFIO_P2P_REGION_OFFSET is not"),
	   "preload: VFIO_P2P_REGION_OFFSET missing: broken, says so (%s)", p.why);
	p.log_fd = lfd;
	errno = 0;
	a = vfio_p2p_preload_map(&p, map_real, NULL, 4096, PROT_READ, MAP_SHARED);
	vfio_p2p_preload_map(&p, map_real, NULL, 4096, PROT_READ, MAP_SHARED);
	k = slurp(lfd, out, sizeof(out));
	ok(a == MAP_FAILED && errno == EINVAL && k == 1 &&
	   strstr(out, "vfio-p2p preload: VFIO_P2P_MMAP_FILE is set, but VFIO_P2P_REGION_OFFSET"),
	   "preload: broken: mappings of the placeholder fail with EINVAL, one line says why");
	penv_set("VFIO_P2P_REGION_OFFSET", region);
	penv_set("VFIO_P2P_MMAP_AT", "12345");
	ok(vfio_p2p_preload_init(&p, penv_get, 4096) == VFIO_P2P_PRELOAD_BROKEN &&
	   strstr(p.why, "VFIO_P2P_MMAP_AT=0x3039 is not a page aligned"),
	   "preload: VFIO_P2P_MMAP_AT not page aligned: broken (%s)", p.why);
	penv_set("VFIO_P2P_MMAP_AT", size);
	ok(vfio_p2p_preload_init(&p, penv_get, 4096) == VFIO_P2P_PRELOAD_BROKEN,
	   "preload: VFIO_P2P_MMAP_AT at the end of the range: broken");
	penv_set("VFIO_P2P_MMAP_AT", "");
	ok(vfio_p2p_preload_init(&p, penv_get, 4096) == VFIO_P2P_PRELOAD_ON && p.at == 0 &&
	   p.next == 0 && p.range_end == PRELOAD_SIZE,
	   "preload: without VFIO_P2P_MMAP_AT the buffers start at VFIO_P2P_OFFSET");
	penv_set("VFIO_P2P_MMAP_AT", at);
	ok(vfio_p2p_preload_init(&p, penv_get, 4096) == VFIO_P2P_PRELOAD_ON &&
	   p.device_fd == dfd && p.bar == 2 && p.region_offset == PRELOAD_REGION &&
	   p.at == PRELOAD_AT && p.range_start == 0 && p.range_end == PRELOAD_SIZE,
	   "preload: the environment read");
	if (ftruncate(lfd, 0))
		goto out;
	p.log_fd = lfd;

	ok(vfio_p2p_preload_match(&p, pfd, MAP_SHARED, 0),
	   "preload: MAP_SHARED of the placeholder at offset 0 is redirected");
	ok(vfio_p2p_preload_match(&p, pfd, MAP_SHARED_VALIDATE, 0),
	   "preload: MAP_SHARED_VALIDATE too");
	ok(!vfio_p2p_preload_match(&p, ofd, MAP_SHARED, 0) &&
	   !vfio_p2p_preload_match(&p, -1, MAP_SHARED | MAP_ANONYMOUS, 0) &&
	   !vfio_p2p_preload_match(&p, dfd, MAP_SHARED, 0),
	   "preload: other files and anonymous memory pass through");
	ok(!vfio_p2p_preload_match(&p, pfd, MAP_PRIVATE, 0) &&
	   !vfio_p2p_preload_match(&p, pfd, MAP_SHARED, 4096),
	   "preload: the placeholder private or at another offset passes through");
	k = slurp(lfd, out, sizeof(out));
	ok(k == 1 && strstr(out, "vfio-p2p preload: a mapping of VFIO_P2P_MMAP_FILE without "
			       "MAP_SHARED is not redirected"),
	   "preload: ... and one line says so, once");

	/* The real thing, on the stand-in */
	a = vfio_p2p_preload_map(&p, map_real, NULL, 5000, PROT_READ | PROT_WRITE, MAP_SHARED);
	b = vfio_p2p_preload_map(&p, map_real, NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
	ok(a != MAP_FAILED && !memcmp(a, "WINDOW-A", 8),
	   "preload: the first buffer holds the stand-in's bytes at region + VFIO_P2P_MMAP_AT");
	ok(b != MAP_FAILED && !memcmp(b, "WINDOW-B", 8) && p.next == PRELOAD_AT + 8192 + 4096,
	   "preload: the second one those 8 KiB further (5000 bytes rounded up to pages)");
	if (a != MAP_FAILED && b != MAP_FAILED) {
		memcpy(b + 8, "written", 7);
		ok(pread(dfd, out, 15, (off_t)(PRELOAD_REGION + PRELOAD_AT + 8192)) == 15 &&
		   !memcmp(out, "WINDOW-Bwritten", 15),
		   "preload: a write to the buffer lands in the stand-in (MAP_SHARED kept)");
		munmap(a, 5000);
		munmap(b, 4096);
	}
	k = slurp(lfd, out, sizeof(out));
	ok(k == 1, "preload: not verbose: no line per mapping");

	/* The bound */
	p.next = PRELOAD_SIZE - 8192;
	errno = 0;
	a = vfio_p2p_preload_map(&p, map_real, NULL, 8193, PROT_READ, MAP_SHARED);
	ok(a == MAP_FAILED && errno == ENOMEM && p.next == PRELOAD_SIZE - 8192,
	   "preload: a buffer past the end of the range: ENOMEM, nothing claimed");
	errno = 0;
	a = vfio_p2p_preload_map(&p, map_real, NULL, 1ULL << 30, PROT_READ, MAP_SHARED);
	ok(a == MAP_FAILED && errno == ENOMEM, "preload: one larger than the range: ENOMEM");
	k = slurp(lfd, out, sizeof(out));
	ok(k == 2 && strstr(out, "vfio-p2p preload: no room for 8193 bytes at BAR 2+0xffe000: "
			       "the registered range ends at 0x1000000 (buffers from "
			       "VFIO_P2P_MMAP_AT=0x200000 on"),
	   "preload: one line says so, once");
	if (k != 2)
		diag("log", out);
	a = vfio_p2p_preload_map(&p, map_real, NULL, 8192, PROT_READ, MAP_SHARED);
	ok(a != MAP_FAILED && p.next == PRELOAD_SIZE,
	   "preload: a buffer that ends at the end of the range fits");
	if (a != MAP_FAILED)
		munmap(a, 8192);

	/* EBUSY: the next window; other errors as they are; the verbose line */
	p.next = PRELOAD_AT;
	p.verbose = true;
	fake_n = 0;
	fake_busy = (int64_t)(PRELOAD_REGION + PRELOAD_AT);
	a = vfio_p2p_preload_map(&p, map_fake, NULL, 4096, PROT_READ, MAP_SHARED);
	ok(a != MAP_FAILED && fake_n == 2 &&
	   fake_offs[1] == (int64_t)(PRELOAD_REGION + PRELOAD_AT + 4096) &&
	   p.next == PRELOAD_AT + 8192,
	   "preload: EBUSY (taken by another process): the next window");
	k = slurp(lfd, out, sizeof(out));
	ok(k == 3 && strstr(out, "\n# vfio-p2p preload: mapped 4096 bytes at BAR 2+0x201000 of "
			       "0000:03:00.0 through VFIO device fd "),
	   "preload: verbose: the line says where it went");
	fake_errno = EINVAL;
	errno = 0;
	a = vfio_p2p_preload_map(&p, map_fake, NULL, 4096, PROT_READ, MAP_SHARED);
	ok(a == MAP_FAILED && errno == EINVAL, "preload: other errors of mmap() as they are");
	fake_errno = 0;
	fake_busy = -1;

	/* Threads get disjoint windows */
	p.next = PRELOAD_AT;
	p.verbose = false;
	fake_n = 0;
	for (i = 0; i < 4; i++) {
		t[i].p = &p;
		t[i].fails = 0;
		if (pthread_create(&th[i], NULL, preload_thread, &t[i]))
			t[i].p = NULL;
	}
	for (i = 0; i < 4; i++)
		if (t[i].p)
			pthread_join(th[i], NULL);
	distinct = fake_n == 128;
	for (i = 0; distinct && i < 128; i++)
		for (k = i + 1; k < 128; k++)
			if (fake_offs[i] == fake_offs[k])
				distinct = false;
	ok(distinct && !t[0].fails && !t[1].fails && !t[2].fails && !t[3].fails &&
	   p.next == PRELOAD_AT + 128 * 4096,
	   "preload: 4 threads x 32 buffers: 128 disjoint windows");
out:
	if (dfd >= 0)
		close(dfd);
	if (pfd >= 0)
		close(pfd);
	if (ofd >= 0)
		close(ofd);
	if (lfd >= 0)
		close(lfd);
	unlink(standin);
	unlink(ph);
	unlink(other);
	unlink(logp);
}

/* $VFIO_P2P_PRELOAD, or @name next to this program */
static void next_to_me(const char *env, const char *name, char *buf, size_t len)
{
	const char *e = env ? getenv(env) : NULL;
	char exe[PLEN];
	ssize_t n;

	if (e && *e) {
		snprintf(buf, len, "%s", e);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(buf, len, "%s/%s", dirname(exe), name);
}

/*
 * Run @argv with the interposer in LD_PRELOAD and the environment of
 * "register --preload", stdout and stderr to @outp; returns its status.
 */
static int preload_run(const char *so, int dfd, const char *ph, const char *outp,
		       char *const argv[])
{
	char fdnum[16], region[32], size[32], at[32];
	int status, fd;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		snprintf(fdnum, sizeof(fdnum), "%d", dfd);
		snprintf(region, sizeof(region), "%llu", PRELOAD_REGION);
		snprintf(size, sizeof(size), "%llu", PRELOAD_SIZE);
		/* Room for two buffers, 8 KiB and 4 KiB, and no more */
		snprintf(at, sizeof(at), "%llu", PRELOAD_AT);
		setenv("VFIO_P2P_MMAP_FILE", ph, 1);
		setenv("VFIO_P2P_DEVICE_FD", fdnum, 1);
		setenv("VFIO_P2P_REGION_OFFSET", region, 1);
		setenv("VFIO_P2P_BAR", "2", 1);
		setenv("VFIO_P2P_OFFSET", "0", 1);
		setenv("VFIO_P2P_SIZE", at, 1);
		snprintf(at, sizeof(at), "%llu", PRELOAD_AT - 12288);
		setenv("VFIO_P2P_MMAP_AT", at, 1);
		setenv("VFIO_P2P_PRELOAD_VERBOSE", "1", 1);
		setenv("VFIO_P2P_BDF", "0000:03:00.0", 1);
		setenv("LD_PRELOAD", so, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/*
 * The interposer for real: the helper maps the placeholder under
 * LD_PRELOAD, and fio does if it is installed.
 */
static void test_preload_child(const char *root)
{
	char so[PLEN], helper[PLEN], standin[PLEN], ph[PLEN], other[PLEN], outp[PLEN];
	char data[PLEN], out[16384], buf[8192], arg[PLEN + 32], arg2[PLEN + 32], arg3[64];
	int dfd, fd, st, k;
	bool fio;

	next_to_me(VFIO_P2P_PRELOAD_ENV, VFIO_P2P_PRELOAD_SO, so, sizeof(so));
	next_to_me(NULL, "vfio-p2p-test-helper", helper, sizeof(helper));
	snprintf(standin, sizeof(standin), "%s/standin", root);
	snprintf(ph, sizeof(ph), "%s/placeholder", root);
	snprintf(other, sizeof(other), "%s/other", root);
	snprintf(outp, sizeof(outp), "%s/child.out", root);
	snprintf(data, sizeof(data), "%s/data", root);
	if (!ok(!access(so, R_OK) && !access(helper, X_OK), "preload: %s and %s are built",
		so, helper))
		return;

	/*
	 * The stand-in with "WINDOW-A" at the first buffer's place, 12 KiB
	 * before the end of the range, "WINDOW-B" 8 KiB after it
	 */
	dfd = open(standin, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fd = open(ph, O_RDWR | O_CREAT | O_TRUNC, 0600);
	st = dfd >= 0 && fd >= 0 && !ftruncate(dfd, (off_t)(PRELOAD_REGION + PRELOAD_SIZE)) &&
	     pwrite(dfd, "WINDOW-A", 8, (off_t)(PRELOAD_REGION + PRELOAD_AT - 12288)) == 8 &&
	     pwrite(dfd, "WINDOW-B", 8, (off_t)(PRELOAD_REGION + PRELOAD_AT - 4096)) == 8 &&
	     /* The placeholder holds bytes of its own, to tell pass-through */
	     pwrite(fd, "PLACEHLDPLACE-4K", 16, 0) == 16 &&
	     pwrite(fd, "PLACE-4K", 8, 4096) == 8;
	if (fd >= 0)
		close(fd);
	fd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0600);
	st = st && fd >= 0 && pwrite(fd, "OTHERFIL", 8, 0) == 8;
	if (fd >= 0)
		close(fd);
	if (!ok(st, "preload: the stand-in, the placeholder and another file"))
		goto out;

	{
		char *const argv[] = { helper, "map", ph, "5000", "p4096", "4096@4096", "4096",
				       "4096", "4096", NULL };

		st = preload_run(so, dfd, ph, outp, argv);
	}
	fd = open(outp, O_RDONLY);
	k = fd >= 0 ? slurp(fd, out, sizeof(out)) : 0;
	if (fd >= 0)
		close(fd);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1, "preload: the helper ran under LD_PRELOAD "
	   "(status 1: the mappings past the range fail)");
	ok(strstr(out, "map 5000: ok WINDOW-A\n") && strstr(out, "map 4096: ok WINDOW-B\n"),
	   "preload: LD_PRELOAD: two mappings of the placeholder at offset 0 get the "
	   "stand-in's consecutive windows");
	ok(strstr(out, "map p4096: ok PLACEHLD\n") && strstr(out, "map 4096@4096: ok PLACE-4K\n"),
	   "preload: LD_PRELOAD: private and offset mappings of the placeholder pass through");
	ok(strstr(out, "map 4096: failed: errno 12 ") &&
	   strstr(strstr(out, "map 4096: failed: errno 12 ") + 1, "map 4096: failed: errno 12 "),
	   "preload: LD_PRELOAD: the mappings past the range fail with ENOMEM");
	snprintf(buf, sizeof(buf), "# vfio-p2p preload: mapped 5000 bytes at BAR 2+0x%llx of "
		 "0000:03:00.0 through VFIO device fd %d\n", PRELOAD_AT - 12288, dfd);
	snprintf(arg, sizeof(arg), "# vfio-p2p preload: mapped 4096 bytes at BAR 2+0x%llx ",
		 PRELOAD_AT - 4096);
	ok(strstr(out, buf) && strstr(out, arg), "preload: LD_PRELOAD: verbose lines say where");
	ok(strstr(out, "vfio-p2p preload: no room for 4096 bytes at BAR 2+0x200000: ") &&
	   !strstr(strstr(out, "no room for") + 1, "no room for") &&
	   strstr(out, "a mapping of VFIO_P2P_MMAP_FILE without MAP_SHARED is not redirected"),
	   "preload: LD_PRELOAD: one line for no room, one for the private mapping");
	if (k != 10)
		diag("output", out);
	{
		char *const argv[] = { helper, "map", other, "4096", NULL };

		st = preload_run(so, dfd, ph, outp, argv);
	}
	fd = open(outp, O_RDONLY);
	if (fd >= 0) {
		slurp(fd, out, sizeof(out));
		close(fd);
	}
	ok(WIFEXITED(st) && !WEXITSTATUS(st) && !strcmp(out, "map 4096: ok OTHERFIL\n"),
	   "preload: LD_PRELOAD: a shared mapping of another file passes through");

	/* fio's mem=mmapshared:FILE, reading a file into the stand-in */
	fio = !system("fio --version >/dev/null 2>&1");
	if (!fio) {
		printf("ok %d - preload: fio mem=mmapshared through the interposer # SKIP no fio\n",
		       ++tests);
		passed++;
		goto out;
	}
	fd = open(data, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (k = 0; k < (int)sizeof(buf); k++)
		buf[k] = (char)(k * 7 + 3);
	st = fd >= 0 && pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
	     pwrite(fd, buf, sizeof(buf), sizeof(buf)) == (ssize_t)sizeof(buf);
	if (fd >= 0)
		close(fd);
	snprintf(arg, sizeof(arg), "--filename=%s", data);
	snprintf(arg2, sizeof(arg2), "--mem=mmapshared:%s", ph);
	snprintf(arg3, sizeof(arg3), "--bs=%zu", sizeof(buf));
	{
		char fiop[] = "/bin/sh";
		char *const argv[] = { fiop, "-c", "exec fio \"$@\"", "sh", "--name=preload", arg,
				       "--readonly", "--rw=read", "--ioengine=psync", "--bs=16k",
				       "--size=16k", arg2, "--output-format=terse", NULL };

		/* A 16 KiB buffer, more than the 12 KiB left at VFIO_P2P_MMAP_AT */
		st = st ? preload_run(so, dfd, ph, outp, argv) : -1;
	}
	fd = open(outp, O_RDONLY);
	if (fd >= 0) {
		slurp(fd, out, sizeof(out));
		close(fd);
	}
	ok(WIFEXITED(st) && WEXITSTATUS(st) && strstr(out, "no room for "),
	   "preload: fio: a buffer larger than the room left fails (ENOMEM), one line");
	if (!strstr(out, "no room for "))
		diag("fio", out);
	{
		char fiop[] = "/bin/sh";
		char *const argv[] = { fiop, "-c", "VFIO_P2P_MMAP_AT=0 exec fio \"$@\"", "sh",
				       "--name=preload", arg, "--readonly", "--rw=read",
				       "--ioengine=psync", arg3, "--size=8k", arg2,
				       "--output-format=terse", NULL };

		st = preload_run(so, dfd, ph, outp, argv);
	}
	fd = open(outp, O_RDONLY);
	if (fd >= 0) {
		slurp(fd, out, sizeof(out));
		close(fd);
	}
	ok(WIFEXITED(st) && !WEXITSTATUS(st) &&
	   strstr(out, "# vfio-p2p preload: mapped ") && strstr(out, " bytes at BAR 2+0x0 of "),
	   "preload: fio mem=mmapshared:FILE maps through the interposer, exits 0");
	if (!strstr(out, "bytes at BAR 2+0x0"))
		diag("fio", out);
	ok(pread(dfd, out, sizeof(buf), (off_t)PRELOAD_REGION) == (ssize_t)sizeof(buf) &&
	   !memcmp(out, buf, sizeof(buf)),
	   "preload: fio's read landed in the stand-in at the region's offset + 0");
out:
	if (dfd >= 0)
		close(dfd);
	unlink(standin);
	unlink(ph);
	unlink(other);
	unlink(outp);
	unlink(data);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *root)
{
	if (nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		printf("# could not remove %s\n", root);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char root[PATH_MAX];

	printf("TAP version 13\n");

	test_numbers();
	test_memlock();
	test_cksum();
	test_bdf();
	test_args();
	test_help();
	test_maps_lines();
	test_locate_in();
	test_vfio_decode();
	test_bars();

	snprintf(root, sizeof(root), "%s/vfio p2p unit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		ok(false, "mkdtemp %s: %s", root, strerror(errno));
	} else if (!ok(!make_sysfs(root), "build a synthetic sysfs in %s", root)) {
		rm_tree(root);
	} else {
		pci_sysfs = root;
		test_sysfs();
		test_messages();
		test_where_self(root);
		test_vfio_lib(root);
		test_vfio_where_self(root);
		test_preload(root);
		test_preload_child(root);
		rm_tree(root);
	}

	printf("1..%d\n", tests);
	printf("# %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
