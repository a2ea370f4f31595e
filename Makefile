# SPDX-License-Identifier: GPL-2.0
#
# vfio-p2p: page-backed P2P registration for vfio-pci, and its testbed.
#
#   make run      the main job: the P2P data path end to end, in plain words
#   make check    the whole test suite (fresh machine: installs what it needs)
#
# Steps, each also a target of its own:
#   deps     Debian packages (qemu, fio, liburing, kernel build deps, ccache)
#   fetch    pinned linux-source-7.3 from trixie-backports, unpacked
#   tree     build/linux: base commit + patches/ applied with git am
#   patches  the reverse: export build/linux's commits into patches/
#   series   does patches/ apply and round-trip? (seconds)
#   kernel   build the kernel (FLAVOR=debug, the default, or perf)
#   guest    guest tools, data image, selftests from the same tree
#   retest   the inner loop: rebuild build/linux as it is and boot
#            PLANS (default: retest; any of testbed/plans/, e.g.
#            PLANS="check-p2p check-nop2p")

FLAVOR ?= debug
T := testbed

.PHONY: all deps fetch tree patches series kernel guest retest check run clean distclean

all: check

deps:
	@$(T)/deps.sh
fetch: deps
	@$(T)/fetch-base.sh
tree: fetch
	@$(T)/mktree.sh
patches:
	@bash -c '. $(T)/lib.sh; . $(T)/series-lib.sh; series_export $$BUILD/linux $$TOP/patches' && \
		echo "patches/: $$(wc -l < patches/series) patches exported from build/linux"
series: fetch
	@$(T)/series-check.sh
kernel: tree
	@$(T)/build-kernel.sh $(FLAVOR)
guest: kernel
	@$(T)/build-guest.sh $(FLAVOR)
PLANS ?= retest
retest:
	@FLAVOR=$(FLAVOR) $(T)/retest.sh $(PLANS)
check:
	@FLAVOR=$(FLAVOR) $(T)/check.sh
run:
	@$(T)/run.sh
# bench: figures of the P2P path against DRAM and bounce buffering, the
# cost of registering and of a device reset with a registration, in
# bench/report.md (FLAVOR=perf unless given)
.PHONY: bench
bench:
	@$(T)/bench.sh
clean:
	rm -rf build/obj-* build/results-* build/guest-bin build/selftests build/hardening build/series-check*
distclean:
	rm -rf build
