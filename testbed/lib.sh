# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the testbed scripts; sourced, not run.

TESTBED=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$TESTBED/.." && pwd)
# Downloads, the unpacked base and ccache live outside the work tree so a
# fresh clone on the same machine reuses them.
CACHE=${VFIO_P2P_CACHE:-/var/cache/vfio-p2p}
BUILD=${BUILD:-$TOP/build}
mkdir -p "$CACHE" "$BUILD"

die() { echo "error: $*" >&2; exit 1; }
warn() { echo "warning: $*" >&2; }
phase_note() { echo "  .. $*"; }

# phase NAME CMD...: run CMD, print the phase with its wall time.
phase() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	echo "== $name"
	"$@" && rc=0 || rc=$?
	echo "== $name: $([ $rc = 0 ] && echo done || echo "FAILED (exit $rc)") in $(( $(date +%s) - t0 ))s"
	return $rc
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || die "missing tool '$t': run 'make deps' (installs the Debian packages)"
	done
}
