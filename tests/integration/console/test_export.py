# SPDX-License-Identifier: GPL-2.0-or-later
"""Footage export with its extraction record (R12, docs/integrity.md): a
camera recorded by `camgate run`; `export` on the console and `camgate
export` are refused without a purpose or a requester, and for roles that
may not export (installer, auditor: the console's table; the CLI checks
the performer's account the same way), each refusal audited. An operator's
export writes a package that `camgate verify` accepts, whose footage.mp4
plays in ffprobe for the duration of its segments, and whose audit row
names performer, requester and purpose; a flipped byte in a copied
segment, or a changed purpose in the manifest, is then a finding."""

import json
import shutil
import time

import cglib
from consolelib import Gateway

OP_PW = "operator-pw-1"


verify = cglib.camgate_verify
sei_nal = cglib.sei_nal


def login_new(gw, name, pw):
	c = gw.login(name, pw, prompt="must be changed")
	c.expect("new password: ")
	c.line(pw + "x")
	c.expect("again: ")
	c.line(pw + "x")
	c.expect("%s> " % name)
	return c


def test_export(env, tmp_path):
	with cglib.budget(120, "export"):
		srv = env.cameras(cams=1)
		cg = env.camgate()
		cg.write_config({"cam1": srv.url(1)}, storage={"extents": 4, "extent_size": "8M"})
		cg.start()
		cg.wait_segments({"cam1": 5}, 40)
		(tmp_path / "console").mkdir()
		gw = Gateway(tmp_path / "console", camgate=cg)
		try:
			_run(gw, cg, tmp_path)
		finally:
			gw.close()
			cg.stop()
			srv.stop()


def _run(gw, cg, tmp_path):
	admin = gw.first_boot()
	gw.add_user(admin, "op", "operator", OP_PW, "cam1")
	gw.add_user(admin, "inst", "installer", "fitter-pw-19")
	gw.add_user(admin, "aud", "auditor", "auditor-pw-1")
	out = tmp_path / "pkg"
	# refused: no requester, no purpose (console), a role that may not
	got = admin.cmd("export cam1 begin end --purpose review -o %s" % out)
	assert "requester" in got and not out.exists(), got
	got = admin.cmd("export cam1 begin end --requester Police -o %s" % out)
	assert "purpose" in got and not out.exists(), got
	got = admin.cmd("export cam1 begin end --purpose x --requester y --performer op -o %s"
			% out)
	assert "performer is you" in got, got
	admin.line("exit")
	admin.wait()
	for name, pw in (("inst", "fitter-pw-19"), ("aud", "auditor-pw-1")):
		c = login_new(gw, name, pw)
		got = c.cmd("export cam1 begin end --purpose review --requester Police -o %s" % out)
		assert "not allowed for role" in got and not out.exists(), got
		c.line("exit")
		c.wait()
	r = cg.cli("export", "cam1", "begin", "end", "--purpose", "review", "--requester",
		   "Police", "--performer", "inst", "-o", out)
	assert r.returncode == 1 and "role may not export" in r.stderr and not out.exists(), r
	r = cg.cli("export", "cam1", "begin", "end", "--purpose", "review", "--requester",
		   "Police", "-o", out)
	assert r.returncode == 1 and "performer" in r.stderr, r
	refused = [row for row in gw.audit() if row[2] == "export-refused"]
	assert len(refused) == 4, refused	# 2 console (child), inst CLI, no performer

	# accepted: the operator, on the console
	c = login_new(gw, "op", OP_PW)
	got = c.cmd("export cam1 begin end --purpose 'accident review' "
		    "--requester 'Traffic police, district 3' -o %s" % out, timeout=60)
	assert "manifest sha256" in got, got
	c.line("exit")
	c.wait()
	rc, vout = verify(out)
	assert rc == 0, vout
	m = json.loads((out / "manifest.json").read_text())
	assert m["performer"] == "op" and m["purpose"] == "accident review"
	assert m["requester"] == "Traffic police, district 3"
	assert len(m["segments"]) >= 5
	assert all(s["position"] for s in m["segments"]), m["segments"]
	# footage.mp4 plays for the duration of its segments
	info = cglib.ffprobe_json(out / "footage.mp4", "-show_entries", "format=duration")
	want = sum(s["duration_ms"] for s in m["segments"]) / 1000
	assert abs(float(info["format"]["duration"]) - want) < 0.5, (info, want)
	rows = [row for row in gw.audit() if row[2] == "export"]
	assert len(rows) == 1 and rows[0][1] == "op", rows
	assert "accident review" in rows[0][4] and "district 3" in rows[0][4], rows
	assert rows[0][3].startswith("cam1/"), rows
	# SEI user-data NAL units pass the remux unchanged (ONVIF Media Signing)
	nal = sei_nal()
	carriers = [s for s in m["segments"] if nal in (out / s["file"]).read_bytes()]
	assert carriers, "no exported segment carries the camera's SEI NAL unit"
	assert (out / "footage.mp4").read_bytes().count(nal) == len(carriers)
	# the exported footage is held in the ring until released
	held = cg.cli("hold", "--list").stdout
	assert "export for Traffic police, district 3: accident review" in held, held
	assert ("op", "hold") in [(row[1], row[2]) for row in gw.audit()]
	# the same fingerprint as the gateway's key, pinned
	fp = cg.cli("identity", "show").stdout.split()[1]
	assert verify(out, "--fingerprint", fp)[0] == 0

	# tampered copies
	bad = tmp_path / "bad1"
	shutil.copytree(out, bad)
	seg = bad / m["segments"][2]["file"]
	b = bytearray(seg.read_bytes())
	b[len(b) // 3] ^= 0x80
	seg.write_bytes(bytes(b))
	rc, vout = verify(bad)
	assert rc == 3 and "altered: media/cam1/%s" % seg.name in vout, vout
	bad = tmp_path / "bad2"
	shutil.copytree(out, bad)
	(bad / "manifest.json").write_text(
		(bad / "manifest.json").read_text().replace("accident review", "routine check"))
	rc, vout = verify(bad)
	assert rc == 3 and "signature (manifest.sig) does not verify" in vout, vout
	bad = tmp_path / "bad3"
	shutil.copytree(out, bad)
	(bad / m["segments"][1]["file"]).unlink()
	rc, vout = verify(bad)
	assert rc == 3 and "missing" in vout, vout
