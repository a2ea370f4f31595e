#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# with-vfio.sh BDF COMMAND...: run COMMAND with BDF bound to vfio-pci
# (the selftests' setup.sh), give the device back afterwards, and exit
# with COMMAND's status.
bdf=$1
shift
export TMPDIR=/tmp
if ! bash "$SELFTESTS/vfio/setup.sh" "$bdf" > /tmp/with-vfio.log 2>&1; then
	echo "TAP version 13"; echo "1..1"
	echo "not ok 1 bind $bdf to vfio-pci"
	sed 's/^/# /' /tmp/with-vfio.log
	exit 1
fi
"$@"
rc=$?
bash "$SELFTESTS/vfio/cleanup.sh" > /dev/null 2>&1
exit $rc
