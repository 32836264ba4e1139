# SPDX-License-Identifier: GPL-2.0-or-later
"""A camera that loses power and comes back: camgate resumes within its
backoff, and the hole is visible in the index (a gap, then a segment
marked discont), and the segment the disconnect closed, like every
other, decodes in full."""

import time

import pytest

import cglib

OUTAGE_S = 5
BACKOFF_MAX_MS = 2000
# From the server listening again to the first new segment's start: one
# backoff step at most, then connect, DESCRIBE/SETUP/PLAY and the first
# keyframe (the clip starts with one).
RESUME_SLACK_MS = 2500


@pytest.mark.budget(150)
def test_camera_restart_resumes_with_gap(env, tmp_path):
    srv = env.cameras(name="flaky", cams=2, codec="h264,h265")
    cg = env.camgate()
    cg.write_config({"cam1": srv.url(1), "cam2": srv.url(2)},
                    stream={"backoff_min": "500ms",
                    "backoff_max": "%dms" % BACKOFF_MAX_MS})
    cg.start()
    cg.wait_segments({"cam1": 2, "cam2": 2}, 30)

    srv.kill()
    down_ms = cglib.now_ms()
    time.sleep(OUTAGE_S)
    cg.assert_running()
    before = {n: len(cg.segments(n)) for n in ("cam1", "cam2")}
    srv.start()
    up_ms = srv.ready_ms

    def resumed():
        segs = cg.segments("cam1")
        new = [s for s in segs if s["start_utc_ms"] >= down_ms]
        return new if len(new) >= 2 else None
    new = cglib.wait_for("cam1 to record again", resumed, 20, 0.5)
    first_new = new[0]
    delay = first_new["start_utc_ms"] - up_ms
    assert delay <= BACKOFF_MAX_MS + RESUME_SLACK_MS, \
        "resumed %d ms after the camera came back" % delay
    cg.wait_segments({"cam2": before["cam2"] + 2}, 20)

    st = cg.camera_status("cam1")
    assert st and st["reconnects"] >= 1, st
    assert cg.stop() == 0

    cams = cg.cameras()
    for name in ("cam1", "cam2"):
        cam = cams[name]
        segs = cam["segments"]
        by_seq = {s["seq"]: s for s in segs}
        gaps = [g for g in cam["gaps"] if g["ms"] >= (OUTAGE_S - 2) * 1000]
        assert gaps, "%s: no gap listed for the outage: %s" % (name, cam["gaps"])
        g = gaps[0]
        assert g["from_utc_ms"] <= down_ms + 1000, g
        assert g["to_utc_ms"] >= down_ms + OUTAGE_S * 1000, g
        after = by_seq.get(g["after_seq"] + 1)
        assert after, "%s: no segment after seq %d" % (name, g["after_seq"])
        assert after["discont"], "%s: segment after the gap not discont: %s" \
            % (name, after)
        assert after["start_utc_ms"] == g["to_utc_ms"], (g, after)
        assert g["after_seq"] in by_seq, (name, g)
    # cam1 is H.264, cam2 H.265; the segment before each gap is the one
    # the disconnect (server killed) closed, the last the stop closed.
    cglib.assert_segments_decode(
        cg, {n: cams[n]["segments"] for n in ("cam1", "cam2")}, tmp_path)
    r = cg.verify()
    assert r.returncode == 0, r.stdout + r.stderr
