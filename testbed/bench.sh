#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh (`make bench`): what the P2P registration buys and costs,
# measured on the test bed's topology, written to bench/report.md.
#
# Builds what is missing like run.sh (FLAVOR=perf by default), boots the p2p
# topology with testbed/plans/bench.plan and turns the guest's "# metric"
# lines into tables where every figure stands next to its baseline from
# the same run:
#
#   fio sweeps   bench-p2p-*.fio into the registered ivshmem BAR and NVMe
#                CMB against bench-dram-*.fio: throughput, CPU s per GiB
#   P2P/bounce   the same bytes into the ivshmem BAR registered (the NVMe
#                writes the BAR) and not registered (read into DRAM, copied
#                by the CPU: `vfio-p2p bounce`)
#   registration time of the ioctls, and struct page memory against 64
#                bytes per 4 KiB
#   reset        VFIO_DEVICE_RESET with a registration against without
#
# and says for each target whether it was met and, if not, what the figures
# of this run show about why. Missing a target does not fail the bench; a
# failed guest step does (exit 1, after writing what there is).
#
# The run is scaled for an emulated machine (QEMU TCG): these set the
# sizes, and go to the guest and into the report:
#   BENCH_RUNTIME, BENCH_RAMP   seconds per fio job (default 3 and 1)
#   BENCH_ENGINES               fio engines (default "psync libaio io_uring")
#   BENCH_XFER_CASES, BENCH_XFER_BYTES, BENCH_XFER_LOOPS, BENCH_XFER_REPS
#                               P2P vs bounce (see guest/bench/xfer.sh)
#   BENCH_REG_REPS              registration rounds (default 5)
#   BENCH_RESET_REPS            reset rounds (default 10, see
#                               guest/bench/resetcost.sh)
#   BENCH_PLAN                  another plan (default plans/bench.plan)
#   BENCH_OUT                   where the report goes (default bench/)
#   BENCH_SKIP_BUILD=1          use what is built (kernel, guest tools) as is
#   BENCH_REPORT_ONLY=1         no build, no boot: write the report again from
#                               the results of the last run
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/vm.sh"

FLAVOR=${FLAVOR:-perf}
: "${BENCH_RUNTIME:=3}" "${BENCH_RAMP:=1}" "${BENCH_ENGINES:=psync libaio io_uring}"
: "${BENCH_XFER_CASES:=psync:1M:1 io_uring:128K:8 io_uring:1M:8}"
: "${BENCH_XFER_BYTES:=128M}" "${BENCH_XFER_LOOPS:=4}" "${BENCH_XFER_REPS:=3}" "${BENCH_REG_REPS:=5}"
: "${BENCH_RESET_REPS:=10}"
plan=${BENCH_PLAN:-$TESTBED/plans/bench.plan}
out=${BENCH_OUT:-$TOP/bench}
name=bench
res=$BUILD/results-$name
RESULTS_LOG=$BUILD/bench-results.log
rm -f "$RESULTS_LOG"

[ "${BENCH_SKIP_BUILD:-}" = 1 ] || [ "${BENCH_REPORT_ONLY:-}" = 1 ] ||
	build_steps "$FLAVOR" || exit 1

export GUEST_ENV="$(guest_env)
BENCH_RUNTIME=$BENCH_RUNTIME
BENCH_RAMP=$BENCH_RAMP
BENCH_ENGINES='$BENCH_ENGINES'
BENCH_XFER_CASES='$BENCH_XFER_CASES'
BENCH_XFER_BYTES=$BENCH_XFER_BYTES
BENCH_XFER_LOOPS=$BENCH_XFER_LOOPS
BENCH_XFER_REPS=$BENCH_XFER_REPS
BENCH_REG_REPS=$BENCH_REG_REPS
BENCH_RESET_REPS=$BENCH_RESET_REPS"

# The host as it was: the figures are only as quiet as the machine.
host_facts() {
	echo "host_cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "host_cpus $(nproc)"
	echo "host_mem $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "host_kernel $(uname -r)"
	echo "host_os $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-?}")"
	echo "qemu $(qemu-system-x86_64 --version | head -n 1)"
	echo "flavor $FLAVOR"
	echo "series $(git -C "$BUILD/linux" log -1 --format='%h %s' 2>/dev/null) ($(git -C "$BUILD/linux" rev-list --count base..HEAD 2>/dev/null) patches on $(git -C "$BUILD/linux" log -1 --format=%h base 2>/dev/null))"
	echo "worktree $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)$(git -C "$TOP" status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)')"
	for v in BENCH_RUNTIME BENCH_RAMP BENCH_ENGINES BENCH_XFER_CASES BENCH_XFER_BYTES \
		BENCH_XFER_LOOPS BENCH_XFER_REPS BENCH_REG_REPS BENCH_RESET_REPS; do
		echo "param_$v ${!v}"
	done
}
busy() {	# other emulators and the load, as this run sees them
	echo "$1_loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
	local n
	n=$(pgrep -c -x qemu-system-x86)	# the name as the kernel keeps it, 15 characters
	echo "$1_other_qemu ${n:-0}"
}

