#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gates.sh [GATE...]: the checks a maintainer runs before applying a series,
# on the series as it is in patches/ (or in $GATES_PATCHES, a copy of it).
# One result line per gate:
#
#   checkpatch  scripts/checkpatch.pl --strict on every patch: no ERROR,
#               WARNING or CHECK, except those in gates/checkpatch-exceptions
#               whose justification is in the commit message, and unknown
#               ids of the upstream commits in gates/upstream-commits
#   kernel-doc  scripts/kernel-doc -Wall on every changed .c/.h file: no
#               warning that base lacks; every newly exported function has
#               kernel-doc
#   docs        sphinx-build (the kernel's conf.py and extensions) of every
#               changed .rst: no warning that base lacks; new pages are in
#               a toctree
#   bisect      after each patch, the debug config (tinyconfig +
#               config/base.config + config/debug.config) builds vmlinux
#               without a compiler warning; patches that only touch the
#               selftests build those
#   w1          make W=1 of the objects the series touches: no warning
#               that base lacks
#   sparse      make C=2 (sparse) of the same objects: no warning that
#               base lacks
#   selftests   the vfio selftests, p2p/ included, build from a clean
#               OUTPUT with their -Wall -Werror and print no warning
#
# The series is applied with git am in a sparse scratch clone, as
# series-check.sh does, and its commits are fetched into build/gates/linux,
# a full checkout that only this script uses.  Going from one commit to the
# next rewrites only the files that differ, so the out-of-tree build in
# build/gates/obj stays incremental, and ccache covers going back.  The
# config is make check's debug kernel's and build/gates/obj sees its
# sources as ../linux, as build/obj-debug does: the compiler commands are
# the same, so the last bisect step leaves ccache holding nearly all of the
# debug kernel that check.sh builds next.
#
#   testbed/gates.sh               all gates
#   testbed/gates.sh bisect w1     just these
#   GATES_PATCHES=DIR testbed/gates.sh checkpatch    a copy of patches/
#
# Sourced by check.sh: gates_run [GATE...].  The first run builds the debug
# kernel from scratch; after that the whole set takes about two minutes.
# testbed/gates/selftest.sh shows that each gate fails on a series that
# breaks its rule (testbed/gates/inject.sh makes those series).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TESTBED/series-lib.sh"
. "$TESTBED/results.sh"

GATES_ALL=(checkpatch kernel-doc docs bisect w1 sparse selftests)
GATES_DIR=$BUILD/gates
GATES_SRC=$GATES_DIR/linux
GATES_OBJ=$GATES_DIR/obj
GATES_FRAGS=("$TESTBED/config/base.config" "$TESTBED/config/debug.config")
GATES_EXCEPTIONS=$TESTBED/gates/checkpatch-exceptions
GATES_COMMITS_FILE=$TESTBED/gates/upstream-commits
# Debian 12's sparse 0.6.4 predates __typeof_unqual__, which the kernel
# uses since v6.13 (through TYPEOF_UNQUAL() when the compiler has it) and
# then fails on every file; __typeof__ is what older compilers get anyway.
GATES_SPARSE="sparse -D__typeof_unqual__=__typeof__"

# checkpatch's SPDX check, kernel-doc and sphinx need the distribution's
# python3 with its modules (python3-ply, python3-git); a pyenv or
# virtualenv python3 earlier in PATH lacks them.
gates_py() { PATH=/usr/bin:/bin:$PATH "$@"; }

gates_kmake() {
	CCACHE_DIR=$CACHE/ccache CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=8G \
	KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=vfio-p2p KBUILD_BUILD_HOST=testbed \
		make -s -C "$GATES_SRC" O="$GATES_OBJ" CC="ccache gcc" -j"$(nproc)" "$@"
}

# gates_show FILE [N]: print FILE indented, at most N lines.
gates_show() { head -n "${2:-40}" "$1" | sed 's/^/      | /'; }

