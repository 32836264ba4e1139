# SPDX-License-Identifier: GPL-2.0-or-later
"""The fleet view (web/fleet/, docs/fleet-view.md) in Debian's headless
Chromium against what a real `camgate run` uploaded to the nginx test
central: two cameras record (H.264 and H.265), a third points at a port
where nothing answers, so the gateway raises `camera-offline` for it (after
30 s, firmware/daemon_stream.c). The page, served by `scripts/central.sh
view` (read-only nginx over central's tree, as `make demo` does), must list
the gateway and its cameras, show that alarm and its event, show the
registry record, and play the H.264 camera's live.m3u8 through hls.js: the
video element reaches readyState >= 2 with currentTime > 0, read from the
status attributes the page sets on #player; the H.265 camera, which this
Chromium cannot decode, gets a plain-words error. Then the same page reads
the same tree as an S3 bucket lists it (ListObjectsV2 XML, paged) and must
show and play the same; and a second gateway whose status carries
compliance duties gets them listed by deadline. Chromium is driven over the
DevTools protocol (python3-websocket); the screenshots and the page's DOM
are kept in build/test-output/fleet-view/ whatever the outcome."""

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import cglib

REPO = Path(__file__).resolve().parents[3]
OUT = REPO / "build" / "test-output" / "fleet-view"
GW = "gw-fleet-01"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HLS = REPO / "web" / "fleet" / "vendor" / "hls.min.js"

try:
	import websocket
except ImportError:	# the fixture says what is missing
	websocket = None


