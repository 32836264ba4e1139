# SPDX-License-Identifier: GPL-2.0-or-later
"""Central on a real distributed object store: Ceph's radosgw (one monitor,
one OSD on memstore, beast over TLS with the test PKI's server certificate;
scripts/ceph-central.sh), started once for this module on 127.0.0.1. The
server, not a proxy of ours, checks camgate's SigV4 signatures.

- `camgate run` records 2 simulated cameras and uploads to a bucket: every
  segment the ring marks uploaded is read back (a SigV4-signed GET) byte
  for byte, with its init segment; every JSON object validates against
  docs/schema/.
- radosgw refuses what it must: requests signed here with a wrong secret
  (403 SignatureDoesNotMatch) or dated 20 min off (403
  RequestTimeTooSkewed); camgate with a wrong secret, and camgate under
  libfaketime 20 min ahead, get the same refusals, raise `uplink-refused`
  and lose nothing: once the setting (or the clock) is right, every
  segment recorded meanwhile arrives.
- A wrong region is NOT refused by radosgw 16 (Debian 12): it derives the
  signing key from whatever scope the request names; the test pins that
  down so a change shows.
- Commands from central: polled with ListObjectsV2 (docs/uplink.md,
  "Central on Ceph radosgw").
"""

import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import time
import types
import urllib.parse
from pathlib import Path

import pytest

import cglib
from test_uplink_sigv4 import sigv4

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "ceph-central.sh"
NEEDED = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool")
FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
NAMES = ["cam1", "cam2"]
RECORD_S = 12
EMPTY_SHA = hashlib.sha256(b"").hexdigest()

missing = [b for b in NEEDED if not shutil.which(b)]
pytestmark = pytest.mark.skipif(
	bool(missing), reason="Ceph packages missing (%s): make deps installs radosgw, "
	"ceph-mon, ceph-osd, ceph-common" % ", ".join(missing))


# ---- a SigV4 client of the test's own (test_uplink_sigv4.py's signer, checked
# there against AWS's published example) ----

def _quote(s, slash):
	return urllib.parse.quote(s, safe="-_.~" + ("/" if slash else ""))


class S3:
	"""Path-style requests to one bucket of radosgw, signed here."""

	def __init__(self, env, ca):
		self.port = int(env["S3_PORT"])
		self.bucket = env["S3_BUCKET"]
		self.region = env["S3_REGION"]
		self.ak = env["S3_ACCESS_KEY"]
		self.sk = env["S3_SECRET_KEY"]
		self.ctx = ssl.create_default_context(cafile=str(ca))
		self.url = "https://127.0.0.1:%d/%s" % (self.port, self.bucket)

	def request(self, method, key="", body=b"", query=None, secret=None, region=None,
		    when=None):
		"""(status, body bytes). @when: the request's date (default now)."""
		when = when or datetime.datetime.now(datetime.timezone.utc)
		amzdate = when.strftime("%Y%m%dT%H%M%SZ")
		region = region or self.region
		path = "/" + self.bucket + ("/" + _quote(key, True) if key else "")
		q = "&".join("%s=%s" % (_quote(k, False), _quote(v, False))
			     for k, v in sorted((query or {}).items()))
		host = "127.0.0.1:%d" % self.port
		ph = hashlib.sha256(body).hexdigest()
		h = {"host": host, "x-amz-content-sha256": ph, "x-amz-date": amzdate}
		signed = sorted(h)
		scope = "%s/%s/s3/aws4_request" % (amzdate[:8], region)
		sig = sigv4(method, path, h, signed, ph, secret or self.sk, amzdate, region, "s3",
			    query=q)
		h["authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
				      "Signature=%s" % (self.ak, scope, ";".join(signed), sig))
		c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
						timeout=30)
		try:
			c.request(method, path + ("?" + q if q else ""), body=body or None,
				  headers=h)
			r = c.getresponse()
			return r.status, r.read()
		finally:
			c.close()

	def get(self, key):
		st, b = self.request("GET", key)
		return b if st == 200 else None

	def put(self, key, body):
		st, b = self.request("PUT", key, body)
		assert st == 200, (st, b)

	def keys(self, prefix):
		"""Every key below @prefix (ListObjectsV2, all pages)."""
		out, token = [], None
		while True:
			q = {"list-type": "2", "prefix": prefix}
			if token:
				q["continuation-token"] = token
			st, b = self.request("GET", query=q)
			assert st == 200, (st, b)
			text = b.decode()
			out += re.findall(r"<Key>([^<]*)</Key>", text)
			m = re.search(r"<NextContinuationToken>([^<]*)<", text)
			if "<IsTruncated>true" not in text or not m:
				return out
			token = m.group(1)


