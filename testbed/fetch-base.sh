#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-7.3 binary package from the trixie-backports
# suite through a private apt configuration (the machine's own sources are
# left alone), check it against the pinned version and sha256, and unpack
# the kernel source tarball into the cache.
#
# The backports pool keeps only the newest upload: when the pinned version
# is gone, fall back to the newest 7.3.y and say so loudly.
#
# Output: $CACHE/linux-source.tar.xz (symlink to the versioned tarball) and
#         $CACHE/base-version (the Debian version actually used).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PIN_VERSION=${PIN_VERSION:-7.3.4-1~bpo13+1}
PIN_SHA256=${PIN_SHA256:-703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3}
PKG=linux-source-7.3
SUITE=trixie-backports

apt_dir=$CACHE/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$CACHE/debs"

# The mirror is whatever the machine's own Debian source uses; only the
# suite differs.
mirror=$(sed -n 's/^URIs:[[:space:]]*\(\S*\/debian\)[[:space:]]*$/\1/p' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\+\(\S*\/debian\)[[:space:]].*/\1/p' \
	/etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}; cannot fetch $PKG"

echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $SUITE main" \
	> "$apt_dir/sources.list"
APTOPTS=(-q -o Dir::Etc::sourcelist="$apt_dir/sources.list"
	-o Dir::Etc::sourceparts=/nonexistent
	-o Dir::State::Lists="$apt_dir/lists"
	-o Dir::Cache::archives="$apt_dir/archives"
	-o Debug::NoLocking=1)
APT=(apt-get "${APTOPTS[@]}")

deb_for() { echo "$CACHE/debs/${PKG}_$(echo "$1" | sed 's/:/%3a/')_all.deb"; }

have_pinned() {
	local f
	f=$(deb_for "$PIN_VERSION")
	[ -s "$f" ] && echo "$PIN_SHA256  $f" | sha256sum -c --status
}

if have_pinned; then
	version=$PIN_VERSION
	phase_note "cached $PKG $version"
else
	"${APT[@]}" update >"$apt_dir/update.log" 2>&1 ||
		die "apt-get update of $SUITE failed (no network to the Debian registry?):
$(tail -n 5 "$apt_dir/update.log")"
	avail=$(apt-cache "${APTOPTS[@]}" madison "$PKG" 2>/dev/null |
		awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -V -r || true)
	[ -n "$avail" ] || die "$PKG is not in $SUITE any more; set PIN_VERSION/PIN_SHA256 to a newer base"
	if echo "$avail" | grep -qxF "$PIN_VERSION"; then
		version=$PIN_VERSION
	else
		version=$(echo "$avail" | grep '^7\.3\.' | head -n 1)
		[ -n "$version" ] || die "no 7.3.y version of $PKG in $SUITE (have: $avail)"
		warn "pinned $PKG $PIN_VERSION has left the archive; falling back to $version"
	fi
	(cd "$apt_dir/archives" && "${APT[@]}" download "$PKG=$version" >"$apt_dir/download.log" 2>&1) ||
		die "download of $PKG=$version failed:
$(tail -n 5 "$apt_dir/download.log")"
	mv "$apt_dir/archives/${PKG}_"*.deb "$(deb_for "$version")"
	if [ "$version" = "$PIN_VERSION" ]; then
		f=$(deb_for "$version")
		got=$(sha256sum "$f" | cut -d' ' -f1)
		if [ "$got" != "$PIN_SHA256" ]; then
			mv "$f" "$f.bad"
			die "checksum mismatch for $f (kept as $f.bad):
  expected $PIN_SHA256
  got      $got"
		fi
	else
		warn "no pinned checksum for $version; its sha256 is $(sha256sum "$(deb_for "$version")" | cut -d' ' -f1)"
	fi
fi

tarball=$CACHE/linux-source-$version.tar.xz
if [ ! -s "$tarball" ]; then
	tmp=$(mktemp -d "$CACHE/unpack.XXXXXX")
	dpkg-deb --fsys-tarfile "$(deb_for "$version")" |
		tar -x -C "$tmp" --wildcards '*/linux-source-7.3.tar.xz'
	mv "$tmp"/usr/src/linux-source-7.3.tar.xz "$tarball"
	rm -rf "$tmp"
fi
ln -sfn "$(basename "$tarball")" "$CACHE/linux-source.tar.xz"
echo "$version" > "$CACHE/base-version"
phase_note "base: $PKG $version"
