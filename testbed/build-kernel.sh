#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh FLAVOR [TREE]: configure and build TREE (build/linux) out
# of tree in build/obj-FLAVOR. FLAVOR "perf" is tinyconfig + base.config;
# "debug" adds debug.config. ccache keeps rebuilds of an unchanged file
# cheap, also across fresh clones on this machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavor=${1:-debug}
tree=${2:-$BUILD/linux}
obj=$BUILD/obj-$flavor
need gcc ccache flex bison bc
[ -f "$tree/Makefile" ] || die "no kernel tree at $tree: run 'make tree'"

frags=("$TESTBED/config/base.config")
[ "$flavor" = debug ] && frags+=("$TESTBED/config/debug.config")

export CCACHE_DIR=$CACHE/ccache CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=8G
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=vfio-p2p KBUILD_BUILD_HOST=testbed
KMAKE=(make -s -C "$tree" O="$obj" CC="ccache gcc" -j"$(nproc)")

mkdir -p "$obj"
stamp=$obj/.fragments
want=$(cat "${frags[@]}" | sha256sum)
if [ ! -f "$obj/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	"${KMAKE[@]}" tinyconfig >/dev/null
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${frags[@]}" >/dev/null
	echo "$want" > "$stamp"
	phase_note "configured $flavor in $obj"
fi
# New symbols from the series take their defaults, never a prompt.
"${KMAKE[@]}" olddefconfig >/dev/null
# A fragment symbol that did not stick means a dependency is missing: say
# which, rather than boot a kernel without the feature.
bad=0
for f in "${frags[@]}"; do
	while IFS= read -r line; do
		case $line in
		CONFIG_*=n) sym=${line%%=*}
			grep -q "^$sym=" "$obj/.config" && { echo "  $sym: wanted n, got $(grep "^$sym=" "$obj/.config")"; bad=1; } ;;
		CONFIG_*=*) grep -qxF "$line" "$obj/.config" ||
			{ echo "  ${line%%=*}: wanted ${line#*=}, got $(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo unset)"; bad=1; } ;;
		esac
	done < "$f"
done
[ $bad = 0 ] || { rm -f "$stamp"; die "kernel config for $flavor does not have what the fragments ask for (see above)"; }
"${KMAKE[@]}" bzImage
ln -sfn "$obj/arch/x86/boot/bzImage" "$BUILD/bzImage-$flavor"
phase_note "kernel: $(cat "$obj/include/config/kernel.release" 2>/dev/null) ($flavor) $BUILD/bzImage-$flavor"
