#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fio-sweep.sh [ENGINE...]: the fio sweeps of fio-jobs/bench-{dram,p2p}-
# ENGINE.fio (psync, libaio, io_uring: every block size and queue depth
# they list), O_DIRECT random reads from $CLIENT_BLK into three targets:
#
#   dram  process memory (bench-dram-ENGINE.fio), the baseline
#   shm   the ivshmem BAR $SHM_BAR ($SHM_BDF, RAM-backed), registered
#   dram2 process memory again: with dram it brackets shm in time, and
#         dram2/dram shows how much the same job moves between two runs
#   cmb   the provider NVMe's CMB, BAR $CMB_BAR ($PROVIDER_BDF), registered
#
# Both BARs are bound to vfio-pci and registered with `vfio-p2p register
# --hold` for the whole sweep. One fio process per engine runs the four
# job files one after the other (every job is stonewalled): the baseline is
# measured within a minute of what it is compared with, and fio starts
# once per engine (starting it costs seconds on an emulated machine).
#
# Scaled down for an emulated machine: each job runs BENCH_RAMP (1) +
# BENCH_RUNTIME (3) seconds instead of the files' 2 + 10. fio's command
# line cannot override a job file's [global], so fio runs copies of the
# files with ramp_time= and runtime= replaced; the P2P copies also get
# their target's p2pmem for ${P2PMEM}, and the job names are prefixed with
# the target (shm-, cmb-, dram2- instead of p2p- or dram-). Nothing else
# changes. BENCH_ENGINES or the
# arguments choose the engines.
#
# Per job: one TAP line (fio ran it without error and read bytes) and
#   # metric fio job=ENGINE-BS-qdQD target=dram|shm|dram2|cmb engine=E bs=BS qd=QD
#     mbps=MB/s iops=N cpu_s=S io_bytes=N runtime_ms=MS cpu_s_per_gib=S
#     usr=% sys=%
# where cpu_s = (usr_cpu + sys_cpu) / 100 x job_runtime, fio's own
# accounting of the job's CPU time, and mbps is 10^6 bytes/s.
. "$(dirname "$0")/lib.sh"

ramp=${BENCH_RAMP:-1}
runtime=${BENCH_RUNTIME:-3}
engines=${*:-${BENCH_ENGINES:-psync libaio io_uring}}
W=/tmp/fio-sweep
mkdir -p $W
export DEV=$CLIENT_BLK

tap_start
echo "# fio sweeps: ${engines}; ${ramp} s ramp + ${runtime} s per job (the files say 2 + 10)"
cleanup() {
	[ -n "${shm_pid:-}" ] && hold_stop "$shm_pid"
	[ -n "${cmb_pid:-}" ] && hold_stop "$cmb_pid"
	tb_unbind "$SHM_BDF" "$PROVIDER_BDF" > /dev/null
}
trap cleanup EXIT

tb_bind "$SHM_BDF" "$PROVIDER_BDF"
tap_status $? "bind $SHM_BDF (ivshmem) and $PROVIDER_BDF (NVMe CMB) to vfio-pci"
hold_start "$SHM_BDF" "$SHM_BAR" $W/hold-shm.log
tap_status $? "register BAR$SHM_BAR of $SHM_BDF: $(head -n 1 $W/hold-shm.log)"
shm_pid=$HOLD_PID
hold_start "$PROVIDER_BDF" "$CMB_BAR" $W/hold-cmb.log
tap_status $? "register BAR$CMB_BAR of $PROVIDER_BDF: $(head -n 1 $W/hold-cmb.log)"
cmb_pid=$HOLD_PID
[ "$TB_TAP_FAILED" = 0 ] || { tap_diag_file $W/hold-shm.log; tap_diag_file $W/hold-cmb.log; tap_end; exit 1; }

