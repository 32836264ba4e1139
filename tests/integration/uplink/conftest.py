# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures of the uplink tests: a central that is real nginx over TLS with
WebDAV PUT, on a free 127.0.0.1 port, with certificates made by openssl in a
temporary folder (test CA, server certificate for 127.0.0.1/localhost, a
client CA for mTLS, an expired and a wrong-host certificate, a CA nobody
trusts); a fault-injecting HTTPS proxy of our own in front of it; fMP4 test
segments encoded once by ffmpeg; and the uplink driver (a C program that
runs the real net/uplink against a ring it fills).

Everything started is stopped at teardown."""

import base64
import hashlib
import http.server
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def run(*cmd, **kw):
	return subprocess.run([str(c) for c in cmd], check=True, capture_output=True,
			      timeout=120, **kw)


def free_port():
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


# ---- certificates ----

class PKI:
	"""Every file the TLS tests need, made with the openssl CLI."""

	def __init__(self, d):
		self.d = Path(d)
		self.d.mkdir(parents=True, exist_ok=True)
		self.ca = self._ca("ca", "camgate test CA")
		self.other_ca = self._ca("other-ca", "a CA nobody trusts")
		self.client_ca = self._ca("client-ca", "camgate test client CA")
		san = "subjectAltName=DNS:localhost,IP:127.0.0.1"
		self.server = self._leaf("server", "ca", "localhost", san)
		self.wrong_host = self._leaf("wrong-host", "ca", "central.example",
					     "subjectAltName=DNS:central.example")
		self.client = self._leaf("client", "client-ca", "gw1",
					 "extendedKeyUsage=clientAuth")
		self.rogue_client = self._leaf("rogue-client", "other-ca", "gw1",
					       "extendedKeyUsage=clientAuth")
		self.expired = self._expired("expired", san)
		self.pin = self._pin(self.server[0])
		self.other_pin = self._pin(self.wrong_host[0])

	def _key(self, name):
		key = self.d / (name + ".key")
		run(OPENSSL, "genpkey", "-algorithm", "EC", "-pkeyopt",
		    "ec_paramgen_curve:prime256v1", "-out", key)
		return key

	def _ca(self, name, cn):
		key = self._key(name)
		crt = self.d / (name + ".crt")
		run(OPENSSL, "req", "-x509", "-new", "-key", key, "-out", crt, "-days", "30",
		    "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE",
		    "-addext", "keyUsage=critical,keyCertSign,cRLSign")
		return crt

	def _csr(self, name, cn):
		key = self._key(name)
		csr = self.d / (name + ".csr")
		run(OPENSSL, "req", "-new", "-key", key, "-out", csr, "-subj", "/CN=" + cn)
		return key, csr

	def _leaf(self, name, ca, cn, ext):
		key, csr = self._csr(name, cn)
		crt = self.d / (name + ".crt")
		extf = self.d / (name + ".ext")
		extf.write_text(ext + "\n")
		run(OPENSSL, "x509", "-req", "-in", csr, "-CA", self.d / (ca + ".crt"),
		    "-CAkey", self.d / (ca + ".key"), "-CAcreateserial", "-days", "30",
		    "-extfile", extf, "-out", crt)
		return crt, key

	def _expired(self, name, san):
		"""`openssl ca` is the CLI tool that can set dates in the past."""
		key, csr = self._csr(name, "localhost")
		crt = self.d / (name + ".crt")
		cadir = self.d / "ca-db"
		cadir.mkdir(exist_ok=True)
		(cadir / "index.txt").write_text("")
		(cadir / "serial").write_text("1000\n")
		conf = self.d / "ca.cnf"
		conf.write_text(
			"[ca]\ndefault_ca = d\n[d]\ndir = %s\ndatabase = $dir/index.txt\n"
			"serial = $dir/serial\nnew_certs_dir = $dir\ndefault_md = sha256\n"
			"policy = p\ncopy_extensions = none\nx509_extensions = e\n"
			"[p]\ncommonName = supplied\n[e]\n%s\n" % (cadir, san))
		run(OPENSSL, "ca", "-batch", "-config", conf, "-cert", self.ca,
		    "-keyfile", self.d / "ca.key", "-in", csr, "-out", crt,
		    "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext")
		return crt, key

	def _pin(self, crt):
		pub = run(OPENSSL, "x509", "-in", crt, "-pubkey", "-noout").stdout
		der = run(OPENSSL, "pkey", "-pubin", "-outform", "der", input=pub).stdout
		return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def cpu_has_aes():
	"""What net/tls.c asks of the CPU before it puts AES-GCM first."""
	for line in open("/proc/cpuinfo"):
		if line.startswith(("flags", "Features")):
			flags = line.split(":", 1)[1].split()
			return "aes" in flags and ("pclmulqdq" in flags or "pmull" in flags)
	return False


@pytest.fixture(scope="session")
def fast_suite():
	"""The suite camgate should get from nginx (which takes the client's
	order) per protocol, for this CPU and the tests' ECDSA certificates:
	net/tls.h, T6."""
	if cpu_has_aes():
		return {"TLSv1.2": "ECDHE-ECDSA-AES128-GCM-SHA256",
			"TLSv1.3": "TLS_AES_128_GCM_SHA256"}
	return {"TLSv1.2": "ECDHE-ECDSA-CHACHA20-POLY1305",
		"TLSv1.3": "TLS_CHACHA20_POLY1305_SHA256"}


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
	return PKI(tmp_path_factory.mktemp("pki"))


# ---- central: nginx ----

NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
user root;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 512; }}
http {{
	log_format up '$msec $request_method $uri $status $request_length $ssl_protocol $http2 $ssl_cipher';
	access_log {d}/access.log up;
	client_body_temp_path {d}/tmp/body;
	proxy_temp_path {d}/tmp/proxy;
	fastcgi_temp_path {d}/tmp/fastcgi;
	uwsgi_temp_path {d}/tmp/uwsgi;
	scgi_temp_path {d}/tmp/scgi;
	server {{
		listen 127.0.0.1:{port} ssl http2;
		ssl_certificate {cert};
		ssl_certificate_key {key};
		{mtls}
		{protocols}
		root {d}/www;
		client_max_body_size 64m;
		location /gateways/redir-http/ {{
			return 307 http://127.0.0.1:{port}/landed$request_uri;
		}}
		location /gateways/redir-https/ {{
			return 307 https://127.0.0.1:{port}/landed$request_uri;
		}}
		location / {{
			dav_methods PUT DELETE MKCOL;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
			autoindex on;
			autoindex_format json;
		}}
	}}
}}
"""


