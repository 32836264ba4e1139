# SPDX-License-Identifier: GPL-2.0-or-later
"""The hash chain end to end (docs/integrity.md): one simulated camera
recorded by `camgate run` with [uplink] at nginx over mutual TLS and a
checkpoint every 3 chain entries, and a camera outage of 6 s in the
middle; after a clean stop, the checkpoints central holds are valid
against docs/schema/, the outage is a gap entry, and `camgate verify`
finds the uploaded segments clean. Then copies of central's folder are tampered
with, one way each (a flipped byte, a dropped segment, two swapped, a
foreign one inserted, a checkpoint altered, a checkpoint re-signed with
another key): verify exits 3 and names each. `camgate identity csr` is a
request openssl accepts, for the key `identity show` fingerprints."""

import base64
import hashlib
import json
import re
import shutil
import subprocess
import time

import pytest

import cglib

GW = "gw-chain-01"
RECORD_S = 16
OUTAGE_S = 6


@pytest.fixture(scope="module")
def rec(module_env, module_central_mtls, uplink_config, pki):
	central = module_central_mtls
	with cglib.budget(RECORD_S + OUTAGE_S + 90, "one-camera recording with checkpoints"):
		srv = module_env.cameras(cams=1)
		cg = module_env.camgate()
		uplink_config(cg, central, {"cam1": srv.url(1)}, gateway={"id": GW},
			      storage={"extents": 4, "extent_size": "8M"})
		cg.write_raw(cg.conf.read_text() + "\n" + cglib.ini_text(
			[("integrity", {"checkpoint_segments": 3, "checkpoint_interval": "1h"})]))
		cg.start()
		cg.wait_segments({"cam1": 1}, 20)
		time.sleep(RECORD_S / 2)
		# the camera loses power for a while: an outage gap in the chain
		srv.kill()
		time.sleep(OUTAGE_S)
		srv.start()
		n = len(cg.segments("cam1"))
		cg.wait_segments({"cam1": n + 1}, 30)
		time.sleep(RECORD_S / 2)
		cg.assert_running()
		rc = cg.stop()
		srv.stop()
		# The checkpoint made at the stop is sent by the next start.
		cg.start()
		time.sleep(2)	# past its start (the ring is already there)
		root = central.file("gateways/" + GW)
		cglib.wait_for("the last checkpoint at central",
			       lambda: _covered(root, cg), 30, 0.5)
		assert cg.stop() == 0
		return {"cg": cg, "central": central, "stop_rc": rc, "root": root,
			"client_cert": pki.client[0]}


def _covered(root, cg):
	"""Every uploaded segment is named by a checkpoint central holds."""
	seqs = set()
	for p in root.glob("chain/cam1/*.json"):
		try:
			cp = json.loads(p.read_text())
		except ValueError:
			return False
		seqs |= {e["seq"] for e in cp["entries"] if e["type"] == "segment"}
	up = {int(m) for m in re.findall(r"-(\d+)\.m4s$",
					 "\n".join(str(p) for p in root.glob("media/cam1/*.m4s")), re.M)}
	return bool(up) and up <= seqs


verify = cglib.camgate_verify
sei_nal = cglib.sei_nal


def test_sei_kept_through_ring_and_upload(rec):
	"""The SEI NAL unit is in the segments central stored, byte for byte
	(the ring and the upload pass NAL units through untouched)."""
	nal = sei_nal()
	hits = [p for p in segs(rec["root"]) if nal in p.read_bytes()]
	assert hits, "no segment at central carries the camera's SEI NAL unit"


@pytest.fixture
def copy(rec, tmp_path):
	dst = tmp_path / "gw"
	shutil.copytree(rec["root"], dst)
	return dst