class Chromium:
	"""Headless Chromium with a fresh profile, driven over the DevTools
	protocol: one page, Runtime.evaluate and Page.captureScreenshot."""

	def __init__(self, workdir):
		self.profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=workdir))
		self.log = open(Path(workdir) / "chromium.log", "wb")
		self.proc = subprocess.Popen(
			[CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
			 "--no-first-run", "--disable-background-networking",
			 "--disable-component-update", "--disable-sync",
			 "--autoplay-policy=no-user-gesture-required", "--mute-audio",
			 "--window-size=1400,1000", "--remote-debugging-port=0",
			 "--user-data-dir=%s" % self.profile, "about:blank"],
			stdout=self.log, stderr=self.log)
		port_file = self.profile / "DevToolsActivePort"
		cglib.wait_for("Chromium's DevTools port", lambda: port_file.exists() and
			       len(port_file.read_text().split()) >= 2 or self.proc.poll() is not None, 30, 0.1)
		assert self.proc.poll() is None, "chromium exited %s" % self.proc.returncode
		port = int(port_file.read_text().split()[0])
		import urllib.request
		pages = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10))
		page = [p for p in pages if p.get("type") == "page"][0]
		self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30,
						      suppress_origin=True)
		self.n = 0

	def call(self, method, **params):
		self.n += 1
		self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
		while True:
			msg = json.loads(self.ws.recv())
			if msg.get("id") == self.n:
				assert "error" not in msg, (method, msg["error"])
				return msg.get("result", {})

	def eval(self, expr):
		r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
		assert "exceptionDetails" not in r, (expr, r["exceptionDetails"])
		return r["result"].get("value")

	def screenshot(self, path):
		r = self.call("Page.captureScreenshot", format="png")
		Path(path).write_bytes(base64.b64decode(r["data"]))

	def close(self):
		try:
			self.ws.close()
		except Exception:
			pass
		if self.proc.poll() is None:
			self.proc.terminate()
			try:
				self.proc.wait(10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.log.close()
		shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def chromium(tmp_path):
	if not os.path.exists(CHROMIUM) or websocket is None:
		pytest.fail("chromium or python3-websocket not installed (make deps)", pytrace=False)
	c = Chromium(tmp_path)
	yield c
	c.close()


@pytest.fixture
def view(central_mtls):
	"""`scripts/central.sh view` over the test central's tree."""
	if not HLS.exists():
		pytest.fail("%s missing: run make deps (web/build.sh)" % HLS, pytrace=False)
	port = cglib.free_port()
	d = central_mtls.d
	subprocess.run(["sh", str(REPO / "scripts" / "central.sh"), "view", str(d), str(port)],
		       check=True, capture_output=True, timeout=30)
	yield "http://127.0.0.1:%d/fleet/" % port
	# The view's nginx alone (`central.sh stop` would end the test
	# central's too, whose pid file is in the same folder).
	try:
		os.kill(int((d / "view.pid").read_text()), 15)
	except (OSError, ValueError):
		pass


S3_CONF = """
daemon off;
master_process on;
worker_processes 1;
user root;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
	access_log {d}/access.log;
	client_body_temp_path {d}/tmp;
	types {{ text/html html; text/css css; text/javascript js; application/xml xml;
		application/vnd.apple.mpegurl m3u8; video/mp4 mp4 m4s; application/json json; }}
	map $args $s3tok {{ "~(^|&)continuation-token=([^&]*)" $2; default ""; }}
	server {{
		listen 127.0.0.1:{port};
		location = /bucket/ {{ root {lists}; try_files /${{arg_prefix}}_list$s3tok.xml =404; }}
		location /bucket/ {{ alias {www}/; }}
		location /fleet/ {{ alias {web}/; }}
	}}
}}
"""


class S3Listings:
	"""Central's tree as an S3 bucket shows it to the page: nginx serves
	the objects under /bucket/ and answers GET /bucket/?list-type=2&
	prefix=P&delimiter=/ with ListObjectsV2 XML (application/xml) that
	snapshot() wrote for every folder, PAGE keys a page, continued by
	continuation-token, as the S3 API reference gives them."""

	PAGE = 3

	def __init__(self, d, www):
		self.d = Path(d)
		self.www = Path(www)
		self.lists = self.d / "lists"
		(self.d / "tmp").mkdir(parents=True, exist_ok=True)
		self.port = cglib.free_port()
		conf = self.d / "nginx.conf"
		conf.write_text(S3_CONF.format(d=self.d, port=self.port, lists=self.lists, www=self.www,
					       web=REPO / "web" / "fleet"))
		self.log = open(self.d / "stderr.log", "wb")
		self.proc = subprocess.Popen(["/usr/sbin/nginx", "-c", str(conf), "-p", str(self.d)],
					     stdout=self.log, stderr=self.log)
		self.url = "http://127.0.0.1:%d/" % self.port

	def snapshot(self):
		from xml.sax.saxutils import escape
		shutil.rmtree(self.lists, ignore_errors=True)
		for folder in [self.www] + [p for p in self.www.rglob("*") if p.is_dir()]:
			prefix = "" if folder == self.www else str(folder.relative_to(self.www)) + "/"
			items = sorted((prefix + p.name + ("/" if p.is_dir() else ""), p)
				       for p in folder.iterdir())
			pages = [items[i:i + self.PAGE] for i in range(0, len(items), self.PAGE)] or [[]]
			for n, page in enumerate(pages):
				more = n + 1 < len(pages)
				x = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
				     "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
				     "<Name>bucket</Name><Prefix>%s</Prefix><Delimiter>/</Delimiter>"
				     "<MaxKeys>%d</MaxKeys><KeyCount>%d</KeyCount><IsTruncated>%s</IsTruncated>"
				     % (escape(prefix), self.PAGE, len(page), "true" if more else "false")]
				if more:
					x.append("<NextContinuationToken>p%d</NextContinuationToken>" % (n + 1))
				for key, p in page:
					if key.endswith("/"):
						x.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(key))
					else:
						x.append("<Contents><Key>%s</Key><Size>%d</Size>"
							 "<LastModified>2026-01-05T10:00:00.000Z</LastModified>"
							 "<StorageClass>STANDARD</StorageClass></Contents>"
							 % (escape(key), p.stat().st_size))
				x.append("</ListBucketResult>")
				f = self.lists / ("%s_list%s.xml" % (prefix, "p%d" % n if n else ""))
				f.parent.mkdir(parents=True, exist_ok=True)
				f.write_text("\n".join(x))

	def stop(self):
		if self.proc.poll() is None:
			self.proc.terminate()
			self.proc.wait(10)
		self.log.close()


@pytest.fixture
def s3_view(central_mtls, tmp_path):
	v = S3Listings(tmp_path / "s3", central_mtls.www)
	yield v
	v.stop()


def _status(central):
	p = central.file("gateways/%s/status.json" % GW)
	try:
		return json.loads(p.read_text())
	except (OSError, ValueError):
		return None


