# SPDX-License-Identifier: GPL-2.0
# The series <-> tree round trip; sourced by mktree.sh and series-check.sh.
#
# patches/ holds `git format-patch --cover-letter` output and a `series`
# file listing the patches in order. The cover letter's subject and body
# live in the tree as the branch description, so that exporting the tree
# gives back the same cover letter.

SERIES_ID=("vfio-p2p developers" vfio-p2p@example.org)
# --abbrev: git shortens the hashes of "index" lines to what is unique in
# the repository at hand, which depends on how many objects it holds; a
# fixed length (the kernel's core.abbrev) keeps the export the same in
# every clone.
FORMAT_OPTS=(--cover-letter --cover-from-description=subject --zero-commit
	--no-signature --base=base --subject-prefix=PATCH --abbrev=12)

# Every commit in the tree is made by the series' identity with the author
# date as committer date, so hashes do not depend on who ran git am when.
series_configure() {
	git -C "$1" config user.name "${SERIES_ID[0]}"
	git -C "$1" config user.email "${SERIES_ID[1]}"
	git -C "$1" config format.coverFromDescription subject
}

# Print the cover letter's subject (without the [PATCH 0/N] tag) and body.
cover_text() {
	awk '
		/^Subject: / && !subj { sub(/^Subject: (\[[^]]*\] )?/, ""); print; print ""; subj = 1; next }
		subj && !body && /^$/ { body = 1; next }
		body && /^vfio-p2p developers \([0-9]+\):$/ { exit }
		body { print }
	' "$1" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

series_list() {
	local dir=$1
	[ -f "$dir/series" ] || return 0
	grep -v -e '^#' -e '^[[:space:]]*$' "$dir/series"
}

# series_apply TREE DIR: git am every patch named in DIR/series.
series_apply() {
	local tree=$1 dir=$2 p log
	log=$(mktemp)
	local n=0
	for p in $(series_list "$dir"); do
		[ -f "$dir/$p" ] || die "series names $p but patches/$p does not exist"
		if ! git -C "$tree" am -q --committer-date-is-author-date "$dir/$p" >"$log" 2>&1; then
			git -C "$tree" am --abort >/dev/null 2>&1 || true
			echo "error: patches/$p does not apply to $(git -C "$tree" describe --always HEAD):" >&2
			grep -E '^(error|fatal|Patch failed|Applying)|does not apply|corrupt|hunk' "$log" | sed 's/^/  /' >&2
			rm -f "$log"
			return 1
		fi
		n=$((n + 1))
	done
	rm -f "$log"
	if [ -f "$dir/0000-cover-letter.patch" ]; then
		git -C "$tree" config branch.p2p.description "$(cover_text "$dir/0000-cover-letter.patch")"
	fi
	phase_note "applied $n patches onto base"
}

# series_export TREE DIR: write the tree's series into DIR (emptied first).
series_export() {
	local tree=$1 dir=$2 n date
	mkdir -p "$dir"
	rm -f "$dir"/*.patch "$dir/series"
	n=$(git -C "$tree" rev-list --count base..HEAD)
	if [ "$n" = 0 ]; then
		: > "$dir/series"
		return 0
	fi
	git -C "$tree" format-patch -q "${FORMAT_OPTS[@]}" -o "$dir" base..HEAD >/dev/null
	# The cover letter is dated like the last patch, not "now", so that an
	# unchanged series exports byte for byte the same.
	date=$(git -C "$tree" log -1 --format='%aD' HEAD)
	sed -i "0,/^Date: .*/s//Date: $date/" "$dir/0000-cover-letter.patch"
	(cd "$dir" && ls [0-9][0-9][0-9][0-9]-*.patch | grep -v '^0000-cover-letter') > "$dir/series"
}

# series_matches TREE DIR: does exporting TREE give DIR back exactly?
series_matches() {
	local tree=$1 dir=$2 tmp rc=0
	tmp=$(mktemp -d)
	series_export "$tree" "$tmp"
	diff -r -q "$dir" "$tmp" >/dev/null 2>&1 || rc=1
	[ "$rc" = 0 ] || SERIES_DIFF=$(diff -r -u "$dir" "$tmp" | head -n 40)
	rm -rf "$tmp"
	return $rc
}
