#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the testbed needs (root, Debian 12). Quiet
# and quick when everything is there already.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(build-essential flex bison bc libelf-dev libssl-dev dwarves cpio xz-utils
	kmod rsync ccache sparse qemu-system-x86 fio liburing-dev python3 git
	perl pciutils debian-archive-keyring ca-certificates
	python3-ply python3-git python3-sphinx)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} = 0 ]; then
	phase_note "all ${#PKGS[@]} packages present"
	exit 0
fi
[ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}; run as root or install them"
phase_note "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >"$CACHE/apt-update.log" 2>&1 ||
	die "apt-get update failed (no network to the Debian registry?):
$(tail -n 5 "$CACHE/apt-update.log")"
apt-get install -y -q --no-install-recommends "${missing[@]}" >"$CACHE/apt-install.log" 2>&1 ||
	die "apt-get install ${missing[*]} failed:
$(tail -n 10 "$CACHE/apt-install.log")"