@pytest.mark.budget(110)
def test_fleet_view_in_chromium(env, central_mtls, uplink_config, schema_check, view, s3_view,
				chromium):
	central = central_mtls
	srv = env.cameras(cams=2, codec="h264,h265", audio="aac,none")
	cg = env.camgate()
	dead = "rtsp://127.0.0.1:%d/nothing-here" % cglib.free_port()
	uplink_config(cg, central, {"door": srv.url(1), "lot": srv.url(2), "yard": dead},
		      gateway={"id": GW}, live_window=4, status_interval="1s",
		      commands_interval="1s")
	cg.start()
	# A registry record at central: an installer's manual entry for door
	# (as the console's `camera set` leaves it), sent on central's
	# resend-registry command.
	db = sqlite3.connect(str(cg.state_dir / "state.db"), timeout=10)
	with db:
		db.execute("INSERT INTO registry_cameras(name, manufacturer, model, ip,"
			   " scope_location, provider_unit, update_method, data_users)"
			   " VALUES ('door', 'Acme', 'X1', '10.0.0.5', 'gate 3, north wall',"
			   " 'ward 3 police', 'manual', 'police, transport')")
	db.close()
	cmds = central.file("gateways/%s/commands" % GW)
	cmds.mkdir(parents=True, exist_ok=True)
	(cmds / "r1.json").write_text(json.dumps({"command": "resend-registry"}))

	# What the page should show, as central holds it: a live playlist with
	# two segments for the recording camera, the alarm for the dead one.
	def ready():
		cg.assert_running()
		st = _status(central)
		m = central.file("gateways/%s/media/door/live.m3u8" % GW)
		alarm = st and [a for a in st.get("alarms", [])
				if a["code"] == "camera-offline" and a["camera"] == "yard"]
		reg = central.file("gateways/%s/registry/door.json" % GW)
		return alarm and reg.exists() and m.exists() and m.read_text().count(".m4s") >= 2 and st
	st = cglib.wait_for("camera-offline for yard and door's live.m3u8 at central", ready, 50, 0.5)
	assert any(c["name"] == "door" and c["state"] == "recording" for c in st["cameras"]), st["cameras"]

	OUT.mkdir(parents=True, exist_ok=True)
	_check_page(chromium, view + "?refresh=2&play=%s/door" % GW, "fleet-view", "autoindex", st)
	# lot sends H.265, which this Chromium does not decode: the player
	# says so instead of failing without a word.
	hevc_ok = chromium.eval("""MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L120.90"')""")
	chromium.eval("play(%s, 'lot')" % json.dumps(GW))
	p = cglib.wait_for("the player's answer for lot", lambda: chromium.eval(
		"(() => { const p = document.getElementById('player');"
		" return p.dataset.state === 'loading' ? null : [p.dataset.state, p.textContent]; })()"), 20, 0.25)
	if not hevc_ok:
		assert p[0] == "error" and "H.265" in p[1], p
	# The same page reading the tree as an S3 bucket lists it.
	s3_view.snapshot()
	_check_page(chromium, s3_view.url + "fleet/?refresh=2&play=%s/door&central=%s" % (
		GW, s3_view.url + "bucket/"), "fleet-view-s3", "s3", st)
	assert any("continuation-token=p1" in l for l in
		   (s3_view.d / "access.log").read_text().splitlines()), "no listing took two pages"
	assert cg.stop() == 0
	srv.stop()
	schema_check(central, GW)
	_check_compliance(chromium, view, central)


