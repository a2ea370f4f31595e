#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fio-one.sh JOBFILE SECTION: run one section of a fio job file as a TAP
# test (ok when fio exits 0 and its job reports no error), with its read
# bandwidth as a "# result" line.
. "$(dirname "$0")/../lib.sh"
out=/tmp/fio-one.$$
fio --section="$2" --output-format=json "$1" > "$out" 2> "$out.err"
rc=$?
tap_start
bw=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(sum(x["read"]["bw_bytes"] for x in j["jobs"]) if all(x["error"] == 0 for x in j["jobs"]) else "")' "$out" 2>/dev/null)
if [ $rc = 0 ] && [ -n "$bw" ]; then
	tap_result ok "fio $2 ($(basename "$1"))"
	echo "# result engine=fio:$2 bytes=0 mbps=$(echo "scale=1; $bw / 1000000" | bc)"
else
	tap_result fail "fio $2 ($(basename "$1")): exit $rc"
	tap_diag_file "$out.err" 10
fi
rm -f "$out" "$out.err"
tap_end