# Lines of a compiler or sparse log that are diagnostics, with the line and
# column numbers taken out, so that a change elsewhere in a file does not
# make an old warning look new.
# W=1 also runs kernel-doc on each file it compiles ("Warning: FILE:LINE");
# Sphinx shouts (FILE:LINE: WARNING: ...).
GATES_DIAG_RE='^[^ :]+:[0-9]+(:[0-9]+)?: (warning|error|note|WARNING|ERROR|SEVERE|CRITICAL): |^(warning|error|WARNING|ERROR): |^Warning: [^ :]+:[0-9]+ '
gates_norm() { sed -E -e 's/^([^ :]+):[0-9]+(:[0-9]+)?: /\1: /' -e 's/^(Warning: [^ :]+):[0-9]+ /\1 /'; }
gates_diag() { grep -a -E "$GATES_DIAG_RE" "$1" | gates_norm | sort -u; }

# gates_new BASE HEAD: the diagnostics of HEAD that BASE does not have, as
# HEAD printed them (with line numbers).
gates_new() {
	local new
	new=$(comm -13 <(gates_diag "$1") <(gates_diag "$2"))
	[ -n "$new" ] || return 0
	grep -a -E "$GATES_DIAG_RE" "$2" | sort -u | while IFS= read -r l; do
		grep -qxF -- "$(gates_norm <<< "$l")" <<< "$new" && echo "$l"
	done
}

# Apply the series once per run; set GATES_COMMITS, GATES_NAMES, GATES_HEAD.
gates_prepare() {
	[ -n "${GATES_HEAD:-}" ] && return 0
	local patches=${GATES_PATCHES:-$TOP/patches} version base_repo apply paths p
	version=$(cat "$CACHE/base-version" 2>/dev/null) || { echo "error: no base fetched: run 'make fetch'" >&2; return 1; }
	base_repo=$CACHE/base-$version
	[ -d "$base_repo/.git" ] || "$TESTBED/mktree.sh" --base-only || return 1
	mkdir -p "$GATES_DIR/logs"
	apply=$GATES_DIR/apply
	rm -rf "$apply"
	git clone -q --shared --no-checkout "$base_repo" "$apply"
	git -C "$apply" fetch -q --tags "$base_repo"
	paths=$(for p in $(series_list "$patches"); do
		sed -n 's|^diff --git a/\(.*\) b/\(.*\)$|/\1\n/\2|p' "$patches/$p"
	done | sort -u)
	git -C "$apply" sparse-checkout set --no-cone .gitattributes ${paths:-/MAINTAINERS} >/dev/null 2>&1
	git -C "$apply" checkout -q -B p2p base
	series_configure "$apply"
	series_apply "$apply" "$patches" >/dev/null 2>"$GATES_DIR/apply.err" || {
		cat "$GATES_DIR/apply.err" >&2
		return 1
	}
	if [ ! -d "$GATES_SRC/.git" ]; then
		git clone -q --shared --no-checkout "$base_repo" "$GATES_SRC"
		git -C "$GATES_SRC" fetch -q --tags "$base_repo"
		git -C "$GATES_SRC" checkout -q -f --detach base
	fi
	git -C "$GATES_SRC" fetch -q "$apply" +p2p:refs/heads/series
	GATES_HEAD=$(git -C "$GATES_SRC" rev-parse series)
	mapfile -t GATES_COMMITS < <(git -C "$GATES_SRC" rev-list --reverse base..series)
	mapfile -t GATES_NAMES < <(series_list "$patches")
	GATES_PATCHDIR=$patches
	[ ${#GATES_COMMITS[@]} = ${#GATES_NAMES[@]} ] || {
		echo "error: ${#GATES_NAMES[@]} patches but ${#GATES_COMMITS[@]} commits" >&2
		return 1
	}
}

# Files the series changes (at HEAD), optionally filtered by an ERE.
gates_changed() {
	git -C "$GATES_SRC" diff --name-only --diff-filter=d base "$GATES_HEAD" | grep -E "${1:-.}"
}

# gates_at COMMIT: check COMMIT out in the build tree, config up to date.
gates_at() {
	git -C "$GATES_SRC" checkout -q -f --detach "$1" || return 1
	local want
	want=$(cat "${GATES_FRAGS[@]}" | sha256sum)
	if [ ! -f "$GATES_OBJ/.config" ] || [ "$(cat "$GATES_OBJ/.gates-config" 2>/dev/null)" != "$want" ]; then
		mkdir -p "$GATES_OBJ"
		gates_kmake tinyconfig >/dev/null &&
		"$GATES_SRC/scripts/kconfig/merge_config.sh" -m -O "$GATES_OBJ" \
			"$GATES_OBJ/.config" "${GATES_FRAGS[@]}" >/dev/null || return 1
		echo "$want" > "$GATES_OBJ/.gates-config"
	fi
	# Symbols the series adds take their defaults (VFIO_PCI_P2P is y).
	gates_kmake olddefconfig >/dev/null
}

# ---------------------------------------------------------------- checkpatch

# gates_checkpatch_ran PATCH RC OUT ERR: did checkpatch do its job? It
# exits 0 with no finding or 1 with findings, prints findings on stdout
# (a "TYPE:NAME: message" line, then its context up to an empty line) and
# nothing on stderr. Anything else (a perl error, a Python traceback from
# spdxcheck.py, a message that is not a finding) means that its silence
# would prove nothing: say what it was and return 1.
gates_checkpatch_ran() {
	local nf junk status=bad
	nf=$(grep -c -E '^(ERROR|WARNING|CHECK):' "$3")
	junk=$(awk '/^(ERROR|WARNING|CHECK):/ { f = 1; next } /^$/ { f = 0; next } !f' "$3")
	case $2 in
	0) [ "$nf" = 0 ] && status=good ;;
	1) [ "$nf" != 0 ] && status=good ;;
	esac
	if [ -s "$4" ] || [ -n "$junk" ] || [ $status = bad ]; then
		echo "$1: checkpatch.pl did not run cleanly (exit $2, $nf findings)"
		{ head -n 10 "$4"; [ -n "$junk" ] && head -n 10 <<< "$junk"; } | sed 's/^/  | /'
		return 1
	fi
}

