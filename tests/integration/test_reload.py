# SPDX-License-Identifier: GPL-2.0-or-later
"""SIGHUP applies a config diff: an added camera starts, a removed one
stops, an untouched one goes on without a break; the segment the reload
closed decodes in full."""

import time

import pytest

import cglib


@pytest.mark.budget(120)
def test_sighup_add_remove(env, tmp_path):
    srv = env.cameras(name="reload", cams=3, codec="h264,h265,h264",
                      audio="aac,none,aac")
    cg = env.camgate()
    cg.write_config({"cam1": srv.url(1), "cam2": srv.url(2)})
    cg.start()
    cg.wait_segments({"cam1": 2, "cam2": 2}, 30)

    cg.write_config({"cam1": srv.url(1), "cam3": srv.url(3)})
    hup_ms = cglib.now_ms()
    cg.hup()
    cg.wait_segments({"cam3": 2}, 20)
    cg.assert_running()
    # cam2's last segment may be finished just after the reload.
    time.sleep(2)
    cam2_then = cg.segments("cam2")
    time.sleep(4)
    cam2_now = cg.segments("cam2")
    status = cg.status()
    assert cg.stop() == 0

    assert cam2_then == cam2_now, "removed camera still records"
    assert cam2_now and all(s["start_utc_ms"] <= hup_ms + 1000
                            for s in cam2_now), \
        "cam2 segment started after the reload"
    names = {c["name"]: c for c in status["cameras"]}
    assert "cam2" not in names or names["cam2"]["state"] in \
        ("stopped", "idle"), names.get("cam2")
    assert names["cam3"]["state"] == "recording", names["cam3"]
    assert names["cam1"]["reconnects"] == 0, names["cam1"]

    cam1 = cg.cameras()["cam1"]
    segs = cam1["segments"]
    seqs = [s["seq"] for s in segs]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    assert cam1["gaps"] == [], cam1["gaps"]
    spans = [s for s in segs if s["start_utc_ms"] <= hup_ms <= cglib.seg_end_ms(s)
             or s["start_utc_ms"] > hup_ms]
    assert len(spans) >= 3, "cam1 did not go on through the reload"
    for s in segs[1:]:
        assert not s["discont"], "cam1 restarted by the reload: %s" % s
    r = cg.verify()
    assert r.returncode == 0, r.stdout + r.stderr
    # cam2 (H.265) was stopped by the reload, cam1 and cam3 by SIGTERM.
    cams = cg.cameras()
    cglib.assert_segments_decode(
        cg, {"cam2": cams["cam2"]["segments"],
             "cam1": cams["cam1"]["segments"][-1:],
             "cam3": cams["cam3"]["segments"][-1:]}, tmp_path)
