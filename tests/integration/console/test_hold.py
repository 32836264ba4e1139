# SPDX-License-Identifier: GPL-2.0-or-later
"""Legal holds (firmware/holds.h): footage under a hold stays in a ring
that has come round to it (3 extents of 1 MiB, a ~1 Mbit/s camera: the
ring meets the held extent after ~25 s and recording waits rather than
overwrite it); released, eviction proceeds and recording resumes. A hold
without a reason, or by a role that may not, is refused; placing and
releasing are audit rows."""

import time

import cglib
from consolelib import Gateway


def test_hold_keeps_footage_through_rotation(env, tmp_path):
	with cglib.budget(150, "hold through a ring rotation"):
		srv = env.cameras(name="lowrate", cams=1, codec="h264", audio="none",
				  size="640x360", bitrate="1M")
		cg = env.camgate()
		cg.write_config({"cam1": srv.url(1)},
				storage={"extents": 3, "extent_size": "1M"})
		(tmp_path / "console").mkdir()
		gw = Gateway(tmp_path / "console", camgate=cg)
		admin = gw.first_boot()
		gw.add_user(admin, "inst", "installer", "fitter-pw-19")
		admin.line("exit")
		admin.wait()
		gw.close()
		cg.start()
		cg.wait_segments({"cam1": 2}, 30)
		segs = cg.segments("cam1")[:2]
		frm, to = segs[0]["start_utc_ms"], cglib.seg_end_ms(segs[1])
		args = ("hold", "cam1", cglib.iso_ms(frm), cglib.iso_ms(to))
		r = cg.cli(*args, "--performer", "admin")
		assert r.returncode == 1 and "reason" in r.stderr, r
		r = cg.cli(*args, "--reason", "court order 12", "--performer", "inst")
		assert r.returncode == 1 and "may not" in r.stderr, r
		r = cg.cli(*args, "--reason", "court order 12", "--performer", "admin")
		assert r.returncode == 0 and "hold 1 placed" in r.stdout, r
		assert "court order 12" in cg.cli("hold", "--list").stdout
		held = {s["id"] for s in segs}

		# round the ring: everything else written after the held
		# segments is overwritten in turn until the ring reaches them
		def rotated():
			cg.assert_running()
			ids = {s["id"] for s in cg.segments("cam1")}
			assert held <= ids, "held footage evicted"
			st = cg.ring_stat()
			# all three extents written: the next one is the held one
			return st["bytes_used"] > 0.66 * st["bytes_total"]
		cglib.wait_for("the ring to come round", rotated, 60, 1.0)
		time.sleep(6)	# the head meets the held extent and waits there
		ids = {s["id"] for s in cg.segments("cam1")}
		assert held <= ids, "held footage evicted"
		stuck = max(ids)
		time.sleep(4)
		assert max(s["id"] for s in cg.segments("cam1")) == stuck, \
			"recording went on: the held extent was not in the way yet"

		r = cg.cli("hold", "--release", "1", "--performer", "admin")
		assert r.returncode == 0 and "released" in r.stdout, r

		def gone():
			cg.assert_running()
			ids = {s["id"] for s in cg.segments("cam1")}
			return not held & ids and max(ids) > stuck
		cglib.wait_for("eviction to proceed after the release", gone, 30, 1.0)
		assert cg.stop() == 0
		srv.stop()
	rows = [(r[1], r[2]) for r in gw.audit()]
	assert ("admin", "hold") in rows and ("admin", "hold-release") in rows, rows
	assert ("inst", "hold-refused") in rows and ("admin", "hold-refused") in rows, rows
	assert not [r for r in rows if r[1] == "evict-protected"], rows
