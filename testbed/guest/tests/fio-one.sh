#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fio-one.sh JOBFILE SECTION: run one section of a fio job file as a TAP
# test (ok when fio exits 0), with its read bandwidth as a "# result" line.
out=/tmp/fio-one.$$
fio --section="$2" --output-format=json "$1" > "$out" 2> "$out.err"
rc=$?
echo "TAP version 13"
echo "1..1"
bw=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(sum(x["read"]["bw_bytes"] for x in j["jobs"]))' "$out" 2>/dev/null)
if [ $rc = 0 ] && [ -n "$bw" ]; then
	echo "ok 1 fio $2 ($(basename "$1"))"
	echo "# result engine=fio:$2 bytes=0 mbps=$(echo "scale=1; $bw / 1000000" | bc)"
else
	echo "not ok 1 fio $2 ($(basename "$1")): exit $rc"
	sed 's/^/# /' "$out.err" | head -n 10
fi
rm -f "$out" "$out.err"
exit $rc
