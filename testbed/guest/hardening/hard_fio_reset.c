// SPDX-License-Identifier: GPL-2.0-only
/*
 * hard_fio_reset [-n RESETS] [-s SIZE] BDF: VFIO_DEVICE_RESET while fio
 * reads into the registered BAR.
 *
 * For each reset the owner of the device registers a range of the BAR,
 * clears it through the VFIO region, and starts fio, the way a user drives
 * the data path: random O_DIRECT reads of $CLIENT_BLK (the testbed's data
 * image, whose bytes are a function of their offset) with
 * mem=mmapshared: on p2pmem/allocate, the engine taking turns between
 * io_uring, libaio and psync. fio maps the file at offset 0, so its
 * buffers come from anywhere in the range and the kernel does not say
 * where. The owner waits until fio's mapping shows in /proc/PID/maps and
 * then reads the whole range back through the VFIO region until it finds
 * a page of a block that fio read: 4 KiB of the image, from a page of the
 * image that the first word names (pattern_offset()), at a page of the
 * range. Then it resets the device while fio keeps reading.
 *
 * Checked: each reset returns within the NVMe I/O timeout and ends the
 * registration; fio's reads reached the BAR before it (P2P path): a block
 * of the image was found in the cleared range; fio then ends by itself
 * with an I/O error or SIGBUS (within 120 s: fio is slow to start and stop
 * under emulation), never with success; and no DMA lands in the BAR once
 * the drain that follows the reset is over (the reset does not wait for
 * reads in flight, whose DMA may still land, as the UAPI says; GET reports
 * the drain): the owner writes a marker over the whole range through the
 * VFIO region, lets fio run into its dead mapping, and reads the marker
 * back intact.
 *
 * With NOP2P=1 fio's reads must fail instead and leave the range as it was
 * cleared; the resets are checked the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/wait.h>

#include "hard.h"
#include "pattern.h"

#define FIO_BS		(64 << 10)
#define FIO_DEPTH	8
#define FIO_BUF		(FIO_BS * FIO_DEPTH)

static const char *const engines[] = { "io_uring", "libaio", "psync" };

enum fio_end { END_ERROR, END_SIGBUS, END_SUCCESS, END_HUNG, END_OTHER,
	       NR_ENDS };

static const char *const end_name[NR_ENDS] = {
	"I/O error", "SIGBUS", "success", "hung", "other",
};

struct cycle_stats {
	unsigned long reg_fail, reset_fail, clean_fail, no_map, no_data;
	unsigned long landed_nop2p, marker_checks, marker_fail, done;
	unsigned long ends[NR_ENDS], shown;
	double max_ms, sum_ms, max_exit_s, max_map_s;
};

static const char *fio_log(unsigned long i)
{
	static char path[32];

	snprintf(path, sizeof(path), "/tmp/hard-fio-%lu.log", i % 4);
	return path;
}

/* The end of fio's output, as TAP comments */
static void fio_show_log(unsigned long i)
{
	char line[256];
	FILE *f = fopen(fio_log(i), "r");
	long n = 0;

	if (!f) {
		tb_diag("fio wrote no output to %s", fio_log(i));
		return;
	}
	while (fgets(line, sizeof(line), f) && n++ < 20)
		tb_diag("fio: %.*s", (int)strcspn(line, "\n"), line);
	fclose(f);
}

static pid_t fio_start(const char *bdf, const char *blk, u64 disk,
		       unsigned long i)
{
	char mem[128], size[32], engine[32], out[64];
	pid_t pid;

	snprintf(mem, sizeof(mem),
		 "--mem=mmapshared:/sys/bus/pci/devices/%s/p2pmem/allocate",
		 bdf);
	snprintf(size, sizeof(size), "--size=%llu", (unsigned long long)disk);
	snprintf(engine, sizeof(engine), "--ioengine=%s",
		 engines[i % ARRAY_SIZE(engines)]);
	snprintf(out, sizeof(out), "--output=%s", fio_log(i));

	fflush(stdout);
	pid = fork();
	VFIO_ASSERT_GE(pid, 0);
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		/* fio must not hold the VFIO files of the owner */
		close_range(3, ~0U, 0);
		execlp("fio", "fio", "--name=reset-under-io", "--thread",
		       "--filename", blk, "--direct=1", "--rw=randread",
		       "--bs=64k", "--iodepth=8", engine, mem, size,
		       "--time_based", "--runtime=300", out, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* fio has exited (it stays to be reaped by fio_wait()) */
static bool fio_exited(pid_t pid)
{
	siginfo_t info = {};

	return !waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) &&
	       info.si_pid == pid;
}

/*
 * fio has mapped p2pmem/allocate of @bdf, for its buffers: the mapping
 * shows in /proc/PID/maps. It is at file offset 0, from anywhere: where in
 * the BAR it is, nothing says.
 */
static bool fio_mapped(pid_t pid, const char *bdf, double timeout)
{
	double t0 = now();
	char path[64], line[512];
	unsigned long long start, end;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	do {
		f = fopen(path, "r");
		if (!f)
			return false;
		while (!found && fgets(line, sizeof(line), f)) {
			if (!strstr(line, "/p2pmem/allocate") || !strstr(line, bdf))
				continue;
			if (sscanf(line, "%llx-%llx", &start, &end) != 2 ||
			    end - start < FIO_BUF)
				continue;
			found = true;
		}
		fclose(f);
		if (found || fio_exited(pid))
			break;
		msleep(20);
	} while (now() - t0 < timeout);
	return found;
}

static bool all_zero(const u8 *p, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++)
		if (p[k])
			return false;
	return true;
}

