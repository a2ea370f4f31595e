#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fio-check.sh BDF BAR [-x]: the data path as a user drives it. Bind BDF to
# vfio-pci, register BAR with `vfio-p2p register`, and run the short fio
# jobs (fio-jobs/check-*.fio) with the p2pmem of the BAR as their buffers:
# P2P reads with psync, libaio and io_uring, the same into DRAM, fio's own
# verify through P2P memory (writes the client's scratch namespace), and
# the P2P reads again with the buffers mapped through the VFIO device file
# (`register --preload`, check-p2p-vfio.fio).
#
# Each job file must first be valid (fio --parse-only). Each registered run
# must show the registration ("registered ..." from the tool, a p2pmem of
# non-zero size seen by the command) before its fio result counts, and
# after the last one the BAR must be unregistered, which only means
# something if it was registered. Under --preload, every fio process must
# also have mapped its buffers through the VFIO device fd (the
# interposer's "mapped ... through VFIO device fd" lines): a job that fell
# back to other memory would pass without testing anything.
#
# A job file passes when fio exits 0 and every job in it reports err=0.
# With -x (no P2P path) each job whose buffers are P2P memory must fail
# with the kernel's refusal, EINVAL on its I/O (fio: "err=22 ... func=io_u
# error"; see p2pread.c for where the kernel returns it), and every other
# job must pass: an error anywhere else (setup, open, mmap, a bad job, a
# missing job) is not the expected failure.
#
# FIO_JOBS_DIR overrides the job files' directory (to show that a bad job
# file fails).
. "$(dirname "$0")/../lib.sh"
bdf=$1 bar=$2 expect_fail=${3:-}
jobs=${FIO_JOBS_DIR:-$TESTBED/../fio-jobs}
export DEV=$CLIENT_BLK VERIFY_DEV=$CLIENT_SCRATCH
p2pmem=/sys/bus/pci/devices/$bdf/p2pmem
refused=22	# EINVAL
W=/tmp/fio-check
mkdir -p $W

tap_start
if ! tb_bind "$bdf" > $W/bind.diag; then
	tap_result fail "bind $bdf to vfio-pci"
	cat $W/bind.diag
	tap_end
	exit 1
fi

# job_mem JOBFILE: "NAME MEM" for each job (section) of JOBFILE, MEM being
# its mem= or the [global] one
job_mem() {
	awk '/^\[/ { s = substr($0, 2, index($0, "]") - 2); if (s != "global") names[++n] = s; next }
		/^mem=/ { m = substr($0, 5); if (s == "global" || s == "") g = m; else mem[s] = m }
		END { for (i = 1; i <= n; i++) print names[i], (names[i] in mem ? mem[names[i]] : (g == "" ? "malloc" : g)) }' "$1"
}

# job_procs JOBFILE: how many fio processes its jobs start (numjobs summed)
job_procs() {
	awk '/^\[/ { if (s != "" && s != "global") n += (j ? j : g); s = substr($0, 2, index($0, "]") - 2); j = 0; next }
		/^numjobs=/ { if (s == "global") g = substr($0, 9); else j = substr($0, 9) }
		END { if (s != "" && s != "global") n += (j ? j : g); print n }' g=1 "$1"
}

# fio_verdict WANT JOBFILE LOG RC: check every job's status line in LOG;
# prints the reasons it fails, returns 1 if it does
fio_verdict() {
	local want=$1 job=$2 log=$3 r=$4 name mem line err func bad=0
	# (a file, not process substitution: the guest has no /dev/fd)
	job_mem "$jobs/$job" > $W/jobs
	while read -r name mem; do
		line=$(grep -E "^$name: \(groupid=[0-9]+, jobs=[0-9]+\): err=" "$log" | head -n 1)
		if [ -z "$line" ]; then
			echo "job $name: no result in fio's output"
			bad=1
			continue
		fi
		err=$(sed -n 's/.*): err= *\([0-9]*\).*/\1/p' <<< "$line")
		func=$(sed -n 's/.*func=\([^,]*\),.*/\1/p' <<< "$line")
		if [ "$want" = fail ] && [ "${mem%%:*}" = mmapshared ]; then
			[ "$err" = $refused ] && [ "$func" = "io_u error" ] && continue
			echo "job $name (P2P memory): err=$err${func:+ in $func}, expected err=$refused on its I/O (func=io_u error)"
		else
			[ "$err" = 0 ] && continue
			echo "job $name: err=$err${func:+ in $func}"
		fi
		bad=1
	done < $W/jobs
	if [ "$want" = pass ] && [ "$r" != 0 ]; then
		echo "fio exited $r"
		bad=1
	elif [ "$want" = fail ] && [ "$r" = 0 ]; then
		echo "fio exited 0"
		bad=1
	fi
	return $bad
}