# The exception file: "patch-name TYPE phrase": patch-name is the patch file
# name without its number and .patch, TYPE the checkpatch message type
# (--show-types), phrase the words of the commit message that justify it.
# gates_known_commit PATCH MSG: is the commit of an UNKNOWN_COMMIT_ID
# message one of gates/upstream-commits, quoted in PATCH with the subject
# listed there?
gates_known_commit() {
	local id subject
	id=$(sed -n "s/^ *Unknown commit id '\([0-9a-f]*\)'.*/\1/p" <<< "$2")
	[ -n "$id" ] || return 1
	subject=$(awk -v id="$id" '$1 == id { $1 = ""; sub(/^ /, ""); print; exit }' "$GATES_COMMITS_FILE")
	[ -n "$subject" ] || return 1
	grep -qxF -- "Fixes: $id (\"$subject\")" "$1"
}

gates_checkpatch() {
	local out=$GATES_DIR/logs/checkpatch.log i name key f type msg line phrase bad=0 n=0 used
	: > "$out"
	used=$(mktemp)
	for i in "${!GATES_NAMES[@]}"; do
		f=$GATES_PATCHDIR/${GATES_NAMES[$i]}
		name=${GATES_NAMES[$i]##*/}
		name=${name#[0-9][0-9][0-9][0-9]-}
		name=${name%.patch}
		gates_py "$GATES_SRC/scripts/checkpatch.pl" --strict --show-types --no-summary \
			-q --root="$GATES_SRC" "$f" > "$GATES_DIR/logs/cp.one" 2> "$GATES_DIR/logs/cp.err"
		gates_checkpatch_ran "${GATES_NAMES[$i]}" $? "$GATES_DIR/logs/cp.one" \
			"$GATES_DIR/logs/cp.err" >> "$out" || bad=1
		while IFS= read -r line; do
			case $line in
			ERROR:*|WARNING:*|CHECK:*) ;;
			*) continue ;;
			esac
			n=$((n + 1))
			type=${line#*:}
			type=${type%%:*}
			msg=${line#*:*:}
			if [ "$type" = UNKNOWN_COMMIT_ID ] && gates_known_commit "$f" "$msg"; then
				continue
			fi
			phrase=$(awk -v n="$name" -v t="$type" '$1 == n && $2 == t { $1 = $2 = ""; sub(/^ +/, ""); print; exit }' \
				"$GATES_EXCEPTIONS" 2>/dev/null)
			if [ -n "$phrase" ] &&
			   grep -qiF -- "$phrase" <<< "$(git -C "$GATES_SRC" log -1 --format=%B \
				"${GATES_COMMITS[$i]}" | tr -s '\n ' '  ')"; then
				echo "$name $type" >> "$used"
				continue
			fi
			bad=1
			{
				echo "${GATES_NAMES[$i]}: $type:$msg"
				[ -n "$phrase" ] && echo "  (listed as an exception, but the commit message lacks: $phrase)"
				grep -A3 -F -- "$line" "$GATES_DIR/logs/cp.one" | sed -n '2,4p' | sed 's/^/  /'
			} >> "$out"
		done < "$GATES_DIR/logs/cp.one"
	done
	# An exception that no longer matches anything is stale.
	while read -r key type _; do
		case $key in ''|'#'*) continue ;; esac
		grep -qxF "$key $type" "$used" || { echo "stale exception: $key $type matches no checkpatch message" >> "$out"; bad=1; }
	done < <(cat "$GATES_EXCEPTIONS" 2>/dev/null)
	rm -f "$used"
	if [ $bad = 0 ]; then
		result pass "gates/checkpatch: ${#GATES_NAMES[@]} patches clean with --strict" "$n messages, all listed exceptions"
	else
		result fail "gates/checkpatch: checkpatch.pl --strict findings, or checkpatch.pl failed" "see $out"
		gates_show "$out"
	fi
}

# ---------------------------------------------------------------- kernel-doc

gates_kernel_doc() {
	local tmp out=$GATES_DIR/logs/kernel-doc.log f sym bad=0 n=0
	tmp=$(mktemp -d)
	: > "$out"
	for f in $(gates_changed '\.[ch]$'); do
		n=$((n + 1))
		mkdir -p "$tmp/base/$(dirname "$f")" "$tmp/head/$(dirname "$f")"
		git -C "$GATES_SRC" show "base:$f" > "$tmp/base/$f" 2>/dev/null || : > "$tmp/base/$f"
		git -C "$GATES_SRC" show "$GATES_HEAD:$f" > "$tmp/head/$f"
		# kernel-doc exits 0 unless it fails itself (a traceback, a
		# file it cannot read): then its silence proves nothing.
		(cd "$tmp/base" && gates_py "$GATES_SRC/scripts/kernel-doc" -none -Wall "$f") >> "$tmp/base.log" 2>&1 ||
			echo "$f: kernel-doc failed (exit $?) on the base version" >> "$out"
		(cd "$tmp/head" && gates_py "$GATES_SRC/scripts/kernel-doc" -none -Wall "$f") >> "$tmp/head.log" 2>&1 ||
			echo "$f: kernel-doc failed (exit $?) on the series' version" >> "$out"
		# Exported functions are API: each one the series exports needs
		# kernel-doc (kernel-doc itself does not warn about a missing one).
		case $f in *.c) ;; *) continue ;; esac
		for sym in $(comm -13 \
			<(sed -n 's/^EXPORT_SYMBOL[A-Z_]*(\([A-Za-z0-9_]*\).*/\1/p' "$tmp/base/$f" | sort -u) \
			<(sed -n 's/^EXPORT_SYMBOL[A-Z_]*(\([A-Za-z0-9_]*\).*/\1/p' "$tmp/head/$f" | sort -u)); do
			# (not piped into grep -q: with pipefail, its early exit
			# would fail the pipeline)
			(cd "$tmp/head" && gates_py "$GATES_SRC/scripts/kernel-doc" -rst -s "$sym" "$f" \
				> "$tmp/sym.rst" 2>/dev/null) ||
				echo "$f: kernel-doc -rst -s $sym failed (exit $?)" >> "$out"
			grep -qE "c:function::.*[^A-Za-z0-9_]$sym *\(" "$tmp/sym.rst" ||
				echo "$f: $sym is exported by the series but has no kernel-doc" >> "$out"
		done
	done
	sed -i -E 's/^Warning: /warning: /' "$tmp/base.log" "$tmp/head.log"
	# kernel-doc writes "warning: FILE:LINE msg"; drop the line numbers.
	comm -13 <(sed -E 's/:[0-9]+ / /' "$tmp/base.log" | sort -u) \
		<(sed -E 's/:[0-9]+ / /' "$tmp/head.log" | sort -u) > "$tmp/new"
	if [ -s "$tmp/new" ]; then
		echo "new kernel-doc warnings (line numbers at HEAD below):" >> "$out"
		while IFS= read -r l; do
			grep -F -- "${l#warning: * }" "$tmp/head.log" | head -n 3
		done < "$tmp/new" | sort -u >> "$out"
	fi
	[ -s "$out" ] && bad=1
	rm -rf "$tmp"
	if [ $bad = 0 ]; then
		result pass "gates/kernel-doc: $n changed .c/.h files, no new kernel-doc -Wall warning, new exports documented"
	else
		result fail "gates/kernel-doc: kernel-doc findings" "see $out"
		gates_show "$out"
	fi
}