/*
 * A page of a block that fio read, in @range (@size bytes of the BAR from
 * offset 0): 4 KiB of the data image (@disk bytes) at a page of the range,
 * from a page of the image (fio cuts its buffers from its mapping, which
 * starts at a page of the BAR, and reads 64 KiB blocks at 64 KiB offsets).
 * A page rather than the whole block, because fio keeps reading into its
 * buffers while the range is read back, which can take seconds through the
 * VFIO region of an emulated BAR: a whole block would often be torn.  Its
 * BAR offset in *@at, image offset in *@from.
 */
static bool fio_block_in(const u8 *range, u64 size, u64 disk, u64 *at,
			 u64 *from)
{
	u64 p, o;

	for (p = 0; p + 4096 <= size; p += 4096) {
		o = pattern_offset(*(const u64 *)(range + p));
		if (o % 4096 || o >= disk || disk - o < 4096)
			continue;
		if (pattern_check((const u64 *)(range + p), o, 4096) < 0) {
			*at = p;
			*from = o;
			return true;
		}
	}
	return false;
}

/*
 * Read the registered range [0, @size) back through the VFIO region until
 * a block of fio's is there (false after @timeout s)
 */
static bool fio_landed(struct p2p_dev *d, u64 size, u64 disk, u8 *back,
		       double timeout, u64 *at, u64 *from)
{
	double t0 = now();

	do {
		VFIO_ASSERT_EQ(pread(d->fd, back, size, d->bar_offset),
			       (ssize_t)size);
		if (fio_block_in(back, size, disk, at, from))
			return true;
		msleep(10);
	} while (now() - t0 < timeout);
	return false;
}

/* What fio's threads are doing: state and wait channel of each */
static void fio_show_tasks(pid_t pid)
{
	char path[320], stat[256], wchan[64];
	struct dirent *de;
	FILE *f;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		stat[0] = wchan[0] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid,
			 de->d_name);
		f = fopen(path, "r");
		if (f) {
			if (!fgets(stat, sizeof(stat), f))
				stat[0] = '\0';
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%s/wchan", pid,
			 de->d_name);
		f = fopen(path, "r");
		if (f) {
			if (!fgets(wchan, sizeof(wchan), f))
				wchan[0] = '\0';
			fclose(f);
		}
		tb_diag("fio task %s: %.60s wchan %s", de->d_name,
			 strchr(stat, ')') ? strchr(stat, ')') + 2 : stat,
			 wchan);
	}
	closedir(dir);
}

/* How long fio may take to exit after the reset before it counts as hung */
#define FIO_EXIT_S	120

/* How fio ended after the reset; waits up to @timeout seconds */
static enum fio_end fio_wait(pid_t pid, double timeout, double *secs)
{
	double t0 = now();
	bool shown = false;
	int status;

	*secs = 0;
	for (;;) {
		pid_t ret = waitpid(pid, &status, WNOHANG);

		if (ret < 0)
			return END_OTHER;
		if (ret == pid)
			break;
		if (!shown && now() - t0 > 10) {
			tb_diag("fio still running 10 s after the reset:");
			fio_show_tasks(pid);
			shown = true;
		}
		if (now() - t0 > timeout) {
			fio_show_tasks(pid);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			*secs = now() - t0;
			return END_HUNG;
		}
		msleep(10);
	}
	*secs = now() - t0;
	if (WIFSIGNALED(status))
		return WTERMSIG(status) == SIGBUS ? END_SIGBUS : END_OTHER;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return END_OTHER;
	return WEXITSTATUS(status) ? END_ERROR : END_SUCCESS;
}