def s3_code(body):
	m = re.search(rb"<Code>([^<]*)</Code>", body or b"")
	return m.group(1).decode() if m else None


@pytest.fixture(scope="module")
def rgw(tmp_path_factory, pki):
	"""The cluster for this module; stopped (every daemon killed) at the end."""
	d = tmp_path_factory.mktemp("ceph")
	env = dict(os.environ, CEPH_CENTRAL_CERT=str(pki.server[0]),
		   CEPH_CENTRAL_KEY=str(pki.server[1]), CEPH_CENTRAL_CA=str(pki.ca))
	t0 = time.monotonic()
	r = subprocess.run(["sh", str(SCRIPT), "start", str(d)], env=env, capture_output=True,
			   text=True, timeout=240)
	try:
		assert r.returncode == 0, "ceph-central.sh start failed:\n%s\n%s" % (
			r.stdout[-3000:], r.stderr[-3000:])
		kv = dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)
		s3 = S3(kv, pki.ca)
		s3.started_s = time.monotonic() - t0
		s3.dir = d
		yield s3
	finally:
		subprocess.run(["sh", str(SCRIPT), "stop", str(d)], timeout=60)


def write_config(cg, uplink_config, s3, gw, cams, secret=None, scope=None, **over):
	central = types.SimpleNamespace(url=s3.url)
	keys = {"auth": "sigv4", "username": s3.ak, "password": secret or s3.sk,
		"sigv4": scope or "aws:amz:%s:s3" % s3.region}
	keys.update(over)
	uplink_config(cg, central, cams, gateway={"id": gw},
		      storage={"extents": 8, "extent_size": "8M"}, **keys)
	cg.conf.chmod(0o600)	# it holds the secret


def seg_key(gw, uplink_check, cam, s):
	return "gateways/%s/%s" % (gw, uplink_check.seg_path(cam, s["seq"], s["start_utc_ms"]))


def check_at_central(s3, gw, cams, uplink_check, only_uploaded=True):
	"""Every (uploaded) segment of @cams (`ring ls --json`) is in the bucket
	byte for byte, and its init segment too. Returns the segments checked."""
	n = 0
	for c in cams:
		for init in {s["init_id"] for s in c["segments"]}:
			assert s3.get("gateways/%s/media/%s/init-%d.mp4" % (gw, c["name"], init)), \
				(gw, c["name"], init)
		for s in c["segments"]:
			if only_uploaded and not s["uploaded"]:
				continue
			key = seg_key(gw, uplink_check, c["name"], s)
			body = s3.get(key)
			assert body is not None, "missing at central: %s" % key
			assert hashlib.sha256(body).hexdigest() == s["sha256"], "corrupted: %s" % key
			n += 1
	return n


def mirror(s3, gw, d):
	"""The gateway's objects copied out of the bucket into @d, so that
	schema_check (which reads files) sees what radosgw holds."""
	for key in s3.keys("gateways/%s/" % gw):
		if key.endswith(".json"):
			p = Path(d) / key
			p.parent.mkdir(parents=True, exist_ok=True)
			p.write_bytes(s3.get(key))
	return types.SimpleNamespace(file=lambda rel: Path(d) / rel.lstrip("/"))


