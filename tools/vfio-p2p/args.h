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

enum p2p_cmd {
	CMD_HELP,
	CMD_PROBE,
	CMD_REGISTER,
	CMD_WHERE,
	CMD_READ,
	CMD_BOUNCE,
};

enum p2p_engine {
	ENGINE_PSYNC,
	ENGINE_IO_URING,
};

#define MAX_ADDRS	64

struct p2p_opts {
	enum p2p_cmd cmd;
	char bdf[PCI_BDF_LEN];

	/* register, bounce */
	int bar;		/* -1 if not given */
	uint64_t offset;
	uint64_t size;		/* 0: to the end of the BAR */
	bool hold;
	char **command;		/* NULL-terminated, points into argv */

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
};

/*
 * Parse argv (argv[0] is the program).  Returns 0, or -EINVAL with the
 * reason in @err.  Does not touch the system.
 */
int parse_args(int argc, char **argv, struct p2p_opts *o, char *err, size_t errlen);

extern const char usage_text[];

#endif /* VFIO_P2P_ARGS_H */
