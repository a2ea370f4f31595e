// SPDX-License-Identifier: GPL-2.0
/*
 * libvfio-p2p-preload.so: LD_PRELOAD interposer that puts the buffers a
 * program maps from a file (fio mem=mmapshared:FILE) into a registered BAR
 * range, through the VFIO device file that "vfio-p2p register --preload
 * -- COMMAND" passes down.  What it redirects and where to: see
 * vfio_p2p_preload.h.
 *
 * It wraps mmap() and mmap64(), resolving libc's with dlsym(RTLD_NEXT);
 * the environment is read once, at load.  Until then (another library's
 * constructor mapping something first) every call passes through.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "vfio_p2p_preload.h"

#define EXPORT	__attribute__((visibility("default")))

typedef void *(*mmap_t)(void *, size_t, int, int, int, off_t);
typedef void *(*mmap64_t)(void *, size_t, int, int, int, off64_t);

static struct vfio_p2p_preload preload;
static bool loaded;
static mmap_t real_mmap;
static mmap64_t real_mmap64;

static void resolve(void)
{
	if (!real_mmap)
		real_mmap = (mmap_t)dlsym(RTLD_NEXT, "mmap");
	if (!real_mmap64)
		real_mmap64 = (mmap64_t)dlsym(RTLD_NEXT, "mmap64");
}

__attribute__((constructor)) static void preload_load(void)
{
	long page = sysconf(_SC_PAGESIZE);

	resolve();
	if (vfio_p2p_preload_init(&preload, getenv, page > 0 ? (uint64_t)page : 0) ==
	    VFIO_P2P_PRELOAD_BROKEN)
		vfio_p2p_preload_warn_broken(&preload);
	__atomic_store_n(&loaded, true, __ATOMIC_RELEASE);
}

/* libc's mmap64(), for the device file: its region offsets need 64 bits */
static void *device_map(void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	if (real_mmap64)
		return real_mmap64(addr, len, prot, flags, fd, (off64_t)off);
#if UINTPTR_MAX == UINT64_MAX
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, (off_t)off);
#else
	errno = ENOSYS;
	return MAP_FAILED;
#endif
}

static bool redirect(int fd, int flags, int64_t off)
{
	return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE) &&
	       vfio_p2p_preload_match(&preload, fd, flags, off);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (redirect(fd, flags, (int64_t)off))
		return vfio_p2p_preload_map(&preload, device_map, addr, len, prot, flags);
	if (!real_mmap)
		resolve();
	if (!real_mmap)
		return device_map(addr, len, prot, flags, fd, (int64_t)off);
	return real_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	if (redirect(fd, flags, (int64_t)off))
		return vfio_p2p_preload_map(&preload, device_map, addr, len, prot, flags);
	if (!real_mmap64)
		resolve();
	return device_map(addr, len, prot, flags, fd, (int64_t)off);
}