def wait_delivered(s3, gw, cg, uplink_check, timeout):
	"""Until every segment the ring holds for @gw, but the newest of each
	camera, is in the bucket; returns the ring's cameras."""
	def done():
		cams = cg.ring_ls()["cameras"]
		for c in cams:
			for s in c["segments"][:-1]:
				if s3.get(seg_key(gw, uplink_check, c["name"], s)) is None:
					return None
		return cams
	return cglib.wait_for("every segment of %s at radosgw" % gw, done, timeout, 1.0)


def refusals(cg, code):
	return len(re.findall(r"refused by central: HTTP 403: .*<Code>%s</Code>" % code,
			      cg.log.read_text(errors="replace")))


def alarm_codes(cg):
	return {a.get("code") for a in cg.status().get("alarms", [])}


# ---- the server checks signatures ----

def test_radosgw_checks_sigv4(rgw):
	"""Requests signed here: right ones are stored, a wrong secret and a
	date 20 min off are refused by radosgw itself."""
	key = "probe/sig.txt"
	assert rgw.request("PUT", key, b"signed right")[0] == 200
	assert rgw.get(key) == b"signed right"
	st, b = rgw.request("PUT", key, b"x", secret=rgw.sk[:-1] + "A")
	assert (st, s3_code(b)) == (403, "SignatureDoesNotMatch"), b
	for minutes in (20, -20):
		when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
			minutes=minutes)
		st, b = rgw.request("PUT", key, b"x", when=when)
		assert (st, s3_code(b)) == (403, "RequestTimeTooSkewed"), (minutes, b)
	assert rgw.get(key) == b"signed right"	# nothing refused was stored


def test_radosgw_does_not_check_region(rgw):
	"""radosgw 16 derives the key from the scope the request names and
	never compares the region with its zonegroup: a request signed for
	another region is stored. A wrong `sigv4` region therefore goes
	unnoticed with this central (docs/uplink.md)."""
	st, b = rgw.request("PUT", "probe/region.txt", b"r", region="xx-nowhere-9")
	assert st == 200, b


# ---- camgate run against radosgw ----

@pytest.fixture(scope="module")
def rec(rgw, module_env, uplink_config):
	gw = "gw-s3-rec"
	with cglib.budget(RECORD_S + 60, "two-camera recording to radosgw"):
		srv = module_env.cameras(cams=2)
		cg = module_env.camgate("rec")
		write_config(cg, uplink_config, rgw, gw,
			     {n: srv.url(i + 1) for i, n in enumerate(NAMES)})
		cg.start()
		cg.wait_segments({n: 1 for n in NAMES}, 20)
		t_end = time.monotonic() + RECORD_S
		while time.monotonic() < t_end:
			time.sleep(1)
			cg.assert_running()
		rc = cg.stop()
		srv.stop()
		return {"gw": gw, "cg": cg, "rc": rc, "cams": cg.ring_ls()["cameras"]}


def test_segments_byte_for_byte(rec, rgw, uplink_check):
	assert rec["rc"] == 0
	n = check_at_central(rgw, rec["gw"], rec["cams"], uplink_check)
	per_cam = {c["name"]: sum(s["uploaded"] for s in c["segments"]) for c in rec["cams"]}
	assert sorted(per_cam) == NAMES and min(per_cam.values()) >= RECORD_S // 2 - 2, per_cam
	assert n == sum(per_cam.values())
	# Nothing in the bucket that the ring does not hold.
	names = {seg_key(rec["gw"], uplink_check, c["name"], s)
		 for c in rec["cams"] for s in c["segments"]}
	stored = {k for k in rgw.keys("gateways/%s/media/" % rec["gw"]) if k.endswith(".m4s")}
	assert stored <= names, sorted(stored - names)[:5]


