#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-guest.sh [FLAVOR]: everything the guest runs that is not the
# kernel: the testbed's own tools (build/guest-bin), the data image the
# client NVMe serves (build/data.img), and the kselftests built from the
# same tree against its exported UAPI headers (build/selftests/).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TESTBED/topology.sh"

flavor=${1:-debug}
obj=$BUILD/obj-$flavor
tree=$BUILD/linux
need gcc make
[ -d "$obj" ] || die "no kernel build in $obj: run 'make kernel'"

# UAPI headers of the series' own tree.
make -s -C "$tree" O="$obj" headers_install >/dev/null
hdr="-isystem $obj/usr/include"

bin=$BUILD/guest-bin
mkdir -p "$bin"
CFLAGS=(-O2 -g -Wall -Wextra -Werror)
gcc "${CFLAGS[@]}" -o "$bin/mkimage" "$TESTBED/guest/mkimage.c"
# The guest tests' C helper (TAP, kernel-report check): libtb.a, tb.h
gcc "${CFLAGS[@]}" -c -o "$bin/tb.o" "$TESTBED/guest/lib/tb.c"
rm -f "$bin/libtb.a" && ar rcs "$bin/libtb.a" "$bin/tb.o"
phase_note "guest tools in $bin"

if [ ! -f "$BUILD/data.img" ] || [ "$(stat -c %s "$BUILD/data.img")" != $((DATA_MB << 20)) ]; then
	"$bin/mkimage" "$BUILD/data.img" "$DATA_MB"
	phase_note "data image: $DATA_MB MiB pattern in $BUILD/data.img"
fi

# The userspace tool, built against the same headers.
make -s -C "$TOP/tools/vfio-p2p" OUTPUT="$bin" KHDR_INCLUDES="$hdr" >/dev/null
phase_note "vfio-p2p tool in $bin"
gcc "${CFLAGS[@]}" -I"$TESTBED/guest/lib" -o "$bin/memtype" "$TESTBED/guest/memtype.c" "$bin/libtb.a"
gcc "${CFLAGS[@]}" -I"$TOP/tools/vfio-p2p" -I"$TESTBED/guest/lib" -o "$bin/p2pread" \
	"$TESTBED/guest/p2pread.c" "$bin/libvfio-p2p.a" "$bin/libtb.a" -luring -lpthread
# make bench's reset cost: the tool's VFIO device code (vfio.o and what it
# uses, built by the make above) and libvfio-p2p.a
gcc "${CFLAGS[@]}" $hdr -I"$TOP/tools/vfio-p2p" -I"$TESTBED/guest/lib" -o "$bin/resetcost" \
	"$TESTBED/guest/bench/resetcost.c" "$bin/vfio.o" "$bin/explain.o" "$bin/pci.o" \
	"$bin/util.o" "$bin/libvfio-p2p.a" "$bin/libtb.a" -lpthread

# The vfio selftests (upstream ones and, once the series has them, p2p/).
st=$BUILD/selftests/vfio
rm -rf "$st"
mkdir -p "$st" "$BUILD/selftests/build-vfio"
make -s -C "$tree/tools/testing/selftests/vfio" OUTPUT="$BUILD/selftests/build-vfio" \
	KHDR_INCLUDES="$hdr" >"$BUILD/selftests-build.log" 2>&1 ||
	{ tail -n 30 "$BUILD/selftests-build.log"; die "vfio selftests do not build"; }
make -s -C "$tree/tools/testing/selftests/vfio" OUTPUT="$BUILD/selftests/build-vfio" \
	KHDR_INCLUDES="$hdr" INSTALL_PATH="$st" install >>"$BUILD/selftests-build.log" 2>&1 ||
	{ tail -n 30 "$BUILD/selftests-build.log"; die "vfio selftests do not install"; }
phase_note "vfio selftests in $st: $(cd "$st" && ls -p | grep -v / | tr '\n' ' ')"

# The hardening programs, against the same libvfio and headers.
make -s -C "$TESTBED/guest/hardening" LINUX="$tree" KOBJ="$obj" \
	OUTPUT="$BUILD/hardening" TBLIB="$bin/libtb.a" >"$BUILD/hardening-build.log" 2>&1 ||
	{ tail -n 30 "$BUILD/hardening-build.log"; die "hardening programs do not build"; }
phase_note "hardening programs in $BUILD/hardening"