def segs(d):
	return sorted(d.glob("media/cam1/*.m4s"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def test_checkpoints_at_central(rec, schema_check):
	assert rec["stop_rc"] == 0
	cps = sorted(rec["root"].glob("chain/cam1/*.json"))
	assert len(cps) >= 3, cps
	counts = schema_check(rec["central"], GW)
	assert counts.get("checkpoint.schema.json", 0) == len(cps)
	fp = rec["cg"].cli("identity", "show").stdout.split()[1].split(":")[1]
	der = subprocess.run(["openssl", "x509", "-in", str(rec["client_cert"]), "-outform", "DER"],
			     check=True, capture_output=True).stdout
	for p in cps:
		cp = json.loads(p.read_text())
		assert cp["key_fingerprint"] == fp
		# the uplink's client certificate, as central authenticated it
		assert cp["certificate_fingerprint"] == hashlib.sha256(der).hexdigest()


def test_outage_is_a_gap_entry(rec):
	"""The camera's outage is in the chain as a gap entry, and verify says
	so as a note, not a finding."""
	gaps = [e for p in rec["root"].glob("chain/cam1/*.json")
		for e in json.loads(p.read_text())["entries"] if e["type"] == "gap"]
	assert [g["reason"] for g in gaps] == ["outage"], gaps
	assert gaps[0]["duration_ms"] >= (OUTAGE_S - 2) * 1000, gaps
	rc, out = verify(rec["root"])
	assert rc == 0 and "declared gap (outage)" in out, out


def test_untouched_verifies_clean(rec):
	rc, out = verify(rec["root"])
	assert rc == 0, out
	assert re.search(r"cam1: (\d+) segments match", out), out
	n = int(re.search(r"cam1: (\d+) segments match", out).group(1))
	assert n == len(segs(rec["root"])) and n >= 5, out
	# central's whole tree (gateways/ID/...) too, and with the key pinned
	fp = rec["cg"].cli("identity", "show").stdout.split()[1]
	rc, out = verify(rec["central"].file(""), "--fingerprint", fp)
	assert rc == 0, out


def test_flipped_byte(copy):
	s = segs(copy)[2]
	b = bytearray(s.read_bytes())
	b[len(b) // 2] ^= 0x01
	s.write_bytes(bytes(b))
	rc, out = verify(copy)
	assert rc == 3 and "altered: media/cam1/%s" % s.name in out, out
	assert out.count("FINDING") == 1, out


def test_dropped_segment(copy):
	s = segs(copy)[3]
	s.unlink()
	seq = s.stem.rsplit("-", 1)[1]
	rc, out = verify(copy)
	assert rc == 3 and re.search(r"FINDING cam1 \S+ seq %s: missing" % seq, out), out


def test_swapped_segments(copy):
	a, b = segs(copy)[1], segs(copy)[2]
	da, db = a.read_bytes(), b.read_bytes()
	a.write_bytes(db)
	b.write_bytes(da)
	rc, out = verify(copy)
	assert rc == 3 and out.count("reordered") == 2, out


def test_inserted_segment(copy):
	s = segs(copy)
	last = int(s[-1].stem.rsplit("-", 1)[1])
	# a foreign segment under a sequence number the chain has (a duplicate
	# name for seq 2 at another time) and one made up inside the range
	foreign = s[1].with_name("20200101T000000.000Z-%s.m4s" % s[1].stem.rsplit("-", 1)[1])
	foreign.write_bytes(b"\0\0\0\x08free" * 100)
	rc, out = verify(copy)
	assert rc == 3 and "inserted: media/cam1/%s" % foreign.name in out, out
	foreign.unlink()
	copy_of = s[0].with_name("20200101T000000.000Z-%d.m4s" % (last - 1))
	shutil.copy(s[0], s[0].with_name("x.tmp"))
	s[0].with_name("x.tmp").rename(copy_of)
	rc, out = verify(copy)
	assert rc == 3 and "inserted: media/cam1/%s" % copy_of.name in out, out


def test_altered_checkpoint(copy):
	p = sorted(copy.glob("chain/cam1/*.json"))[1]
	cp = json.loads(p.read_text())
	seg = [e for e in cp["entries"] if e["type"] == "segment"][0]
	seg["duration_ms"] += 1000
	p.write_text(json.dumps(cp))
	rc, out = verify(copy)
	assert rc == 3 and "chain/cam1/%s does not verify" % p.name in out, out


def _resign(cp, tmp):
	"""Recompute @cp's chain over altered entries and sign it with a key
	of our own, as a forger would."""
	key = tmp / "other.key"
	if not key.exists():
		subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
				"-out", str(key)], check=True)
	pub = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout"], check=True,
			     capture_output=True, text=True).stdout
	der = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"],
			     check=True, capture_output=True).stdout
	value = bytes.fromhex(cp["prev_chain"])
	for e in cp["entries"]:
		if e["type"] == "segment":
			h = bytes.fromhex(e["sha256"])
		else:
			h = hashlib.sha256(("camgate-gap:" + e["reason"]).encode()).digest()
		cam = cp["camera"].encode()
		value = hashlib.sha256(value + h + bytes([len(cam)]) + cam +
				       e["seq"].to_bytes(8, "big") + e["start_ms"].to_bytes(8, "big") +
				       e["duration_ms"].to_bytes(4, "big")).digest()
		e["chain"] = value.hex()
	cp["chain"] = value.hex()
	cp["public_key"] = pub
	cp["key_fingerprint"] = hashlib.sha256(der).hexdigest()
	pre = "camgate-checkpoint-v1\n%s\n%d\n%d\n%s\n%s\n%s\n%s\n" % (
		cp["camera"], cp["first_position"], cp["last_position"], cp["prev_chain"],
		cp["chain"], cp["time"], cp["key_fingerprint"])
	(tmp / "pre").write_text(pre)
	sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key), str(tmp / "pre")],
			     check=True, capture_output=True).stdout
	cp["signature"] = base64.b64encode(sig).decode()
	return cp