log=$BUILD/bench-vm.log
if [ "${BENCH_REPORT_ONLY:-}" = 1 ]; then
	[ -f "$res/host-facts" ] || die "no results of a bench run in $res"
	touch "$log"
	# What the guest steps reported, counted again
	while read -r n _; do
		case $n in ''|'#'*) continue ;; esac
		collect_tap "$name/$n" "$res/$n.out" "$(cat "$res/$n.rc" 2>/dev/null || echo 1)" > /dev/null
	done < "$res/plan"
else
	start=$(date +%s)
	facts_pre="$(host_facts; busy start; echo "date $(date -u '+%Y-%m-%d %H:%M UTC')")"
	echo "== bench: guest steps from $(basename "$plan"), results in $res"
	vm_run p2p "$name" "$plan" "$FLAVOR" > >(tee "$log" | grep --line-buffered -E '^(== |   guest: test|  FAILED)') 2>&1
	wait $!		# the progress filter, until it has printed all
	{
		echo "$facts_pre"
		busy end
		echo "wall_s $(( $(date +%s) - start ))"
	} > "$res/host-facts"
fi

# A plot, if gnuplot is there or one Debian package away.
if ! command -v gnuplot >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	phase_note "installing gnuplot-nox for bench/report.png"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gnuplot-nox \
		> "$BUILD/bench-gnuplot-install.log" 2>&1 || phase_note "no gnuplot: no plot (see $BUILD/bench-gnuplot-install.log)"
fi

mkdir -p "$out"
python3 - "$res" "$out" <<'EOF'
# The report: bench/report.md (and report.png) from the results directory
# alone. Every figure is read from there; nothing is typed in.
import math, os, re, statistics, subprocess, sys

res, out = sys.argv[1], sys.argv[2]
KiB = 1024.0


def lines(name):
    try:
        return open(os.path.join(res, name), errors="replace").read().splitlines()
    except OSError:
        return []


def metrics(name, kind):
    rows = []
    for l in lines(name):
        if l.startswith("# metric " + kind + " "):
            rows.append(dict(kv.split("=", 1) for kv in l.split()[3:] if "=" in kv))
    return rows


def facts(name, prefix):
    d = {}
    for l in lines(name):
        if l.startswith(prefix):
            k, _, v = l[len(prefix):].partition(" ")
            d[k] = v
    return d


def med(v):
    return statistics.median(v) if v else None


def ratio(a, b):
    return a / b if a is not None and b else None


def num(x, nd=1):
    if x is None:
        return "–"
    return "%.0f" % x if abs(x) >= 1000 else "%.*f" % (nd, x)


def rx(x):
    return "–" if x is None else "%.2fx" % x


def spread(v):	# (max - min) / median of repeated runs, percent
    return 100.0 * (max(v) - min(v)) / med(v) if len(v) > 1 and med(v) else None


def fit(points):	# least squares y = a + b x: (a, b, standard error of b)
    n = len(points)
    if n < 3 or len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    a = my - b * mx
    s2 = sum((y - a - b * x) ** 2 for x, y in points) / (n - 2)
    return a, b, math.sqrt(s2 / sxx)


host = facts("host-facts", "")
guest = facts("facts.out", "# fact ")
P = lambda k: host.get(k, "?")

steps, boot_s = [], 0.0
for l in lines("console.log"):
    m = re.match(r"guest: test (\S+): exit (\d+) after ([0-9.]+)s", l)
    if m:
        steps.append((m.group(1), int(m.group(2)), float(m.group(3))))
    m = re.match(r"guest: up after ([0-9.]+)s", l)
    if m:
        boot_s = float(m.group(1))
failed_steps = [s for s in steps if s[1] != 0]

# ---- fio: per job, DRAM twice (before and after the ivshmem run), ivshmem, CMB
fio = {}
jobs = []
for r in metrics("fio.out", "fio"):
    fio[(r["job"], r["target"])] = r
    if r["job"] not in jobs:
        jobs.append(r["job"])
fio_rows = []
for j in jobs:
    g = lambda t, k: float(fio[(j, t)][k]) if (j, t) in fio else None
    d1, d2 = g("dram", "mbps"), g("dram2", "mbps")
    c1, c2 = g("dram", "cpu_s_per_gib"), g("dram2", "cpu_s_per_gib")
    base = (d1 + d2) / 2 if d1 and d2 else d1 or d2
    cbase = (c1 + c2) / 2 if c1 and c2 else c1 or c2
    fio_rows.append(dict(job=j, d1=d1, d2=d2, d=base, s=g("shm", "mbps"), c=g("cmb", "mbps"),
                         dc=cbase, sc=g("shm", "cpu_s_per_gib"), cc=g("cmb", "cpu_s_per_gib"),
                         aa=ratio(d2, d1)))

