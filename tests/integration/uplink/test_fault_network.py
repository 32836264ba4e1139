# SPDX-License-Identifier: GPL-2.0-or-later
"""A link to central that misbehaves while `camgate run` records four
cameras: central flapping every few seconds, a slow and lossy path (this
kernel has no netem: a TCP proxy of the test's own delays every chunk and
cuts some connections mid-stream), and central's TLS certificate rotated
while the gateway is connected. Each time everything the ring holds
reaches central byte for byte with no hole in any camera's sequence, and
the objects validate against docs/schema/."""

import queue
import random
import socket
import threading
import time

import pytest

import cglib
from test_camgate_outage import GW, LIVE_WINDOW, NAMES, PARALLEL, check_complete, finish, media_acks


def start(env, central, uplink_config, base_url=None, **extra):
	srv = env.cameras(cams=4, codec="h264", audio="aac")
	cg = env.camgate()
	if base_url:
		extra["base_url"] = base_url
	uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
		      gateway={"id": GW}, storage={"extents": 8, "extent_size": "32M"},
		      live_window=LIVE_WINDOW, parallel=PARALLEL, backoff_max="2s", **extra)
	cg.start()
	return srv, cg


def wait_all_cameras(central, after=0.0, timeout=30):
	cglib.wait_for("segments of every camera at central",
		       lambda: {c for _, c, _ in media_acks(central, after)} == set(NAMES), timeout)


@pytest.mark.budget(100)
def test_central_flapping(env, central_mtls, uplink_config, uplink_check, schema_check):
	central = central_mtls
	srv, cg = start(env, central, uplink_config)
	wait_all_cameras(central)
	flaps = 0
	for _ in range(5):
		central.stop()
		time.sleep(3)
		cg.assert_running()
		central.start()
		flaps += 1
		time.sleep(3)
	cams = finish(cg, srv)
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	print("flapping: %d outages of 3 s, %d segments complete at central"
	      % (flaps, sum(len(c["segments"]) for c in cams)))


def listener():
	"""(listening socket, its port) on the loopback."""
	ls = socket.socket()
	ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	ls.bind(("127.0.0.1", 0))
	ls.listen(64)
	return ls, ls.getsockname()[1]


class LossyProxy:
	"""TCP proxy: every chunk forwarded DELAY_S late, and every connection
	cut (RST) after a random 1 to 8 MiB. TLS
	passes through untouched, so the gateway still checks central's
	certificate end to end."""
	DELAY_S = 0.05

	def __init__(self, upstream_port, seed):
		self.up = upstream_port
		self.rnd = random.Random(seed)
		self.cuts = 0
		self.conns = 0
		self.ls, self.port = listener()
		self.stop = False
		threading.Thread(target=self._accept, daemon=True).start()

	def _accept(self):
		while not self.stop:
			try:
				c, _ = self.ls.accept()
			except OSError:
				return
			self.conns += 1
			limit = self.rnd.randint(1024, 8192) * 1024
			try:
				u = socket.create_connection(("127.0.0.1", self.up), 3)
			except OSError:
				c.close()
				continue
			state = {"left": limit}
			for a, b in ((c, u), (u, c)):
				threading.Thread(target=self._pipe, args=(a, b, state),
						 daemon=True).start()

	def _pipe(self, a, b, state):
		"""a -> b: a reader stamps each chunk, a writer sends it DELAY_S
		after its arrival (latency, not a bandwidth cap)."""
		q = queue.Queue()
		threading.Thread(target=self._send, args=(q, a, b, state), daemon=True).start()
		try:
			while True:
				data = a.recv(65536)
				q.put((time.monotonic() + self.DELAY_S, data))
				if not data:
					return
		except OSError:
			q.put((0, b""))

	def _send(self, q, a, b, state):
		try:
			while True:
				due, data = q.get()
				if not data:
					break
				time.sleep(max(0.0, due - time.monotonic()))
				if state["left"] is not None:
					state["left"] -= len(data)
					if state["left"] <= 0:
						self.cuts += 1
						for s in (a, b):	# linger 0: the close resets
							s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
								     b"\x01\x00\x00\x00\x00\x00\x00\x00")
						break
				b.sendall(data)
		except OSError:
			pass
		finally:
			# shutdown() first: a close() alone would not wake the
			# other direction's reader blocked in recv() on the same
			# socket, and the connection would hang instead of dying.
			for s in (a, b):
				for op in (lambda: s.shutdown(socket.SHUT_RDWR), s.close):
					try:
						op()
					except OSError:
						pass

	def close(self):
		self.stop = True
		self.ls.close()


