# SPDX-License-Identifier: GPL-2.0
# The series <-> tree round trip; sourced by mktree.sh and series-check.sh.
#
# patches/ holds `git format-patch --cover-letter` output and a `series`
# file listing the patches in order. The cover letter's subject and body
# live in the tree as the branch description, so that exporting the tree
# gives back the same cover letter.
#
# The fixes to other subsystems that the series needs are a series of
# their own, posted first: patches/prereq/ has them with their own cover
# letter, and the main series in patches/ names them by the
# prerequisite-patch-id lines that format-patch --base writes. `series`
# lists both, the prerequisites first, as "prereq/NNNN-....patch". In the
# tree they are the first commits above base: branch.p2p.prereqs says how
# many, the branch "prereq" is put on the last of them at each export, and
# its description is the prerequisite series' cover letter.
PREREQ=prereq

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
		/^Subject: / && !subj { sub(/^Subject: (\[[^]]*\] )?/, ""); line = $0; subj = 1; next }
		subj == 1 && /^ / { line = line $0; next }	# folded: the space stays
		subj == 1 { print line; print ""; subj = 2 }
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
	local pre
	pre=$(series_list "$dir" | grep -c "^$PREREQ/")
	git -C "$tree" config branch.p2p.prereqs "$pre"
	if [ "$pre" -gt 0 ]; then
		git -C "$tree" branch -f "$PREREQ" "HEAD~$((n - pre))"
		[ -f "$dir/$PREREQ/0000-cover-letter.patch" ] &&
			git -C "$tree" config "branch.$PREREQ.description" \
				"$(cover_text "$dir/$PREREQ/0000-cover-letter.patch")"
	fi
	phase_note "applied $n patches onto base ($pre of them prerequisites)"
}

# series_format TREE DIR RANGE: format-patch RANGE into DIR, the cover
# letter dated like the last patch, not "now", so that an unchanged series
# exports byte for byte the same; print the patch names.
series_format() {
	local tree=$1 dir=$2 range=$3 date
	mkdir -p "$dir"
	git -C "$tree" format-patch -q "${FORMAT_OPTS[@]}" -o "$dir" "$range" >/dev/null
	date=$(git -C "$tree" log -1 --format='%aD' "${range#*..}")
	sed -i "0,/^Date: .*/s//Date: $date/" "$dir/0000-cover-letter.patch"
	(cd "$dir" && ls [0-9][0-9][0-9][0-9]-*.patch | grep -v '^0000-cover-letter')
}

# series_export TREE DIR: write the tree's series into DIR (emptied first).
series_export() {
	local tree=$1 dir=$2 n pre tip
	mkdir -p "$dir"
	rm -f "$dir"/*.patch "$dir/series"
	rm -rf "${dir:?}/$PREREQ"
	n=$(git -C "$tree" rev-list --count base..HEAD)
	if [ "$n" = 0 ]; then
		: > "$dir/series"
		return 0
	fi
	pre=$(git -C "$tree" config branch.p2p.prereqs || echo 0)
	[ "$pre" -lt "$n" ] || die "branch.p2p.prereqs is $pre, but the tree has only $n patches"
	tip=base
	: > "$dir/series.pre"
	if [ "$pre" -gt 0 ]; then
		tip=$(git -C "$tree" rev-parse "HEAD~$((n - pre))")
		git -C "$tree" branch -f "$PREREQ" "$tip"
		series_format "$tree" "$dir/$PREREQ" "base..$PREREQ" | sed "s|^|$PREREQ/|" > "$dir/series.pre"
	fi
	series_format "$tree" "$dir" "$tip..HEAD" > "$dir/series.main"
	cat "$dir/series.pre" "$dir/series.main" > "$dir/series"
	rm -f "$dir/series.pre" "$dir/series.main"
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