# ---- P2P against bounce: medians of the runs
xv, cases = {}, []
for r in metrics("xfer.out", "xfer"):
    if r["case"] not in cases:
        cases.append(r["case"])
    e = xv.setdefault((r["case"], r["path"]), {"mbps": [], "cpu": []})
    e["mbps"].append(float(r["mbps"]))
    e["cpu"].append(float(r["cpu"]) / (float(r["bytes"]) / (1 << 30)))
xloops = {r.get("loops") for r in metrics("xfer.out", "xfer")}


def xm(c, p, k):
    return med(xv.get((c, p), {}).get(k, []))


# ---- registration
rv = {}
for r in metrics("regcost.out", "reg"):
    s = int(r["size"])
    if not s:
        continue
    e = rv.setdefault(s, {"reg": [], "unreg": [], "free": [], "back": [], "memmap": [], "pcp": [],
                          "all": [], "allback": [], "ur": []})
    e["reg"].append(float(r["register_ms"]))
    e["unreg"].append(float(r["unregister_ms"]))
    # unregister / register of the same registration
    if float(r["register_ms"]) > 0:
        e["ur"].append(float(r["unregister_ms"]) / float(r["register_ms"]))
    e["free"].append((int(r["free_kb_before"]) - int(r["free_kb_during"])) * KiB)
    e["back"].append((int(r["free_kb_before"]) - int(r["free_kb_after"])) * KiB)
    # free pages with those in the per-CPU lists, which MemFree leaves out
    fp = lambda w: int(r["free_kb_" + w]) * KiB + int(r["pcp_" + w]) * 4096
    e["all"].append(fp("before") - fp("during"))
    e["allback"].append(fp("before") - fp("after"))
    if r.get("memmap_during", "-") != "-":
        e["memmap"].append((int(r["memmap_during"]) - int(r["memmap_before"])) * 4096)
    e["pcp"].append((int(r["pcp_during"]) - int(r["pcp_before"])) * 4096)
sizes = sorted(rv)
expected = lambda s: s // 4096 * 64

# ---- reset: per case, its reset times and register times by round
rs, rcases = {}, []
for r in metrics("resetcost.out", "reset"):
    c = r["case"]
    if c not in rcases:
        rcases.append(c)
    e = rs.setdefault(c, {"reset": {}, "total": {}, "reg": [], "size": int(r["size"]),
                          "mapped": int(r["mapped"])})
    e["reset"][r["rep"]] = float(r["reset_ms"])
    # the reset and what GET then waited for: until the BAR is free again
    e["total"][r["rep"]] = float(r["reset_ms"]) + float(r.get("after_ms", 0))
    if r.get("register_ms", "-") != "-":
        e["reg"].append(float(r["register_ms"]))
rdev = (metrics("resetcost.out", "resetdev") or [{}])[-1]


def round_ratios(c, k="reset"):	# this case's / the no-registration one's, round by round
    b = rs.get("none", {}).get(k, {})
    return [v / b[n] for n, v in rs[c][k].items() if b.get(n)]


def rmed(c, k="reset"):
    return med(list(rs.get(c, {}).get(k, {}).values()))

# ---- targets: (target, measured, met, why)
targets = []

