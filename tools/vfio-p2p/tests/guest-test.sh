#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-test.sh: vfio-p2p end to end, in a machine that has the devices.
#
#   BDF=0000:03:00.0 BLK=/dev/nvme0n1 tools/vfio-p2p/tests/guest-test.sh
#
# BDF   a device bound to vfio-pci with a 2 MiB-aligned memory BAR (in the
#       test bed the ivshmem device: RAM-backed, so the CPU can check the data)
# BAR   that BAR (default: $SHM_BAR of the test bed's guest environment)
# BLK   a block device to read from (read only; nothing is written)
# N     bytes per read (default: $READ_BUF of the guest environment)
# AT    where in the BAR the placed buffers go (read --at and --vfio;
#       default 2 MiB, inside the registered range, which is the whole BAR)
# VFIO_P2P  the binary (default: ../vfio-p2p next to this script); it and
#       the directories above it must be readable by others (the
#       unprivileged cases run it as uid UNPRIV)
# UNPRIV  a uid without root and without capabilities, for the cases that
#       register as a plain user (default 54321; it needs no passwd entry)
# VFIO_P2P_HELPER  tests/test-helper.c built (default: vfio-p2p-test-helper
#       next to VFIO_P2P), which fills and compares the BAR through VFIO
#       for the fio case; fio itself comes from PATH (skipped without it)
#
# Needs root, setpriv and prlimit (util-linux). The unprivileged cases give
# UNPRIV the VFIO files of BDF and BLK for their duration (chown) and put
# owner and mode back afterwards, also when the test is interrupted.
# Prints TAP (with the test bed's testbed/guest/lib.sh); exit 0 if all
# passed, 1 if not, 4 if it cannot run here (skip).

. "$(dirname "$0")/../../../testbed/guest/lib.sh" || exit 1
BAR=${BAR:-$SHM_BAR}
V=${VFIO_P2P:-$(cd "$(dirname "$0")/.." && pwd)/vfio-p2p}
N=${N:-$READ_BUF}
AT=${AT:-$((2 << 20))}
UNPRIV=${UNPRIV:-54321}
H=${VFIO_P2P_HELPER:-$(dirname "$V")/vfio-p2p-test-helper}
T=$(mktemp -d "${TMPDIR:-/tmp}/vfio-p2p-guest.XXXXXX") || exit 1
PIDS=()
RESTORE=()

# give UID PATH...: PATH belongs to UID, read-write for it, until restore
give() {
	local u=$1 p
	shift
	for p in "$@"; do
		RESTORE+=("$(stat -L -c '%u:%g %a' "$p") $p")
		chown "$u" "$p" && chmod u+rw "$p"
	done
}
restore() {
	local e own mode p
	for e in "${RESTORE[@]}"; do
		read -r own mode p <<< "$e"
		chown "$own" "$p"
		chmod "$mode" "$p"
	done
	RESTORE=()
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	restore
	rm -rf "$T"
}
trap cleanup EXIT

tap_start
skip_all() {
	echo "1..0 # SKIP $*"
	exit 4
}
if [ -z "${BDF:-}" ] || [ -z "${BLK:-}" ]; then
	skip_all "set BDF and BLK"
fi
[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -x "$V" ] || skip_all "no vfio-p2p binary at $V (build it, or set VFIO_P2P)"
[ -b "$BLK" ] || skip_all "$BLK is not a block device"
[ -d "/sys/bus/pci/devices/$BDF" ] || skip_all "no PCI device $BDF"
[ "$(basename "$(readlink "/sys/bus/pci/devices/$BDF/driver")")" = vfio-pci ] ||
	skip_all "$BDF is not bound to vfio-pci"

