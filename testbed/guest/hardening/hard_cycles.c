// SPDX-License-Identifier: GPL-2.0-only
/*
 * hard_cycles [-n COUNT] [-T BUDGET_S] BDF: register/teardown cycles.
 *
 * Each cycle registers a range of the BAR (one to three granules at a
 * moving offset, the whole BAR every 16th cycle), maps some of its p2pmem
 * in half of the cycles and writes through the mapping, and ends the
 * registration in one of four ways, in turn: unregister, VFIO_DEVICE_RESET,
 * close and reopen of the device, memory decode off (and on again). After
 * each teardown GET must say unregistered, p2pmem must be gone and the old
 * mapping must raise SIGBUS; with decode off a register must fail with EIO.
 *
 * At the end a register of the whole BAR must have all of it available, and
 * MemFree must be back within 2 MiB + 1% of where it started: leaked struct
 * pages (64 bytes per 4 KiB, 4 MiB per 256 MiB registration), pools or
 * sysfs groups add up over the cycles. kmemleak, run by the guest after the
 * last test, catches the slab leaks too small for that.
 *
 * COUNT (default 1000) is scaled down to what fits in BUDGET_S seconds
 * (default 170), measured over the first 16 cycles (one of them on the whole
 * BAR); the count run is reported.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "hard.h"

enum kind { K_UNREGISTER, K_RESET, K_CLOSE, K_DECODE, NR_KINDS };

static const char *const kind_name[NR_KINDS] = {
	"unregister", "reset", "close", "decode_off",
};

struct stats {
	unsigned long cycles;
	unsigned long kind[NR_KINDS];
	double kind_max_ms[NR_KINDS];
	unsigned long mapped;
	unsigned long reg_fail;		/* register failed */
	unsigned long show_fail;	/* GET / p2pmem did not show it */
	unsigned long map_fail;		/* p2pmem mapping failed or wrong */
	unsigned long clean_fail;	/* teardown left something */
	unsigned long eio_fail;		/* register with decode off */
	unsigned long sigbus_fail;	/* stale mapping still accessible */
	unsigned long teardown_fail;	/* the teardown call failed */
};

static void note_once(unsigned long *counter, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_once(unsigned long *counter, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if ((*counter)++)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_note("first failure: %s", buf);
}

static void cycle(struct p2p_dev *d, struct stats *st, unsigned long i)
{
	enum kind kind = i % NR_KINDS;
	bool mapped = (i / NR_KINDS) % 2;
	u64 granules = d->bar_size / P2P_GRANULE;
	size_t len = 4 * d->page;
	u64 off, size, where;
	u8 *map = NULL;
	double t;
	u32 bar;
	size_t k;
	int ret;

	if (kind == K_RESET && !(d->device->info.flags & VFIO_DEVICE_FLAGS_RESET))
		kind = K_UNREGISTER;

	if (i % 16 == 15) {
		off = 0;
		size = d->bar_size;
	} else {
		size = 1 + i % 3;
		if (size > granules)
			size = granules;
		off = (i * 7) % (granules - size + 1) * P2P_GRANULE;
		size *= P2P_GRANULE;
	}

	ret = p2p_register(d->fd, d->bar, off, size == d->bar_size ? 0 : size);
	if (ret) {
		note_once(&st->reg_fail, "cycle %lu: register 0x%llx+0x%llx: %s",
			  i, (unsigned long long)off, (unsigned long long)size,
			  errname(-ret));
		return;
	}
	if (!p2p_shows(d, off, size) ||
	    p2pmem_attr(d->bdf, "available") != (s64)size)
		note_once(&st->show_fail, "cycle %lu: GET/p2pmem do not show 0x%llx+0x%llx",
			  i, (unsigned long long)off, (unsigned long long)size);

	if (mapped) {
		st->mapped++;
		map = p2pmem_mmap(d->bdf, len, MAP_SHARED, 0);
		if (map == MAP_FAILED) {
			note_once(&st->map_fail, "cycle %lu: mmap p2pmem: %s",
				  i, errname(errno));
			map = NULL;
		} else {
			for (k = 0; k < len; k += d->page)
				map[k] = i + k;
			for (k = 0; k < len; k += d->page)
				if (map[k] != (u8)(i + k))
					break;
			if (k < len || p2pmem_locate(map, &bar, &where) ||
			    bar != d->bar || where < off ||
			    where + len > off + size ||
			    p2pmem_attr(d->bdf, "available") != (s64)(size - len))
				note_once(&st->map_fail,
					  "cycle %lu: p2pmem mapping wrong (BAR%u 0x%llx)",
					  i, bar, (unsigned long long)where);
		}
	}

	t = now();
	switch (kind) {
	case K_UNREGISTER:
		ret = p2p_unregister(d->fd, d->bar);
		break;
	case K_RESET:
		ret = raw_reset(d->fd);
		break;
	case K_CLOSE:
		p2p_dev_release(d);
		ret = p2pmem_absent(d->bdf) ? 0 : -EEXIST;
		p2p_dev_reopen(d);
		break;
	case K_DECODE:
		vfio_pci_cmd_clear(d->device, PCI_COMMAND_MEMORY);
		ret = 0;
		break;
	default:
		ret = -EINVAL;
	}
	t = (now() - t) * 1e3;
	st->kind[kind]++;
	if (t > st->kind_max_ms[kind])
		st->kind_max_ms[kind] = t;
	if (ret)
		note_once(&st->teardown_fail, "cycle %lu: %s: %s", i,
			  kind_name[kind], errname(-ret));

	if (!p2p_clean(d))
		note_once(&st->clean_fail, "cycle %lu: %s left a registration",
			  i, kind_name[kind]);

	if (kind == K_DECODE) {
		ret = p2p_register(d->fd, d->bar, off, size);
		if (ret != -EIO) {
			note_once(&st->eio_fail,
				  "cycle %lu: register with decode off: %s",
				  i, errname(-ret));
			if (!ret)
				p2p_unregister(d->fd, d->bar);
		}
		vfio_pci_cmd_set(d->device, PCI_COMMAND_MEMORY);
	}

	if (map) {
		if (!sigbus_on(map, false) || !sigbus_on(map + len - 1, true))
			note_once(&st->sigbus_fail,
				  "cycle %lu: mapping accessible after %s",
				  i, kind_name[kind]);
		munmap(map, len);
	}
	st->cycles++;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n COUNT] [-T BUDGET_S] BDF\n", prog);
	exit(2);
}