T1 = "P2P read into the RAM-backed registered BAR >= 0.9x DRAM (fio, ivshmem BAR2)"
t1 = [(r["job"], ratio(r["s"], r["d"]), r["aa"]) for r in fio_rows if ratio(r["s"], r["d"])]
if t1:
    low = [t for t in t1 if t[1] < 0.9]
    gm = math.exp(sum(math.log(x) for _, x, _ in t1) / len(t1))
    aa = [abs(a - 1) for _, _, a in t1 if a]
    meas = "min %.2fx (%s), geometric mean %.2fx over %d jobs" % (
        min(x for _, x, _ in t1), min(t1, key=lambda t: t[1])[0], gm, len(t1))
    px = [(c, ratio(xm(c, "p2p", "mbps"), xm(c, "dram", "mbps"))) for c in cases]
    px = [t for t in px if t[1] is not None]
    if aa:
        meas += "; the two DRAM runs of a job differed by up to %.0f%% (median %.0f%%)" % (
            100 * max(aa), 100 * med(aa))
    if px:
        meas += "; p2pread in the P2P/bounce runs: %s of DRAM" % ", ".join(
            "%s %.2fx" % t for t in px)
    why = ""
    if low:
        noisy = [t for t in low if t[2] and abs(t[2] - 1) >= 0.9 - t[1]]
        why = ("%d of %d jobs below 0.9x: %s. " %
               (len(low), len(t1), ", ".join("%s %.2fx" % (j, x) for j, x, _ in low)))
        if noisy:
            why += ("For %d of them (%s) the job's own two DRAM runs differed by at least as "
                    "much as the shortfall: not told apart from the noise of %s s jobs on this "
                    "machine (see the load below). " %
                    (len(noisy), ", ".join(j for j, _, _ in noisy), P("param_BENCH_RUNTIME")))
        rest = [t for t in low if t not in noisy]
        if rest and not aa:
            why += "No second DRAM run to tell these from noise. "
        elif rest:
            cpu = {r["job"]: ratio(r["sc"], r["dc"]) for r in fio_rows}
            why += ("For %s the gap is larger than the difference between the job's two DRAM "
                    "runs. " % ", ".join("%s (DRAM 2/1 %.2fx)" % (j, a) if a else j
                                         for j, _, a in rest))
            dear = [(j, cpu[j]) for j, _, _ in rest if cpu.get(j) and cpu[j] > 1.1]
            if dear:
                why += ("Of these, the P2P run also took more CPU per GiB than the DRAM runs "
                        "(%s): the P2P path cost CPU there, not only time. " %
                        ", ".join("%s %.2fx" % t for t in dear))
    targets.append((T1, meas, not low, why.strip()))
else:
    targets.append((T1, "no figures", False, "the fio step produced no figures"))

T2 = "P2P CPU s/GiB <= 0.5x bounce, and throughput >= bounce (ivshmem BAR2)"
t2 = []
for c in cases:
    cr = ratio(xm(c, "p2p", "cpu"), xm(c, "bounce", "cpu"))
    tr = ratio(xm(c, "p2p", "mbps"), xm(c, "bounce", "mbps"))
    if cr is not None and tr is not None:
        t2.append((c, cr, tr))
if t2:
    bad = [t for t in t2 if t[1] > 0.5 or t[2] < 1.0]
    meas = "; ".join("%s: CPU %.2fx, throughput %.2fx" % t for t in t2)
    parts = []
    for c, cr, tr in bad:
        p2p, bnc, drm = xm(c, "p2p", "cpu"), xm(c, "bounce", "cpu"), xm(c, "dram", "cpu")
        sp = [spread(xv[(c, p)]["cpu"]) for p in ("p2p", "bounce") if (c, p) in xv]
        sp = [x for x in sp if x is not None]
        if cr > 0.5:
            s = ("%s: CPU %.2fx of bounce (%.2f vs %.2f s/GiB; the CPU s/GiB of its runs spread "
                 "by up to %.0f%%)" % (c, cr, p2p, bnc, max(sp) if sp else float("nan")))
            if drm is not None:
                s += ("; a read into DRAM alone took %.2f s/GiB, so the copy is %.2f of bounce's "
                      "%.2f s/GiB. P2P saves the copy and otherwise costs %s, so it gets to 0.5x "
                      "of bounce only where the copy costs at least as much as the read itself" %
                      (drm, bnc - drm, bnc,
                       "what a DRAM read does" if abs(p2p - drm) <= 0.25 * drm else
                       "%.2fx a DRAM read" % (p2p / drm)))
            parts.append(s)
        if tr < 1.0:
            parts.append("%s: throughput %.2fx of bounce (DRAM %s, P2P %s, bounce %s MB/s)" %
                         (c, tr, num(xm(c, "dram", "mbps")), num(xm(c, "p2p", "mbps")),
                          num(xm(c, "bounce", "mbps"))))
    targets.append((T2, meas, not bad, ". ".join(parts) + ("." if parts else "")))
else:
    targets.append((T2, "no figures", False, "the xfer step produced no figures"))