ok() {	# ok CONDITION-STATUS DESCRIPTION
	tap_status "$1" "$2"
}
check() {	# check DESCRIPTION COMMAND...: ok if COMMAND succeeds
	local d=$1
	shift
	"$@" >/dev/null 2>&1
	tap_status $? "$d"
}
show() {	# show FILE: a file as TAP comments
	sed 's/^/# /' "$1"
}
wait_for() {	# wait_for FILE PATTERN SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# What a read from BLK must give: cksum of the first N bytes, read with
# O_DIRECT so the page cache cannot differ from the device.
want=$(dd if="$BLK" bs=1M count=$((N >> 20)) iflag=direct status=none | cksum)
echo "# BDF $BDF BAR $BAR, BLK $BLK, first $N bytes: cksum $want"

# 1. probe: ready, BAR registrable and not registered
timeout 120 "$V" probe "$BDF" > "$T/probe1" 2>&1
rc=$?
show "$T/probe1"
ok $rc "probe $BDF exits 0 (ready)"
check "probe: driver vfio-pci" grep -q "^driver: *vfio-pci$" "$T/probe1"
check "probe: IOMMU group viable" grep -q "^iommu group: [0-9]*, viable" "$T/probe1"
check "probe: kernel supports P2P registration" grep -q "^kernel: *P2P registration supported" "$T/probe1"
check "probe: BAR $BAR registrable, not registered" \
	grep -q "^bar $BAR: .*registrable, not registered" "$T/probe1"
check "probe: a small BAR is named as not registrable" \
	grep -q "^bar [0-9]: .*not registrable" "$T/probe1"
check "probe: no BAR has a range, registered or draining" \
	sh -c '! grep -q "^bar [0-9] range: " "$1"' sh "$T/probe1"
check "probe: the granule from the kernel (GET)" \
	grep -q "^granule: *[0-9.]* [KMG]iB (from the kernel: " "$T/probe1"
grep -q "^privilege: *none needed beyond the VFIO files" "$T/probe1" &&
	grep -q "^memlock: " "$T/probe1" &&
	grep -q "^bar $BAR: .*registrable, not registered, all of it charges [0-9.]* [KMG]iB of memlock" "$T/probe1"
ok $? "probe: no privilege needed, the memlock limit, what registering BAR $BAR is charged"

# 2. register -- COMMAND: reads into p2pmem, from anywhere and placed with
# --at; where, data, environment
# What the scripts that run under register share
cat > "$T/paused.sh" <<'EOF'
paused() {	# paused FILE PID: wait until the reader PID says it is paused
	local i
	for i in $(seq 600); do
		grep -q '^paused' "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
EOF
cat > "$T/inner.sh" <<'EOF'
# Runs under vfio-p2p register, with VFIO_P2P_* set.
echo "env $VFIO_P2P_BDF $VFIO_P2P_BAR $VFIO_P2P_OFFSET $VFIO_P2P_SIZE $VFIO_P2P_ALLOCATE"
echo "register_ns $VFIO_P2P_REGISTER_NS"
. "${0%/*}/paused.sh"
# From anywhere: the kernel does not say where, and neither does where
"$V" read --dev "$BLK" --bytes "$N" --engine psync --cksum || exit 10
"$V" read --dev "$BLK" --bytes 1M --pause > "$T/any.out" 2>&1 &
ap=$!
paused "$T/any.out" $ap
addr=$(sed -n 's/^buffer: \(0x[0-9a-f]*\) .*/\1/p' "$T/any.out")
"$V" where --pid $ap "$addr" > "$T/any.where" 2>&1
echo "any_where_rc $?"
kill -TERM $ap
wait $ap
# Placed at $AT: the reader and where say the same place
"$V" read --dev "$BLK" --bytes "$N" --engine io_uring --bs 256k --qd 4 --cksum \
	--at "$AT" --pause > "$T/pause.out" 2>&1 &
rp=$!
st=0
paused "$T/pause.out" $rp
addr=$(sed -n 's/^buffer: \(0x[0-9a-f]*\) .*/\1/p' "$T/pause.out")
"$V" where --pid $rp "$addr" || st=11
# That place is taken now; and there is none beyond the registered range
"$V" read --dev "$BLK" --bytes 1M --at "$AT" > "$T/busy.out" 2>&1
echo "busy_rc $?"
"$V" read --dev "$BLK" --bytes 1M --at $((VFIO_P2P_OFFSET + VFIO_P2P_SIZE)) \
	> "$T/outside.out" 2>&1
echo "outside_rc $?"
kill -TERM $rp
wait $rp || st=12
cat "$T/pause.out" "$T/any.out" "$T/any.where" "$T/busy.out" "$T/outside.out"
exit $st
EOF
export V BLK N T AT
timeout 300 "$V" register "$BDF" --bar "$BAR" -- sh "$T/inner.sh" \
	> "$T/reg" 2>&1
rc=$?
show "$T/reg"
ok $rc "register -- sh (psync and io_uring reads, placed and not, where) exits 0"
size=$(sed -n "s/^registered $BDF BAR $BAR range 0x0-0x\([0-9a-f]*\) .*/\1/p" "$T/reg")
check "register: one line names BDF, BAR, range, time taken (measured), struct page memory (computed)" \
	grep -q "^registered $BDF BAR $BAR range 0x0-0x[0-9a-f]* ([0-9.]* [KMGT]iB) as P2P memory in [0-9]*\.[0-9]* ms (measured: the ioctl), struct pages [0-9.]* [KMG]iB (computed: 64 B per 4 KiB)$" "$T/reg"
check "register: the command gets the time the registration took" \
	grep -q "^register_ns [1-9][0-9]*$" "$T/reg"
check "register: environment of the command" \
	grep -q "^env $BDF $BAR 0 $((0x${size:-0} + 1)) /sys/bus/pci/devices/$BDF/p2pmem/allocate$" "$T/reg"
check "read psync into p2pmem of $BDF, not placed" \
	grep -q "^read .* into p2pmem of $BDF in .* MiB/s (measured; psync" "$T/reg"
check "read without --at: the buffer line says it was not placed" \
	grep -q "^buffer: 0x[0-9a-f]* p2pmem of $BDF (.*), not placed: the kernel does not say where" "$T/reg"
grep -q "^any_where_rc 1$" "$T/reg" &&
	grep -q "mapped at offset 0, from anywhere: the kernel does not say where; place it" "$T/reg"
ok $? "where of a buffer that was not placed: the kernel does not say where (ENXIO), exit 1"
check "read io_uring --at $AT into p2pmem of $BDF BAR $BAR" \
	grep -q "^read .* into p2pmem of $BDF BAR $BAR in .*io_uring" "$T/reg"
[ "$(grep -c "^cksum: $want$" "$T/reg")" = 2 ]
ok $? "data read into p2pmem matches the device (cksum, psync and io_uring)"
# The first buffer line is the placed reader's (pause.out comes first)
buf=$(sed -n "s/^buffer: \(0x[0-9a-f]* $BDF bar $BAR offset 0x[0-9a-f]*\) (.*, placed with --at)$/\1/p" "$T/reg" | head -n 1)
[ -n "$buf" ] && grep -qx "$buf" "$T/reg"
ok $? "where --pid gives the same place as the placed reader itself (${buf:-no buffer line})"
off=$(echo "$buf" | sed -n 's/.* offset \(0x[0-9a-f]*\)$/\1/p')
[ -n "$off" ] && [ $((off)) = $((AT)) ]
ok $? "the placed buffer is at offset ${off:-?} of BAR $BAR: where --at put it ($AT)"
grep -q "^busy_rc 1$" "$T/reg" && grep -q "is allocated already" "$T/reg"
ok $? "--at where a buffer is already: refused (EBUSY) and explained"
grep -q "^outside_rc 1$" "$T/reg" && grep -q "does not lie inside one registered range" "$T/reg"
ok $? "--at beyond the registered range: refused (EINVAL) and explained"
check "register: unregistered its range after the command" \
	grep -q "^unregistered $BDF BAR $BAR range 0x0-0x${size:-?} in [0-9]*\.[0-9]* ms (measured: the ioctl)$" "$T/reg"

# 3. exit status of the command passes through
timeout 120 "$V" register "$BDF" --bar "$BAR" -- sh -c 'exit 42' > "$T/st" 2>&1
ok $(($? != 42)) "exit status 42 of the command passes through"
timeout 120 "$V" register "$BDF" --bar "$BAR" -- sh -c 'kill -TERM $$' > "$T/st" 2>&1
ok $(($? != 143)) "command killed by SIGTERM: exit status 143"
timeout 120 "$V" register "$BDF" --bar "$BAR" -- /nonexistent/command > "$T/st" 2>&1
ok $(($? != 127)) "command not found: exit status 127"

# 4. afterwards nothing is registered
timeout 120 "$V" probe "$BDF" > "$T/probe2" 2>&1
check "probe after register: BAR $BAR not registered" \
	grep -q "^bar $BAR: .*registrable, not registered" "$T/probe2"
check "probe after register: p2pmem has no range registered" \
	grep -q "^p2pmem: .*: no range registered$" "$T/probe2"
[ "$(cat "/sys/bus/pci/devices/$BDF/p2pmem/size" 2>/dev/null)" = 0 ]
ok $? "p2pmem/size is 0 after the command: its range is gone, the files stay"

# 5. --hold, used by another process, ended by SIGTERM
"$V" register "$BDF" --bar "$BAR" --hold > "$T/hold" 2>&1 &
hp=$!
PIDS+=("$hp")
wait_for "$T/hold" '^holding' 120
ok $? "register --hold is holding"
check "--hold prints the p2pmem path" \
	grep -qx "p2pmem: /sys/bus/pci/devices/$BDF/p2pmem/allocate" "$T/hold"
[ "$(cat "/sys/bus/pci/devices/$BDF/p2pmem/size" 2>/dev/null)" = $((0x${size:-0} + 1)) ]
ok $? "p2pmem/size is the registered size while holding"
timeout 120 "$V" read --dev "$BLK" --bytes "$N" --engine io_uring --cksum \
	--p2pmem "/sys/bus/pci/devices/$BDF/p2pmem/allocate" --at "$AT" --bar "$BAR" \
	> "$T/other" 2>&1
rc=$?
show "$T/other"
[ $rc = 0 ] && grep -q "^cksum: $want$" "$T/other" &&
	grep -q "^buffer: 0x[0-9a-f]* $BDF bar $BAR offset $(printf 0x%x "$AT") " "$T/other"
ok $? "another process reads into the held p2pmem, placed with --at --bar, data matches"
timeout 60 "$V" probe "$BDF" > "$T/probe3" 2>&1
rc=$?
show "$T/probe3"
[ $rc != 0 ] && grep -q "already open through VFIO by pid $hp (vfio-p2p)" "$T/probe3" &&
	grep -q "^p2pmem: .*size" "$T/probe3"
ok $? "probe while held: names the holder, shows p2pmem"
kill -TERM "$hp"
timeout 120 tail --pid="$hp" -f /dev/null
wait "$hp"
rc=$?
show "$T/hold"
ok $rc "register --hold exits 0 on SIGTERM"
check "--hold unregistered on SIGTERM" \
	grep -q "^unregistered $BDF BAR $BAR range 0x0-0x[0-9a-f]* in .* ms (measured: the ioctl)$" "$T/hold"
[ "$(cat "/sys/bus/pci/devices/$BDF/p2pmem/size" 2>/dev/null)" = 0 ]
ok $? "p2pmem/size is 0 after SIGTERM"
timeout 120 "$V" probe "$BDF" > "$T/probe4" 2>&1
check "probe after --hold: BAR $BAR not registered" \
	grep -q "^bar $BAR: .*registrable, not registered" "$T/probe4"

# 6. bounce: the way without registration, BAR mmap()ed through VFIO
for e in psync io_uring; do
	timeout 300 "$V" bounce "$BDF" --bar "$BAR" --dev "$BLK" --bytes "$N" --engine "$e" \
		--bs 256k > "$T/bounce-$e" 2>&1
	rc=$?
	show "$T/bounce-$e"
	[ $rc = 0 ] && grep -q "^verify: ok: BAR $BAR holds the bytes of $BLK" "$T/bounce-$e" &&
		grep -q "^# result engine=bounce-$e target=bar bytes=$N seconds=[0-9.]* cpu=[0-9.]* mbps=[0-9.]*$" "$T/bounce-$e"
	ok $? "bounce $e: reads into DRAM, copies into BAR $BAR, the BAR holds the data"
done

# 7. errors a person can act on
small=$(sed -n 's/^bar \([0-9]\): .*not registrable.*/\1/p' "$T/probe1" | head -n 1)
if [ -n "$small" ]; then
	timeout 60 "$V" register "$BDF" --bar "$small" --hold > "$T/e1" 2>&1
	rc=$?
	show "$T/e1"
	[ $rc = 1 ] && grep -q "BAR $small .*cannot be registered" "$T/e1"
	ok $? "register of BAR $small fails and says why"
fi
timeout 60 "$V" register "$BDF" --bar "$BAR" --offset 1M --hold > "$T/e2" 2>&1
rc=$?
show "$T/e2"
[ $rc = 1 ] && grep -q "not a multiple of 2 MiB" "$T/e2"
ok $? "register at a 1 MiB offset fails and says why"
env -u VFIO_P2P_ALLOCATE timeout 60 "$V" read --dev "$BLK" --bytes "$N" > "$T/e3" 2>&1
[ $? = 1 ] && grep -q "VFIO_P2P_ALLOCATE is not set" "$T/e3"
ok $? "read outside register says how to run it"
timeout 60 "$V" register "$BDF" --bar 9 --hold > "$T/e5" 2>&1
rc=$?
show "$T/e5"
[ $rc = 2 ] && [ "$(wc -l < "$T/e5")" = 1 ] && grep -q "(see 'vfio-p2p register --help')$" "$T/e5"
ok $? "a usage error is one line that points to the command's --help, exit 2"
timeout 60 "$V" read --help > "$T/e6" 2>&1 && grep -q -- "--at OFFSET" "$T/e6" &&
	timeout 60 "$V" --version | grep -q "^vfio-p2p [0-9]"
ok $? "read --help explains --at, --version prints the version"
timeout 120 "$V" register "$BDF" --bar "$BAR" -- \
	"$V" bounce "$BDF" --bar "$BAR" --dev "$BLK" --bytes "$N" > "$T/e4" 2>&1
rc=$?
show "$T/e4"
[ $rc = 1 ] && grep -q "^vfio-p2p: cannot bounce into BAR $BAR of $BDF" "$T/e4" &&
	! grep -q "^verify: ok" "$T/e4"
ok $? "bounce fails while the device is open for a registration"

# 8. The VFIO device file: register passes it to COMMAND (VFIO_P2P_DEVICE_FD,
# the page-backed region in VFIO_P2P_REGION_*), read --vfio maps the P2P
# pages through it, --verify reads the bytes back through the BAR's own
# VFIO region (pread(), not the mapping) and compares them with the buffer
# and the device
cat > "$T/vfio.sh" <<'EOF'
# Runs under vfio-p2p register, with VFIO_P2P_* set.
echo "vfio_env fd=$VFIO_P2P_DEVICE_FD index=${VFIO_P2P_REGION_INDEX-unset} offset=${VFIO_P2P_REGION_OFFSET-unset}"
echo "vfio_fd $(readlink "/proc/$$/fd/$VFIO_P2P_DEVICE_FD")"
. "${0%/*}/paused.sh"
st=0
"$V" read --dev "$BLK" --bytes "$N" --engine io_uring --bs 256k --qd 4 --cksum \
	--vfio --at "$AT" --verify --pause > "$T/vfio-pause.out" 2>&1 &
rp=$!
paused "$T/vfio-pause.out" $rp || st=20
# where holds the same device file (inherited) and so can tell its regions
addr=$(sed -n 's/^buffer: \(0x[0-9a-f]*\) .*/\1/p' "$T/vfio-pause.out")
"$V" where --pid $rp "$addr" > "$T/vfio-where.out" 2>&1 || st=24
env -u VFIO_P2P_DEVICE_FD "$V" where --pid $rp "$addr" > "$T/vfio-where-nofd.out" 2>&1
echo "vfio_where_nofd_rc $?"
# That place is taken, through VFIO and through sysfs (one pool); there is
# none beyond the registered range
"$V" read --dev "$BLK" --bytes 1M --vfio --at "$AT" > "$T/vfio-busy.out" 2>&1
echo "vfio_busy_rc $?"
"$V" read --dev "$BLK" --bytes 1M --at "$AT" > "$T/vfio-busy2.out" 2>&1
echo "vfio_sysfs_busy_rc $?"
"$V" read --dev "$BLK" --bytes 1M --vfio --at $((VFIO_P2P_OFFSET + VFIO_P2P_SIZE)) \
	> "$T/vfio-outside.out" 2>&1
echo "vfio_outside_rc $?"
kill -TERM $rp
wait $rp || st=21
# The place by default: the start of the registered range
"$V" read --dev "$BLK" --bytes "$N" --cksum --vfio --verify > "$T/vfio-default.out" 2>&1 ||
	st=22
# A placed sysfs buffer is verified the same way
"$V" read --dev "$BLK" --bytes "$N" --engine io_uring --cksum --at "$AT" --verify \
	> "$T/vfio-sysfs.out" 2>&1 || st=23
cat "$T/vfio-pause.out" "$T/vfio-where.out" "$T/vfio-where-nofd.out" "$T/vfio-busy.out" \
	"$T/vfio-busy2.out" "$T/vfio-outside.out" "$T/vfio-default.out" "$T/vfio-sysfs.out"
exit $st
EOF
timeout 300 "$V" register "$BDF" --bar "$BAR" -- sh "$T/vfio.sh" > "$T/vreg" 2>&1
rc=$?
show "$T/vreg"
ok $rc "register -- read --vfio (placed, default place, busy, outside) and --verify exits 0"
region=$(sed -n 's/^vfio_env .* index=\([0-9]*\) .*/\1/p' "$T/vreg")
grep -q "^vfio_env fd=[0-9][0-9]* index=[0-9][0-9]* offset=[0-9][0-9]*$" "$T/vreg" &&
	[ "${region:-0}" -ge 9 ]
ok $? "register: COMMAND gets VFIO_P2P_DEVICE_FD and the page-backed region (index ${region:-?}, 9 or above)"
grep -q -e "^vfio_fd /dev/vfio/devices/vfio[0-9]*$" -e "^vfio_fd anon_inode:\[vfio-device\]$" "$T/vreg"
ok $? "register: VFIO_P2P_DEVICE_FD is open in COMMAND, and is the VFIO device file"
check "read --vfio io_uring into p2pmem of $BDF BAR $BAR through VFIO" \
	grep -q "^read .* into p2pmem of $BDF BAR $BAR through VFIO in .*io_uring" "$T/vreg"
check "read --vfio --at $AT: the buffer is there, mapped through region ${region:-?}" \
	grep -q "^buffer: 0x[0-9a-f]* $BDF bar $BAR offset $(printf 0x%x "$AT") (.*, mapped through the VFIO device file: region ${region:-x})$" "$T/vreg"
check "where --pid under the same register: the --vfio buffer at $AT of BAR $BAR, region ${region:-?}" \
	grep -q "^0x[0-9a-f]* $BDF bar $BAR offset $(printf 0x%x "$AT") (VFIO device file .*, region ${region:-x})$" "$T/vreg"
grep -q "^vfio_where_nofd_rc 1$" "$T/vreg" &&
	grep -q "in a mapping of the VFIO device file .*: only a holder of that file can tell" "$T/vreg"
ok $? "where without VFIO_P2P_DEVICE_FD: a VFIO mapping only its holder can decode (ENODEV), exit 1"
check "read --vfio without --at: the buffer is at the start of the registered range" \
	grep -q "^buffer: 0x[0-9a-f]* $BDF bar $BAR offset 0x0 (.*, mapped through the VFIO device file" "$T/vreg"
[ "$(grep -c "^cksum: $want$" "$T/vreg")" = 3 ]
ok $? "data read into VFIO mappings and a sysfs one matches the device (cksum, 3 reads)"
[ "$(grep -c "^verify: ok: BAR $BAR 0x[0-9a-f]*-0x[0-9a-f]* of $BDF, read back with pread() of its VFIO region (not the mapping), holds the buffer's bytes and $BLK's" "$T/vreg")" = 3 ] &&
	! grep -q "^verify: not ok" "$T/vreg"
ok $? "--verify: the bytes are in the BAR, read back through the VFIO region (--vfio twice, sysfs --at)"
check "--verify of the buffer at $AT reads the BAR from $AT" \
	grep -q "^verify: ok: BAR $BAR $(printf 0x%x "$AT")-" "$T/vreg"
grep -q "^vfio_busy_rc 1$" "$T/vreg" && grep -q "^vfio_sysfs_busy_rc 1$" "$T/vreg" &&
	[ "$(grep -c "is allocated already" "$T/vreg")" = 2 ]
ok $? "--vfio and --at where a VFIO buffer is already: refused (EBUSY, one pool) and explained"
grep -q "^vfio_outside_rc 1$" "$T/vreg" && grep -q "does not lie inside one registered range" "$T/vreg"
ok $? "--vfio beyond the registered range: refused (EINVAL) and explained"
check "register -- read --vfio: unregistered after the command" \
	grep -q "^unregistered $BDF BAR $BAR range 0x0-0x[0-9a-f]* in [0-9]*\.[0-9]* ms (measured: the ioctl)$" "$T/vreg"
env -u VFIO_P2P_DEVICE_FD timeout 60 "$V" read --dev "$BLK" --bytes "$N" --vfio --at 0 \
	--bar "$BAR" > "$T/e7" 2>&1
[ $? = 1 ] && grep -q "VFIO_P2P_DEVICE_FD is not set" "$T/e7"
ok $? "read --vfio outside register says how to run it"

# 9. Without root: uid UNPRIV (no passwd entry), no groups, no
# capabilities, owning only the VFIO files of BDF and BLK. RLIMIT_MEMLOCK
# of exactly the charge of the range (1/64 of it, rounded up to pages)
# must do, and the data must land in the BAR; a page less must fail with
# ENOMEM, explained; the charge must come back when the registration ends.
check "setpriv is installed (util-linux)" command -v setpriv
check "prlimit is installed (util-linux)" command -v prlimit
pg=$(getconf PAGESIZE)
bar_size=$(tb_bar_size "$BDF" "$BAR")
roff=$AT
rsize=$((64 << 20))
[ $((roff + rsize)) -le $((bar_size)) ] ||
	rsize=$(((bar_size - roff) / (2 << 20) * (2 << 20)))
charge=$(((rsize / pg * 64 + pg - 1) / pg * pg))
echo "# unprivileged: uid $UNPRIV, BAR $BAR range $roff+$rsize, charge $charge bytes of memlock"
group=$(basename "$(readlink "/sys/bus/pci/devices/$BDF/iommu_group")")
cdev=$(ls "/sys/bus/pci/devices/$BDF/vfio-dev" 2>/dev/null | head -n 1)
nodes=("$BLK")
for n in ${cdev:+"/dev/vfio/devices/$cdev"} /dev/iommu "/dev/vfio/$group" /dev/vfio/vfio; do
	[ -c "$n" ] && nodes+=("$n")
done
echo "# given to uid $UNPRIV until the end of these cases: ${nodes[*]}"
give "$UNPRIV" "${nodes[@]}"
unpriv() {	# unpriv MEMLOCK COMMAND...: as UNPRIV, RLIMIT_MEMLOCK MEMLOCK bytes, 120 s at most
	local m=$1
	shift
	# Room in the hard limit, as root: prlimit runs unprivileged
	(cd / && ulimit -H -l unlimited 2>/dev/null
	 exec timeout 120 setpriv --reuid="$UNPRIV" --regid="$UNPRIV" --clear-groups --inh-caps=-all \
		--bounding-set=-all prlimit --memlock="$m:$m" "$@")
}
# who: the command line that says who runs, then runs its arguments
who='echo "as uid $(id -u) gid $(id -g) groups $(id -G) $(grep ^CapEff: /proc/self/status)"; exec "$@"'
whore="^as uid $UNPRIV gid $UNPRIV groups $UNPRIV CapEff:[[:space:]]*0*$"
unpriv "$charge" sh -c "$who" sh "$V" probe "$BDF" > "$T/uprobe" 2>&1
rc=$?
show "$T/uprobe"
[ $rc = 0 ] && grep -q "$whore" "$T/uprobe"
ok $? "probe as uid $UNPRIV without groups and capabilities: ready"
grep -q "^memlock: *limit [0-9.]* [KMG]iB (RLIMIT_MEMLOCK), shared with" "$T/uprobe" &&
	grep -q "^bar $BAR: .*all of it charges .* of memlock (over the limit: ENOMEM; at most $((rsize >> 20)) MiB fits)$" "$T/uprobe"
ok $? "probe: the memlock limit, and that all of BAR $BAR is over it ($((rsize >> 20)) MiB fits)"
# COMMAND: who runs; a buffer outside the registered range (at 0); the read
urun='echo "as uid $(id -u) gid $(id -g) groups $(id -G) $(grep ^CapEff: /proc/self/status)"
"$1" read --dev "$2" --bytes 1M --vfio --at 0 2>&1
echo "outside_rc $?"
exec "$1" read --dev "$2" --bytes "$3" --cksum --vfio --verify'
unpriv "$charge" "$V" register "$BDF" --bar "$BAR" --offset "$roff" --size "$rsize" -- \
	sh -c "$urun" sh "$V" "$BLK" "$N" > "$T/ureg" 2>&1
rc=$?
show "$T/ureg"
ok $rc "uid $UNPRIV, memlock = the charge ($charge bytes): register -- read --vfio --verify exits 0"
check "the command ran as uid $UNPRIV, without groups and capabilities" grep -q "$whore" "$T/ureg"
check "uid $UNPRIV registered BAR $BAR range $(printf 0x%x "$roff")+$rsize" \
	grep -q "^registered $BDF BAR $BAR range $(printf 0x%x "$roff")-$(printf 0x%x $((roff + rsize - 1))) " "$T/ureg"
grep -q "^buffer: 0x[0-9a-f]* $BDF bar $BAR offset $(printf 0x%x "$roff") (.*, mapped through the VFIO device file" "$T/ureg" &&
	grep -q "^cksum: $want$" "$T/ureg" &&
	grep -q "^verify: ok: BAR $BAR $(printf 0x%x "$roff")-0x[0-9a-f]* of $BDF, read back with pread() of its VFIO region" "$T/ureg"
ok $? "uid $UNPRIV: data read through VFIO at the registered offset is in the BAR (cksum, verify)"
grep -q "^outside_rc 1$" "$T/ureg" &&
	grep -q "cannot place 1 MiB at offset 0x0 of BAR $BAR of $BDF: 0x0-0xfffff does not lie inside one registered range" "$T/ureg" &&
	grep -q "The range registered of BAR $BAR is $(printf 0x%x "$roff")-$(printf 0x%x $((roff + rsize - 1)))" "$T/ureg"
ok $? "uid $UNPRIV: --vfio outside the registered range, inside the BAR: EINVAL from the kernel, explained"
check "uid $UNPRIV: unregistered its range after the command" \
	grep -q "^unregistered $BDF BAR $BAR range $(printf 0x%x "$roff")-$(printf 0x%x $((roff + rsize - 1))) in " "$T/ureg"
unpriv $((charge - pg)) "$V" register "$BDF" --bar "$BAR" --offset "$roff" \
	--size "$rsize" -- sh -c "$who" sh true > "$T/ureg2" 2>&1
rc=$?
show "$T/ureg2"
if [ $((charge % (1 << 20))) = 0 ]; then
	need="$((charge >> 20)) MiB"
else
	need="$((charge >> 10)) KiB"
fi
[ $rc = 1 ] && ! grep -q "^as uid" "$T/ureg2" && ! grep -q "^registered " "$T/ureg2" &&
	grep -q "needs $need of locked memory, more than RLIMIT_MEMLOCK allows" "$T/ureg2" &&
	grep -q "'ulimit -l $(((charge + 1023) / 1024))'" "$T/ureg2" &&
	grep -q "'prlimit --memlock=$charge:$charge'" "$T/ureg2"
ok $? "uid $UNPRIV, memlock a page less: ENOMEM, explained (needs $need, ulimit -l, prlimit), nothing run"
unpriv "$charge" "$V" register "$BDF" --bar "$BAR" --offset "$roff" --size "$rsize" -- \
	true > "$T/ureg3" 2>&1
rc=$?
show "$T/ureg3"
ok $rc "uid $UNPRIV, memlock = the charge again: registers (the charge came back at unregister)"
# fio through the VFIO device file, as uid UNPRIV: register --preload runs
# fio with libvfio-p2p-preload.so, fio maps the placeholder at offset 0
# (mem=mmapshared:$VFIO_P2P_MMAP_FILE) and the interposer maps the range
# through the device file instead, at --at. For each of psync, libaio and
# io_uring in turn, that place is filled with 0xa5 through the BAR's own
# VFIO region first, and read back through it after fio (pread(), not the
# mapping fio wrote): it must hold BLK's bytes. One read of the whole
# buffer, so that the buffer holds the file's first bytes in order.
fat=$((roff + (2 << 20)))
fn=$((2 << 20))
if ! command -v fio > /dev/null 2>&1; then
	tap_result skip "uid $UNPRIV: register --preload -- fio into BAR $BAR at $fat" "no fio"
elif [ ! -x "$H" ]; then
	tap_result fail "uid $UNPRIV: register --preload -- fio into BAR $BAR at $fat" \
		"no $H (built with vfio-p2p)"
else
	ufio='echo "as uid $(id -u) gid $(id -g) groups $(id -G) $(grep ^CapEff: /proc/self/status)"
echo "preload_env file=$VFIO_P2P_MMAP_FILE at=$VFIO_P2P_MMAP_AT"
for e in psync libaio io_uring; do
	"$1" bar-fill "$VFIO_P2P_BAR" "$VFIO_P2P_MMAP_AT" $(($3 + 8192)) 0xa5 || exit 20
	VFIO_P2P_PRELOAD_VERBOSE=1 fio --name=vfio-fd-$e --filename="$2" --readonly \
		--direct=1 --rw=read --ioengine=$e --bs="$3" \
		--size="$3" --mem=mmapshared:"$VFIO_P2P_MMAP_FILE" 2>&1
	echo "fio_rc $e $?"
	echo "engine $e: $("$1" bar-cmp "$VFIO_P2P_BAR" "$VFIO_P2P_MMAP_AT" "$3" "$2" 0)"
done'
	unpriv "$charge" "$V" register "$BDF" --bar "$BAR" --offset "$roff" --size "$rsize" \
		--preload --at "$fat" -- sh -c "$ufio" sh "$H" "$BLK" "$fn" > "$T/ufio" 2>&1
	rc=$?
	show "$T/ufio"
	ph=$(sed -n 's/^preload_env file=\([^ ]*\) at=.*/\1/p' "$T/ufio")
	xfat=$(printf 0x%x "$fat")
	[ $rc = 0 ] && grep -q "$whore" "$T/ufio" &&
		[ "$(grep -c "^fio_rc [a-z_]* 0$" "$T/ufio")" = 3 ] &&
		[ "$(grep -c "^vfio-fd-[a-z_]*: (groupid=0, jobs=1): err= 0" "$T/ufio")" = 3 ] &&
		grep -q "^preload: .*/libvfio-p2p-preload.so for sh: its shared mmap()s of $ph at offset 0 map BAR $BAR from $xfat on through the VFIO device file$" "$T/ufio" &&
		grep -q "^preload_env file=${TMPDIR:-/tmp}/vfio-p2p-mmap\.[^ ]* at=$fat$" "$T/ufio"
	ok $? "uid $UNPRIV: register --preload --at $xfat -- fio (mem=mmapshared:\$VFIO_P2P_MMAP_FILE) with psync, libaio and io_uring: each exits 0, without error"
	[ "$(grep -c "^# vfio-p2p preload: mapped [0-9]* bytes at BAR $BAR+$xfat of $BDF through VFIO device fd [0-9]*$" "$T/ufio")" = 3 ]
	ok $? "the interposer mapped each fio's buffer at BAR $BAR+$xfat through the VFIO device file"
	for e in psync libaio io_uring; do
		check "$e: fio's data is in BAR $BAR at $xfat, read back through the VFIO region (0xa5 before)" \
			grep -q "^engine $e: bar-cmp: ok: BAR $BAR $xfat-$(printf 0x%x $((fat + fn - 1))), read back with pread() of its VFIO region (not a mapping), holds the $fn bytes of $BLK from 0x0$" "$T/ufio"
	done
	[ -n "$ph" ] && [ ! -e "$ph" ] &&
		grep -q "^unregistered $BDF BAR $BAR range $(printf 0x%x "$roff")-" "$T/ufio"
	ok $? "register --preload: the placeholder ${ph:-?} is gone, the range unregistered"
fi
saved=("${RESTORE[@]}")
restore
bad=
for e in "${saved[@]}"; do
	read -r own mode n <<< "$e"
	[ "$(stat -L -c '%u:%g %a' "$n")" = "$own $mode" ] || bad="$bad $n"
done
[ -z "$bad" ]
ok $? "the device nodes have their owners and modes back${bad:+, not:$bad}"

tap_end