# scaled JOBFILE TARGET: a copy with the ramp and run times of this bench,
# for TARGET (dram, dram2, shm, cmb: p2pmem and job names); prints its path
scaled() {
	local out p2pmem=
	out=$W/$2-${1##*/}
	case $2 in
	shm) p2pmem=/sys/bus/pci/devices/$SHM_BDF/p2pmem/allocate ;;
	cmb) p2pmem=/sys/bus/pci/devices/$PROVIDER_BDF/p2pmem/allocate ;;
	esac
	sed -e "s/^ramp_time=.*/ramp_time=$ramp/" -e "s/^runtime=.*/runtime=$runtime/" \
		-e "s|\${P2PMEM}|$p2pmem|g" -e "s/^\[\(p2p\|dram\)-/[$2-/" "$1" > "$out"
	grep -q "^runtime=$runtime$" "$out" && grep -q "^ramp_time=$ramp$" "$out" && echo "$out"
}

for e in $engines; do
	files=()
	for t in dram shm dram2 cmb; do
		case $t in dram*) src=$FIO_JOBS/bench-dram-$e.fio ;; *) src=$FIO_JOBS/bench-p2p-$e.fio ;; esac
		f=$(scaled "$src" $t) && files+=("$f")
	done
	[ ${#files[@]} = 4 ]
	tap_status $? "scaled copies of bench-dram-$e.fio and bench-p2p-$e.fio for dram, shm, dram2, cmb" || continue

	out=$W/$e
	fio --output-format=json "${files[@]}" > "$out.json" 2> "$out.err"
	rc=$?
	[ -n "${RESULTS_DIR:-}" ] && cp "$out.json" "$RESULTS_DIR/fio-$e.json" 2>/dev/null
	echo "# fio ${e}: exit $rc"
	# One line per job: "STATUS description" then its metric line
	python3 - "$out.json" > "$out.jobs" 2>> "$out.err" <<'EOF'
import json, re, sys
j = json.load(open(sys.argv[1]))
for job in j["jobs"]:
    name = job["jobname"]
    m = re.match(r"(dram2|dram|shm|cmb)-([a-z_]+)-(\w+)-qd(\d+)$", name)
    if not m:
        print("FAIL fio job %s: not a job of the sweep" % name)
        continue
    target, engine, bs, qd = m.groups()
    r = job["read"]
    ms = job["job_runtime"]
    ok = not job["error"] and r["io_bytes"] > 0 and ms > 0
    print("%s fio %s into %s: %.2f MB/s%s" % ("OK" if ok else "FAIL", name, target,
          r["bw_bytes"] / 1e6, "" if ok else ", error %d, %d bytes" % (job["error"], r["io_bytes"])))
    if not ok:
        continue
    cpu_s = (job["usr_cpu"] + job["sys_cpu"]) / 100.0 * ms / 1000.0
    print("# metric fio job=%s-%s-qd%s target=%s engine=%s bs=%s qd=%s mbps=%.2f iops=%.1f "
          "cpu_s=%.4f io_bytes=%d runtime_ms=%d cpu_s_per_gib=%.4f usr=%.2f sys=%.2f" %
          (engine, bs, qd, target, engine, bs, qd, r["bw_bytes"] / 1e6, r["iops"], cpu_s,
           r["io_bytes"], ms, cpu_s / (r["io_bytes"] / float(1 << 30)), job["usr_cpu"],
           job["sys_cpu"]))
EOF
	want=$(grep -c '^\[' "${files[@]}" | awk -F: '{ n += $2 - 1 } END { print n }')
	got=$(grep -c '^\(OK\|FAIL\) ' "$out.jobs")
	[ $rc = 0 ] && [ "$got" = "$want" ]
	tap_status $? "fio $e: $got of $want jobs reported (exit $rc)" || tap_diag_file "$out.err" 10
	while IFS= read -r l; do
		case $l in
		"OK "*) tap_result ok "${l#OK }" ;;
		"FAIL "*) tap_result fail "${l#FAIL }" ;;
		*) echo "$l" ;;
		esac
	done < "$out.jobs"
done

hold_stop "$shm_pid"
tap_status $? "unregister BAR$SHM_BAR of $SHM_BDF: $(tail -n 1 $W/hold-shm.log)"
hold_stop "$cmb_pid"
tap_status $? "unregister BAR$CMB_BAR of $PROVIDER_BDF: $(tail -n 1 $W/hold-cmb.log)"
shm_pid='' cmb_pid=''
tap_end