def test_resigned_checkpoint(copy, tmp_path):
	"""A forged segment with a checkpoint re-chained and re-signed by
	another key: the signature holds, the key is not the gateway's."""
	p = sorted(copy.glob("chain/cam1/*.json"))[1]
	cp = json.loads(p.read_text())
	seg = [e for e in cp["entries"] if e["type"] == "segment"][0]
	victim = [s for s in segs(copy) if s.stem.endswith("-%d" % seg["seq"])][0]
	victim.write_bytes(b"\0\0\0\x08free" * 50)
	seg["sha256"] = hashlib.sha256(victim.read_bytes()).hexdigest()
	p.write_text(json.dumps(_resign(cp, tmp_path)))
	rc, out = verify(copy)
	assert rc == 3 and "chain/cam1/%s is signed by another key" % p.name in out, out
	# every checkpoint forged that way: the pinned fingerprint catches it
	prev = None
	for q in sorted(copy.glob("chain/cam1/*.json")):
		cp = json.loads(q.read_text())
		if prev:
			cp["prev_chain"] = prev
		cp = _resign(cp, tmp_path)
		prev = cp["chain"]
		q.write_text(json.dumps(cp))
	rc, out = verify(copy)
	assert rc == 0, "without a pin, a consistent forgery verifies: " + out
	fp = json.loads(p.read_text())["key_fingerprint"]
	rc, out = verify(copy, "--fingerprint", "0" * 64)
	assert rc == 3 and "signed by another key" in out and fp[:16] in out, out


def test_identity_csr(rec, tmp_path):
	cg = rec["cg"]
	show = cg.cli("identity", "show")
	assert show.returncode == 0, show.stderr
	fp = show.stdout.split()[1].split(":")[1]
	key = cg.state_dir / "identity.key"
	assert key.stat().st_mode & 0o777 == 0o600
	csr = cg.cli("identity", "csr")
	assert csr.returncode == 0 and "BEGIN CERTIFICATE REQUEST" in csr.stdout, csr.stderr
	(tmp_path / "req.pem").write_text(csr.stdout)
	r = subprocess.run(["openssl", "req", "-in", str(tmp_path / "req.pem"), "-verify",
			    "-noout", "-subject"], capture_output=True, text=True)
	assert r.returncode == 0 and "verify OK" in r.stdout + r.stderr, r
	assert "CN = " + GW in r.stdout, r.stdout
	pub = subprocess.run("openssl req -in %s -pubkey -noout | openssl pkey -pubin -outform DER"
			     % (tmp_path / "req.pem"), shell=True, capture_output=True, check=True)
	assert hashlib.sha256(pub.stdout).hexdigest() == fp
	# the same key on every run: never replaced
	assert cg.cli("identity", "show").stdout == show.stdout
