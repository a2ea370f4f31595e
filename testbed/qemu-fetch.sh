#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install QEMU 10.0 (qemu-system-x86) from Debian's bookworm-backports
# suite, pinned by version, through a private apt configuration: the
# machine's own apt sources are left alone. The private sources list names
# the machine's Debian mirror with the suites bookworm, bookworm-updates
# and bookworm-backports, so that the dependencies QEMU 10 needs from
# backports (seabios, qemu-system-common and -data of the same upload)
# resolve together with the ones from the release.
#
# The backports pool keeps only the newest upload: when the pinned version
# is gone, the newest 10.0.y is installed and the run says so loudly. When
# no 10.0.y can be had, it stops with an error that says why.
#
# Quiet and quick when the pinned version (or a fallback 10.0.y) is there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

QEMU_PIN=${QEMU_PIN:-1:10.0.2+ds-2+deb13u1~bpo12+1}
QEMU_SERIES=10.0
SUITE=bookworm-backports
PKG=qemu-system-x86
# Built from the same source upload: installed at the same version.
SAME_UPLOAD=(qemu-system-x86 qemu-system-common qemu-system-data)

# dpkg-query fails for a package it has never seen: that is "none" here
installed=$({ dpkg-query -W -f='${Status} ${Version}' "$PKG" 2>/dev/null || true; } |
	sed -n 's/^install ok installed //p')
case $installed in
"$QEMU_PIN")
	phase_note "$PKG $installed (pinned)"
	exit 0 ;;
1:$QEMU_SERIES.*)
	warn "$PKG $installed is installed, not the pinned $QEMU_PIN (the pin left $SUITE?); keeping it"
	exit 0 ;;
esac

[ "$(id -u)" = 0 ] || die "QEMU $QEMU_SERIES ($PKG $QEMU_PIN from $SUITE) is not installed (have: ${installed:-none}); run 'make deps' as root"

apt_dir=$CACHE/apt-qemu
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"

# The mirror is whatever the machine's own Debian source uses (as
# fetch-base.sh finds it); only the suites are ours.
mirror=$(sed -n 's/^URIs:[[:space:]]*\(\S*\/debian\)[[:space:]]*$/\1/p' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\+\(\S*\/debian\)[[:space:]].*/\1/p' \
	/etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}; cannot install QEMU $QEMU_SERIES from $SUITE"

: > "$apt_dir/sources.list"
for s in bookworm bookworm-updates "$SUITE"; do
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" \
		>> "$apt_dir/sources.list"
done
APTOPTS=(-q -o Dir::Etc::sourcelist="$apt_dir/sources.list"
	-o Dir::Etc::sourceparts=/nonexistent
	-o Dir::State::Lists="$apt_dir/lists"
	-o Dir::Cache::archives="$apt_dir/archives")

phase_note "QEMU $QEMU_SERIES: reading $SUITE from $mirror"
apt-get "${APTOPTS[@]}" update >"$apt_dir/update.log" 2>&1 ||
	die "apt-get update of $SUITE failed (no network to the Debian registry?); QEMU $QEMU_SERIES cannot be installed:
$(tail -n 5 "$apt_dir/update.log")"
avail=$(apt-cache "${APTOPTS[@]}" madison "$PKG" 2>/dev/null |
	awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep "^1:$QEMU_SERIES\." | sort -V -r || true)
if echo "$avail" | grep -qxF "$QEMU_PIN"; then
	version=$QEMU_PIN
else
	version=$(echo "$avail" | head -n 1)
	[ -n "$version" ] || die "no QEMU $QEMU_SERIES.y ($PKG) in $SUITE at $mirror: the pinned $QEMU_PIN is gone and nothing replaces it; set QEMU_PIN to an upload that exists"
	warn "*** pinned $PKG $QEMU_PIN has left $SUITE; falling back to $version ***"
fi

pkgs=()
for p in "${SAME_UPLOAD[@]}"; do
	pkgs+=("$p=$version")
done
phase_note "installing $PKG $version from $SUITE (was: ${installed:-none})"
export DEBIAN_FRONTEND=noninteractive
apt-get "${APTOPTS[@]}" install -y --no-install-recommends -t "$SUITE" "${pkgs[@]}" \
	>"$apt_dir/install.log" 2>&1 ||
	die "installing $PKG $version from $SUITE failed:
$(tail -n 10 "$apt_dir/install.log")"