registered=0 unregistered=0
# run WANT JOBFILE [register | "register --preload"]: WANT is pass or fail;
# with register, fio runs under `vfio-p2p register` (and its options)
run() {
	local want=$1 job=$2 out=$W/$2.log r why size procs mapped
	P2PMEM=$p2pmem/allocate VFIO_P2P_MMAP_FILE=$W/placeholder \
		fio --parse-only "$jobs/$job" > $W/parse.log 2>&1
	tap_status $? "fio job file $job is valid (fio --parse-only)" ||
		{ tap_diag_file $W/parse.log 10; return; }
	if [ -n "${3:-}" ]; then
		# (${3#register}: the options after "register", split into words)
		# shellcheck disable=SC2016,SC2086
		"$GUEST_BIN/vfio-p2p" register "$bdf" --bar "$bar" ${3#register} -- \
			sh -c 'echo "p2pmem size: $(cat "${VFIO_P2P_ALLOCATE%/allocate}/size" 2>&1)"
				P2PMEM=$VFIO_P2P_ALLOCATE VFIO_P2P_PRELOAD_VERBOSE=1 \
				exec fio --output-format=normal "$0"' \
			"$jobs/$job" > "$out" 2>&1
		r=$?
		size=$(sed -n 's/^p2pmem size: \([0-9]*\)$/\1/p' "$out")
		grep -q "^registered $bdf BAR $bar range " "$out" && [ "${size:-0}" -gt 0 ]
		if ! tap_status $? "BAR$bar of $bdf registered for $job (p2pmem size ${size:-none})"; then
			grep -E 'registered|p2pmem|error|rror:' "$out" | head -n 10 | sed 's/^/# /'
			return
		fi
		registered=$((registered + 1))
		grep -q "^unregistered $bdf BAR $bar range 0x[0-9a-f]*-0x[0-9a-f]* in " "$out" && unregistered=$((unregistered + 1))
	else
		fio --output-format=normal "$jobs/$job" > "$out" 2>&1
		r=$?
	fi
	[ -n "${RESULTS_DIR:-}" ] && cp "$out" "$RESULTS_DIR/fio-$bdf-$job.log"
	if [ "${3:-}" = "register --preload" ]; then
		procs=$(job_procs "$jobs/$job")
		mapped=$(grep -c "^# vfio-p2p preload: mapped [0-9]* bytes at BAR $bar+0x[0-9a-f]* of $bdf through VFIO device fd " "$out")
		[ "$mapped" -ge "$procs" ]
		tap_status $? "fio $job: each of its $procs processes mapped its buffers through the VFIO device fd ($mapped mappings)" ||
			grep -E 'preload|mmap' "$out" | head -n 10 | sed 's/^/# /'
	fi
	if why=$(fio_verdict "$want" "$job" "$out" "$r"); then
		tap_result ok "fio $job via BAR$bar of $bdf: exit $r, every job as expected ($want)"
	else
		tap_result fail "fio $job via BAR$bar of $bdf: exit $r, expected to $want" "$why"
		grep -E 'err=|verify|io_u error' "$out" | head -n 10 | sed 's/^/# /'
	fi
	grep -E '^ *READ: bw=' "$out" | sed 's/^ */# /'
}
p2p=pass
[ "$expect_fail" = -x ] && p2p=fail
run "$p2p" check-p2p.fio register
run pass check-dram.fio
run "$p2p" check-verify.fio register
run "$p2p" check-p2p-vfio.fio "register --preload"

# After each command the tool has unregistered: the pool is gone. That
# says something only if the BAR was registered at all.
if [ $registered = 0 ]; then
	tap_result fail "BAR$bar of $bdf is unregistered after vfio-p2p exits" \
		"it was never registered, so this cannot be checked"
elif [ $unregistered != $registered ]; then
	tap_result fail "BAR$bar of $bdf is unregistered after vfio-p2p exits" \
		"$unregistered of $registered runs printed \"unregistered\""
elif [ -e "$p2pmem/allocate" ] && [ "$(cat "$p2pmem/size")" != 0 ]; then
	tap_result fail "BAR$bar of $bdf is unregistered after vfio-p2p exits" \
		"$p2pmem is still there, size $(cat "$p2pmem/size")"
else
	tap_result ok "BAR$bar of $bdf is unregistered after vfio-p2p exits ($registered runs)"
fi
tb_unbind "$bdf" > /dev/null
tap_end
