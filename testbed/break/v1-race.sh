#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# v1-race.sh: run the race kselftest (vfio_p2p_race_test, in the P2P
# selftests patch) against v1 of the series, to show that it catches the
# mapping that escapes a teardown there. Not part of `make check`; run by
# hand, takes about 15 minutes from cold (the v1 debug kernel build).
#
#   testbed/break/v1-race.sh            build what is missing, boot, run
#
# - v1 is the series as this repository had it at $V1 (11 patches). It
#   is applied to the pinned base in build/v1 (a worktree of build/linux)
#   and built with the debug kernel's config in build/obj-v1.
# - The test is v2's, built from build/linux, with two helpers of its
#   library translated to v1's UAPI, which has the same feature number
#   and a prefix of v2's struct: v1's GET answers in flags (1 << 1 is
#   "registered") and has no granule, and v1's UNREGISTER takes offset 0
#   and size 0 only. Nothing else of the test changes.
# - The plan (v1-race.plan) runs the test on the ivshmem BAR, then on the
#   NVMe CMB, with the topology of make check.
#
# Results go to build/results-v1-race/ and build/v1-race-results.log.
# On v1 the race test must fail: teardowns that block because a mapping
# kept its pages, mappings that still reach the BAR after the teardown, or
# both (by chance: about one cycle in 40 hits the window). The file's
# second test, vfio_p2p_fault, must fail every time: v1's mmap() maps the
# pages itself. The note in this directory's README says what the last
# runs saw.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$TESTBED/results.sh"
. "$TESTBED/vm.sh"

V1=e09b07c
tree=$BUILD/v1
obj=$BUILD/obj-v1
tests=$BUILD/v1-race-tests
st=$BUILD/selftests-v1

if [ ! -f "$tree/Makefile" ]; then
	tmp=$(mktemp -d)
	git -C "$TOP" archive "$V1" patches | tar -x -C "$tmp"
	git -C "$BUILD/linux" worktree add -q --detach "$tree" base
	for p in $(grep -v '^#' "$tmp/patches/series"); do
		git -C "$tree" -c user.name=v1 -c user.email=v1@example.org \
			am -q "$tmp/patches/$p"
	done
	rm -rf "$tmp"
fi

if [ ! -f "$obj/arch/x86/boot/bzImage" ] || [ "$tree/.git" -nt "$obj/arch/x86/boot/bzImage" ]; then
	mkdir -p "$obj"
	[ -f "$obj/.config" ] || cp "$BUILD/obj-debug/.config" "$obj/.config"
	CCACHE_DIR=$CACHE/ccache CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=1 \
	KBUILD_BUILD_TIMESTAMP=2026-01-01 \
		make -s -C "$tree" O="$obj" CC="ccache gcc" -j"$(nproc)" olddefconfig bzImage
fi
ln -sfn "$obj/arch/x86/boot/bzImage" "$BUILD/bzImage-v1"

# v2's race test with the two helpers translated to v1's UAPI.
rm -rf "$tests"
git -C "$BUILD/linux" worktree prune
git -C "$BUILD/linux" worktree add -q --detach "$tests" p2p
python3 - "$tests/tools/testing/selftests/vfio/p2p/vfio_p2p.c" <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read()
get = '''	ret = __p2p_get(fd, out, 0);
	if (ret)
		return ret;
'''
v1_get = get + '''
	/* v1: "registered" is bit 1 of flags, and there is no granule */
	out->state = (out->flags & (1 << 1)) ? VFIO_DEVICE_P2P_STATE_REGISTERED : 0;
	out->flags = 0;
	out->granule = P2P_GRANULE;
'''
assert get in s
s = s.replace(get, v1_get, 1)
unreg = '''		.flags = VFIO_DEVICE_P2P_UNREGISTER,
		.offset = offset,
		.size = size,
'''
assert unreg in s
s = s.replace(unreg, '''		.flags = VFIO_DEVICE_P2P_UNREGISTER,	/* v1: offset 0, size 0 */
''', 1)
open(p, 'w').write(s)
EOF
git -C "$tests" diff --stat
mkdir -p "$st"
cp -a "$BUILD/selftests/vfio" "$st/"
make -s -C "$tests/tools/testing/selftests/vfio" OUTPUT="$BUILD/v1-race-build" \
	KHDR_INCLUDES="-isystem $BUILD/obj-debug/usr/include" \
	"$BUILD/v1-race-build/p2p/vfio_p2p_race_test"
cp "$BUILD/v1-race-build/p2p/vfio_p2p_race_test" "$st/vfio/"

RESULTS_LOG=$BUILD/v1-race-results.log
rm -f "$RESULTS_LOG"
GUEST_ENV=$(guest_env | sed "s|^SELFTESTS=.*|SELFTESTS=$st|")
export GUEST_ENV RESULTS_LOG
vm_run p2p v1-race "$TESTBED/break/v1-race.plan" v1 || true
results_summary || true
