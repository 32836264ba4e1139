# SPDX-License-Identifier: GPL-2.0-or-later
"""kill -9 of camgate while it records: after a restart the ring is
clean and every segment it had acknowledged is still there and
exportable."""

import math
import time

import pytest

import cglib

NAMES = ("cam1", "cam2")


@pytest.mark.budget(120)
def test_kill9_loses_nothing_acknowledged(env, tmp_path):
    srv = env.cameras(name="crash", cams=2, codec="h264,h265")
    cg = env.camgate()
    cg.write_config({"cam1": srv.url(1), "cam2": srv.url(2)})
    cg.start()
    cg.wait_segments({n: 3 for n in NAMES}, 40)
    # Land the kill in the middle of a segment, not on a boundary.
    time.sleep(0.7)
    listed = cg.cameras()
    cg.kill9()

    cg.start()
    counts = {n: len(listed[n]["segments"]) + 2 for n in NAMES}
    cg.wait_segments(counts, 40)
    assert cg.stop() == 0

    r = cg.verify()
    assert r.returncode == 0, "ring verify after kill -9: %s%s" \
        % (r.stdout, r.stderr)
    now = cg.cameras()
    for n in NAMES:
        after = {s["seq"]: s for s in now[n]["segments"]}
        for s in listed[n]["segments"]:
            a = after.get(s["seq"])
            assert a, "%s seq %d lost after kill -9" % (n, s["seq"])
            for k in ("id", "start_utc_ms", "duration_ms", "bytes"):
                assert a[k] == s[k], (n, k, s, a)
        ids = [s["id"] for s in now[n]["segments"]]
        assert ids == sorted(set(ids)), "%s: ids not increasing" % n
        newer = [q for q in after if q > listed[n]["segments"][-1]["seq"]]
        assert len(newer) >= 2, "%s: no recording after the restart" % n

    for n in NAMES:
        for s in listed[n]["segments"]:
            out = tmp_path / ("%s-%d.mp4" % (n, s["seq"]))
            lo = s["start_utc_ms"] // 1000
            hi = math.ceil(cglib.seg_end_ms(s) / 1000)
            r = cg.cli("ring", "cat", n, "@%d" % lo, "@%d" % hi, "-o", out)
            assert r.returncode == 0, "%s seq %d: %s" % (n, s["seq"], r.stderr)
            info = cglib.ffprobe_json(out, "-show_format", "-show_streams")
            dur = float(info["format"]["duration"])
            assert dur >= s["duration_ms"] / 1000 - 0.1, (s, dur)
            assert any(x["codec_type"] == "video" for x in info["streams"])
