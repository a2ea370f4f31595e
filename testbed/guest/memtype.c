// SPDX-License-Identifier: GPL-2.0
/*
 * memtype FILE [LEN]: the memory type of a user mapping of P2P memory.
 *
 * mmap()s LEN bytes (default 2 MiB) of FILE, a p2pmem/allocate file,
 * touches every page, and compares two things the kernel says about the
 * first page:
 *  - the memory type of the user PTE, from the PWT, PCD and PAT bits that
 *    /sys/kernel/debug/page_tables/current_kernel shows for this process
 *    (CONFIG_PTDUMP_DEBUGFS), decoded with the PAT layout Linux programs
 *    on x86 (index = PAT << 2 | PCD << 1 | PWT);
 *  - the memory type the kernel reserved for the physical range when it
 *    mapped the P2P memory (memremap_pages(), pgprot_noncached() for
 *    MEMORY_DEVICE_PCI_P2PDMA), from /sys/kernel/debug/x86/pat_memtype_list,
 *    at the page's physical address (/proc/self/pagemap, needs root).
 * The two must agree, and must not be write-back: the BAR is device
 * memory, and two mappings of one physical range with different memory
 * types are a machine check waiting to happen.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tb.h"

#define PTDUMP		"/sys/kernel/debug/page_tables/current_kernel"
#define PAT_LIST	"/sys/kernel/debug/x86/pat_memtype_list"

/* The PAT entries Linux programs (arch/x86/mm/pat/memtype.c, pat_bp_init) */
static const char *const pat_type[8] = {
	"write-back", "write-combining", "uncached-minus", "uncached",
	"write-back", "write-protected", "uncached-minus", "write-through",
};

/* Memory type of the user PTE that maps @addr, from the page table dump */
static const char *pte_type(unsigned long addr, char *line_out, size_t len)
{
	unsigned long start, end;
	const char *type = NULL;
	char line[512];
	FILE *f;

	f = fopen(PTDUMP, "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		int idx;

		if (sscanf(line, "0x%lx-0x%lx", &start, &end) != 2)
			continue;
		if (addr < start || addr >= end)
			continue;
		if (!strstr(line, "USR"))
			break;	/* not present or not a user mapping */
		/* Only 4 KiB PTEs carry PAT in bit 7; a leaf "pte" line here */
		idx = (strstr(line, " PAT ") ? 4 : 0) |
		      (strstr(line, " PCD ") ? 2 : 0) |
		      (strstr(line, " PWT ") ? 1 : 0);
		type = pat_type[idx];
		line[strcspn(line, "\n")] = '\0';
		snprintf(line_out, len, "%s", line);
		break;
	}
	fclose(f);
	return type;
}

/* Memory type reserved for physical address @phys, from the PAT list */
static const char *kernel_type(uint64_t phys, char *type, size_t len)
{
	unsigned long long start, end;
	char line[256], name[64];
	const char *ret = NULL;
	FILE *f;

	f = fopen(PAT_LIST, "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "PAT: [mem 0x%llx-0x%llx] %63s", &start, &end,
			   name) != 3)
			continue;
		if (phys < start || phys > end)
			continue;
		snprintf(type, len, "%s", name);
		ret = type;
		break;
	}
	fclose(f);
	return ret;
}

static int phys_of(void *addr, uint64_t *phys)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t ent;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -errno;
	if (pread(fd, &ent, sizeof(ent),
		  (uintptr_t)addr / page * sizeof(ent)) != sizeof(ent)) {
		close(fd);
		return -EIO;
	}
	close(fd);
	if (!(ent & (1ULL << 63)) || !(ent & ((1ULL << 55) - 1)))
		return -ENOENT;	/* not present, or the PFN is hidden */
	*phys = (ent & ((1ULL << 55) - 1)) * page;
	return 0;
}

int main(int argc, char **argv)
{
	size_t len = argc > 2 ? strtoull(argv[2], NULL, 0) : 2 << 20;
	const char *user, *kernel;
	char line[512], ktype[64];
	long page = sysconf(_SC_PAGESIZE);
	uint64_t phys = 0;
	unsigned char *p;
	size_t i;
	int fd, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: memtype P2PMEM_ALLOCATE_FILE [LEN]\n");
		return 2;
	}
	tb_start();

	fd = open(argv[1], O_RDWR);
	p = fd < 0 ? MAP_FAILED :
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tb_ok(p != MAP_FAILED, "mmap %zu bytes of %s%s%s", len, argv[1],
	      p == MAP_FAILED ? ": " : "", p == MAP_FAILED ? strerror(errno) : "");
	if (p == MAP_FAILED)
		return tb_end();
	for (i = 0; i < len; i += page)
		p[i] = (unsigned char)i;

	ret = phys_of(p, &phys);
	tb_ok(!ret, "the mapping's first page has a physical address (pagemap)%s",
	      ret ? ": not found" : "");
	tb_diag("first page at %p, physical 0x%" PRIx64, (void *)p, phys);

	user = pte_type((unsigned long)p, line, sizeof(line));
	tb_ok(user, "%s shows the user PTE of the mapping", PTDUMP);
	if (user)
		tb_diag("%s", line);
	kernel = ret ? NULL : kernel_type(phys, ktype, sizeof(ktype));
	tb_ok(kernel, "%s has a memory type for 0x%" PRIx64, PAT_LIST, phys);

	tb_ok(user && kernel && !strcmp(user, kernel),
	      "the user mapping's memory type (%s) is the kernel's for the range (%s)",
	      user ? user : "?", kernel ? kernel : "?");
	tb_ok(user && strcmp(user, "write-back"),
	      "the user mapping of P2P memory is not write-back (%s)",
	      user ? user : "?");

	munmap(p, len);
	close(fd);
	return tb_end();
}
