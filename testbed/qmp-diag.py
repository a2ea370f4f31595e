# SPDX-License-Identifier: GPL-2.0
"""qmp-diag.py QMP_SOCKET: print what QEMU knows of a guest's vCPUs.

For a guest that stopped making progress: each vCPU's registers (HLT=1
in the flags line: halted) and its local APIC (ISR, IRR, timer), from the
VM's diagnostic QMP socket (vm.sh). RIP names the guest's code (look it
up in build/obj-*/System.map); the APIC says which interrupt a halted
vCPU waits for and which one it never ended.
"""
import sys

import control
from control import Qmp, ActionError


def hmp(qmp, line):
	print("### (qemu) %s" % line)
	print(qmp.command("human-monitor-command", **{"command-line": line}) or "")


def main():
	control.CONNECT_S = 5		# the VM is up: its socket is there
	qmp = Qmp(sys.argv[1])
	try:
		qmp.connect()
		cpus = qmp.command("query-cpus-fast")
		for c in cpus:
			print("# vCPU %d: host thread %d" % (c["cpu-index"], c["thread-id"]))
		hmp(qmp, "info status")
		hmp(qmp, "info registers -a")
		for c in cpus:
			hmp(qmp, "info lapic %d" % c["cpu-index"])
		hmp(qmp, "info pic")
	except (ActionError, OSError) as e:
		print("qmp-diag: %s" % e)
		return 1
	return 0


if __name__ == "__main__":
	sys.exit(main())
