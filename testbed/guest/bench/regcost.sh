#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# regcost.sh: what registering the ivshmem BAR $SHM_BAR of $SHM_BDF costs,
# for the whole BAR, a quarter of it and, as a control, the smallest range
# (2 MiB, one memory hotplug subsection):
#
#   time    how long the registering and the unregistering ioctl took, as
#           `vfio-p2p register` reports them
#   memory  MemFree (/proc/meminfo) before the registration minus MemFree
#           while registered; the struct pages should take 64 bytes per
#           4 KiB of BAR. Each reading drops the page cache first. Read
#           next to it: nr_memmap_pages (/proc/vmstat, the kernel's count
#           of pages holding struct pages) and the pages in the per-CPU
#           free lists (/proc/zoneinfo "count:"), which MemFree does not
#           count and which move by themselves
#
# The registration is held by `vfio-p2p register --hold` while the
# readings are taken, then ended with SIGTERM; a last reading after it
# shows whether the memory came back, and how far MemFree moves by itself.
# BENCH_REG_REPS rounds (default 5), each going through the sizes in turn,
# after a warm-up round that is not counted.
#
# Per registration: a TAP line and
#   # metric reg size=BYTES rep=N register_ms=MS unregister_ms=MS
#     free_kb_before=KB free_kb_during=KB free_kb_after=KB
#     memmap_before=PAGES memmap_during=PAGES memmap_after=PAGES
#     pcp_before=PAGES pcp_during=PAGES pcp_after=PAGES
. "$(dirname "$0")/lib.sh"

reps=${BENCH_REG_REPS:-5}
bar_size=${SHM_BAR_SIZE:-$(tb_bar_size "$SHM_BDF" "$SHM_BAR")}
sizes="2M $((bar_size / 4)) $bar_size"
W=/tmp/regcost
mkdir -p $W

# fieldsum FILE KEY: the sum of the values of the lines "KEY value" of
# FILE ("-" if none), read with bash builtins: no program is started
# between the readings
fieldsum() {
	local k v rest n=0 found=
	while read -r k v rest; do
		[ "$k" = "$2" ] && { n=$((n + v)); found=1; }
	done < "$1"
	if [ -n "$found" ]; then echo "$n"; else echo -; fi
}
# snapshot: "free_kb memmap_pages pcp_pages", 0.5 s after dropping the
# page cache, with the per-CPU counter deltas folded in (stat_refresh).
# (Dropping the slab caches too, or waiting for MemFree to settle, made the
# readings no steadier: MemFree moves in steps of the per-CPU free lists'
# batch, a few hundred KiB, whatever is done.)
snapshot() {
	local f m p
	sync
	echo 1 > /proc/sys/vm/drop_caches
	sleep 0.5
	echo 1 > /proc/sys/vm/stat_refresh
	f=$(fieldsum /proc/meminfo MemFree:)
	m=$(fieldsum /proc/vmstat nr_memmap_pages)
	p=$(fieldsum /proc/zoneinfo count:)
	echo "$f $m $p"
}

tap_start
echo "# sizes $sizes, $reps rounds; $(nproc) CPUs, $(awk '/^MemTotal:/ { print $2 " kB" }' /proc/meminfo) MemTotal"
trap 'tb_unbind "$SHM_BDF" > /dev/null' EXIT
tb_bind "$SHM_BDF"
tap_status $? "bind $SHM_BDF (ivshmem) to vfio-pci" || { tap_end; exit 1; }
read -r start end _ <<< "$(sed -n "$((SHM_BAR + 1))p" "/sys/bus/pci/devices/$SHM_BDF/resource")"
echo "# BAR$SHM_BAR of $SHM_BDF: $((end - start + 1)) bytes at $start"

# A first round that is not counted: loads the tool and the shell tools into
# the page cache and warms up whatever the first registration allocates once
for ((rep = 0; rep <= reps; rep++)); do
	for s in $sizes; do
		log=$W/reg-$s-$rep
		read -r f0 m0 p0 <<< "$(snapshot)"
		"$GUEST_BIN/vfio-p2p" register "$SHM_BDF" --bar "$SHM_BAR" --size "$s" --hold > "$log" 2>&1 &
		pid=$!
		ok=1
		for ((i = 0; i < 600; i++)); do
			grep -q '^holding' "$log" && { ok=0; break; }
			kill -0 $pid 2>/dev/null || break
			sleep 0.1
		done
		read -r f1 m1 p1 <<< "$(snapshot)"
		kill -TERM $pid 2>/dev/null
		wait $pid
		rc=$?
		read -r f2 m2 p2 <<< "$(snapshot)"
		reg=$(sed -n 's/^registered .* in \([0-9.]*\) ms (measured.*/\1/p' "$log")
		unreg=$(sed -n 's/^unregistered .* in \([0-9.]*\) ms (measured.*/\1/p' "$log")
		[ $ok = 0 ] && [ $rc = 0 ] && [ -n "$reg" ] && [ -n "$unreg" ]
		tap_status $? "register and unregister $s of BAR$SHM_BAR, $([ $rep = 0 ] && echo "warm-up round" || echo "round $rep"): ${reg:-?} ms, ${unreg:-?} ms" ||
			tap_diag_file "$log"
		[ $rep = 0 ] && continue
		size=$(sed -n 's/^registered .* range 0x\([0-9a-f]*\)-0x\([0-9a-f]*\) .*/\1 \2/p' "$log" |
			{ read -r a b && echo $((0x$b - 0x$a + 1)); })
		echo "# metric reg size=${size:-0} rep=$rep register_ms=${reg:-0} unregister_ms=${unreg:-0}" \
			"free_kb_before=$f0 free_kb_during=$f1 free_kb_after=$f2" \
			"memmap_before=$m0 memmap_during=$m1 memmap_after=$m2" \
			"pcp_before=$p0 pcp_during=$p1 pcp_after=$p2"
	done
done
tap_end
