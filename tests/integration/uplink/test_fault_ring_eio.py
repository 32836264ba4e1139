# SPDX-License-Identifier: GPL-2.0-or-later
"""The footage disk answers EIO under `camgate run` while four cameras
record and upload. This kernel has no device-mapper (no error or flakey
target), so the faults come through the ring's I/O seam: the test seam
CAMGATE_TEST_RING_EIO="AFTER[,COUNT]" (storage/ring_io.h) makes every
extent pwrite and fdatasync after the first AFTER fail with EIO, for COUNT
of them or for good.

Proved, for a passing fault (a burst of failed writes) and a disk that
fails for good: the daemon keeps running; `storage-error` is raised and
audited for every camera that lost a segment, even when the next segment
was stored before the status tick; the audit row written when the alarm
clears counts the segments not stored, and those counts add up to the
refusals the cameras report (no loss unaccounted for); every segment
stored before and after is in the ring unchanged and at central byte for
byte with no hole in any sequence; after a restart on a sound disk
nothing acknowledged is missing and `ring verify` is clean."""

import re

import pytest

import cglib
from test_camgate_outage import GW, NAMES, check_complete, finish, media_acks

RING = {"extents": 8, "extent_size": "32M"}
# Writes and syncs before the fault: the fresh ring's recovery at start
# and then about 100 a second while four cameras record (~7 s here).
AFTER = 800
BURST = 8


def start(env, central, uplink_config, monkeypatch, seam):
	srv = env.cameras(cams=4, codec="h264", audio="aac")
	cg = env.camgate()
	uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
		      gateway={"id": GW}, storage=RING, live_window=3, parallel=4,
		      backoff_max="2s")
	monkeypatch.setenv("CAMGATE_TEST_RING_EIO", seam)
	cg.start()
	monkeypatch.delenv("CAMGATE_TEST_RING_EIO")
	return srv, cg


def finish_and_check(cg, srv, central, uplink_check, schema_check):
	"""Drain and stop; the ring verifies and is at central in full."""
	cams = finish(cg, srv)
	assert cg.verify().returncode == 0
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	return cams


def stored(cg):
	"""{(camera, seq): sha256} of the ring's segments."""
	return {(n, s["seq"]): s["sha256"] for n, c in cg.cameras().items() for s in c["segments"]}


def alarm_rows(cg):
	return cg.db_rows("SELECT camera, active, message FROM alarms"
			  " WHERE code = 'storage-error' ORDER BY id")


def audit_rows(cg, action):
	return cg.db_rows("SELECT object, detail FROM audit WHERE action = ? ORDER BY id",
			  (action,))


def refused(cg):
	"""{camera: segments the ring refused} from status.json ({} before
	its first one)."""
	try:
		cams = cg.status()["cameras"]
	except cglib.Failure:
		return {}
	return {c["name"]: c.get("segments_refused", 0) for c in cams}


def not_stored_counts(cg):
	"""{camera: segments not stored} summed over the storage-recovered audit rows."""
	out = {}
	for r in audit_rows(cg, "storage-recovered"):
		m = re.search(r"(\d+) not stored meanwhile", r["detail"])
		assert m, r
		out[r["object"]] = out.get(r["object"], 0) + int(m.group(1))
	return out


@pytest.mark.budget(100)
def test_ring_eio_burst(env, central_mtls, uplink_config, uplink_check, schema_check,
			monkeypatch):
	"""A burst of failed writes a few segments in (8 writes and syncs:
	each camera loses the segment it was writing or the next one): the
	segments lost are alarmed and audited, and recording carries on."""
	central = central_mtls
	srv, cg = start(env, central, uplink_config, monkeypatch, "%d,%d" % (AFTER, BURST))
	hit = cglib.wait_for("segments refused", lambda: (
		lambda r: r if sum(r.values()) else None)(refused(cg)), 40, 0.5)
	assert hit, cg.log.read_text()[-3000:]
	# Recording resumes: every camera stores segments again and the
	# alarms clear, each with its count of segments not stored.
	count = {n: len(c["segments"]) for n, c in cg.cameras().items()}
	cg.wait_segments({n: count.get(n, 0) + 2 for n in NAMES}, 30)
	cglib.wait_for("storage-error cleared", lambda: not [
		r for r in alarm_rows(cg) if r["active"]], 10, 0.2)
	cg.assert_running()
	lost = {n: k for n, k in refused(cg).items() if k}
	assert {r["camera"] for r in alarm_rows(cg)} == set(lost), alarm_rows(cg)
	raised = audit_rows(cg, "storage-error")
	assert {r["object"] for r in raised} == set(lost), raised
	assert all("Input/output error" in r["detail"] for r in raised), raised
	assert not_stored_counts(cg) == lost, (audit_rows(cg, "storage-recovered"), lost)
	cams = finish_and_check(cg, srv, central, uplink_check, schema_check)
	print("EIO burst (%d writes/syncs failed after %d): segments lost %s, each alarmed and "
	      "audited; %d segments in the ring, all at central byte for byte"
	      % (BURST, AFTER, lost, sum(len(c["segments"]) for c in cams)))


@pytest.mark.budget(120)
def test_ring_eio_for_good(env, central_mtls, uplink_config, uplink_check, schema_check,
			   monkeypatch):
	"""Every write fails from some point on: every camera alarmed and
	audited, what was stored keeps uploading; the repair (a sound disk,
	a restart) keeps everything stored before and recording resumes."""
	central = central_mtls
	srv, cg = start(env, central, uplink_config, monkeypatch, str(AFTER))
	cglib.wait_for("storage-error for every camera", lambda: {
		r["camera"] for r in alarm_rows(cg) if r["active"]} == set(NAMES), 40, 0.2)
	cg.assert_running()
	states = {c["name"]: c["state"] for c in cg.status()["cameras"]}
	assert set(states.values()) == {"not-stored"}, states
	assert {r["object"] for r in audit_rows(cg, "storage-error")} == set(NAMES)
	before = stored(cg)
	assert before, "nothing stored before the fault: raise AFTER"
	cglib.wait_for("the segments stored before the fault at central",
		       lambda: {(c, s) for _, c, s in media_acks(central)} >= set(before), 30, 0.5)
	assert stored(cg) == before, "the ring changed while every write failed"
	lost = refused(cg)
	assert cg.stop() == 0

	cg.start()	# the disk replaced: the seam is off
	after = stored(cg)
	missing = {k for k, h in before.items() if after.get(k) != h}
	assert not missing, "segments stored before the fault lost or changed: %s" % sorted(missing)
	cg.wait_segments({n: len([k for k in after if k[0] == n]) + 2 for n in NAMES}, 30)
	cglib.wait_for("storage-error cleared", lambda: not [
		r for r in alarm_rows(cg) if r["active"]], 10, 0.2)
	cams = finish_and_check(cg, srv, central, uplink_check, schema_check)
	print("EIO for good after %d writes/syncs: %d segments stored before kept, segments "
	      "refused while failing %s (alarmed and audited per camera); after the repair %d "
	      "in the ring, all at central" % (AFTER, len(before), lost,
					       sum(len(c["segments"]) for c in cams)))
