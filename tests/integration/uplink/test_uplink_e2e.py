# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end: segments, init segments, live playlists, registry records and
status reach a real nginx over verified TLS (HTTP/2), byte for byte, and the
ring learns that they did."""

import hashlib
import json
import subprocess
from pathlib import Path


def sha256_file(p):
	return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def check_all_arrived(central, segs):
	assert segs, "the driver stored no segment"
	for s in segs:
		f = central.file("gateways/gw1/" + s["path"])
		assert f.exists(), "missing at central: " + s["path"]
		assert sha256_file(f) == s["sha256"], "corrupted at central: " + s["path"]


def test_segments_playlist_registry_status(central, driver):
	d = driver()
	# Segments come at a camera's pace, each one live when it is stored.
	# (Stored all at once they would be a backlog: live goes newest first,
	# and live.m3u8 then starts from the newest; test_uplink_outage.py.)
	rc = d.run(central.url, "--cameras", "2", "--segments", "8", "--registry",
		   "--live-window", "4", "--interval-ms", "200", "--drain", "60")
	assert rc == 0, d.logtext()
	st = d.stats()
	assert st["drained"] and st["pending_rows"] == 0 and st["ring_pending"] == 0, st
	segs = d.segments()
	assert len(segs) == 16
	check_all_arrived(central, segs)
	gw = central.file("gateways/gw1")
	for cam in ("cam1", "cam2"):
		inits = list((gw / "media" / cam).glob("init-*.mp4"))
		assert len(inits) == 1
		pl = (gw / "media" / cam / "live.m3u8").read_text()
		assert "#EXT-X-MAP:URI=\"%s\"" % inits[0].name in pl
		names = [l for l in pl.splitlines() if l.endswith(".m4s")]
		newest = [s["path"].split("/")[-1] for s in segs if s["camera"] == cam][-4:]
		assert names == newest, pl
		# Any HLS player can play it: ffprobe reads the playlist and media.
		p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
				    "-of", "json", str(gw / "media" / cam / "live.m3u8")],
				   capture_output=True, text=True, timeout=60)
		assert p.returncode == 0, p.stderr
		assert json.loads(p.stdout)["streams"][0]["codec_name"] == "h264"
		reg = json.loads((gw / "registry" / (cam + ".json")).read_text())
		assert reg["camera"] == cam and reg["gateway"] == "gw1"
		for k in ("manufacturer", "model", "provider_unit", "update_method",
			  "update_frequency", "users", "version", "changed_at", "deadline"):
			assert k in reg, k
	status = json.loads((gw / "status.json").read_text())
	assert status["gateway"] == "gw1"
	assert "uplink" in status and "storage" in status and "registry" in status
	# Every request went over HTTP/2 (nginx logs "h2").
	acc = [l for l in (central.d / "access.log").read_text().splitlines()]
	assert acc and all(l.split()[6] == "h2" for l in acc), acc[:3]


def test_backlog_recorded_without_uplink_is_sent(central, driver):
	"""Segments stored while no uplink ran are found by the ring scan (U6)."""
	d = driver()
	assert d.run(central.url, "--cameras", "2", "--segments", "5", "--no-uplink") == 0
	assert not central.file("gateways/gw1/media").exists()
	rc = d.run(central.url, "--segments", "0", "--drain", "60")
	assert rc == 0, d.logtext()
	assert d.stats()["ring_pending"] == 0
	check_all_arrived(central, d.segments())