def test_playlists_name_stored_objects(rec, rgw):
	for n in NAMES:
		base = "gateways/%s/media/%s/" % (rec["gw"], n)
		text = (rgw.get(base + "live.m3u8") or b"").decode()
		assert text.startswith("#EXTM3U"), (n, text)
		uris = [l for l in text.splitlines() if l and not l.startswith("#")]
		uris += re.findall(r'#EXT-X-MAP:URI="([^"]+)"', text)
		assert uris
		for u in uris:
			assert rgw.get(base + u) is not None, (n, u)


def test_objects_match_schemas(rec, rgw, schema_check, tmp_path):
	got = schema_check(mirror(rgw, rec["gw"], tmp_path), rec["gw"])
	assert got.get("status.schema.json") == 1, got


# ---- refusals by radosgw, reported by camgate, nothing lost ----

def _refused_then_fixed(rgw, env, uplink_config, uplink_check, gw, code, bad, fix):
	"""Record with a setting radosgw refuses (@bad: config keys, or "clock"
	for libfaketime 20 min ahead (behind, the test certificates, made
	just now, would not be valid yet)): radosgw answers 403 @code, camgate
	logs it and raises `uplink-refused`, nothing of @gw is stored; then
	@fix (reload or restart) and every segment recorded meanwhile arrives."""
	srv = env.cameras(cams=2)
	cg = env.camgate()
	cams = {n: srv.url(i + 1) for i, n in enumerate(NAMES)}
	write_config(cg, uplink_config, rgw, gw, cams, **(bad if bad != "clock" else {}))
	if bad == "clock":
		old = dict(os.environ)
		os.environ.update(LD_PRELOAD=str(FAKETIME_LIB), FAKETIME="+20m",
				  FAKETIME_DONT_FAKE_MONOTONIC="1", FAKETIME_NO_CACHE="1")
		try:
			cg.start()
		finally:
			os.environ.clear()
			os.environ.update(old)
	else:
		cg.start()
	cg.wait_segments({n: 2 for n in NAMES}, 30)
	cglib.wait_for("radosgw's 403 %s in camgate's log" % code,
		       lambda: refusals(cg, code) > 0, 20, 0.5)
	assert "uplink-refused" in alarm_codes(cg), cg.status().get("alarms")
	assert rgw.keys("gateways/%s/" % gw) == [], "radosgw stored something it refused"
	before = cg.ring_ls()["cameras"]
	held = sum(len(c["segments"]) for c in before)
	assert held >= 4
	t0 = time.monotonic()
	if fix == "reload":
		write_config(cg, uplink_config, rgw, gw, cams)
		cg.hup()
	else:
		cg.stop()
		cg.start()
	cams_now = wait_delivered(rgw, gw, cg, uplink_check, 40)
	took = time.monotonic() - t0
	# Every segment held while refused is there, byte for byte.
	seqs_before = {(c["name"], s["seq"]) for c in before for s in c["segments"]}
	by = {(c["name"], s["seq"]): s for c in cams_now for s in c["segments"]}
	assert seqs_before <= set(by), "segments gone from the ring while refused"
	for (cam, seq) in seqs_before:
		s = by[(cam, seq)]
		body = rgw.get(seg_key(gw, uplink_check, cam, s))
		assert body is not None and hashlib.sha256(body).hexdigest() == s["sha256"], (cam, seq)
	cg.stop()
	srv.stop()
	return held, took


def test_wrong_secret_refused_then_delivered(rgw, env, uplink_config, uplink_check):
	held, took = _refused_then_fixed(rgw, env, uplink_config, uplink_check, "gw-s3-secret",
					 "SignatureDoesNotMatch",
					 {"secret": rgw.sk[:-1] + ("A" if rgw.sk[-1] != "A" else "B")},
					 "reload")
	print("wrong secret: %d segments held, all at radosgw %.1f s after the reload"
	      % (held, took))


