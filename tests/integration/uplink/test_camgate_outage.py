# SPDX-License-Identifier: GPL-2.0-or-later
"""Store and forward through the real daemon: `camgate run` records four
simulated cameras while central (nginx over mutual TLS) goes away for 18 s
and comes back on the same port, or while camgate itself is killed with
SIGKILL in the middle of a transfer and started again. Everything the ring
holds reaches central byte for byte with no hole in any camera's
sequence, and after central returns the newest (live) segments arrive
before the older backlog (nginx's access log gives the order).

"Live" is judged against the ring as it was when central came back: each
camera's LIVE_WINDOW newest segments not yet uploaded. The gateway keeps
the same window, but a window slides: a segment closed after the test's
listing and before the gateway sent its live set pushes the oldest of
that set to the backlog, which goes last (oldest first) by design. So
central is restarted right after every camera closed a segment (the
listing that shows it is the test's view), which leaves the gateway a
whole segment duration (SEGMENT_S) to notice central and send the live
set; it needs well under one (a probe within 2 x backoff_min, then a
burst of LIVE_WINDOW x cameras segments)."""

import time

import pytest

import cglib

GW = "gw-outage-01"
NAMES = ["cam1", "cam2", "cam3", "cam4"]
LIVE_WINDOW = 3
PARALLEL = 4
BACKOFF_MAX_S = 2
OUTAGE_S = 18
DRAIN_TIMEOUT_S = 25
SEGMENT_S = 2  # cglib.BASE_STREAM segment_duration


def start_recording(env, central, uplink_config, gateway=None, **uplink):
	"""Four cameras recording and uploading; gateway: further [gateway] keys."""
	srv = env.cameras(cams=4, codec="h264", audio="aac")
	cg = env.camgate()
	uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
		      gateway={"id": GW, **(gateway or {})},
		      storage={"extents": 8, "extent_size": "32M"},
		      live_window=LIVE_WINDOW, parallel=PARALLEL,
		      backoff_max="%ds" % BACKOFF_MAX_S, **uplink)
	cg.start()
	cg.wait_segments({n: 1 for n in NAMES}, 20)
	return srv, cg


def media_acks(central, after=0.0):
	"""[(t, camera, seq)] of acknowledged media PUTs, in nginx's order."""
	out = []
	for r in central.requests():
		if r["method"] != "PUT" or not 200 <= r["status"] < 300 or r["t"] < after:
			continue
		parts = r["uri"].split("/")
		if len(parts) == 6 and parts[5].endswith(".m4s"):
			seq = int(parts[5].rsplit("-", 1)[1][:-4])
			out.append((r["t"], parts[4], seq))
	return out


def finish(cg, srv):
	"""The cameras lose power, camgate sends what is left, clean stop;
	returns the ring's cameras."""
	srv.kill()

	def all_uploaded():
		cg.assert_running()
		cams = cg.ring_ls()["cameras"]
		return all(s["uploaded"] for c in cams for s in c["segments"]) and cams
	cams = cglib.wait_for("every segment uploaded", all_uploaded, DRAIN_TIMEOUT_S, 0.5)
	assert cg.stop() == 0
	return cams


def restart_after_boundary(cg, central):
	"""Start @central just after every camera closed a segment; returns
	({camera: segments} as the ring listed them at that boundary, the
	time central was started). The time is taken before the start: the
	gateway may reach central before central.start() has seen it ready."""
	last = {c["name"]: c["segments"][-1]["seq"] for c in cg.ring_ls()["cameras"]}

	def closed_one():
		cams = cg.ring_ls()["cameras"]
		if all(c["segments"][-1]["seq"] > last.get(c["name"], -1) for c in cams):
			return cams
		return None
	cams = cglib.wait_for("a segment boundary of every camera", closed_one,
			      2 * SEGMENT_S + 2, 0.05)
	t_up = time.time()
	central.start()
	return {c["name"]: c["segments"] for c in cams}, t_up


