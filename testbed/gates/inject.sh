#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# inject.sh KIND OUTDIR: write into OUTDIR a copy of patches/ with one
# defect that gate KIND must catch, made the honest way: the series is
# applied with git am, one commit is amended (and, for bisect, the defect is
# removed again by the next commit, so only the bisect gate can see it),
# the rest is cherry-picked on top and the result is exported with git
# format-patch, so the copy applies and round-trips like the real thing.
#
#   checkpatch  a 105-column line in vfio_pci_p2p.c (patch "vfio/pci: Add P2P registration of BARs")
#   bisect      an undeclared identifier in vfio_pci_p2p.c, removed again by the next patch
#   w1          an unused const variable in vfio_pci_p2p.c (-Wunused-const-variable is W=1)
#   sparse      a __le32 returned as u32 in vfio_pci_p2p.c (gcc is silent, sparse is not)
#   kernel-doc  an exported function without kernel-doc, and a kernel-doc comment naming the wrong parameter, in p2pdma.c
#   selftests   an unused static function in the P2P uapi test
#   docs        a section title with a short underline in the new documentation page
#
# Then: GATES_PATCHES=OUTDIR testbed/gates.sh KIND   must report FAILED.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TESTBED/series-lib.sh"

kind=${1:?kind}
# The series to start from: patches/, or INJECT_FROM (an export of a work tree).
src=${INJECT_FROM:-$TOP/patches}
out=${2:?outdir}
version=$(cat "$CACHE/base-version")
base_repo=$CACHE/base-$version
w=$BUILD/gates/inject
rm -rf "$w"
git clone -q --shared --no-checkout "$base_repo" "$w"
git -C "$w" fetch -q --tags "$base_repo"
paths=$(for p in $(series_list "$src"); do
	sed -n 's|^diff --git a/\(.*\) b/\(.*\)$|/\1\n/\2|p' "$src/$p"
done | sort -u)
git -C "$w" sparse-checkout set --no-cone .gitattributes $paths >/dev/null 2>&1
git -C "$w" checkout -q -B p2p base
series_configure "$w"
series_apply "$w" "$src" >/dev/null

# The commit whose subject starts with $1 (the first if several).
commit_of() {
	git -C "$w" log --reverse --format='%H %s' base..p2p | awk -v s="$1" 'substr($0, 42, length(s)) == s { print $1; exit }'
}

p2p_c=drivers/vfio/pci/vfio_pci_p2p.c
# insert FILE LINE-REGEX TEXT: put TEXT (with \n) before the first match.
insert() {
	awk -v re="$2" -v text="$3" '!done && $0 ~ re { printf "%s\n", text; done = 1 } { print }' \
		"$w/$1" > "$w/$1.new"
	mv "$w/$1.new" "$w/$1"
	grep -qF -- "$(printf '%s' "$3" | head -n 1)" "$w/$1" || die "could not inject into $1"
}

fix_next=
case $kind in
checkpatch)
	target=$(commit_of "vfio/pci: Add P2P registration")
	edit() { insert $p2p_c '^static int vfio_pci_p2p_unregister' \
		"/* This comment is far longer than the hundred columns that checkpatch.pl accepts on one line of code. */
" ; } ;;
bisect)
	target=$(commit_of "vfio/pci: Add P2P registration")
	edit() { insert $p2p_c '^static int vfio_pci_p2p_unregister' \
		"static int vfio_pci_p2p_broken = vfio_pci_p2p_no_such_symbol;
"; }
	fix_next=1
	unedit() { sed -i '/vfio_pci_p2p_no_such_symbol/,+1d' "$w/$p2p_c"; } ;;
w1)
	target=$(commit_of "vfio/pci: Add P2P registration")
	edit() { insert $p2p_c '^static int vfio_pci_p2p_unregister' \
		"static const int vfio_pci_p2p_unused_const = 1;
"; } ;;
sparse)
	target=$(commit_of "vfio/pci: Add P2P registration")
	edit() { insert $p2p_c '^static int vfio_pci_p2p_unregister' \
		"static __maybe_unused u32 vfio_pci_p2p_le(__le32 v)
{
	return v;
}
"; } ;;
kernel-doc)
	target=$(commit_of "PCI/P2PDMA: Add pci_p2pdma_remove_resource")
	edit() {
		insert drivers/pci/p2pdma.c '^static void pci_p2pdma_release' \
			"int pci_p2pdma_undocumented(struct pci_dev *pdev)
{
	return 0;
}
EXPORT_SYMBOL_GPL(pci_p2pdma_undocumented);
"
		sed -i 's/^ \* @pdev: the device the memory was added to$/ * @dev: the device the memory was added to/' "$w/drivers/pci/p2pdma.c"
		grep -q '@dev: the device the memory was added to' "$w/drivers/pci/p2pdma.c" || die "no kernel-doc to break"
	} ;;
selftests)
	target=$(commit_of "selftests/vfio: Add P2P registration tests")
	edit() { insert tools/testing/selftests/vfio/p2p/vfio_p2p_uapi_test.c '^int main' \
		"static int p2p_unused_helper(void)
{
	return 0;
}
"; } ;;
docs)
	target=$(commit_of "docs: vfio:")
	doc=Documentation/driver-api/vfio-pci-p2p.rst
	[ -n "$target" ] || { target=$(commit_of "PCI/P2PDMA: Name the BAR"); doc=Documentation/driver-api/pci/p2pdma.rst; }
	edit() { printf '\nA section with a short underline\n------\n\nText.\n' >> "$w/$doc"; } ;;
*) die "unknown kind $kind" ;;
esac
[ -n "$target" ] || die "no commit to inject $kind into"

mapfile -t commits < <(git -C "$w" rev-list --reverse base..p2p)
git -C "$w" checkout -q -B bad "$target"
edit
git -C "$w" commit -q -a --amend --no-edit
after=0
for c in "${commits[@]}"; do
	if [ $after = 1 ]; then
		git -C "$w" cherry-pick --allow-empty "$c" >/dev/null
		if [ -n "$fix_next" ]; then
			unedit
			git -C "$w" commit -q -a --amend --no-edit
			fix_next=
		fi
	fi
	[ "$c" = "$target" ] && after=1
done
git -C "$w" config branch.bad.description "$(git -C "$w" config branch.p2p.description)"
series_export "$w" "$out"
echo "$kind: defect in $(git -C "$w" log -1 --format=%s "$target") -> $out"
