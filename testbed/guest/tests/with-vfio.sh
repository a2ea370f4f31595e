#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# with-vfio.sh BDF COMMAND...: run COMMAND with BDF bound to vfio-pci
# (tb_bind), give the device back afterwards, and exit with COMMAND's
# status.
. "$(dirname "$0")/../lib.sh"
bdf=$1
shift
if ! tb_bind "$bdf" > /tmp/with-vfio.diag; then
	tap_start
	tap_result fail "bind $bdf to vfio-pci"
	cat /tmp/with-vfio.diag
	tap_end
	exit 1
fi
"$@"
rc=$?
tb_unbind "$bdf" > /dev/null
exit $rc