@pytest.mark.skipif(not FAKETIME_LIB.exists(), reason="libfaketime missing (make deps "
		    "installs faketime)")
def test_skewed_clock_refused_then_delivered(rgw, env, uplink_config, uplink_check):
	held, took = _refused_then_fixed(rgw, env, uplink_config, uplink_check, "gw-s3-clock",
					 "RequestTimeTooSkewed", "clock", "restart")
	print("clock 20 min ahead: %d segments held, all at radosgw %.1f s after the restart"
	      % (held, took))


# ---- commands from central, on S3 ----

def test_commands_polled_with_list_objects(rgw, env, uplink_config, uplink_check,
					   schema_check, tmp_path):
	"""Central PUTs command objects into the bucket under
	gateways/{gw}/commands/; camgate finds them with ListObjectsV2 (S3
	has no directory listing), runs each once and PUTs its result. A
	key that is not a command name is left alone."""
	gw = "gw-s3-cmds"
	rgw.put("gateways/%s/commands/c-s3-1.json" % gw, json.dumps(
		{"command": "set-setting",
		 "args": {"key": "storage.retention_floor", "value": "3h"}}).encode())
	rgw.put("gateways/%s/commands/c-s3-2.json" % gw, json.dumps(
		{"command": "set-setting", "args": {"key": "uplink.password", "value": "x"}}).encode())
	rgw.put("gateways/%s/commands/notes.txt" % gw, b"not a command")
	srv = env.cameras(cams=1)
	cg = env.camgate()
	write_config(cg, uplink_config, rgw, gw, {"cam1": srv.url(1)}, commands_interval="1s")
	cg.start()

	def results():
		got = {}
		for i in (1, 2):
			b = rgw.get("gateways/%s/results/c-s3-%d.json" % (gw, i))
			if b is None:
				return None
			got[i] = json.loads(b)
		return got
	got = cglib.wait_for("both command results at radosgw", results, 30, 0.5)
	assert got[1]["status"] == "done" and got[1]["id"] == "c-s3-1", got[1]
	assert got[2]["status"] == "refused" and "uplink.password" in got[2]["message"], got[2]
	assert re.search(r"(?m)^retention_floor\s*=\s*3h\s*$", cg.conf.read_text()), \
		cg.conf.read_text()
	# Run once: more polls list the same keys and change nothing.
	time.sleep(3)
	log = cg.log.read_text(errors="replace")
	assert log.count("command c-s3-1 ") == 1 and log.count("command c-s3-2 ") == 1, log[-3000:]
	cg.stop()
	srv.stop()
	counts = schema_check(mirror(rgw, gw, tmp_path), gw)
	assert counts.get("command-result.schema.json") == 2, counts


# ---- `camgate uplink test` against radosgw ----

def test_uplink_test_command(rgw, env, uplink_config):
	"""The by-hand check passes its PUT/GET/DELETE round trip on radosgw
	(it sends x-amz-content-sha256, without which radosgw assumes
	UNSIGNED-PAYLOAD and refuses libcurl's signature), and names a wrong
	secret as refused credentials."""
	cg = env.camgate()
	write_config(cg, uplink_config, rgw, "gw-s3-utest", {})
	r = cg.cli("uplink", "test")
	out = r.stdout + r.stderr
	assert r.returncode == 0 and "central is reachable and accepts our uploads" in out, out
	for step in ("put", "get", "delete"):
		assert re.search(r"(?m)^ok\s+%s\b" % step, out), (step, out)
	assert rgw.keys("gateways/gw-s3-utest/") == [], "the round trip left its object"
	r = cg.cli("uplink", "test", "--password", rgw.sk[:-1] + "A" if rgw.sk[-1] != "A"
		   else rgw.sk[:-1] + "B")
	out = r.stdout + r.stderr
	assert r.returncode != 0 and re.search(r"(?m)^FAIL\s+put\b.*refused the credentials",
						 out), out