# 3. Judged on what belongs to each 4 KiB: the kernel's own count of struct
# page memory must be exactly 64 B per 4 KiB, and the free memory must fall
# by no more than that per further 4 KiB registered: the slope of a straight
# line through all (size, drop) readings, in which the fixed costs fall
# into the intercept. Free memory counts the pages in the per-CPU free
# lists too: struct pages of less than a memory section (128 MiB) are 4 KiB
# pages, which come from those lists first and leave MemFree alone until
# the lists refill; those of whole sections are 2 MiB pages, which MemFree
# sees. The intercept (the process holding the registration, the open VFIO
# device, the P2P pool) is shown.
T3 = "Registration memory == 64 B per 4 KiB of BAR, and no more"
big = [s for s in sizes if s >= (64 << 20)]
reg_fit = fit([(s / 4096.0, y) for s in sizes for y in rv[s]["all"]])
if big:
    items, bad = [], []
    items.append("struct page count %s of expected" % " and ".join(
        "%s at %d MiB" % (rx(ratio(med(rv[s]["memmap"]), expected(s))), s >> 20) for s in big))
    for s in big:
        mm, exp = med(rv[s]["memmap"]), expected(s)
        if mm is None:
            bad.append("no nr_memmap_pages in /proc/vmstat to count the struct pages")
        elif any(x != exp for x in rv[s]["memmap"]):
            bad.append("%d MiB: struct page memory grew by %s KiB, not %.0f KiB" %
                       (s >> 20, "/".join("%.0f" % (x / KiB) for x in rv[s]["memmap"]), exp / KiB))
    if reg_fit:
        a, b, se = reg_fit
        tol = max(2 * se, 64 * 0.05)
        items.append("free memory falls by %.1f +- %.1f B per further 4 KiB registered (straight "
                     "line through all %d readings), plus %.0f KiB per registration (the holding "
                     "process and the open VFIO device included)" %
                     (b, se, sum(len(rv[s]["all"]) for s in sizes), a / KiB))
        if b > 64 + tol:
            bad.append("free memory fell by %.1f B per further 4 KiB registered, more than 64 B "
                       "+ %.1f B (2 standard errors, at least 5%%)" % (b, tol))
    items.append("MemFree alone fell by %s of expected" % " and ".join(
        "%.2fx at %d MiB" % (med(rv[s]["free"]) / expected(s), s >> 20) for s in big))
    targets.append((T3, "; ".join(items), not bad, "; ".join(bad) + ("." if bad else "")))
else:
    targets.append((T3, "no figures", False, "the regcost step produced no figures"))

# ---- the report
R = []
w = R.append
w("# vfio-p2p bench report")
w("")
w("Written by `make bench` (testbed/bench.sh) on %s from the results of one guest boot "
  "(`build/results-bench/`): every figure comes from that run, and every ratio is against a "
  "baseline measured in the same boot. The machine is emulated (QEMU TCG), so the figures "
  "describe the software path on this test bed, not hardware." % P("date"))
w("")
if failed_steps:
    w("**Guest steps failed: %s.** Their figures are missing or partial." %
      ", ".join("%s (exit %d)" % s[:2] for s in failed_steps))
    w("")
w("## Targets")
w("")
w("| target | measured | verdict |")
w("|---|---|---|")
for t, m, ok, why in targets:
    w("| %s | %s | %s |" % (t, m, "**met**" if ok else "**missed**: " + why))
w("")

w("## fio sweeps: P2P against DRAM")
w("")
w("O_DIRECT random reads from the client NVMe with fio-jobs/bench-{dram,p2p}-ENGINE.fio, "
  "each job %s s ramp + %s s (the files say 2 + 10; scaled down for TCG). One fio process per "
  "engine ran each job into DRAM, the registered ivshmem BAR2 (RAM-backed), DRAM again and the "
  "registered NVMe CMB (every QEMU access to it is emulated). The DRAM baseline is the mean of "
  "the two DRAM runs; 'DRAM 2/1' is how much they differ. MB/s = 10^6 B/s. CPU = fio's "
  "usr+sys of the job x its runtime, per GiB read." % (P("param_BENCH_RAMP"), P("param_BENCH_RUNTIME")))
w("")
w("| job | DRAM MB/s | DRAM 2/1 | ivshmem MB/s | ivshmem/DRAM | CMB MB/s | CMB/DRAM | "
  "DRAM CPU s/GiB | ivshmem CPU s/GiB | ivshmem/DRAM | CMB CPU s/GiB | CMB/DRAM |")
w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for r in fio_rows:
    w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["job"], num(r["d"]), rx(r["aa"]), num(r["s"]), rx(ratio(r["s"], r["d"])),
        num(r["c"]), rx(ratio(r["c"], r["d"])), num(r["dc"], 2), num(r["sc"], 2),
        rx(ratio(r["sc"], r["dc"])), num(r["cc"], 2), rx(ratio(r["cc"], r["dc"]))))
w("")

w("## P2P against bounce buffering (ivshmem BAR2)")
w("")
w("A run moves %s x %s from the client NVMe into the BAR (%s), same engine, block size and "
  "queue depth for each path. P2P: BAR registered, p2pread reads into a bs x qd ring in it "
  "(the NVMe writes the BAR). Bounce: BAR mmap()ed through VFIO, not registered; `vfio-p2p "
  "bounce` reads into a bs x qd DRAM ring and memcpy()s each block into the BAR. DRAM: "
  "p2pread into DRAM, no BAR. Medians of %s runs, the paths interleaved; CPU = the reader's "
  "getrusage user+system per GiB. Both BAR paths checked the bytes that landed." %
  (P("param_BENCH_XFER_LOOPS"), P("param_BENCH_XFER_BYTES"),
   "the transfers of a run summed: each alone lasts only tens of ms here",
   P("param_BENCH_XFER_REPS")))
