# SPDX-License-Identifier: GPL-2.0-or-later
"""Corrupt footage never reaches central, and it stops nothing else: two
simulated cameras are recorded by `camgate run` while central (nginx over
mutual TLS) is down, camgate is stopped cleanly, and one byte in the middle
of one segment's payload is flipped in its extent file, as a failing medium
would. Central comes back and camgate starts again on the same state and
ring. The uplink streams each segment's body from the ring and checks it
against the checksum the ring recorded as it goes, so:

- the damaged segment is not stored at central, and nginx acknowledged no
  PUT of it;
- the daemon logs the mismatch (with the segment's id, extent and offset)
  and drops the row from its outbox;
- the alarm uplink-corrupt-segment is raised: central gets it as an event
  and in status.json, whose uplink.lost_segments counts the segment;
- every other segment of the ring, the damaged camera's later ones
  included, is at central byte for byte (stored file, the ring's SHA-256
  and the Content-Digest of the acknowledged PUT agree);
- camgate keeps running and stops cleanly.

The victim is a segment of cam1 with segments before and after it: its
loss must not hold back the rest of its own camera, and it is neither the
segment flushed by SIGTERM nor the first of a run."""

import json
import re
import sqlite3
import time

import pytest

import cglib

GW = "gw-corrupt-01"
NAMES = ["cam1", "cam2"]
VICTIM_CAM = "cam1"
SEGS = 3		# closed segments per camera before the stop
RECORD_TIMEOUT_S = 20
DRAIN_TIMEOUT_S = 30
REC_HDR = 256		# storage/ring_int.h RING_REC_HDR_SIZE


def record_offline(env, central, uplink_config):
	"""Both cameras recorded with central down, then a clean stop;
	returns the gateway and the ring's cameras."""
	central.stop()
	srv = env.cameras(cams=2, codec="h264", audio="aac")
	cg = env.camgate()
	uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
		      gateway={"id": GW})
	cg.start()
	cg.wait_segments({n: SEGS for n in NAMES}, RECORD_TIMEOUT_S)
	assert cg.stop() == 0
	# The second run records nothing: the ring stays as listed here.
	srv.kill()
	cams = cg.ring_ls()["cameras"]
	assert sorted(c["name"] for c in cams) == NAMES
	for c in cams:
		assert not any(s["uploaded"] for s in c["segments"]), \
			"%s: uploaded while central was down" % c["name"]
	return cg, cams


def damage(cg, seg):
	"""Flip one byte in the middle of @seg's payload in its extent file;
	returns its index row (id, extent, off, len)."""
	uri = "file:%s?mode=ro" % (cg.ring_dir / "index.db")
	db = sqlite3.connect(uri, uri=True, timeout=10)
	try:
		row = db.execute("SELECT id, extent, off, len FROM segs WHERE id = ?",
				 (seg["id"],)).fetchone()
	finally:
		db.close()
	assert row, "segment %d not in the index" % seg["id"]
	sid, extent, off, length = row
	assert extent == seg["extent"] and length == seg["bytes"], (row, seg)
	pos = off + REC_HDR + length // 2
	with open(cg.ring_dir / ("extent-%03d.dat" % extent), "r+b") as f:
		f.seek(pos)
		b = f.read(1)
		f.seek(pos)
		f.write(bytes([b[0] ^ 0xff]))
	return {"id": sid, "extent": extent, "off": off, "len": length}


def central_json(central, pattern):
	"""Parsed JSON objects at central under the gateway matching @pattern;
	one being written reads as absent."""
	out = []
	for p in central.file("gateways/" + GW).glob(pattern):
		try:
			out.append(json.loads(p.read_text()))
		except ValueError:
			pass
	return out


def corrupt_alarm_status(central):
	for st in central_json(central, "status.json"):
		codes = {(a.get("code"), a.get("camera")) for a in st.get("alarms", [])}
		# The status queued with the alarm's event may predate the count.
		if (("uplink-corrupt-segment", VICTIM_CAM) in codes and
		    st.get("uplink", {}).get("lost_segments", 0) >= 1):
			return st
	return None


def corrupt_alarm_event(central, path):
	for ev in central_json(central, "events/*.json"):
		if (ev.get("type") == "alarm" and ev.get("camera") == VICTIM_CAM and
		    "uplink-corrupt-segment" in ev.get("message", "") and
		    path in ev.get("message", "")):
			return ev
	return None


