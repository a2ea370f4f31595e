# SPDX-License-Identifier: GPL-2.0
"""Host side of the control channel (see control.sh for the protocol).

control.py QMP_SOCKET CTL_DIR [--drive NAME=DRIVE_ID]... [--device ID=PROPS]...
	   [--backend ID=MEMORY_BACKEND_PROPS]...

Watches CTL_DIR for ID.req files written by the guest, performs each
action through QMP and answers with ID.ack. Runs until killed.
"""
import argparse
import json
import os
import socket
import sys
import time

POLL_S = 0.2
CONNECT_S = 60		# QEMU may start after the watcher
DELETED_S = 60		# the guest's ACPI hotplug handler ejects the device


def log(msg):
	print("%s ctl: %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class ActionError(Exception):
	pass


class Qmp:
	def __init__(self, path):
		self.path = path
		self.sock = None
		self.buf = b""
		self.events = []

	def connect(self):
		deadline = time.monotonic() + CONNECT_S
		while True:
			try:
				s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
				s.connect(self.path)
				break
			except OSError as e:
				s.close()
				if time.monotonic() > deadline:
					raise ActionError("no QMP socket %s: %s" % (self.path, e))
				time.sleep(0.5)
		self.sock = s
		self.recv(None)			# the greeting
		self.command("qmp_capabilities")

	def recv(self, timeout):
		"""One JSON message, or None when timeout (seconds) passed."""
		self.sock.settimeout(timeout)
		while b"\n" not in self.buf:
			try:
				data = self.sock.recv(65536)
			except socket.timeout:
				return None
			if not data:
				raise ActionError("QMP connection closed (QEMU gone?)")
			self.buf += data
		line, self.buf = self.buf.split(b"\n", 1)
		return json.loads(line)

	def command(self, name, **args):
		if self.sock is None:
			self.connect()
		msg = {"execute": name}
		if args:
			msg["arguments"] = args
		self.sock.sendall(json.dumps(msg).encode() + b"\n")
		while True:
			r = self.recv(None)
			if "event" in r:
				self.events.append(r)
				continue
			if "error" in r:
				raise ActionError("%s: %s" % (name, r["error"].get("desc", r["error"])))
			return r.get("return")

	def hmp(self, line):
		out = self.command("human-monitor-command", **{"command-line": line})
		out = (out or "").strip()
		if out:
			raise ActionError("%s: %s" % (line.split()[0], out))

	def wait_event(self, name, match, timeout):
		deadline = time.monotonic() + timeout
		while True:
			for i, e in enumerate(self.events):
				if e["event"] == name and match(e.get("data", {})):
					del self.events[i]
					return e
			left = deadline - time.monotonic()
			if left <= 0:
				return None
			r = self.recv(left)
			if r is not None and "event" in r:
				self.events.append(r)


def throttle(qmp, drive, bps):
	limits = dict.fromkeys(("bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"), 0)
	limits["bps"] = bps
	qmp.command("block_set_io_throttle", device=drive, **limits)


def act(qmp, opts, action, args):
	if action in opts.fake:
		return "faked (CTL_FAKE)"
	if action in ("stall", "release"):
		if len(args) != 1 or args[0] not in opts.drive:
			raise ActionError("%s wants one of: %s" % (action, " ".join(sorted(opts.drive))))
		drive = opts.drive[args[0]]
		if action == "stall":
			throttle(qmp, drive, 1)
			# Fill the bucket: this read passes (the bucket is empty),
			# every later one waits for 4096 s of drain.
			qmp.hmp('qemu-io %s "read 0 4096"' % drive)
		else:
			throttle(qmp, drive, 0)
		return "drive %s" % drive
	if action in ("unplug", "replug"):
		if len(args) != 1 or args[0] not in opts.device:
			raise ActionError("%s wants one of: %s" % (action, " ".join(sorted(opts.device))))
		devid = args[0]
		if action == "unplug":
			qmp.events = [e for e in qmp.events if e["event"] != "DEVICE_DELETED"]
			qmp.command("device_del", id=devid)
			if not qmp.wait_event("DEVICE_DELETED",
					      lambda d: d.get("device") == devid, DELETED_S):
				raise ActionError("no DEVICE_DELETED for %s within %ds: the guest did not eject it"
						  % (devid, DELETED_S))
			old = opts.backend_now.pop(devid, None)
			if old:
				qmp.command("object-del", id=old)
		else:
			props = opts.device[devid]
			if devid in opts.backend:
				# A fresh backend: QEMU 10.0 asserts (qemu_ram_set_idstr)
				# when a device re-registers the RAM of one it had before.
				kind, bid, rest = opts.backend[devid]
				opts.generation += 1
				new = "%s-r%d" % (bid, opts.generation)
				qmp.hmp("object_add %s,id=%s%s" % (kind, new, rest))
				props = ",".join(f.split("=")[0] + "=" + new
						 if f.split("=", 1)[1:] == [bid] else f
						 for f in props.split(","))
				opts.backend_now[devid] = new
			qmp.hmp("device_add " + props)
		return devid
	raise ActionError("unknown action '%s' (stall, release, unplug, replug)" % action)


def write_ack(path, text):
	tmp = path + ".tmp"
	with open(tmp, "w") as f:
		f.write(text + "\n")
	os.rename(tmp, path)


def main():
	p = argparse.ArgumentParser()
	p.add_argument("socket")
	p.add_argument("dir")
	p.add_argument("--drive", action="append", default=[])
	p.add_argument("--device", action="append", default=[])
	p.add_argument("--backend", action="append", default=[])
	opts = p.parse_args()
	opts.drive = dict(a.split("=", 1) for a in opts.drive)
	opts.device = dict(a.split("=", 1) for a in opts.device)
	# --backend DEVID=TYPE,id=ID,PROPS: the memory backend DEVID uses
	opts.backend_now = {}
	opts.generation = 0
	backend = {}
	for a in opts.backend:
		devid, props = a.split("=", 1)
		kind, rest = props.split(",", 1)
		fields = rest.split(",")
		bid = [f for f in fields if f.startswith("id=")][0][3:]
		others = "".join("," + f for f in fields if not f.startswith("id="))
		backend[devid] = (kind, bid, others)
		opts.backend_now[devid] = bid
	opts.backend = backend
	opts.fake = os.environ.get("CTL_FAKE", "").split()
	qmp = Qmp(opts.socket)
	log("watching %s (drives: %s; devices: %s%s)" % (
		opts.dir, " ".join(sorted(opts.drive)), " ".join(sorted(opts.device)),
		"; FAKE: " + " ".join(opts.fake) if opts.fake else ""))
	while True:
		reqs = sorted(n for n in os.listdir(opts.dir) if n.endswith(".req"))
		for n in reqs:
			req = os.path.join(opts.dir, n)
			ack = req[:-4] + ".ack"
			if os.path.exists(ack):
				continue
			with open(req) as f:
				words = f.read().split()
			t0 = time.monotonic()
			try:
				if not words:
					raise ActionError("empty request")
				what = act(qmp, opts, words[0], words[1:])
				text = "ok"
			except (ActionError, OSError, ValueError) as e:
				what = None
				text = "error: %s" % e
			log("%s: %s -> %s%s (%.1fs)" % (n, " ".join(words), text,
							 " [%s]" % what if what else "",
							 time.monotonic() - t0))
			write_ack(ack, text)
		time.sleep(POLL_S)


if __name__ == "__main__":
	try:
		main()
	except KeyboardInterrupt:
		sys.exit(0)