w("")
w("| case | DRAM MB/s | P2P MB/s | bounce MB/s | P2P/bounce | P2P/DRAM | DRAM CPU s/GiB | "
  "P2P CPU s/GiB | bounce CPU s/GiB | P2P/bounce CPU | spread of runs |")
w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for c in cases:
    sp = [spread(xv[(c, p)]["mbps"]) for p in ("dram", "p2p", "bounce") if (c, p) in xv]
    sp = [x for x in sp if x is not None]
    w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        c, num(xm(c, "dram", "mbps")), num(xm(c, "p2p", "mbps")), num(xm(c, "bounce", "mbps")),
        rx(ratio(xm(c, "p2p", "mbps"), xm(c, "bounce", "mbps"))),
        rx(ratio(xm(c, "p2p", "mbps"), xm(c, "dram", "mbps"))),
        num(xm(c, "dram", "cpu"), 2), num(xm(c, "p2p", "cpu"), 2), num(xm(c, "bounce", "cpu"), 2),
        rx(ratio(xm(c, "p2p", "cpu"), xm(c, "bounce", "cpu"))),
        ("%.0f%%" % max(sp)) if sp else "–"))
w("")
w("Spread of runs: (max - min) / median of the MB/s of a path's runs, the widest of the three.")
w("")

w("## Registration cost (ivshmem BAR2)")
w("")
w("`vfio-p2p register --hold` of the range, %s rounds after a warm-up round. Times: the "
  "registering and the unregistering ioctl as the tool measures them, median (min-max). "
  "MemFree drop: MemFree before the registration minus MemFree while registered, median. "
  "Free drop: the same for MemFree plus the pages in the per-CPU free lists, which MemFree "
  "leaves out (/proc/zoneinfo). Expected: 64 B of struct page per 4 KiB. Struct page count: "
  "growth of nr_memmap_pages (/proc/vmstat), the kernel's own count of pages holding struct "
  "pages. The 2 MiB row is a control: its struct pages are small, so its drop is mostly what "
  "a registration costs besides them (the holding process, the open VFIO device, the P2P "
  "pool). Fixed part: where a straight line through all (size, free drop) readings meets "
  "size 0. Not back: free memory before the registration minus after it ended, median of the "
  "absolute values: how far the readings move by themselves. Unregister/register: the median "
  "unregister time over the median register time, and in brackets the lowest and highest "
  "ratio of the two times of one registration, over the rounds." % P("param_BENCH_REG_REPS"))
w("")
w("| range | register ms | unregister ms | unregister/register | expected | struct page count | "
  "MemFree drop | MemFree/expected | free drop | free/expected | free drop - fixed part | "
  "that/expected | not back |")
w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for s in sizes:
    e, exp = rv[s], expected(s)
    net = med(e["all"]) - reg_fit[0] if reg_fit else None
    w("| %d MiB%s | %s (%s-%s) | %s (%s-%s) | %s | %.0f KiB | %s | %.0f KiB | %s | %.0f KiB | %s | "
      "%s | %s | %.0f KiB |" % (
        s >> 20, " (control)" if s < (64 << 20) else "",
        num(med(e["reg"]), 2), num(min(e["reg"]), 2), num(max(e["reg"]), 2),
        num(med(e["unreg"]), 2), num(min(e["unreg"]), 2), num(max(e["unreg"]), 2),
        "%s (%s-%s)" % (rx(ratio(med(e["unreg"]), med(e["reg"]))), rx(min(e["ur"])),
                        rx(max(e["ur"]))) if e["ur"] else "–",
        exp / KiB, ("%.0f KiB (%s)" % (med(e["memmap"]) / KiB, rx(ratio(med(e["memmap"]), exp))))
        if e["memmap"] else "–",
        med(e["free"]) / KiB, rx(med(e["free"]) / exp) if s in big else "–", med(e["all"]) / KiB,
        rx(med(e["all"]) / exp) if s in big else "–",
        "%.0f KiB" % (net / KiB) if net is not None else "–",
        rx(net / exp) if net is not None and s in big else "–",
        med([abs(x) for x in e["allback"]]) / KiB))
w("")
if rv:
    w("Each reading is taken 0.5 s after dropping the page cache, with the per-CPU counters "
      "folded in (/proc/sys/vm/stat_refresh). Struct pages for less than a memory section "
      "(128 MiB) are 4 KiB pages, which come from the per-CPU free lists first, so MemFree "
      "alone misses part of them; whole sections get 2 MiB pages, which MemFree sees.")
    w("")

w("## Reset cost with and without a registration")
w("")
dev = ("BAR%s of %s (%s, reset method %s)" %
       (rdev.get("bar", "?"), rdev.get("bdf", "?"), rdev.get("id", "?"),
        rdev.get("reset_method", "?").replace(",", ", "))) if rdev else "the device"