def _check_page(chromium, url, name, style, st):
	"""Open @url; wait until the page lists the fleet and plays door; keep
	its screenshot, DOM and state as OUT/@name.*; check what it shows."""
	chromium.call("Page.enable")
	chromium.call("Page.navigate", url=url)

	def shown():
		# null while the page is still loading
		return chromium.eval("""(() => {
			if (!document.body || !document.body.dataset.loaded) return null;
			const p = document.getElementById('player');
			const q = (s) => [...document.querySelectorAll(s)];
			return {
				href: location.href,
				loaded: document.body.dataset.loaded || '',
				error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
				style: central.style,
				gateways: q('#gateways tr[data-gateway]').map((r) => r.dataset.gateway),
				cameras: q('#cameras tr[data-camera]').map((r) => [r.dataset.camera, r.dataset.state]),
				alarms: q('#alarms tr[data-alarm]').map((r) => [r.dataset.alarm, r.dataset.camera, r.textContent]),
				registry: q('#registry tr[data-camera]').map((r) => r.dataset.camera),
				registry_text: q('#registry tr[data-camera]').map((r) => r.textContent),
				events: q('#events tr[data-type]').map((r) => [r.dataset.type, r.textContent]),
				compliance: !document.getElementById('compliance-section').hidden,
				player: {state: p.dataset.state, camera: p.dataset.camera, text: p.textContent,
					 ready: Number(p.dataset.readyState), time: Number(p.dataset.currentTime)},
			};
		})()""")

	last = {}

	def playing():
		now = shown()
		if not now or not now["href"].startswith(url.split("?")[0]):
			return None	# not loaded, or still the previous page
		last.update(now)
		p = last["player"]
		assert p["state"] != "error", last
		return last["loaded"] and last["alarms"] and p["ready"] >= 2 and p["time"] > 0 and \
			any(e[0] == "alarm" for e in last["events"])
	try:
		cglib.wait_for("the page to list the fleet and play door", playing, 40, 0.5)
	finally:
		chromium.screenshot(OUT / (name + ".png"))
		(OUT / (name + ".html")).write_text(chromium.eval("document.documentElement.outerHTML"))
		(OUT / (name + ".json")).write_text(json.dumps(last, indent=1))

	assert last["error"] == "", last
	assert last["style"] == style, last
	assert last["gateways"] == [GW], last
	cams = dict(last["cameras"])
	assert cams.get("door") == "recording", last["cameras"]
	assert "yard" in cams and cams["yard"] != "recording", last["cameras"]
	assert cams.get("lot") == "recording", last["cameras"]
	assert any(a[0] == "camera-offline" and a[1] == "yard" for a in last["alarms"]), last["alarms"]
	# The alarm's event object (events/...json) among the recent events.
	assert any(e[0] == "alarm" and "yard" in e[1] for e in last["events"]), last["events"]
	# The registry records the gateway wrote are listed (R2: every camera
	# of the config file sends its own; door's carries its location).
	assert "door" in last["registry"], last
	assert "gate 3, north wall" in last["registry_text"][last["registry"].index("door")], last
	# No compliance table in this status: the section stays hidden.
	assert last["compliance"] == bool(st.get("compliance")), last
	assert last["player"]["camera"] == "%s/door" % GW and last["player"]["state"] == "playing", last
	assert (OUT / (name + ".png")).stat().st_size > 10000


def _iso(ms):
	return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def _check_compliance(chromium, view, central):
	"""A second gateway whose status carries the `compliance` array (one
	row per camera and duty, the shape the compliance work adds to
	status.json): the page lists both gateways and shows the duties
	sorted by deadline, the overdue one marked; the first gateway's own
	rows (what `camgate run` reported) are listed too."""
	gw2 = "gw-fleet-02"
	st = json.loads(central.file("gateways/%s/status.json" % GW).read_text())
	real = {(d["kind"], d["state"]) for d in st.get("compliance", [])}
	now = int(time.time() * 1000)
	day = 86400000
	duty = lambda kind, req, cam, state, opened, deadline, detail: {
		"kind": kind, "requirement": req, "camera": cam, "state": state,
		"open": opened is not None, "opened_at": opened and _iso(opened),
		"deadline": deadline and _iso(deadline), "since": _iso(now - day), "detail": detail}
	st.update(gateway=gw2, time=_iso(now), compliance=[
		duty("maintenance", "R11", "", "due-soon", now - 20 * day, now + 2 * day, "yearly check"),
		duty("fault", "R11", "yard", "ok", None, None, ""),
		duty("registry", "R2", "door", "overdue", now - 15 * day, now - day, "record not at central"),
	])
	f = central.file("gateways/%s/status.json" % gw2)
	f.parent.mkdir(parents=True)
	f.write_text(json.dumps(st))
	chromium.call("Page.navigate", url=view + "?refresh=2")
	got = {}

	def shown():
		got.update(chromium.eval("""(() => !(document.body && document.body.dataset.loaded) ? null : ({
			href: location.href,
			gateways: [...document.querySelectorAll('#gateways tr[data-gateway]')].map((r) => r.dataset.gateway),
			visible: !document.getElementById('compliance-section').hidden,
			rows: [...document.querySelectorAll('#compliance tr[data-duty]')].map((r) =>
				[r.children[0].textContent, r.dataset.duty, r.dataset.state, r.className]),
		}))()""") or {})
		return got.get("href", "").startswith(view) and got.get("visible") and \
			len(got.get("gateways", [])) == 2
	try:
		cglib.wait_for("the compliance duties on the page", shown, 20, 0.5)
	finally:
		chromium.screenshot(OUT / "fleet-view-compliance.png")
	assert got["gateways"] == [GW, gw2], got
	assert [r for r in got["rows"] if r[0] == gw2] == [[gw2, "registry", "overdue", "late"],
							   [gw2, "maintenance", "due-soon", "due"],
							   [gw2, "fault", "ok", ""]], got
	mine = {(r[1], r[2]) for r in got["rows"] if r[0] == GW}
	assert mine == real, (mine, real)