@pytest.mark.budget(100)
def test_slow_lossy_link(env, central_mtls, uplink_config, uplink_check, schema_check):
	central = central_mtls
	proxy = LossyProxy(central.port, seed=int(time.time()))
	try:
		srv, cg = start(env, central, uplink_config,
				base_url="https://127.0.0.1:%d" % proxy.port)
		wait_all_cameras(central, timeout=40)
		time.sleep(15)
		cams = finish(cg, srv)
	finally:
		proxy.close()
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	assert proxy.cuts >= 2, "the link was never cut: %d connections" % proxy.conns
	print("lossy link: %d connections, %d cut mid-stream, %d segments complete at central"
	      % (proxy.conns, proxy.cuts, sum(len(c["segments"]) for c in cams)))


@pytest.mark.budget(90)
def test_central_certificate_rotated(env, central_mtls, uplink_config, uplink_check, pki,
				     schema_check):
	central = central_mtls
	srv, cg = start(env, central, uplink_config)
	wait_all_cameras(central)
	# Central renews its certificate (same CA, new key) and restarts on
	# the same port; the gateway trusts the CA, not the old leaf.
	new = pki._leaf("server-renewed", "ca", "localhost",
			"subjectAltName=DNS:localhost,IP:127.0.0.1")
	central.stop()
	text = central.conf.read_text()
	central.conf.write_text(text.replace(str(pki.server[0]), str(new[0]))
				.replace(str(pki.server[1]), str(new[1])))
	t = time.time()
	central.start()
	wait_all_cameras(central, after=t, timeout=20)
	time.sleep(4)
	cams = finish(cg, srv)
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	status = cg.cli("status", "--json")
	assert "uplink-tls" not in status.stdout, status.stdout


class FreezeProxy:
	"""TCP proxy whose freeze() leaves every open connection silent (the
	bytes read and dropped, the sockets kept open: no FIN, no RST), as a
	central host that vanished or a NAT that forgot the flow; connections
	made after it forward normally."""

	def __init__(self, upstream_port):
		self.up = upstream_port
		self.gen = 0	# connections of an older generation are frozen
		self.conns = 0
		self.ls, self.port = listener()
		threading.Thread(target=self._accept, daemon=True).start()

	def freeze(self):
		self.gen += 1

	def _accept(self):
		while True:
			try:
				c, _ = self.ls.accept()
				u = socket.create_connection(("127.0.0.1", self.up), 3)
			except OSError:
				return
			self.conns += 1
			for a, b in ((c, u), (u, c)):
				threading.Thread(target=self._pipe, args=(a, b, self.gen),
						 daemon=True).start()

	def _pipe(self, a, b, gen):
		try:
			while True:
				data = a.recv(65536)
				if not data:
					break
				if gen == self.gen:
					b.sendall(data)
		except OSError:
			pass
		if gen == self.gen:
			for s in (a, b):
				try:
					s.shutdown(socket.SHUT_RDWR)
				except OSError:
					pass

	def close(self):
		self.ls.close()


@pytest.mark.budget(90)
def test_central_connection_dies_silently(env, central_mtls, uplink_config, uplink_check,
					  schema_check):
	"""The HTTP/2 connection to central goes silent: the requests on it
	stall (stall_timeout 5 s here), and the gateway must then open a new
	connection rather than multiplex onto the dead one again."""
	central = central_mtls
	proxy = FreezeProxy(central.port)
	try:
		srv, cg = start(env, central, uplink_config,
				base_url="https://127.0.0.1:%d" % proxy.port, stall_timeout="5s")
		wait_all_cameras(central)
		conns = proxy.conns
		proxy.freeze()
		t = time.time()
		wait_all_cameras(central, after=t, timeout=30)
		back = time.time() - t
		assert proxy.conns > conns
		time.sleep(3)
		cams = finish(cg, srv)
	finally:
		proxy.close()
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	print("connection frozen: every camera at central again %.1f s later over a new "
	      "connection (%d connections in all); %d segments complete at central"
	      % (back, proxy.conns, sum(len(c["segments"]) for c in cams)))