mapped = [rs[c]["mapped"] for c in rcases if rs[c]["mapped"]]
w("VFIO_DEVICE_RESET of %s, bound to vfio-pci, through one open device file "
  "(guest/bench/resetcost.c). Each of %s rounds, after a warm-up round, resets once with "
  "nothing registered (none), then once after registering each range from the start of the "
  "BAR (regNM: N MiB), the last %s. The reset ends the registration; after each reset GET "
  "had to report nothing registered or draining, or the step failed. Reset ms: the reset "
  "ioctl alone (CLOCK_MONOTONIC), median (min-max) over the rounds. The reset leaves the "
  "teardown of the struct pages to a worker, which GET (and any registration) waits for: "
  "until free is the reset plus the time until that GET returned (with the munmap() of the "
  "mapped case). /none: the case's median over the none median. Per round: the case's time "
  "over the none time of the same round, median (min-max), which is the spread of the ratio. "
  "Added: the case's median minus the none median. Register ms: the register ioctl before "
  "the reset." %
  (dev, P("param_BENCH_RESET_REPS"),
   "also with the first %d MiB of the range mapped through p2pmem/allocate and written page "
   "by page, so that the reset has page table entries to zap" % (mapped[0] >> 20)
   if mapped else "as registered"))
w("")
w("| case | registered | mapped | reset ms | reset /none | reset per round | reset added ms | "
  "until free ms | until free /none | until free per round | register ms |")
w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
mm = lambda v: "%s (%s-%s)" % (num(med(v), 2), num(min(v), 2), num(max(v), 2)) if v else "–"
rr_ = lambda v: "%s (%s-%s)" % (rx(med(v)), rx(min(v)), rx(max(v))) if v else "–"
for c in rcases:
    e, base = rs[c], c == "none"
    w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        c, "%d MiB" % (e["size"] >> 20) if e["size"] else "–",
        "%d MiB" % (e["mapped"] >> 20) if e["mapped"] else "–",
        mm(list(e["reset"].values())), rx(ratio(rmed(c), rmed("none"))),
        "–" if base else rr_(round_ratios(c)),
        "–" if base or rmed("none") is None else num(rmed(c) - rmed("none"), 2),
        mm(list(e["total"].values())), rx(ratio(rmed(c, "total"), rmed("none", "total"))),
        "–" if base else rr_(round_ratios(c, "total")), mm(e["reg"])))
w("")
if rmed("none") and len(rcases) > 1:
    nm, nt = rmed("none"), rmed("none", "total")
    parts = []
    for c in rcases[1:]:
        rr = round_ratios(c)
        if not rr:
            continue
        t = "%s %.2f ms, %.2fx (rounds %.2f-%.2fx" % (c, rmed(c), rmed(c) / nm, min(rr), max(rr))
        t += ", so not told apart from the spread of the reset alone)" if min(rr) <= 1.0 else ")"
        tt = round_ratios(c, "total")
        if tt and nt:
            t += " and %.2f ms, %.2fx, until the BAR was free" % (rmed(c, "total"),
                                                                 rmed(c, "total") / nt)
        parts.append(t)
    # regcost's unregister times, if it measured the same device
    regdev = [m.group(1) for m in (re.match(r"# BAR\d+ of (\S+):", l)
                                   for l in lines("regcost.out")) if m]
    unreg = ({s: med(rv[s]["unreg"]) for s in sizes}
             if regdev and regdev[0] == rdev.get("bdf") else {})
    cmp_ = []
    for c in rcases[1:]:
        e = rs[c]
        if e["size"] in unreg and not e["mapped"] and nt:
            cmp_.append("%d MiB: %.2f ms added until the BAR was free after a reset, %.2f ms "
                        "for an unregister ioctl" %
                        (e["size"] >> 20, rmed(c, "total") - nt, unreg[e["size"]]))
    w("What the figures show: a reset with nothing registered took %.2f ms (median), %.2f ms "
      "until GET returned; with a registration, %s. What a registration adds to a reset is "
      "ending it: removing its P2P memory and, in the worker, its struct pages, and with a "
      "mapping also zapping it%s." %
      (nm, nt or 0, "; ".join(parts),
       "; against ending it by unregistering (registration cost above, same boot): " +
       "; ".join(cmp_) if cmp_ else ""))
    w("")
elif not rs:
    w("No figures: the resetcost step produced none.")
    w("")

