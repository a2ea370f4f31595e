/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core of libvfio-p2p-preload.so, the LD_PRELOAD interposer that
 * "vfio-p2p register ... --preload -- COMMAND" puts in front of COMMAND.
 *
 * Programs that take a file to map their buffers from, like fio
 * (mem=mmapshared:FILE: open(FILE, O_RDWR | O_CREAT), then
 * mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)), cannot map
 * the VFIO device file themselves: it cannot be reopened by path into a
 * usable state, and the page-backed region of the BAR does not start at
 * file offset 0.  The interposer wraps mmap() and mmap64(): a shared
 * mapping at offset 0 of the placeholder file $VFIO_P2P_MMAP_FILE (an
 * empty regular file that register creates; the same st_dev and st_ino as
 * a stat() of the path at load time) maps instead
 *
 *	$VFIO_P2P_DEVICE_FD at $VFIO_P2P_REGION_OFFSET + next
 *
 * with the same address hint, length, protection and flags: P2P pages at
 * BAR offset "next" of the registered range.  "next" starts at
 * $VFIO_P2P_MMAP_AT (default $VFIO_P2P_OFFSET, the start of the range) and
 * each mapping advances it, atomically, by its length rounded up to the
 * page size, so that the buffers of several threads are disjoint.  When
 * the kernel answers EBUSY (that place is taken: another process's
 * buffer, e.g. a forked fio job that started from the same "next", or a
 * p2pmem/allocate mapping) the next window is tried.  A buffer that would
 * run past the end of the registered range ($VFIO_P2P_OFFSET +
 * $VFIO_P2P_SIZE) fails with ENOMEM, and one line says so on stderr, once.
 * Every other call passes through untouched; the placeholder mapped
 * privately or at another offset is not redirected either (one line says
 * so, once).  open(), ftruncate() and unlink() of the placeholder need no
 * wrapping: it is a regular file, whatever they do to it is harmless.
 *
 * With $VFIO_P2P_PRELOAD_VERBOSE=1 each redirected mapping prints
 *
 *	# vfio-p2p preload: mapped N bytes at BAR B+0xX of BDF through VFIO device fd F
 *
 * The hot path (vfio_p2p_preload_match(), vfio_p2p_preload_map()) is
 * async-signal-safe: fstat(), atomics, the mmap function given and write();
 * no allocation, no locks, errno kept as the mapping left it.  The window
 * counter is per process: forked processes start from where their parent
 * was (fio forks its jobs before they map, so each starts at
 * $VFIO_P2P_MMAP_AT and the kernel's EBUSY spreads concurrent ones);
 * within a process the windows are not reused after munmap().
 *
 * These functions are pure but for the fstat() of match and the
 * mapping function passed in: the unit tests run them on a regular file
 * standing in for the device file, without LD_PRELOAD.
 */
#ifndef VFIO_P2P_PRELOAD_H
#define VFIO_P2P_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The interposer's file name, installed next to the vfio-p2p binary */
#define VFIO_P2P_PRELOAD_SO		"libvfio-p2p-preload.so"

/* The environment it reads (the others: args.h, command_env[]) */
#define VFIO_P2P_PRELOAD_ENV		"VFIO_P2P_PRELOAD"	/* the .so, for register */
#define VFIO_P2P_PRELOAD_VERBOSE_ENV	"VFIO_P2P_PRELOAD_VERBOSE"
#define VFIO_P2P_MMAP_FILE_ENV		"VFIO_P2P_MMAP_FILE"
#define VFIO_P2P_MMAP_AT_ENV		"VFIO_P2P_MMAP_AT"

enum vfio_p2p_preload_state {
	VFIO_P2P_PRELOAD_OFF,		/* no $VFIO_P2P_MMAP_FILE: all passes through */
	VFIO_P2P_PRELOAD_ON,
	/*
	 * $VFIO_P2P_MMAP_FILE is there but the rest is not: mappings of the
	 * placeholder fail with EINVAL (@why says why) rather than give
	 * an empty file's SIGBUS
	 */
	VFIO_P2P_PRELOAD_BROKEN,
};

/* The mapping function: mmap64() of libc, or a test's */
typedef void *(*vfio_p2p_mmap_fn)(void *addr, size_t len, int prot, int flags,
				  int fd, int64_t off);

struct vfio_p2p_preload {
	enum vfio_p2p_preload_state state;
	bool have_file;		/* file_dev and file_ino are the placeholder's */
	dev_t file_dev;
	ino_t file_ino;
	int device_fd;
	int bar;
	uint64_t region_offset;	/* of the BAR's P2P region in the device file */
	uint64_t range_start;	/* the registered range: BAR offsets, */
	uint64_t range_end;	/* end exclusive */
	uint64_t at;		/* where the first buffer goes */
	uint64_t next;		/* where the next one goes (atomic) */
	uint64_t page;
	int log_fd;		/* where the lines go: 2 */
	bool verbose;
	unsigned int warned;	/* VFIO_P2P_PRELOAD_WARNED_* printed (atomic) */
	char bdf[16];		/* $VFIO_P2P_BDF, for the lines */
	char why[192];		/* _BROKEN: the line that says why */
};

#define VFIO_P2P_PRELOAD_WARNED_ROOM	1U
#define VFIO_P2P_PRELOAD_WARNED_PRIVATE	2U
#define VFIO_P2P_PRELOAD_WARNED_BROKEN	4U

/*
 * Fill @p from the environment that @get (getenv()) gives, with page size
 * @page, and stat() the placeholder.  Returns p->state; for _BROKEN, p->why
 * is a line (without "vfio-p2p preload: " and newline) saying what is wrong.
 * Not async-signal-safe: call it once, at load.
 */
enum vfio_p2p_preload_state vfio_p2p_preload_init(struct vfio_p2p_preload *p,
						  char *(*get)(const char *name),
						  uint64_t page);

/*
 * Whether mmap(..., @flags, @fd, @off) is to be redirected: @p is not
 * _OFF, @fd is the placeholder (fstat()), @flags MAP_SHARED (or
 * MAP_SHARED_VALIDATE) and @off 0.  A placeholder mapped otherwise is not
 * (and says so once).
 */
bool vfio_p2p_preload_match(struct vfio_p2p_preload *p, int fd, int flags, int64_t off);

/*
 * The redirected mapping: @map of the device file at the next free window
 * (see above).  Returns what @map returns, or MAP_FAILED with errno ENOMEM
 * (no room left in the registered range), EINVAL (_BROKEN, or @len 0) or
 * @map's errno.
 */
void *vfio_p2p_preload_map(struct vfio_p2p_preload *p, vfio_p2p_mmap_fn map,
			   void *addr, size_t len, int prot, int flags);

/* Print p->why once, for _BROKEN */
void vfio_p2p_preload_warn_broken(struct vfio_p2p_preload *p);

#endif /* VFIO_P2P_PRELOAD_H */