def check_complete(central, cams, uplink_check):
	"""Every ring segment at central, byte for byte; per camera the seqs at
	central are exactly the ring's, without a hole."""
	got = uplink_check.arrived(central, GW, cams, only_uploaded=False)
	assert sorted(got) == NAMES
	root = central.file("gateways/" + GW)
	for c in cams:
		ring = [s["seq"] for s in c["segments"]]
		assert ring == list(range(ring[0], ring[-1] + 1)), "%s: ring seqs %s" % (c["name"], ring)
		stored = sorted(int(p.name.rsplit("-", 1)[1][:-4])
				for p in (root / "media" / c["name"]).glob("*.m4s"))
		assert stored == ring, "%s: central %s ring %s" % (c["name"], stored, ring)


def check_playlists_end_live(central, cams):
	"""The backlog sent last did not rewind live view: each live.m3u8
	ends with the camera's newest segment."""
	root = central.file("gateways/" + GW)
	for c in cams:
		text = (root / "media" / c["name"] / "live.m3u8").read_text()
		last = [l for l in text.splitlines() if l.endswith(".m4s")][-1]
		assert last.endswith("-%d.m4s" % c["segments"][-1]["seq"]), (c["name"], text)


@pytest.mark.budget(90)
def test_central_down_then_back(env, central_mtls, uplink_config, uplink_check, schema_check):
	central = central_mtls
	srv, cg = start_recording(env, central, uplink_config)
	cglib.wait_for("segments of every camera at central",
		       lambda: {c for _, c, _ in media_acks(central)} == set(NAMES), 15)
	time.sleep(2)
	central.stop()
	deadline = time.monotonic() + OUTAGE_S
	while time.monotonic() < deadline:
		time.sleep(1)
		cg.assert_running()
	before, t_up = restart_after_boundary(cg, central)
	time.sleep(10)
	cams = finish(cg, srv)

	check_complete(central, cams, uplink_check)
	check_playlists_end_live(central, cams)
	schema_check(central, GW)
	acks = media_acks(central, t_up)
	live, backlog = set(), set()
	for n, segs in before.items():
		pend = [s["seq"] for s in segs if not s["uploaded"]]
		assert len(pend) >= 3 * LIVE_WINDOW, "%s: outage too short to judge: %s" % (n, pend)
		live |= {(n, q) for q in pend[-LIVE_WINDOW:]}
		backlog |= {(n, q) for q in pend[:-LIVE_WINDOW]}
	order = [(c, q) for _, c, q in acks]
	# Per camera, the first segment central gets after the outage is one
	# of its newest, not the oldest of the backlog.
	for n in NAMES:
		first = next(q for c, q in order if c == n)
		newest = max(q for c, q in live if c == n)
		assert first > newest - LIVE_WINDOW, (n, first, [x for x in order if x[0] == n][:8])
	# Every live segment before any backlog one, but for the few
	# transfers already in flight (O-2).
	last_live = max(i for i, x in enumerate(order) if x in live)
	early = [x for x in order[:last_live] if x in backlog]
	assert len(early) <= PARALLEL, (early, order[:last_live + 1])
	# Live view came back within a backoff and a few transfers.
	t_live = max(t for t, c, q in acks if (c, q) in live)
	assert t_live - t_up < BACKOFF_MAX_S + 5, t_live - t_up


@pytest.mark.budget(90)
def test_kill9_mid_upload_then_restart(env, central_mtls, uplink_config, uplink_check,
				       schema_check):
	central = central_mtls
	# A slow link (1 MiB/s for 4 x 4 Mbit/s) keeps transfers in flight.
	srv, cg = start_recording(env, central, uplink_config, rate_limit="1M")
	cglib.wait_for("a few segments at central", lambda: len(media_acks(central)) >= 3, 30)
	cglib.wait_for("a request body being received",
		       lambda: central.body_temp_files() and cg.running(), 15, 0.02)
	cg.kill9()
	partial = len(media_acks(central))
	# Same gateway, full speed.
	uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
		      gateway={"id": GW}, storage={"extents": 8, "extent_size": "32M"},
		      live_window=LIVE_WINDOW, parallel=PARALLEL,
		      backoff_max="%ds" % BACKOFF_MAX_S)
	cg.start()
	time.sleep(6)
	cams = finish(cg, srv)

	assert cg.verify().returncode == 0
	check_complete(central, cams, uplink_check)
	check_playlists_end_live(central, cams)
	assert len(media_acks(central)) > partial
	schema_check(central, GW)