static void cycle(struct p2p_dev *d, struct cycle_stats *st, const char *blk,
		  u64 disk, u64 size, unsigned int timeout_s, unsigned long i,
		  u8 *marker, u8 *back)
{
	double t, secs, t_map, t_land = 0, t_reset;
	u64 at = 0, from = 0;
	enum fio_end end;
	bool have_buf;
	pid_t pid;

	if (p2p_register(d->fd, d->bar, 0, size)) {
		st->reg_fail++;
		return;
	}
	/* Cleared, so that what fio reads is all that can be found there */
	memset(back, 0, size);
	VFIO_ASSERT_EQ(pwrite(d->fd, back, size, d->bar_offset), (ssize_t)size);
	pid = fio_start(d->bdf, blk, disk, i);
	t = now();
	/* fio takes seconds to start under emulation, more under load */
	have_buf = fio_mapped(pid, d->bdf, 120);
	t_map = now() - t;
	if (have_buf && t_map > st->max_map_s)
		st->max_map_s = t_map;
	if (!have_buf)
		st->no_map++;
	t = now();
	if (nop2p()) {
		/* Whether fio mapped or failed first, the range stays clear */
		msleep(200);
		VFIO_ASSERT_EQ(pread(d->fd, back, size, d->bar_offset), (ssize_t)size);
		if (!all_zero(back, size))
			st->landed_nop2p++;
	} else if (have_buf && !fio_landed(d, size, disk, back, 20, &at, &from) &&
		   !st->no_data++) {
		tb_diag("reset %lu: fio's reads did not reach BAR%u [0, 0x%llx): no page of the image there",
			 i, d->bar, (unsigned long long)size);
	}
	t_land = now() - t;
	if (have_buf)
		msleep(rand() % 20);

	t = now();
	if (raw_reset(d->fd))
		st->reset_fail++;
	t_reset = (now() - t) * 1e3;
	st->done++;
	st->sum_ms += t_reset;
	if (t_reset > st->max_ms)
		st->max_ms = t_reset;
	if (!p2p_range_drained(d, 0, size, nvme_io_timeout()) || !p2p_clean(d))
		st->clean_fail++;

	/* Nothing may land in the range now that the drain is over */
	fill_pattern(marker, size, i);
	VFIO_ASSERT_EQ(pwrite(d->fd, marker, size, d->bar_offset), (ssize_t)size);
	/*
	 * fio's next read fails at once, but it still writes its report:
	 * a hang is fio still there minutes later.
	 */
	end = fio_wait(pid, FIO_EXIT_S, &secs);
	st->ends[end]++;
	if (nop2p())
		tb_diag("reset %lu (%s): fio mapped after %.1f s, BAR checked untouched %.1f s later; reset %.1f ms; fio ended (%s) %.1f s later",
			 i, engines[i % ARRAY_SIZE(engines)], t_map, t_land, t_reset,
			 end_name[end], secs);
	else
		tb_diag("reset %lu (%s): fio mapped after %.1f s, its reads were in the BAR %.1f s later (image 0x%llx at BAR%u+0x%llx); reset %.1f ms; fio ended (%s) %.1f s later",
			 i, engines[i % ARRAY_SIZE(engines)], t_map, t_land,
			 (unsigned long long)from, d->bar, (unsigned long long)at,
			 t_reset, end_name[end], secs);
	if ((!have_buf && !nop2p() && st->no_map == 1) ||
	    (end != END_ERROR && end != END_SIGBUS && !st->shown++)) {
		tb_diag("reset %lu: fio %s mapped p2pmem of BAR%u, ended with %s after the reset; its output:",
			 i, have_buf ? "had" : "had not", d->bar, end_name[end]);
		fio_show_log(i);
	}
	if (secs > st->max_exit_s)
		st->max_exit_s = secs;
	st->marker_checks++;
	VFIO_ASSERT_EQ(pread(d->fd, back, size, d->bar_offset), (ssize_t)size);
	if (memcmp(marker, back, size) && !st->marker_fail++)
		tb_diag("reset %lu: the range BAR%u [0, 0x%llx) changed after the reset",
			 i, d->bar, (unsigned long long)size);
	vfio_pci_cmd_set(d->device, PCI_COMMAND_MEMORY);
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n RESETS] [-s SIZE] BDF\n"
		"fio reads $CLIENT_BLK; NOP2P=1: reads must fail\n", prog);
	exit(2);
}

