#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the testbed needs (root, Debian 12), then
# QEMU 10.0 from bookworm-backports (qemu-fetch.sh). Quiet and quick when
# everything is there already.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(build-essential flex bison bc libelf-dev libssl-dev dwarves cpio xz-utils
	kmod rsync ccache sparse fio liburing-dev python3 git
	perl pciutils debian-archive-keyring ca-certificates
	python3-ply python3-git python3-sphinx mdadm)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
check_qemu() {
	local v
	"$TESTBED/qemu-fetch.sh"
	v=$(qemu-system-x86_64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
	case $v in
	10.0.*) phase_note "QEMU $v" ;;
	*) die "qemu-system-x86_64 is version '${v:-none}' after installing QEMU 10.0; the test bed needs 10.0.x" ;;
	esac
}

if [ ${#missing[@]} = 0 ]; then
	phase_note "all ${#PKGS[@]} packages present"
	check_qemu
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
check_qemu
