/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command line of vfio-p2p.
 */
#ifndef VFIO_P2P_ARGS_H
#define VFIO_P2P_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pci.h"

/* Bumped when the command line, the output or what it decodes changes */
#define VFIO_P2P_VERSION	"0.7"

enum p2p_cmd {
	CMD_HELP,	/* help_for says of which command */
	CMD_VERSION,
	CMD_PROBE,
	CMD_REGISTER,
	CMD_WHERE,
	CMD_READ,
	CMD_BOUNCE,
	NR_CMDS
};

enum p2p_engine {
	ENGINE_PSYNC,
	ENGINE_IO_URING,
};

#define MAX_ADDRS	64

struct p2p_opts {
	enum p2p_cmd cmd;
	/*
	 * The command named on the command line: CMD_HELP if none or an
	 * unknown one; with cmd == CMD_HELP, whose help to print.
	 */
	enum p2p_cmd help_for;
	char bdf[PCI_BDF_LEN];

	/* register, bounce; read with --at */
	int bar;		/* -1 if not given */
	uint64_t offset;
	uint64_t size;		/* 0: to the end of the BAR */
	bool hold;
	char **command;		/* NULL-terminated, points into argv */
	/*
	 * register --preload: COMMAND runs with libvfio-p2p-preload.so, its
	 * buffers from BAR offset @at (with @place; else the range's start)
	 */
	bool preload;

	/* where */
	pid_t pid;		/* 0: self */
	uint64_t addrs[MAX_ADDRS];
	int naddrs;

	/* read, bounce */
	const char *dev;
	uint64_t bytes;
	uint64_t dev_offset;
	uint64_t bs;		/* 0: default */
	unsigned int qd;	/* 0: default */
	enum p2p_engine engine;
	const char *p2pmem;	/* NULL: $VFIO_P2P_ALLOCATE */
	bool dram;
	bool cksum;
	bool pause;
	bool place;		/* read --at: the buffer at @at of BAR @bar */
	uint64_t at;		/* read --at, register --preload --at */
	bool vfio;		/* read --vfio: mapped through $VFIO_P2P_DEVICE_FD */
	bool verify;		/* read --verify: read the BAR back through VFIO */
};

/*
 * Parse argv (argv[0] is the program).  Returns 0, or -EINVAL with the
 * reason in @err (one line, no newline) and o->help_for set to the command
 * it was for.  "--help" or "-h" anywhere before "--" asks for the help of
 * the command, "help [COMMAND]" too; "--version" for the version.  Does
 * not touch the system.
 */
int parse_args(int argc, char **argv, struct p2p_opts *o, char *err, size_t errlen);

/* "register", ...; "" for CMD_HELP and CMD_VERSION */
const char *cmd_name(enum p2p_cmd cmd);
/* The help of @cmd (CMD_HELP: of the program), for stdout */
const char *help_text(enum p2p_cmd cmd);
/* "vfio-p2p VERSION (...)" and a newline */
const char *version_text(void);

/*
 * The line a usage error prints (without "vfio-p2p: " and newline): @err
 * and where the help of @cmd is.
 */
void usage_error_line(char *buf, size_t len, enum p2p_cmd cmd, const char *err);

/* What "register BDF -- COMMAND" puts in the environment of COMMAND */
enum p2p_env {
	ENV_ALLOCATE,
	ENV_BDF,
	ENV_BAR,
	ENV_OFFSET,
	ENV_SIZE,
	ENV_REGISTER_NS,
	ENV_DEVICE_FD,
	ENV_REGION_INDEX,
	ENV_REGION_OFFSET,
	ENV_MMAP_FILE,		/* --preload only */
	ENV_MMAP_AT,		/* --preload only */
	NR_ENV
};
extern const char *const command_env[NR_ENV];

#endif /* VFIO_P2P_ARGS_H */
