/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest tests' C helper: TAP output and the kernel-report check.
 *
 * TAP: tb_start() prints the version line, tb_ok() and tb_skip() print one
 * numbered line each, tb_diag() a comment, tb_end() the plan "1..N" after
 * the last line.  All of them may be called from any thread.
 *
 * Kernel reports: what counts as one is what testbed/splat.sh says, through
 * the variables the guest init exports from it (SPLAT_RE, ALLOC_FAIL_RE,
 * FAULTS_BEGIN, FAULTS_END).  There is no built-in list: without them
 * every check fails.  An allocation failure report (ALLOC_FAIL_RE, up to the
 * end of its backtrace) is spared only between a FAULTS_BEGIN and a
 * FAULTS_END line, like the host's console scan does.
 */
#ifndef TESTBED_TB_H
#define TESTBED_TB_H

#include <stdbool.h>
#include <stddef.h>
#include <regex.h>

void tb_start(void);
void tb_ok(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tb_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tb_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan "1..N"; 1 if a tb_ok() failed, else 0 */
int tb_end(void);

/* Lines printed so far: all, failed, skipped */
int tb_count(void);
int tb_failures(void);
int tb_skips(void);

/* Write one line (at most 900 bytes) to the kernel log through /dev/kmsg */
void tb_kmsg_mark(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Scan the kernel log (/dev/kmsg) from the last record that contains
 * @marker to now.  Return the number of records there that are kernel
 * reports, and put the first of them (or, on -1, the reason) in @out;
 * -1 if the check cannot be made: the marker is not in the log (it has
 * left the ring buffer, or was never written), records after it were
 * overwritten before they could be read, or the environment lacks the
 * patterns of testbed/splat.sh.
 */
int tb_kernel_reports_since(const char *marker, char *out, size_t len);

/*
 * The same scan, incrementally: tb_kmsg_follow() starts at the end of the
 * log (@in_faults: a FAULTS_BEGIN window is open already), each
 * tb_kmsg_scan() reads what was logged since, adds to the counts and
 * returns the number of new kernel reports, or -1 if it cannot tell
 * (records lost, see tb_kernel_reports_since()).
 */
struct tb_kmsg {
	int fd;
	bool ready;
	regex_t splat, alloc;
	const char *begin, *end;
	bool in_faults;		/* between FAULTS_BEGIN and FAULTS_END */
	bool in_alloc;		/* in a spared allocation failure report */
	unsigned int alloc_lines;
	bool lost;		/* records were overwritten before read */
	unsigned int reports;	/* records that are kernel reports */
	unsigned int alloc_reports; /* spared allocation failure reports */
	char first[256];	/* the first report */
	char why[160];		/* why the scan cannot tell */
};
int tb_kmsg_follow(struct tb_kmsg *k, bool in_faults);
int tb_kmsg_scan(struct tb_kmsg *k);
void tb_kmsg_close(struct tb_kmsg *k);

#endif /* TESTBED_TB_H */
