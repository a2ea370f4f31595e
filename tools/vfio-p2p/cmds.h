/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The commands of vfio-p2p.  Each returns the exit status of the program.
 */
#ifndef VFIO_P2P_CMDS_H
#define VFIO_P2P_CMDS_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"
#include "util.h"

/* Exit statuses besides a COMMAND's own */
#define EXIT_NOT_READY	1	/* the system is not ready, or the operation failed */
#define EXIT_USAGE	2

int cmd_probe(const struct p2p_opts *o);
int cmd_register(const struct p2p_opts *o);
int cmd_where(const struct p2p_opts *o);
int cmd_read(const struct p2p_opts *o);
int cmd_bounce(const struct p2p_opts *o);

/*
 * Whether @bdf is bound to vfio-pci in a viable IOMMU group; if not, the
 * first problem is explained in @sb.  @driver gets the bound driver,
 * @group the IOMMU group (-1 if none).
 */
bool device_usable(const char *bdf, struct sbuf *sb, char *driver,
		   size_t dlen, int *group);

/*
 * The VFIO device file that "vfio-p2p register -- COMMAND" passed down:
 * 0, -ENOENT if $VFIO_P2P_DEVICE_FD is not set, -EBADF if it names no open
 * file descriptor.
 */
int env_device_fd(int *fd);

/* Print @text (lines from explain_*()) to stderr after "vfio-p2p: " */
void print_explained(const char *text);

/*
 * A usage error found after parsing: one line, with where the help of
 * @cmd is, to stderr.  Returns EXIT_USAGE.
 */
int usage_error(enum p2p_cmd cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* VFIO_P2P_CMDS_H */
