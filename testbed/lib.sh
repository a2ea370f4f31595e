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

# The build steps of the Makefile's chain (deps -> fetch -> tree -> kernel
# -> guest), each a phase: build_steps FLAVOR. Stops at the first failure.
build_steps() {
	local flavor=${1:-debug}
	phase deps "$TESTBED/deps.sh" &&
	phase fetch "$TESTBED/fetch-base.sh" &&
	phase tree "$TESTBED/mktree.sh" &&
	phase "kernel ($flavor)" "$TESTBED/build-kernel.sh" "$flavor" &&
	phase "guest tools" "$TESTBED/build-guest.sh" "$flavor"
}

# readme_put_block FILE BEGIN END CONTENT: replace what lies between the
# lines BEGIN and END of FILE (marker comments, kept) with the lines of the
# file CONTENT; fails if FILE lacks either marker. For the scripts that
# quote a command's last report in README.md.
readme_put_block() {
	grep -q -F -x "$2" "$1" && grep -q -F -x "$3" "$1" ||
		die "$1 lacks the marker comments $2 and $3"
	python3 - "$@" <<'EOF'
import sys

path, begin, end, content = sys.argv[1:]
lines = open(path).read().split('\n')
i = lines.index(begin)
j = lines.index(end, i)
text = open(content).read()
lines[i + 1:j] = (text[:-1] if text.endswith('\n') else text).split('\n')
open(path, 'w').write('\n'.join(lines))
EOF
}

# guest_env: the KEY=VALUE lines every guest test finds in its environment
# (vm_run writes them to the results share, the guest init sources them):
# where the test bed's guest side is, and what topology.sh says about the
# devices (topology_guest_env, when topology.sh has it).
guest_env() {
	printf 'TESTBED=%q\n' "$TESTBED"
	printf 'GUEST_BIN=%q\n' "$BUILD/guest-bin"
	printf 'SELFTESTS=%q\n' "$BUILD/selftests"
	printf 'HARDENING=%q\n' "$BUILD/hardening"
	if type topology_guest_env >/dev/null 2>&1; then
		topology_guest_env
	fi
}

# Clean-up on Ctrl-C, TERM and exit: commands run in reverse order of
# registration. tb_cleanup_add CMD registers CMD (a string, run with
# eval), tb_cleanup_del CMD drops it again once done by hand. The traps
# are set on the first registration, so a script that never registers
# anything keeps its own.
TB_CLEANUP=()
tb_cleanup_run() {
	local i
	for (( i = ${#TB_CLEANUP[@]} - 1; i >= 0; i-- )); do
		eval "${TB_CLEANUP[$i]}"
	done
	TB_CLEANUP=()
}
_tb_on_signal() {	# the signal's name: clean up, then die of it
	trap - EXIT "$1"
	echo "interrupted (SIG$1): cleaning up" >&2
	tb_cleanup_run
	kill -"$1" "$BASHPID"
}
tb_cleanup_add() {
	if [ ${#TB_CLEANUP[@]} = 0 ]; then
		trap '_tb_on_signal INT' INT
		trap '_tb_on_signal TERM' TERM
		trap 'tb_cleanup_run' EXIT
	fi
	TB_CLEANUP+=("$1")
}
tb_cleanup_del() {
	local i
	for i in "${!TB_CLEANUP[@]}"; do
		[ "${TB_CLEANUP[$i]}" = "$1" ] && unset "TB_CLEANUP[$i]"
	done
	TB_CLEANUP=("${TB_CLEANUP[@]}")
}