w("## Machine, guest, kernel")
w("")
w("| | |")
w("|---|---|")
rows = [
    ("host", "%s, %s CPUs, %s RAM; %s, kernel %s" % (P("host_cpu"), P("host_cpus"), P("host_mem"),
                                                    P("host_os"), P("host_kernel"))),
    ("emulator", "%s, TCG (no KVM); topology testbed/topology.sh" % P("qemu")),
    ("load on the host", "load average %s at the start, %s at the end; other QEMU processes "
     "running: %s at the start, %s at the end" % (P("start_loadavg"), P("end_loadavg"),
                                                 P("start_other_qemu"), P("end_other_qemu"))),
    ("guest", "%s, %s vCPUs, %s" % (guest.get("cpu", "?"), guest.get("cpus", "?"),
                                    guest.get("memtotal", "?"))),
    ("guest kernel", "%s, FLAVOR=%s (tinyconfig + testbed/config/base.config)" %
     (guest.get("kernel", "?"), P("flavor"))),
    ("series", P("series")),
    ("work tree", P("worktree")),
    ("client NVMe", "%s; %s" % (guest.get("blk", "?"), guest.get("blk_nsid", "?"))),
]
rows += [("BAR2 of " + k[5:], v) for k, v in sorted(guest.items()) if k.startswith("bar2-")]
rows += [
    ("fio", guest.get("fio", "?")),
    ("guest time", "%.0f s (boot %.0f s; %s); the VM run took %s s of wall time" %
     (boot_s + sum(s[2] for s in steps), boot_s,
      ", ".join("%s %.0f s" % (s[0], s[2]) for s in steps), P("wall_s"))),
    ("scaled for TCG", "fio %s s ramp + %s s per job, engines %s; P2P/bounce runs of %s x %s, "
     "%s runs, cases %s; registration %s rounds; reset %s rounds" %
     (P("param_BENCH_RAMP"), P("param_BENCH_RUNTIME"), P("param_BENCH_ENGINES"),
      P("param_BENCH_XFER_LOOPS"), P("param_BENCH_XFER_BYTES"), P("param_BENCH_XFER_REPS"),
      P("param_BENCH_XFER_CASES"), P("param_BENCH_REG_REPS"), P("param_BENCH_RESET_REPS"))),
]
for k, v in rows:
    w("| %s | %s |" % (k, v.replace("|", "/")))
w("")

# ---- the plot, if gnuplot is there
png = os.path.join(out, "report.png")
if os.path.exists(png):
    os.remove(png)
if subprocess.call(["sh", "-c", "command -v gnuplot >/dev/null"]) == 0 and fio_rows and cases:
    d1, d2 = os.path.join(res, "plot-fio.dat"), os.path.join(res, "plot-xfer.dat")
    with open(d1, "w") as fh:
        for r in fio_rows:
            fh.write("%s %s %s\n" % (r["job"], ratio(r["s"], r["d"]) or 0, ratio(r["c"], r["d"]) or 0))
    with open(d2, "w") as fh:
        for c in cases:
            fh.write("%s %s %s %s\n" % (c, xm(c, "dram", "cpu") or 0, xm(c, "p2p", "cpu") or 0,
                                        xm(c, "bounce", "cpu") or 0))
    gp = """
set terminal pngcairo size 1400,900 font ",10" noenhanced
set output '%s'
set multiplot layout 2,1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set yrange [0:*]
set key outside right top vertical
set xtics rotate by -45
set title 'fio: MB/s into the registered BAR / MB/s into DRAM, per job (dashed: 0.9)'
set ylabel 'ratio to DRAM'
set arrow 1 from graph 0, first 0.9 to graph 1, first 0.9 nohead dt 2 lw 2 front
plot '%s' using 2:xtic(1) title 'ivshmem BAR', '' using 3 title 'NVMe CMB'
unset arrow 1
set title 'The same bytes into the ivshmem BAR: CPU seconds per GiB (median)'
set ylabel 'CPU s/GiB'
set xtics norotate
plot '%s' using 2:xtic(1) title 'DRAM only', '' using 3 title 'P2P', '' using 4 title 'bounce'
unset multiplot
""" % (png, d1, d2)
    g = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if g.returncode == 0 and os.path.exists(png):
        w("![fio ratios to DRAM, and CPU per GiB of P2P and bounce](report.png)")
        w("")
    else:
        sys.stderr.write("gnuplot failed, no plot: %s\n" % g.stderr[-500:])

open(os.path.join(out, "report.md"), "w").write("\n".join(R))
print("\n".join(R[R.index("## Targets"):R.index("## fio sweeps: P2P against DRAM")]))
EOF
rc=$?
echo
grep -E '^  FAILED' "$log"
[ $rc = 0 ] || result fail "bench: writing the report failed"
echo "bench: $out/report.md"
# README quotes the report of the default run, never another one
if [ $rc = 0 ] && [ -z "${BENCH_PLAN:-}" ] && [ "$out" = "$TOP/bench" ]; then
	"$TESTBED/bench-readme.sh" || result fail "bench: README.md not updated from the report"
fi
results_summary