int main(int argc, char *argv[])
{
	const char *blk = getenv("CLIENT_BLK"), *why;
	unsigned long resets = 100, i;
	struct cycle_stats st = {};
	u64 size = P2P_GRANULE, disk;
	unsigned int timeout_s;
	u8 *marker, *back;
	struct p2p_dev d;
	int opt, fd, e;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		switch (opt) {
		case 'n':
			resets = strtoul(optarg, NULL, 0);
			break;
		case 's':
			size = parse_size(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		usage(argv[0]);

	tb_start();
	fd = blk_open(blk, &disk);
	if (fd < 0) {
		tb_skip("fio reset under I/O: no block device in $CLIENT_BLK (%s)",
			 blk ? blk : "unset");
		return tb_end();
	}
	close(fd);
	if (system("fio --version > /dev/null 2>&1")) {
		tb_skip("fio reset under I/O: no fio");
		return tb_end();
	}

	why = p2p_dev_open(&d, argv[optind]);
	if (why || !(d.device->info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		tb_skip("%s", why ? why : "device has no VFIO_DEVICE_RESET");
		return tb_end();
	}
	if (size > d.bar_size)
		size = d.bar_size;
	if (size < FIO_BUF) {
		tb_ok(false, "the registered range (%llu bytes) holds fio's buffers (%d bytes)",
		      (unsigned long long)size, FIO_BUF);
		p2p_dev_close(&d);
		return tb_end();
	}
	timeout_s = nvme_io_timeout();
	tb_diag("fio reads %s (%llu MiB) into p2pmem of %s, %s",
		 blk, (unsigned long long)disk >> 20, d.bdf,
		 nop2p() ? "no P2P path: reads must fail" : "P2P path");

	marker = malloc(size);
	back = malloc(size);
	VFIO_ASSERT_TRUE(marker && back);
	for (i = 0; i < resets; i++)
		cycle(&d, &st, blk, disk, size, timeout_s, i, marker, back);

	tap_metric("fio_resets_under_io", "%lu", st.done);
	tap_metric("fio_reset_max_ms", "%.1f", st.max_ms);
	tap_metric("fio_reset_avg_ms", "%.1f",
		   st.done ? st.sum_ms / st.done : 0);
	tap_metric("fio_exit_max_s", "%.1f", st.max_exit_s);
	tap_metric("fio_map_max_s", "%.1f", st.max_map_s);
	for (e = 0; e < NR_ENDS; e++)
		tb_diag("fio ended with %s after %lu resets", end_name[e],
			 st.ends[e]);

	tb_ok(st.done == resets && !st.reg_fail,
	       "%lu of %lu resets while fio read into the BAR (%lu registers failed)",
	       st.done, resets, st.reg_fail);
	tb_ok(!st.reset_fail && !st.clean_fail,
	       "every VFIO_DEVICE_RESET succeeded and ended the registration, drained within the NVMe I/O timeout (%lu+%lu failures)",
	       st.reset_fail, st.clean_fail);
	tb_ok(st.max_ms < timeout_s * 1000.0,
	       "no hang: every reset returned within the NVMe I/O timeout: longest %.1f ms < %u s",
	       st.max_ms, timeout_s);
	if (nop2p()) {
		/* fio may fail and exit before its mapping is seen */
		tb_ok(st.ends[END_ERROR] == st.done && !st.landed_nop2p,
		       "with no P2P path fio's reads failed every time (%lu of %lu) and nothing reached the BAR (%lu cycles did)",
		       st.ends[END_ERROR], st.done, st.landed_nop2p);
	} else {
		tb_ok(!st.no_map && !st.no_data,
		       "fio mapped p2pmem of the BAR and its reads reached the BAR before every reset: a page of the image in the cleared range, read through the VFIO region (%lu+%lu cycles did not)",
		       st.no_map, st.no_data);
		tb_ok(!st.ends[END_HUNG] && !st.ends[END_OTHER] &&
		       !st.ends[END_SUCCESS],
		       "fio ended after every reset with an I/O error or SIGBUS (%lu error, %lu SIGBUS, %lu success, %lu hung, %lu other), within %.1f s",
		       st.ends[END_ERROR], st.ends[END_SIGBUS],
		       st.ends[END_SUCCESS], st.ends[END_HUNG],
		       st.ends[END_OTHER], st.max_exit_s);
	}
	/* On both topologies: a fio that does not exit is a hang */
	tb_ok(!st.ends[END_HUNG],
	      "no hang: fio exited within %d s after every reset (%lu did not, killed)",
	      FIO_EXIT_S, st.ends[END_HUNG]);
	tb_ok(st.marker_checks && !st.marker_fail,
	       "no DMA landed in the BAR after the drain that followed a reset: marker intact over the whole range in %lu of %lu cycles",
	       st.marker_checks - st.marker_fail, st.marker_checks);

	p2p_unregister(d.fd, d.bar);
	p2p_dev_close(&d);
	return tb_end();
}
