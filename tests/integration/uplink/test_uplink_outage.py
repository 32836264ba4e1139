# SPDX-License-Identifier: GPL-2.0-or-later
"""Store and forward: central down for a while, the gateway killed mid
transfer, a central that answers 500, 429 with Retry-After, stalls or
closes mid-body. Everything arrives, byte for byte; live view comes back
first; retries are bounded and spaced, one request at a time while
central is failing."""

import hashlib
import time
from pathlib import Path

import pytest


def sha256_file(p):
	return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def check_all_arrived(central, segs, root="gateways/gw1/"):
	assert segs
	for s in segs:
		f = central.file(root + s["path"])
		assert f.exists(), "missing at central: " + s["path"]
		assert sha256_file(f) == s["sha256"], "corrupted at central: " + s["path"]


def seg_puts(central, segs, after=0.0):
	"""[(time, camera, seq)] of acknowledged segment PUTs, in nginx's order."""
	by_uri = {"/gateways/gw1/" + s["path"]: s for s in segs}
	out = []
	for t, method, uri, status in central.access():
		s = by_uri.get(uri)
		if s and method == "PUT" and 200 <= status < 300 and t >= after:
			out.append((t, s["camera"], s["seq"]))
	return out


@pytest.mark.budget(150)
def test_outage_live_first_then_backlog(central, driver):
	window = 3
	d = driver()
	d.start(central.url, "--cameras", "2", "--segments", "40", "--interval-ms", "500",
		"--live-window", str(window), "--backoff-max", "1500", "--drain", "90")
	time.sleep(3)
	central.stop()
	time.sleep(12)
	restart = time.time()
	central.start()
	rc = d.wait(120)
	assert rc == 0, d.logtext()
	segs = d.segments()
	assert len(segs) == 80
	check_all_arrived(central, segs)
	st = d.stats()
	assert st["ring_pending"] == 0 and st["lost"] == 0, st
	after = seg_puts(central, segs, restart)
	before = {(c, q) for _, c, q in seg_puts(central, segs) if (c, q) not in
		  {(c2, q2) for _, c2, q2 in after}}
	for cam in ("cam1", "cam2"):
		pend = [q for _, c, q in after if c == cam]
		assert len(pend) > 2 * window, "outage too short to judge: %s" % pend
		first = pend[0]
		# Live first: the first segment central got after the outage is
		# among the camera's newest, not the oldest of the backlog.
		newest_at_restart = max(q for q in pend[:4 * window])
		assert first >= newest_at_restart - 2 * window, (cam, pend[:10])
		assert first > min(pend) + window, (cam, pend[:10])
		got = {q for c, q in before if c == cam} | set(pend)
		assert got == {s["seq"] for s in segs if s["camera"] == cam}
	# The live playlist ends with the newest segment of each camera.
	for cam in ("cam1", "cam2"):
		pl = central.file("gateways/gw1/media/%s/live.m3u8" % cam).read_text()
		newest = [s for s in segs if s["camera"] == cam][-1]["path"].split("/")[-1]
		assert pl.rstrip().endswith(newest), pl


@pytest.mark.budget(120)
def test_kill_mid_transfer_then_restart(central, driver):
	d = driver()
	# A slow link (rate cap) so transfers are in flight when killed.
	d.start(central.url, "--cameras", "2", "--segments", "10", "--rate", "40000",
		"--drain", "60")
	time.sleep(3)
	d.kill()
	d.log.close()
	partial = len(seg_puts(central, d.segments()))
	assert partial < 20
	rc = d.run(central.url, "--segments", "0", "--drain", "60")
	assert rc == 0, d.logtext()
	check_all_arrived(central, d.segments())
	assert d.stats()["ring_pending"] == 0


def run_through(fault_proxy, driver, *actions, extra=()):
	fault_proxy.script(*actions)
	d = driver()
	rc = d.run(fault_proxy.url, "--cameras", "1", "--segments", "3", "--parallel", "4",
		   "--drain", "60", *extra)
	assert rc == 0, d.logtext()
	check_all_arrived(fault_proxy.upstream, d.segments())
	return d, fault_proxy.log


def failing_window(log):
	"""The requests from the first fault to the first success after it."""
	first = next(i for i, r in enumerate(log) if r["action"] != "pass")
	end = next(i for i in range(first, len(log)) if log[i]["action"] == "pass")
	return log[first:end + 1]


@pytest.mark.budget(90)
def test_server_500_backoff_one_at_a_time(fault_proxy, driver):
	d, log = run_through(fault_proxy, driver, "500", "500", "500", "500")
	win = failing_window(log)
	assert [r["action"] for r in win] == ["500"] * 4 + ["pass"], win
	gaps = [b["t"] - a["t"] for a, b in zip(win, win[1:])]
	# backoff-min 200 ms: full jitter never waits under half of it.
	assert all(g >= 0.09 for g in gaps), gaps
	assert d.stats()["failures"] >= 4


@pytest.mark.budget(90)
def test_server_429_retry_after_honoured(fault_proxy, driver):
	d, log = run_through(fault_proxy, driver, "429:2")
	win = failing_window(log)
	assert win[0]["action"] == "429:2"
	assert win[1]["t"] - win[0]["t"] >= 1.9, win


@pytest.mark.budget(90)
def test_server_stalls(fault_proxy, driver):
	t0 = time.monotonic()
	d, log = run_through(fault_proxy, driver, "stall", extra=("--stall-ms", "2000"))
	win = failing_window(log)
	assert win[0]["action"] == "stall"
	# The stalled request was abandoned by the low-speed timeout.
	assert 1.5 <= win[1]["t"] - win[0]["t"] < 15, win
	assert time.monotonic() - t0 < 60


@pytest.mark.budget(90)
def test_server_closes_mid_body(fault_proxy, driver):
	d, log = run_through(fault_proxy, driver, "close", "close")
	assert [r["action"] for r in failing_window(log)][:2] == ["close", "close"]


def test_digest_header_matches_body(fault_proxy, driver):
	import base64
	import hashlib
	d, log = run_through(fault_proxy, driver)
	by_path = {"/gateways/gw1/" + s["path"]: s for s in d.segments()}
	seen = 0
	for r in log:
		s = by_path.get(r["path"])
		if s and r["status"] in (200, 201, 204):
			want = base64.b64encode(bytes.fromhex(s["sha256"])).decode()
			assert r["headers"]["Content-Digest"] == "sha-256=:%s:" % want
			seen += 1
	assert seen == 3
	del hashlib
