#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# series-check.sh: does patches/ apply to the pinned base with git am, and
# does exporting the result give patches/ back byte for byte? Works in a
# scratch clone with a sparse checkout of just the files the series
# touches, so it takes seconds and never disturbs build/linux.
# Prints one result line per check (sourced by check.sh, or run alone).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/series-lib.sh"
. "$TESTBED/results.sh"



series_check() {
	local PATCHES=${TOP_PATCHES:-$TOP/patches}
	local version base_repo tmp paths p
	version=$(cat "$CACHE/base-version" 2>/dev/null) || die "no base fetched: run 'make fetch'"
	base_repo=$CACHE/base-$version
	[ -d "$base_repo/.git" ] || "$TESTBED/mktree.sh" --base-only || return 1
	tmp=$BUILD/series-check
	rm -rf "$tmp"
	git clone -q --shared --no-checkout "$base_repo" "$tmp"
	git -C "$tmp" fetch -q --tags "$base_repo"
	paths=$(for p in $(series_list "$PATCHES"); do
		sed -n 's|^diff --git a/\(.*\) b/\(.*\)$|/\1\n/\2|p' "$PATCHES/$p" 2>/dev/null
	done | sort -u)
	# .gitattributes decide the hunk headers format-patch writes (diff=cpp).
	git -C "$tmp" sparse-checkout set --no-cone .gitattributes ${paths:-/MAINTAINERS} >/dev/null 2>&1
	git -C "$tmp" checkout -q -B p2p base
	series_configure "$tmp"
	local n
	n=$(series_list "$PATCHES" | wc -l)
	if series_apply "$tmp" "$PATCHES" 2> "$tmp.err"; then
		result pass "series: all $n patches of patches/series apply to base with git am"
	else
		result fail "series: patches/ does not apply to base"
		sed 's/^/      | /' "$tmp.err"
		return 1
	fi
	if series_matches "$tmp" "$PATCHES"; then
		result pass "series: exporting the applied tree gives patches/ back unchanged"
	else
		result fail "series: patches/ is not what git format-patch makes of it (hand-edited, or exported with other options)"
		echo "$SERIES_DIFF" | sed 's/^/      | /'
		return 1
	fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	series_check
	results_summary
fi