int main(int argc, char *argv[])
{
	unsigned long count = 1000, planned, i, warm = 16;
	long mem0, mem_warm, mem1, delta, bound;
	double budget = 170, t0, per_cycle;
	struct stats st = {};
	struct p2p_dev d;
	const char *why;
	bool final_ok;
	int opt, k;

	while ((opt = getopt(argc, argv, "n:T:")) != -1) {
		switch (opt) {
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			budget = strtod(optarg, NULL);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		usage(argv[0]);

	printf("TAP version 13\n");
	sigbus_init();

	why = p2p_dev_open(&d, argv[optind]);
	if (why) {
		tap_skip("%s", why);
		return tap_finish();
	}

	settle_memory();
	mem0 = meminfo_kb("MemFree");
	mem_warm = mem0;

	t0 = now();
	planned = count;
	for (i = 0; i < planned; i++) {
		cycle(&d, &st, i);
		if (i + 1 == warm && warm < planned) {
			/* Scale to the budget from what the first cycles took */
			per_cycle = (now() - t0) / warm;
			if (per_cycle * count > budget) {
				planned = budget / per_cycle;
				if (planned < warm)
					planned = warm;
				tap_note("%lu cycles do not fit in %.0fs at %.0f ms per cycle: running %lu",
					 count, budget, per_cycle * 1e3, planned);
			}
			settle_memory();
			mem_warm = meminfo_kb("MemFree");
		}
	}
	per_cycle = st.cycles ? (now() - t0) / st.cycles : 0;

	tap_metric("cycles_requested", "%lu", count);
	tap_metric("cycles_run", "%lu", st.cycles);
	tap_metric("cycle_ms", "%.1f", per_cycle * 1e3);
	tap_metric("cycles_mapped", "%lu", st.mapped);
	for (k = 0; k < NR_KINDS; k++)
		tap_note("teardown by %s: %lu times, longest %.1f ms",
			 kind_name[k], st.kind[k], st.kind_max_ms[k]);

	tap_ok(st.cycles == planned && planned,
	       "ran %lu of %lu register/teardown cycles%s", st.cycles, count,
	       planned < count ? " (scaled down to the time budget)" : "");
	tap_ok(!st.reg_fail && !st.show_fail,
	       "every register succeeded and GET and p2pmem showed the range, all available (%lu+%lu failures)",
	       st.reg_fail, st.show_fail);
	tap_ok(!st.map_fail,
	       "every p2pmem mapping worked and lay in the registered range (%lu failures)",
	       st.map_fail);
	tap_ok(!st.teardown_fail && !st.clean_fail,
	       "every unregister/reset/close/decode-off ended the registration (%lu+%lu failures)",
	       st.teardown_fail, st.clean_fail);
	tap_ok(!st.eio_fail,
	       "register with memory decode off failed with EIO (%lu failures)",
	       st.eio_fail);
	tap_ok(!st.sigbus_fail,
	       "every live mapping raised SIGBUS after the teardown (%lu failures)",
	       st.sigbus_fail);

	final_ok = !p2p_register(d.fd, d.bar, 0, 0) &&
		   p2p_shows(&d, 0, d.bar_size) &&
		   p2pmem_attr(d.bdf, "available") == (s64)d.bar_size;
	tap_ok(final_ok, "a final register of the whole BAR has all of it available");
	p2p_unregister(d.fd, d.bar);

	settle_memory();
	mem1 = meminfo_kb("MemFree");
	delta = mem0 - mem1;
	bound = 2048 + mem0 / 100;
	tap_metric("memfree_start_kb", "%ld", mem0);
	tap_metric("memfree_end_kb", "%ld", mem1);
	tap_metric("memfree_drop_kb", "%ld", delta);
	if (st.cycles > warm)
		tap_metric("memfree_drop_per_cycle_b", "%ld",
			   (mem_warm - mem1) * 1024 / (long)(st.cycles - warm));
	tap_ok(delta <= bound,
	       "MemFree back within 2 MiB + 1%%: dropped %ld KiB (bound %ld KiB)",
	       delta, bound);

	p2p_dev_close(&d);
	return tap_finish();
}