@pytest.mark.budget(60)
def test_corrupt_segment_never_stored(env, central_mtls, uplink_config, uplink_check,
				      schema_check):
	central = central_mtls
	cg, cams = record_offline(env, central, uplink_config)
	by = {c["name"]: c for c in cams}
	segs = by[VICTIM_CAM]["segments"]
	assert len(segs) >= 3, segs
	victim = segs[1]
	path = uplink_check.seg_path(VICTIM_CAM, victim["seq"], victim["start_utc_ms"])
	uri = "/gateways/%s/%s" % (GW, path)

	assert cg.verify().returncode == 0
	rec = damage(cg, victim)
	# The damage is real: the ring's own check sees one bad payload.
	r = cg.verify()
	assert r.returncode == 3 and " 1 bad hashes" in r.stdout, (r.returncode, r.stdout)

	central.start()
	cg.start()
	others = [dict(c, segments=[s for s in c["segments"] if s["id"] != victim["id"]])
		  for c in cams]
	want = {s["id"] for c in others for s in c["segments"]}
	mismatch = re.compile(r"ring \S+: segment %d \(extent %d offset %d\): header or "
			      r"SHA-256 mismatch" % (rec["id"], rec["extent"], rec["off"]))
	dropped = "uplink: %s: cannot be sent, Bad message; dropped from the outbox" % path

	def run2_log():
		return cg.log.read_text(errors="replace").split("==== run 2 ====")[-1]

	def settled():
		"""Every intact segment acknowledged, and the victim found corrupt
		(or, were it not checked, sent: the assertions below say which)."""
		cg.assert_running()
		ring = cg.ring_ls()["cameras"]
		done = {s["id"] for c in ring for s in c["segments"] if s["uploaded"]}
		return want <= done and (mismatch.search(run2_log()) or victim["id"] in done or
					 central.file("gateways/%s/%s" % (GW, path)).exists())
	cglib.wait_for("every intact segment at central and the corrupt one settled",
		       settled, DRAIN_TIMEOUT_S, 0.5)
	time.sleep(1)	# nginx logs a request after answering it
	cg.assert_running()

	# The damaged segment: never stored, never acknowledged, not marked.
	assert not central.file("gateways/%s/%s" % (GW, path)).exists(), \
		"the corrupt segment was stored at central: %s" % path
	acked = [r for r in central.requests() if r["uri"] == uri and 200 <= r["status"] < 300]
	assert not acked, acked
	ring = {c["name"]: c for c in cg.ring_ls()["cameras"]}
	again = [s for s in ring[VICTIM_CAM]["segments"] if s["id"] == victim["id"]]
	assert again and not again[0]["uploaded"], again

	# Said once, where it was found, and dropped once.
	log = run2_log()
	assert mismatch.search(log), "no mismatch line for segment %d" % rec["id"]
	assert log.count(dropped) == 1, "dropped %d times" % log.count(dropped)

	# The alarm reaches central as an event and in status.json.
	cglib.wait_for("alarm uplink-corrupt-segment at central",
		       lambda: corrupt_alarm_event(central, path), 10)
	st = cglib.wait_for("status.json with the alarm and the lost segment",
			    lambda: corrupt_alarm_status(central), 10)
	assert st["uplink"]["lost_segments"] == 1, st["uplink"]

	# Everything else: byte for byte, and nothing more under media/.
	got = uplink_check.arrived(central, GW, others, only_uploaded=False)
	assert sorted(got) == NAMES
	assert max(got[VICTIM_CAM]) > victim["seq"] > min(got[VICTIM_CAM]), sorted(got[VICTIM_CAM])
	root = central.file("gateways/" + GW)
	stored = {str(p.relative_to(root)) for p in root.glob("media/*/*.m4s")}
	names = {uplink_check.seg_path(c["name"], s["seq"], s["start_utc_ms"])
		 for c in others for s in c["segments"]}
	assert stored == names, (sorted(stored ^ names))

	cg.assert_running()
	assert cg.stop() == 0
	# The alarm event and every other object keep to docs/schema/.
	assert schema_check(central, GW).get("event.schema.json"), "no event at central"