# ---------------------------------------------------------------- docs

# gates_sphinx REV OUT FILE...: build FILEs at REV with the kernel's Sphinx
# configuration in a scratch Documentation/, warnings to OUT.
gates_sphinx() {
	local rev=$1 log=$2 tmp f
	shift 2
	tmp=$(mktemp -d)
	mkdir -p "$tmp/Documentation"
	# maintainers_include.py wants a MAINTAINERS next to Documentation/.
	git -C "$GATES_SRC" show "$rev:MAINTAINERS" > "$tmp/MAINTAINERS"
	printf 'Touched documents\n=================\n\n.. toctree::\n\n' > "$tmp/Documentation/index.rst"
	for f in "$@"; do
		git -C "$GATES_SRC" cat-file -e "$rev:$f" 2>/dev/null || continue
		mkdir -p "$tmp/$(dirname "$f")"
		git -C "$GATES_SRC" show "$rev:$f" > "$tmp/$f"
		f=${f#Documentation/}
		echo "   ${f%.rst}" >> "$tmp/Documentation/index.rst"
	done
	# kernel-doc directives read the sources of the build tree, which is
	# at REV.
	(cd "$tmp" && srctree=$GATES_SRC gates_py sphinx-build -q -b html -j 1 \
		-c "$GATES_SRC/Documentation" -D kerneldoc_srctree="$GATES_SRC" \
		-d "$tmp/doctrees" "$tmp/Documentation" "$tmp/out") > "$log" 2>&1
	# Paths relative to the tree; graphviz is not needed for these pages.
	sed -i -e "s|$tmp/||g" -e "s|$GATES_SRC/||g" -e '/dot(1) not found/d' -e '/^Using alabaster theme/d' "$log"
	# Only the changed pages are in the scratch tree: a reference to a page
	# that exists in the real tree is fine, one to a missing page is not.
	local l d
	while IFS= read -r l; do
		d=$(sed -n -E "s/.*(nonexisting document|unknown document:) '([^']*)'.*/\2/p" <<< "$l")
		if [ -n "$d" ]; then
			d=${d#/}
			case $d in Documentation/*) ;; *) d=Documentation/$d ;; esac
			git -C "$GATES_SRC" cat-file -e "$rev:$d.rst" 2>/dev/null && continue
		fi
		printf '%s\n' "$l"
	done < "$log" > "$log.f"
	mv "$log.f" "$log"
	rm -rf "$tmp"
}

gates_docs() {
	local out=$GATES_DIR/logs/docs.log docs f idx bad=0
	: > "$out"
	if ! command -v sphinx-build >/dev/null 2>&1; then
		result fail "gates/docs: sphinx-build missing (python3-sphinx): run 'make deps'"
		return
	fi
	mapfile -t docs < <(gates_changed '^Documentation/.*\.rst$')
	if [ ${#docs[@]} = 0 ]; then
		result pass "gates/docs: the series changes no .rst file"
		return
	fi
	git -C "$GATES_SRC" checkout -q -f --detach "$GATES_HEAD"
	gates_sphinx "$GATES_HEAD" "$GATES_DIR/logs/sphinx-head.log" "${docs[@]}"
	git -C "$GATES_SRC" checkout -q -f --detach base
	gates_sphinx base "$GATES_DIR/logs/sphinx-base.log" "${docs[@]}"
	gates_new "$GATES_DIR/logs/sphinx-base.log" "$GATES_DIR/logs/sphinx-head.log" >> "$out"
	grep -E '^(ERROR|CRITICAL|Exception|Traceback)' "$GATES_DIR/logs/sphinx-head.log" >> "$out"
	# A new page must be reachable from a toctree; the scratch build lists
	# it itself, so look for it in the index of its directory.
	for f in $(git -C "$GATES_SRC" diff --name-only --diff-filter=A base "$GATES_HEAD" -- 'Documentation/*.rst'); do
		idx=$(dirname "$f")/index.rst
		grep -qE "^[[:space:]]+$(basename "$f" .rst)(\.rst)?[[:space:]]*$" \
			<<< "$(git -C "$GATES_SRC" show "$GATES_HEAD:$idx" 2>/dev/null)" ||
			echo "$f: not listed in the toctree of $idx" >> "$out"
	done
	[ -s "$out" ] && bad=1
	if [ $bad = 0 ]; then
		result pass "gates/docs: ${#docs[@]} changed .rst files build with sphinx without new warnings"
	else
		result fail "gates/docs: documentation findings" "see $out"
		gates_show "$out"
	fi
}

# ---------------------------------------------------------------- builds

gates_headers() { gates_kmake headers_install >/dev/null; }

# gates_selftests_build OUTPUT LOG: build the vfio selftests of the build
# tree against its own UAPI headers.
gates_selftests_build() {
	local output=$1 log=$2
	gates_headers || return 1
	mkdir -p "$output"
	make -C "$GATES_SRC/tools/testing/selftests/vfio" OUTPUT="$output" \
		KHDR_INCLUDES="-isystem $GATES_OBJ/usr/include" > "$log" 2>&1
}

gates_bisect() {
	local i c name files log t0 t1 total=0 bad=0 what summary=()
	for i in "${!GATES_COMMITS[@]}"; do
		c=${GATES_COMMITS[$i]}
		name=${GATES_NAMES[$i]%.patch}
		log=$GATES_DIR/logs/bisect-$((i + 1)).log
		t0=$(date +%s)
		files=$(git -C "$GATES_SRC" diff-tree --no-commit-id --name-only -r "$c")
		what=
		# Anything outside tools/, Documentation/ and MAINTAINERS is
		# kernel: build vmlinux.
		if grep -qvE '^(tools/|Documentation/|MAINTAINERS$)' <<< "$files"; then
			what=vmlinux
			if ! gates_at "$c" > "$log" 2>&1 || ! gates_kmake vmlinux >> "$log" 2>&1; then
				bad=1
				result fail "gates/bisect: $name: vmlinux does not build" "see $log"
				grep -a -E ': (error|warning): |^make.*Error' "$log" | head -n 20 | sed 's/^/      | /'
				continue
			fi
			# Compiler warnings, and Kconfig's about a select that
			# ignores a dependency.
			if grep -a -qE ': warning: |^WARNING: unmet direct dependencies' "$log"; then
				bad=1
				result fail "gates/bisect: $name: vmlinux builds with warnings" "see $log"
				grep -a -E ': warning: |^WARNING: unmet direct dependencies' "$log" | head -n 20 | sed 's/^/      | /'
				continue
			fi
		fi
		if grep -q '^tools/testing/selftests/' <<< "$files"; then
			what=${what:+$what + }selftests
			if [ "$what" = selftests ]; then
				gates_at "$c" > "$log" 2>&1 || true
			fi
			if ! gates_selftests_build "$GATES_DIR/st-bisect" "$log.st"; then
				bad=1
				result fail "gates/bisect: $name: the vfio selftests do not build" "see $log.st"
				grep -a -E ': (error|warning): |Error [0-9]' "$log.st" | head -n 20 | sed 's/^/      | /'
				continue
			fi
		fi
		[ -n "$what" ] || what="nothing to build"
		t1=$(( $(date +%s) - t0 ))
		total=$((total + t1))
		summary+=("$((i + 1)):${t1}s")
		echo "  .. $name: $what, ${t1}s"
	done
	[ $bad = 0 ] && result pass "gates/bisect: each of the ${#GATES_COMMITS[@]} patches builds (debug config, no compiler warning)" \
		"${total}s: ${summary[*]}"
}

# The objects the W=1 and sparse gates build: those of the changed .c files
# and, in the same directories, those that include a changed header.  A
# warning in a header shows in any object that includes it, so every
# changed header must be included by one of them; a header that is not
# brings in the first object of the build that includes it.
gates_objects() {
	local dirs f o hdrs
	[ -f "$GATES_OBJ/vmlinux" ] || { gates_at "$GATES_HEAD" && gates_kmake vmlinux; } >/dev/null 2>&1
	hdrs=$(gates_changed '\.h$' | grep -v '^tools/')
	dirs=$(gates_changed '\.c$' | grep -v '^tools/' | xargs -r -n1 dirname | sort -u)
	{
		for f in $(gates_changed '\.c$' | grep -v '^tools/'); do echo "${f%.c}.o"; done
		[ -n "$hdrs" ] && for f in $dirs; do
			for o in "$GATES_OBJ/$f"/.*.o.cmd; do
				[ -f "$o" ] || continue
				grep -qF -f <(echo "$hdrs") "$o" 2>/dev/null || continue
				o=${o#"$GATES_OBJ/"}
				o=$(dirname "$o")/$(basename "$o" .cmd)
				o=${o/\/./\/}
				[ -f "$GATES_SRC/${o%.o}.c" ] && echo "$o"
			done
		done
	} | sort -u > "$GATES_DIR/objects"
	for f in $hdrs; do
		grep -qlF "$f" $(sed "s|\(.*\)/\(.*\)|$GATES_OBJ/\1/.\2.cmd|" "$GATES_DIR/objects") 2>/dev/null && continue
		o=$(grep -rlF --include='.*.o.cmd' "$f" "$GATES_OBJ" | head -n 1)
		[ -n "$o" ] || continue
		o=${o#"$GATES_OBJ/"}
		echo "$(dirname "$o")/$(basename "$o" .cmd | sed 's/^\.//')" >> "$GATES_DIR/objects"
	done
	sort -u -o "$GATES_DIR/objects" "$GATES_DIR/objects"
}

# gates_objects_at REV: the objects whose source exists at REV.
gates_objects_at() {
	local o
	while read -r o; do
		git -C "$GATES_SRC" cat-file -e "$1:${o%.o}.c" 2>/dev/null && echo "$o"
	done < "$GATES_DIR/objects"
}

# gates_objbuild HOW REV LOG: build the objects at REV with HOW (w1 or
# sparse), log to LOG.
gates_objbuild() {
	local how=$1 rev=$2 log=$3 objs
	gates_at "$rev" > "$log" 2>&1 || return 1
	mapfile -t objs < <(gates_objects_at "$rev")
	case $how in
	w1)
		# Rebuild even if up to date: an object built with the same
		# flags before prints nothing (ccache replays the warnings).
		(cd "$GATES_OBJ" && rm -f "${objs[@]}")
		gates_kmake W=1 "${objs[@]}" >> "$log" 2>&1 ;;
	sparse)
		# First bring the objects up to date without sparse, so that
		# the log has only what sparse says.
		gates_kmake "${objs[@]}" >> "$log" 2>&1 &&
		gates_kmake C=2 CHECK="$GATES_SPARSE" "${objs[@]}" > "$log" 2>&1 ;;
	esac
}

# gates_diff NAME HOW FIRST: build at HEAD and base (in the order that
# saves a checkout, FIRST first) and compare.
gates_diff() {
	local name=$1 how=$2 first=$3 logh logb new n
	logh=$GATES_DIR/logs/$how-head.log
	logb=$GATES_DIR/logs/$how-base.log
	gates_objects
	n=$(wc -l < "$GATES_DIR/objects")
	if [ "$first" = base ]; then
		gates_objbuild "$how" base "$logb" && gates_objbuild "$how" "$GATES_HEAD" "$logh"
	else
		gates_objbuild "$how" "$GATES_HEAD" "$logh" && gates_objbuild "$how" base "$logb"
	fi || {
		result fail "gates/$how: $name build of the touched objects failed" "see $logh, $logb"
		tail -n 10 "$logh" "$logb" 2>/dev/null | sed 's/^/      | /'
		return
	}
	new=$(gates_new "$logb" "$logh")
	if [ -z "$new" ]; then
		result pass "gates/$how: $name: no new warning in $n objects" \
			"$(gates_diag "$logh" | wc -l) at HEAD, $(gates_diag "$logb" | wc -l) at base"
	else
		result fail "gates/$how: $name: new warnings" "see $logh"
		echo "$new" | sed "s|^$GATES_SRC/||" | head -n 30 | sed 's/^/      | /'
	fi
}

gates_w1() { gates_diff "make W=1" w1 "$(gates_where)"; }
gates_sparse() { gates_diff "sparse (make C=2)" sparse "$(gates_where)"; }

# Whichever of HEAD and base the build tree is at now goes first.
gates_where() {
	[ "$(git -C "$GATES_SRC" rev-parse HEAD)" = "$(git -C "$GATES_SRC" rev-parse base)" ] &&
		echo base || echo head
}

gates_selftests() {
	local log=$GATES_DIR/logs/selftests.log out=$GATES_DIR/st-clean p missing=
	gates_at "$GATES_HEAD" > "$log.pre" 2>&1 || { result fail "gates/selftests: cannot configure HEAD" "see $log.pre"; return; }
	rm -rf "$out"
	if ! gates_selftests_build "$out" "$log"; then
		result fail "gates/selftests: the vfio selftests do not build with -Wall -Werror" "see $log"
		grep -a -E ': (error|warning): |Error [0-9]' "$log" | head -n 20 | sed 's/^/      | /'
		return
	fi
	# Every test the Makefile lists, p2p/ included, was built.
	for p in $(sed -n 's/^TEST_GEN_PROGS += //p' "$GATES_SRC/tools/testing/selftests/vfio/Makefile"); do
		[ -x "$out/$p" ] || missing+=" $p"
	done
	if grep -a -qE ': warning: ' "$log" || [ -n "$missing" ]; then
		result fail "gates/selftests: warnings or missing programs${missing:+ (missing:$missing)}" "see $log"
		grep -a -E ': warning: ' "$log" | head -n 20 | sed 's/^/      | /'
		return
	fi
	result pass "gates/selftests: vfio selftests (p2p/ too) build with -Wall -Werror from a clean OUTPUT, no warning" \
		"$(sed -n 's/^TEST_GEN_PROGS += //p' "$GATES_SRC/tools/testing/selftests/vfio/Makefile" | wc -l) programs"
}

# ---------------------------------------------------------------- driver

gates_run() {
	local g t0 gates=("$@")
	[ ${#gates[@]} = 0 ] && gates=("${GATES_ALL[@]}")
	for g in "${gates[@]}"; do
		case " ${GATES_ALL[*]} " in *" $g "*) ;; *) echo "error: unknown gate '$g' (${GATES_ALL[*]})" >&2; return 2 ;; esac
	done
	mkdir -p "$GATES_DIR/logs"
	if ! gates_prepare 2> "$GATES_DIR/prepare.err"; then
		result fail "gates: the series does not apply; no gate could run"
		sed 's/^/      | /' "$GATES_DIR/prepare.err"
		return 1
	fi
	phase_note "series at $(git -C "$GATES_SRC" rev-parse --short "$GATES_HEAD"), ${#GATES_COMMITS[@]} patches from ${GATES_PATCHDIR}"
	for g in "${gates[@]}"; do
		t0=$(date +%s)
		case $g in
		checkpatch) gates_checkpatch ;;
		kernel-doc) gates_kernel_doc ;;
		docs) gates_docs ;;
		bisect) gates_bisect ;;
		w1) gates_w1 ;;
		sparse) gates_sparse ;;
		selftests) gates_selftests ;;
		esac
		echo "  .. gate $g: $(( $(date +%s) - t0 ))s"
	done
	unset GATES_HEAD
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	gates_run "$@"
	results_summary
fi
