#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-readme.sh: put the report of the last `make run` into README.md,
# between its two "run-report" marker comments, so that no figure there is
# typed by hand. Reads build/run-report.txt (RUN_REPORT to use another),
# which testbed/run.sh writes: a first line saying when, with which kernel
# and which series it ran, then the report as `make run` printed it. Run
# it after `make run`; it changes nothing else.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

report=${RUN_REPORT:-$BUILD/run-report.txt}
readme=${README_FILE:-$TOP/README.md}
BEGIN_MARK='<!-- run-report begin: written by testbed/run-readme.sh from build/run-report.txt -->'
END_MARK='<!-- run-report end -->'

[ -r "$report" ] || die "no run report in $report: run 'make run'"
head -n 1 "$report" | grep -q '^make run: ' ||
	die "$report does not start with the 'make run:' line that testbed/run.sh writes"
grep -q "^  engine .* MB/s " "$report" || die "$report has no results table"
block=$(mktemp)
tb_cleanup_add "rm -f '$block'"

python3 - "$report" > "$block" <<'EOF'
import sys

lines = open(sys.argv[1]).read().splitlines()
when = lines[0][len('make run: '):]
body = lines[1:]
while body and not body[0].strip():
    body.pop(0)
while body and not body[-1].strip():
    body.pop()

out = ['', 'From the last `make run` (%s):' % when, '']
out += [('    ' + l.rstrip()) if l.strip() else '' for l in body]
out += ['']
print('\n'.join(out))
EOF
readme_put_block "$readme" "$BEGIN_MARK" "$END_MARK" "$block"
echo "run-readme: $readme updated from $report"
