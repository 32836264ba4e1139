# SPDX-License-Identifier: GPL-2.0-or-later
"""Central's name stops resolving while `camgate run` records four cameras
and uploads, and central moves to another address meanwhile (what a DNS
failover does): the gateway must keep recording, hold everything, say why
the link is down, and find central at its new address once the name
resolves again.

Everything runs in a network namespace the test creates, with its own
/etc/netns/NS/hosts and resolv.conf (bind-mounted over /etc by `ip netns
exec`): the cameras (rtsp_cam.py on the namespace's loopback), central
(nginx, mutual TLS, certificate for the name) on an extra address of
the namespace's loopback, and the gateway, which names central by host name. The hosts
file is rewritten in place (a new file would not be the bind-mounted
one); the resolver points at the namespace's loopback, where nothing
answers, so a name that is not in the hosts file fails at once.

libcurl keeps a resolved address for 60 s (its DNS cache), so right after
the move the gateway fails to connect to the old address; once the cache
entry expires the reason is the name: the test waits for that in the
status before the name resolves again. Proved: the daemon keeps
recording (segments stored during the outage, nothing refused); status
reads link down with "does not resolve (DNS)"; after the name resolves
to the new address everything in the ring reaches central byte for byte,
no hole in any camera's sequence, nothing lost."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import cglib
from test_camgate_outage import GW, NAMES, check_complete, finish, media_acks

UP = cglib.uplink_fixtures()
HOST = "central.camgate.test"
OLD, NEW = "10.99.0.1", "10.99.0.2"


def ip(*args):
	subprocess.run(["ip"] + list(args), check=True, timeout=10, capture_output=True)


class NsProcs:
	"""cglib.Procs whose processes start inside namespace @ns."""

	def __init__(self, procs, ns):
		self.inner, self.ns, self.logs = procs, ns, procs.logs

	def start(self, cmd, log_path, title, **kw):
		return self.inner.start(["ip", "netns", "exec", self.ns] + list(cmd), log_path,
					title, **kw)


class NsCentral(UP.DigestNginx):
	"""DigestNginx inside @ns, listening on every address there."""

	def __init__(self, d, pki, ns, cert):
		super().__init__(d, pki, cert=cert)
		self.ns = ns
		text = self.conf.read_text()
		self.conf.write_text(text.replace("listen 127.0.0.1:%d " % self.port,
						  "listen %d " % self.port))

	def start(self):
		self.log = open(self.d / "stderr.log", "ab")
		self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, UP.NGINX, "-c",
					      str(self.conf), "-p", str(self.d)],
					     stdout=self.log, stderr=self.log)
		probe = "import socket; socket.create_connection(('127.0.0.1', %d), 0.5)" % self.port
		ok = cglib.wait_for("central listening", lambda: self.proc.poll() is None and
				    subprocess.run(["ip", "netns", "exec", self.ns, cglib.PYTHON, "-c",
						    probe], capture_output=True).returncode == 0,
				    10, 0.2)
		assert ok, (self.d / "error.log").read_text()[-2000:]
		return self


@pytest.fixture
def dns_ns(request):
	"""(namespace, its hosts file): lo up with OLD besides 127.0.0.1,
	/etc/netns/NS/{hosts,resolv.conf}; all removed at teardown."""
	if os.geteuid() != 0 or not shutil.which("ip"):
		pytest.skip("needs root and iproute2 for a network namespace")
	ns = "cgdns%d" % (os.getpid() % 100000)
	etc = Path("/etc/netns") / ns
	etc.mkdir(parents=True, exist_ok=True)
	hosts = etc / "hosts"
	hosts.write_text("127.0.0.1 localhost\n%s %s\n" % (OLD, HOST))
	# Nothing listens on the namespace's port 53: a query fails at once.
	(etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
	try:
		ip("netns", "add", ns)
		ip("-n", ns, "link", "set", "lo", "up")
		ip("-n", ns, "addr", "add", OLD + "/32", "dev", "lo")
		yield ns, hosts
	finally:
		subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
		shutil.rmtree(etc, ignore_errors=True)
		try:
			etc.parent.rmdir()	# only when no other test uses it
		except OSError:
			pass


def set_hosts(hosts, addr):
	"""Rewrite the hosts file in place (same inode: the bind mount sees
	it); @addr None drops central's line."""
	with open(hosts, "r+") as f:
		f.truncate(0)
		f.write("127.0.0.1 localhost\n" + ("%s %s\n" % (addr, HOST) if addr else ""))


def uplink_state(cg):
	try:
		return cg.status().get("uplink", {})
	except cglib.Failure:
		return {}


@pytest.mark.budget(150)
def test_dns_fails_then_resolves(env, dns_ns, pki, uplink_config, uplink_check, schema_check,
				 tmp_path):
	ns, hosts = dns_ns
	cert = pki._leaf("server-dns", "ca", HOST, "subjectAltName=DNS:" + HOST)
	central = NsCentral(tmp_path / "central", pki, ns, cert).start()
	procs = NsProcs(env.procs, ns)
	srv = cglib.CameraServer(procs, env.dir, cams=4, codec="h264", audio="aac",
				 size="640x360", bitrate="1M").start()
	cg = cglib.Camgate(procs, env.dir)
	try:
		uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
			      gateway={"id": GW}, storage={"extents": 4, "extent_size": "16M"},
			      live_window=3, parallel=4, backoff_max="2s",
			      base_url="https://%s:%d" % (HOST, central.port))
		cg.start()
		cglib.wait_for("segments of every camera at central", lambda: {
			c for _, c, _ in media_acks(central)} == set(NAMES), 40)

		# Central goes down (closing the gateway's connection), the name
		# stops resolving, central comes back at another address.
		central.stop()
		set_hosts(hosts, None)
		ip("-n", ns, "addr", "del", OLD + "/32", "dev", "lo")
		ip("-n", ns, "addr", "add", NEW + "/32", "dev", "lo")
		central.start()
		t_down = time.time()
		acked = {(c, s) for _, c, s in media_acks(central)}
		count = {n: len(c["segments"]) for n, c in cg.cameras().items()}
		st = cglib.wait_for("status: link down, the name does not resolve", lambda: (
			lambda u: u if not u.get("link_up", True) and
			"does not resolve (DNS)" in u.get("last_error", "") else None)(
			uplink_state(cg)), 80, 0.5)
		assert st, uplink_state(cg)
		waited = time.time() - t_down
		cg.assert_running()
		# Recording went on, and none of it reached central meanwhile.
		cg.wait_segments({n: count[n] + 2 for n in NAMES}, 20)
		assert {(c, s) for _, c, s in media_acks(central, t_down)} <= acked
		assert not [c for c in cg.status()["cameras"] if c.get("segments_refused")]
		pending = uplink_state(cg).get("pending_rows")

		set_hosts(hosts, NEW)
		t_up = time.time()
		cglib.wait_for("segments of every camera at central after the name resolved",
			       lambda: {c for _, c, _ in media_acks(central, t_up)} == set(NAMES), 30)
		cglib.wait_for("link up", lambda: uplink_state(cg).get("link_up"), 10, 0.5)
		cams = finish(cg, srv)
		check_complete(central, cams, uplink_check)
		schema_check(central, GW)
		print("DNS: name unresolvable and central moved %s -> %s; link down with a DNS reason "
		      "after %.0f s (curl's cache held the old address until then), %s rows held; "
		      "%d segments in the ring, all at central byte for byte, none lost"
		      % (OLD, NEW, waited, pending, sum(len(c["segments"]) for c in cams)))
	finally:
		if cg.running():
			cg.kill9()
		srv.kill()
		central.stop()