class Nginx:
	"""nginx as central, on its own folder and port."""

	def __init__(self, d, pki, cert=None, mtls=False, protocols=None):
		self.d = Path(d)
		self.port = free_port()
		self.www = self.d / "www"
		for sub in ("www", "tmp"):
			(self.d / sub).mkdir(parents=True, exist_ok=True)
		cert = cert or pki.server
		mtls_conf = ("ssl_client_certificate %s; ssl_verify_client on;" % pki.client_ca
			     if mtls else "")
		self.conf = self.d / "nginx.conf"
		protocols = "ssl_protocols %s;" % protocols if protocols else ""
		self.conf.write_text(NGINX_CONF.format(d=self.d, port=self.port, cert=cert[0],
						       key=cert[1], mtls=mtls_conf,
						       protocols=protocols))
		self.proc = None
		self.url = "https://127.0.0.1:%d" % self.port

	def start(self):
		self.log = open(self.d / "stderr.log", "ab")
		self.proc = subprocess.Popen([NGINX, "-c", str(self.conf), "-p", str(self.d)],
					     stdout=self.log, stderr=self.log)
		end = time.monotonic() + 10
		while time.monotonic() < end:
			try:
				socket.create_connection(("127.0.0.1", self.port), 0.2).close()
				return self
			except OSError:
				if self.proc.poll() is not None:
					raise RuntimeError("nginx exited: %s" %
							   (self.d / "error.log").read_text())
				time.sleep(0.05)
		raise RuntimeError("nginx did not listen on %d" % self.port)

	def stop(self):
		if self.proc and self.proc.poll() is None:
			self.proc.terminate()
			try:
				self.proc.wait(10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.proc = None
		if getattr(self, "log", None):
			self.log.close()
			self.log = None

	def access(self):
		"""[(msec, method, uri, status)] in the order nginx logged them."""
		p = self.d / "access.log"
		out = []
		if p.exists():
			for line in p.read_text().splitlines():
				f = line.split()
				if len(f) >= 4:
					out.append((float(f[0]), f[1], f[2], int(f[3])))
		return out

	def file(self, rel):
		return self.www / rel.lstrip("/")


@pytest.fixture
def nginx_factory(tmp_path, pki):
	started = []

	def make(name="central", **kw):
		n = Nginx(tmp_path / name, pki, **kw)
		started.append(n)
		return n.start()
	yield make
	for n in started:
		n.stop()


@pytest.fixture
def central(nginx_factory):
	return nginx_factory()


# ---- a faulty central: our own HTTPS proxy in front of nginx ----

class FaultProxy:
	"""Terminates TLS with the server certificate and forwards to nginx, or
	misbehaves: each request takes the next action of the script
	("500", "429:SECS", "stall", "close", "pass", "delay:SECS": forwarded
	at once, answered SECS later); when the script is empty, requests take
	the default action ("pass" unless set). Every request is recorded with
	its headers; `forwarded` lists the paths central has answered, in
	order."""

	def __init__(self, pki, upstream):
		self.upstream = upstream
		self.actions = []
		self.default = "pass"
		self.forwarded = []
		self.log = []
		self.lock = threading.Lock()
		self.release = threading.Event()
		self.up_ctx = ssl.create_default_context(cafile=str(pki.ca))
		proxy = self

		class Handler(http.server.BaseHTTPRequestHandler):
			protocol_version = "HTTP/1.1"

			def log_message(self, *a):
				pass

			def do_PUT(self):
				proxy._handle(self)

			def do_GET(self):
				proxy._handle(self)

		class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
			daemon_threads = True
			allow_reuse_address = True

		self.server = Server(("127.0.0.1", 0), Handler)
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.load_cert_chain(str(pki.server[0]), str(pki.server[1]))
		self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
		self.port = self.server.server_address[1]
		self.url = "https://127.0.0.1:%d" % self.port
		self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
		self.thread.start()

	def script(self, *actions):
		with self.lock:
			self.actions = list(actions)

	def _next(self):
		with self.lock:
			return self.actions.pop(0) if self.actions else self.default

	def _record(self, h, action, status, body_len):
		with self.lock:
			self.log.append({"t": time.monotonic(), "method": h.command, "path": h.path,
					 "action": action, "status": status, "len": body_len,
					 "headers": dict(h.headers.items())})

	def _reply(self, h, status, headers=(), body=b""):
		h.send_response(status)
		for k, v in headers:
			h.send_header(k, v)
		h.send_header("Content-Length", str(len(body)))
		h.end_headers()
		h.wfile.write(body)

	def _handle(self, h):
		action = self._next()
		n = int(h.headers.get("Content-Length") or 0)
		if action == "stall":
			self._record(h, action, 0, n)
			self.release.wait(60)
			h.close_connection = True
			return
		if action == "close":
			h.rfile.read(n // 2)
			self._record(h, action, 0, n)
			h.close_connection = True
			h.connection.shutdown(socket.SHUT_RDWR)
			return
		body = h.rfile.read(n) if n else b""
		if action == "500":
			self._record(h, action, 500, n)
			return self._reply(h, 500, body=b"injected fault\n")
		if action.startswith("429"):
			secs = action.split(":")[1] if ":" in action else "1"
			self._record(h, action, 429, n)
			return self._reply(h, 429, [("Retry-After", secs)], b"slow down\n")
		status, rh, rb = self._forward(h, body)
		with self.lock:
			self.forwarded.append(h.path)
		if action.startswith("delay:"):
			time.sleep(float(action.split(":")[1]))
		self._record(h, action, status, n)
		self._reply(h, status, rh, rb)

	def _forward(self, h, body):
		import http.client
		c = http.client.HTTPSConnection("127.0.0.1", self.upstream.port,
						context=self.up_ctx, timeout=30)
		try:
			hdrs = {k: v for k, v in h.headers.items()
				if k.lower() not in ("host", "connection", "expect")}
			c.request(h.command, h.path, body=body if h.command == "PUT" else None,
				  headers=hdrs)
			r = c.getresponse()
			rb = r.read()
			keep = [(k, v) for k, v in r.getheaders()
				if k.lower() in ("content-type", "retry-after", "location")]
			return r.status, keep, rb
		except OSError:
			return 502, [], b"upstream down\n"
		finally:
			c.close()

	def close(self):
		self.release.set()
		self.server.shutdown()
		self.server.server_close()


@pytest.fixture
def fault_proxy(pki, central):
	p = FaultProxy(pki, central)
	yield p
	p.close()


# ---- test media and the driver ----

@pytest.fixture(scope="session")
def feed(tmp_path_factory):
	"""30 one-second fMP4 segments (H.264 320x240, keyframe each second)
	and their init segment, as ffmpeg's HLS muxer writes them."""
	d = tmp_path_factory.mktemp("feed")
	run("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
	    "testsrc=size=320x240:rate=25", "-t", "30", "-c:v", "libx264", "-preset",
	    "ultrafast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
	    "-pix_fmt", "yuv420p", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
	    "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
	    "-hls_segment_filename", str(d / "seg%03d.m4s"), str(d / "src.m3u8"))
	return d


def _build_driver():
	env = os.environ.get("UPLINK_DRIVER")
	if env:
		return Path(env)
	cam = os.environ.get("CAMGATE_BIN")
	o = Path(cam).resolve().parent if cam else REPO / "build" / "host"
	try:
		o = o.relative_to(REPO)
	except ValueError:
		pass
	target = "%s/tests/uplink_driver" % o
	subprocess.run(["make", "-s", "O=%s" % o, target], cwd=REPO, check=True,
		       timeout=600)
	return REPO / target


@pytest.fixture(scope="session")
def driver_bin():
	return _build_driver()


class Driver:
	"""One run of tests/integration/uplink/uplink_driver.c."""

	def __init__(self, binary, d, pki, feed):
		self.bin = binary
		self.d = Path(d)
		self.d.mkdir(parents=True, exist_ok=True)
		self.pki = pki
		self.feed = feed
		self.ring = self.d / "ring"
		self.state = self.d / "state"
		self.manifest = self.d / "manifest.jsonl"
		self.stats_path = self.d / "stats.json"
		self.proc = None

	def args(self, url, ca=True, extra=()):
		a = [self.bin, "--ring", self.ring, "--state", self.state, "--feed", self.feed,
		     "--manifest", self.manifest, "--stats", self.stats_path, "--url", url,
		     "--backoff-min", "200", "--backoff-max", "2000", "--status-ms", "60000",
		     "--commands-ms", "0"]
		if ca:
			a += ["--ca", self.pki.ca]
		return [str(x) for x in a + list(extra)]

	def run(self, url, *extra, ca=True, timeout=120):
		log = open(self.d / "driver.log", "ab")
		try:
			p = subprocess.run(self.args(url, ca, extra), stdout=log, stderr=log,
					   timeout=timeout)
		finally:
			log.close()
		return p.returncode

	def start(self, url, *extra, ca=True):
		self.log = open(self.d / "driver.log", "ab")
		self.proc = subprocess.Popen(self.args(url, ca, extra), stdout=self.log,
					     stderr=self.log)
		return self.proc

	def wait(self, timeout=120):
		try:
			return self.proc.wait(timeout)
		finally:
			self.log.close()

	def kill(self):
		if self.proc and self.proc.poll() is None:
			self.proc.kill()
			self.proc.wait()

	def logtext(self):
		p = self.d / "driver.log"
		return p.read_text(errors="replace") if p.exists() else ""

	def stats(self):
		return json.loads(self.stats_path.read_text())

	def segments(self):
		if not self.manifest.exists():
			return []
		return [json.loads(x) for x in self.manifest.read_text().splitlines() if x]


@pytest.fixture
def driver(driver_bin, tmp_path, pki, feed):
	made = []

	def make(name="gw"):
		d = Driver(driver_bin, tmp_path / name, pki, feed)
		made.append(d)
		return d
	yield make
	for d in made:
		d.kill()


def sha256_file(p):
	return hashlib.sha256(Path(p).read_bytes()).hexdigest()


# ---- central for `camgate run` end-to-end tests ----

class DigestNginx(Nginx):
	"""Central with mutual TLS whose access log also holds each request's
	duration and Content-Digest header, so a test can compare what the
	gateway said it sent with what nginx stored and when it answered:
	"$msec $method $uri $status $length $proto $http2 $request_time $digest
	$cipher".
	The first four fields are those access() reads."""

	def __init__(self, d, pki, **kw):
		super().__init__(d, pki, mtls=True, **kw)
		text = self.conf.read_text()
		old = "$ssl_protocol $http2 $ssl_cipher'"
		assert old in text
		self.conf.write_text(text.replace(
			old, "$ssl_protocol $http2 $request_time $http_content_digest $ssl_cipher'"))

	def requests(self):
		"""[{t, method, uri, status, request_time, digest}] in log order;
		t is when nginx answered (epoch seconds)."""
		p = self.d / "access.log"
		out = []
		if not p.exists():
			return out
		for line in p.read_text().splitlines():
			f = line.split()
			if len(f) < 9:
				continue
			out.append({"t": float(f[0]), "method": f[1], "uri": f[2],
				    "status": int(f[3]), "request_time": float(f[7]),
				    "digest": f[8] if f[8] != "-" else None})
		return out

	def body_temp_files(self):
		"""Request bodies nginx is receiving right now."""
		return [p for p in (self.d / "tmp" / "body").rglob("*") if p.is_file()]


@pytest.fixture
def central_mtls(tmp_path, pki):
	"""A DigestNginx for one test; `camgate run` authenticates with
	pki.client."""
	n = DigestNginx(tmp_path / "central", pki)
	n.start()
	yield n
	n.stop()


@pytest.fixture(scope="module")
def module_central_mtls(tmp_path_factory, pki):
	"""A DigestNginx shared by the tests of one module."""
	n = DigestNginx(tmp_path_factory.mktemp("central"), pki)
	n.start()
	yield n
	n.stop()


@pytest.fixture(scope="session")
def uplink_config(pki):
	"""write(cg, central, cameras, storage=None, stream=None, gateway=None,
	**uplink): cglib.Camgate.write_config plus an [uplink] section that
	points `camgate run` at @central over mutual TLS, with short backoffs
	and no command polling; keyword arguments override [uplink] keys."""
	import cglib

	def write(cg, central, cameras, storage=None, stream=None, gateway=None, **over):
		keys = {"base_url": central.url, "ca_file": pki.ca,
			"client_cert": pki.client[0], "client_key": pki.client[1],
			"backoff_min": "200ms", "backoff_max": "2s",
			"connect_timeout": "3s", "status_interval": "2s",
			"commands_interval": "0"}
		keys.update(over)
		cg.write_config(cameras, gateway=gateway, storage=storage, stream=stream)
		text = cg.conf.read_text()
		cg.write_raw(text + "\n" + cglib.ini_text([("uplink", keys)]))
	return write


def _seg_path(camera, seq, start_ms):
	"""docs/uplink.md section 2: media/{camera}/{YYYYMMDD}T{HHMMSS.mmm}Z-{seq}.m4s"""
	t = time.gmtime(start_ms // 1000)
	return "media/%s/%sT%s.%03dZ-%d.m4s" % (camera, time.strftime("%Y%m%d", t),
						time.strftime("%H%M%S", t), start_ms % 1000, seq)


def _digest_of(hexsum):
	"""The Content-Digest value the gateway sends for a body of that SHA-256."""
	return "sha-256=:%s:" % base64.b64encode(bytes.fromhex(hexsum)).decode()


def _check_arrived(central, gw, cams, only_uploaded=True):
	"""Every segment of @cams (`ring ls --json` cameras) that the ring marks
	uploaded (or every one) is at @central byte for byte: the stored
	file's SHA-256, the ring's "sha256" and the Content-Digest of the
	acknowledged PUT(s) agree. Returns {camera: {seq: first acknowledged
	request}}."""
	acked = {}
	for r in central.requests():
		if r["method"] == "PUT" and 200 <= r["status"] < 300:
			acked.setdefault(r["uri"], []).append(r)
	out = {}
	for cam in cams:
		for s in cam["segments"]:
			if only_uploaded and not s["uploaded"]:
				continue
			assert "sha256" in s, ("`camgate ring ls --json` has no per-segment "
					       "\"sha256\" field: %s" % s)
			rel = "gateways/%s/%s" % (gw, _seg_path(cam["name"], s["seq"],
								 s["start_utc_ms"]))
			f = central.file(rel)
			assert f.exists(), "missing at central: %s (%s)" % (rel, s)
			got = sha256_file(f)
			assert got == s["sha256"], "corrupted at central: %s" % rel
			reqs = acked.get("/" + rel)
			assert reqs, "no acknowledged PUT of %s in nginx's log" % rel
			for r in reqs:	# a PUT may be repeated (idempotent)
				assert r["digest"] == _digest_of(s["sha256"]), (rel, r)
			out.setdefault(cam["name"], {})[s["seq"]] = reqs[0]
	return out


@pytest.fixture(scope="session")
def uplink_check():
	"""Helpers of the `camgate run` tests: seg_path(camera, seq, start_ms),
	digest_of(hex), arrived(central, gw, ring_cameras, only_uploaded)."""
	import types
	return types.SimpleNamespace(seg_path=_seg_path, digest_of=_digest_of,
				     arrived=_check_arrived)


SCHEMA_DIR = REPO / "docs" / "schema"


def _schemas():
	"""[(compiled path regex, name, validator)] from docs/schema/: each
	schema names the objects it covers in "x-object-path" (docs/uplink.md
	section 2, {placeholders} standing for one path component)."""
	import re
	import jsonschema
	out = []
	for f in sorted(SCHEMA_DIR.glob("*.schema.json")):
		s = json.loads(f.read_text())
		jsonschema.Draft202012Validator.check_schema(s)
		pat = re.escape(s["x-object-path"])
		pat = re.sub(r"\\\{[^}]*\\\}", "[^/]+", pat)
		# "{a}-{b}.json": the placeholders together are one component.
		out.append((re.compile("^" + pat + "$"), f.name,
			    jsonschema.Draft202012Validator(
				    s, format_checker=jsonschema.FormatChecker())))
	return out


def _check_objects(central, gw=None):
	"""Every .json object camgate wrote at @central (below gateways/, gateway
	@gw or every one) is valid against the schema its path names; a JSON
	object at a path no schema covers is an error too. central's own
	command files (commands/) are skipped. Returns {schema file: count}."""
	schemas = _schemas()
	root = central.file("gateways")
	counts = {}
	problems = []
	for p in sorted(root.rglob("*.json")) if root.exists() else []:
		rel = p.relative_to(root).parts
		if gw and rel[0] != gw:
			continue
		sub = "/".join(rel[1:])
		if sub.startswith("commands/"):
			continue
		hit = [(name, v) for rx, name, v in schemas if rx.match(sub)]
		if len(hit) != 1:
			problems.append("%s: %d schemas match" % (sub, len(hit)))
			continue
		name, v = hit[0]
		try:
			obj = json.loads(p.read_text())
		except ValueError as e:
			problems.append("%s: not JSON: %s" % (sub, e))
			continue
		for e in sorted(v.iter_errors(obj), key=lambda e: list(e.absolute_path)):
			problems.append("%s (%s) at %s: %s" % (
				sub, name, "/".join(str(x) for x in e.absolute_path) or "top",
				e.message[:300]))
		counts[name] = counts.get(name, 0) + 1
	assert not problems, "objects at central not valid against docs/schema/:\n" + \
		"\n".join(problems[:40])
	return counts


@pytest.fixture(scope="session")
def schema_check():
	"""schema_check(central, gw=None) -> {schema: objects}: validates every
	JSON object camgate wrote at central against docs/schema/ (the
	contract docs/objects.md is generated from). Call it at the end of
	each `camgate run` test that talks to central."""
	return _check_objects
