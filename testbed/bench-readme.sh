#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-readme.sh: put the figures of the last `make bench` into README.md,
# between its two "bench-report" marker comments, so that no figure there
# is typed by hand. Reads bench/report.md (BENCH_REPORT to use another)
# and quotes, column for column, the targets, the registration cost and
# the reset cost tables. Run it after `make bench`; it changes nothing
# else.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

report=${BENCH_REPORT:-$TOP/bench/report.md}
readme=${README_FILE:-$TOP/README.md}
BEGIN_MARK='<!-- bench-report begin: written by testbed/bench-readme.sh from bench/report.md -->'
END_MARK='<!-- bench-report end -->'

[ -r "$report" ] || die "no bench report in $report: run 'make bench'"
block=$(mktemp)
tb_cleanup_add "rm -f '$block'"

python3 - "$report" > "$block" <<'EOF'
import re
import sys

report = sys.argv[1]
text = open(report).read()


def table(section):
    """The first markdown table under '## section': header, rows."""
    m = re.search(r'^## ' + re.escape(section) + r'\n(.*?)(?=^## |\Z)', text,
                  re.M | re.S)
    if not m:
        sys.exit('bench-readme: no section "%s" in %s' % (section, report))
    lines = [l for l in m.group(1).splitlines() if l.startswith('|')]
    if len(lines) < 3:
        sys.exit('bench-readme: no table in section "%s"' % section)
    cells = [[c.strip() for c in l.strip('|').split('|')] for l in lines]
    return cells[0], cells[2:]


def pick(section, columns, rename=None):
    head, rows = table(section)
    try:
        idx = [head.index(c) for c in columns]
    except ValueError as e:
        sys.exit('bench-readme: section "%s": %s' % (section, e))
    names = [(rename or {}).get(c, c) for c in columns]
    out = ['| ' + ' | '.join(names) + ' |',
           '|' + '|'.join(['---'] + ['--:'] * (len(names) - 1)) + '|']
    for r in rows:
        out.append('| ' + ' | '.join(r[i] for i in idx) + ' |')
    return out


stamp = re.search(r'on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)', text)
head, rows = table('Targets')
verdicts = ['| target | verdict |', '|---|---|']
for r in rows:
    v = re.search(r'\*\*(\w+)\*\*', r[2])
    verdicts.append('| %s | %s: %s |' % (r[0], v.group(1) if v else r[2], r[1]))

out = ['',
       'From the last `make bench` (%s, perf kernel, one boot; '
       'bench/report.md has every figure and why each target was met '
       'or missed).' % (stamp.group(1) if stamp else 'date unknown'), '',
       'Targets:', ''] + verdicts + ['',
       'Registration cost (ivshmem BAR2), median (min-max) over the rounds:',
       ''] + pick('Registration cost (ivshmem BAR2)',
                  ['range', 'register ms', 'unregister ms',
                   'unregister/register', 'expected', 'struct page count']) + [
       '', 'VFIO_DEVICE_RESET with and without a registration, median '
       '(min-max); "until free": until GET, which waits for the teardown '
       'of the struct pages, returned:', ''] + pick(
           'Reset cost with and without a registration',
           ['case', 'reset ms', 'reset /none', 'reset per round',
            'until free ms', 'until free /none']) + ['']
print('\n'.join(out))
EOF
readme_put_block "$readme" "$BEGIN_MARK" "$END_MARK" "$block"
echo "bench-readme: $readme updated from $report"
