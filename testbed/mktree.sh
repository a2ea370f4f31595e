#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make build/linux: a git tree whose first commit is the unpacked base
# (tagged "base") with the series from patches/ applied on top by git am,
# one commit per patch.
#
# The base repository is made once per base version in the cache and
# cloned from there (a local clone shares its objects, so this is quick).
# Its commit is made with fixed dates so that its hash, and so every patch
# hash, is the same on every machine.
#
# An existing build/linux is left as it is when it already carries the
# series; it is reset only when it is clean and carries no commits that
# patches/ lacks, so work in progress is never thrown away.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TESTBED/series-lib.sh"

version=$(cat "$CACHE/base-version" 2>/dev/null) || die "no base fetched: run 'make fetch'"
base_repo=$CACHE/base-$version
tree=${1:-$BUILD/linux}

if [ ! -d "$base_repo/.git" ]; then
	phase_note "making the base repository for $version (once per version)"
	rm -rf "$base_repo.tmp"
	mkdir -p "$base_repo.tmp"
	tar -xJf "$CACHE/linux-source-$version.tar.xz" -C "$base_repo.tmp" --strip-components=1
	(
		cd "$base_repo.tmp"
		git init -q -b upstream
		git add -A -f
		GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
			git -c user.name="vfio-p2p developers" -c user.email=vfio-p2p@example.org \
			commit -q -m "Linux base: Debian linux-source-7.3 $version"
		git tag base
		git gc -q --auto
	)
	mv "$base_repo.tmp" "$base_repo"
fi
[ "$tree" = --base-only ] && exit 0

if [ ! -d "$tree/.git" ]; then
	git clone -q "$base_repo" "$tree"
	git -C "$tree" fetch -q --tags "$base_repo"
	git -C "$tree" checkout -q -B p2p base
	series_configure "$tree"
	series_apply "$tree" "$TOP/patches"
	exit 0
fi

# The tree exists: is it already what patches/ says?
if series_matches "$tree" "$TOP/patches"; then
	phase_note "$tree already carries patches/"
	exit 0
fi
if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ] || [ "${FORCE:-0}" != 1 ]; then
	die "$tree differs from patches/ (uncommitted edits or commits not exported).
  'make patches' exports the tree into patches/; 'make tree FORCE=1' resets the tree to patches/."
fi
git -C "$tree" am --abort >/dev/null 2>&1 || true
git -C "$tree" checkout -q -B p2p base
series_apply "$tree" "$TOP/patches"
