# SPDX-License-Identifier: GPL-2.0
# What counts as a kernel report, for the host's console scan
# (results.sh) and for guest tests that check the kernel log themselves
# (guest/hardening/run.sh); sourced.

# Patterns of kernel reports that fail a run wherever they appear.
SPLAT_RE='BUG:|Oops|WARNING:|cut here|KASAN|UBSAN|general protection fault|Kernel panic|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|blocked for more than|soft lockup|hard LOCKUP|unreferenced object|suspected memory leak|Call Trace:'

# An allocation failure report (warn_alloc(): "page allocation failure",
# "vmalloc error") carries a backtrace but is no bug while a test injects
# faults on purpose. A guest test that does so brackets the injection
# with these two kernel log lines; only between them, and only from such
# a report's header to the end of its backtrace, is the console spared.
# Everything else, a WARN in the middle of fault injection included,
# still counts.
FAULTS_BEGIN='testbed: fault injection begins'
FAULTS_END='testbed: fault injection ends'
ALLOC_FAIL_RE='page allocation failure|vmalloc error|vmemmap alloc failure|FAULT_INJECTION: forcing a failure'

# console_reports LOG: LOG without the expected allocation failure reports.
console_reports() {
	awk -v b="$FAULTS_BEGIN" -v e="$FAULTS_END" -v a="$ALLOC_FAIL_RE" '
		index($0, b) { inj = 1; next }
		index($0, e) { inj = 0; skip = 0; next }
		inj && $0 ~ a { skip = 1; n = 0; next }
		skip && (/<\/TASK>/ || ++n > 80) { skip = 0; next }
		!skip' "$1"
}
