# SPDX-License-Identifier: GPL-2.0-or-later
"""Four cameras (H.264 and H.265, AAC, G.711, no audio) recorded for
20 s, then a clean stop: the ring verifies, every camera has continuous
footage, every stored segment decodes in full (the one closed at the
stop included), and an export plays back without holes."""

import time

import pytest

import cglib

RECORD_S = 20
SEGMENT_MS = 2000
FRAME_MS = 40  # 25 fps
GOP_MS = 2000  # the simulated cameras' keyframe interval
# cam1 h264+aac, cam2 h265+aac, cam3 h264+G.711, cam4 h265 without audio
CODECS = "h264,h265,h264,h265"
AUDIO = "aac,aac,pcmu,none"
NAMES = ["cam1", "cam2", "cam3", "cam4"]


@pytest.fixture(scope="module")
def rec(module_env):
    """One recording for every test of this module."""
    with cglib.budget(RECORD_S + 90, "four-camera recording"):
        srv = module_env.cameras(cams=4, codec=CODECS, audio=AUDIO)
        cg = module_env.camgate()
        cg.write_config({n: srv.url(i + 1) for i, n in enumerate(NAMES)},
                        storage={"extents": 8, "extent_size": "16M"})
        cg.start()
        cg.wait_segments({n: 1 for n in NAMES}, 20)
        t_end = time.monotonic() + RECORD_S
        while time.monotonic() < t_end:
            time.sleep(1)
            cg.assert_running()
        status = cg.status()
        stop_ms = cglib.now_ms()
        rc = cg.stop()
        return {"cg": cg, "status": status, "stop_rc": rc,
                "stop_ms": stop_ms, "cams": cg.cameras()}


def test_clean_stop(rec):
    assert rec["stop_rc"] == 0, "SIGTERM must stop camgate with exit 0"


def test_verify_clean(rec):
    r = rec["cg"].verify()
    assert r.returncode == 0, "ring verify: %s%s" % (r.stdout, r.stderr)


def test_every_camera_recorded(rec):
    cams = rec["cams"]
    for n in NAMES:
        segs = cams.get(n, {}).get("segments", [])
        covered = sum(s["duration_ms"] for s in segs)
        # 20 s recorded after the first segment was stored.
        assert covered >= RECORD_S * 1000, \
            "%s: %d segments, %d ms" % (n, len(segs), covered)
        for s in segs:
            assert s["bytes"] > 0 and s["duration_ms"] > 0, s
            assert s["utc_src"] in ("arrival", "rtcp"), s


def test_continuous(rec):
    """No gaps, no discontinuities after the first segment, seqs
    consecutive, each segment cut at the first keyframe at or after
    the target (the cameras send one every 2 s)."""
    for n in NAMES:
        c = rec["cams"][n]
        segs = c["segments"]
        assert c["gaps"] == [], "%s: gaps %s" % (n, c["gaps"])
        seqs = [s["seq"] for s in segs]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
        for s in segs[1:]:
            assert not s["discont"], "%s: discont at seq %d" % (n, s["seq"])
        for s in segs[:-1]:
            d = s["duration_ms"]
            assert SEGMENT_MS - 2 * FRAME_MS <= d <= \
                SEGMENT_MS + GOP_MS + 2 * FRAME_MS, s


def test_segments_cut_at_target(rec):
    """The GOP equals segment_duration, so every keyframe is a cut point
    and a segment (but the first and the last) lasts the target."""
    for n in NAMES:
        long = [(s["seq"], s["duration_ms"])
                for s in rec["cams"][n]["segments"][1:-1]
                if abs(s["duration_ms"] - SEGMENT_MS) > 2 * FRAME_MS]
        assert not long, "%s: segments off target (seq, ms): %s" % (n, long)


def test_stop_flushes_open_segment(rec):
    """The segment open at SIGTERM is finished and stored, not lost."""
    for n in NAMES:
        last = rec["cams"][n]["segments"][-1]
        lag = rec["stop_ms"] - cglib.seg_end_ms(last)
        assert lag < 1500, "%s: footage ends %d ms before the stop" % (n, lag)


def test_segment_closed_at_stop_decodes(rec, tmp_path):
    """The segment the stop closed ends on a whole access unit: every
    frame of it decodes (H.264 and H.265), not only the ones a probe or
    a remux looks at."""
    cglib.assert_segments_decode(
        rec["cg"], {n: rec["cams"][n]["segments"][-1:] for n in NAMES},
        tmp_path)


def test_every_segment_decodes(rec, tmp_path):
    """Each stored segment, exported alone (its init and media segment),
    decodes without an error."""
    cglib.assert_segments_decode(
        rec["cg"], {n: rec["cams"][n]["segments"][:-1] for n in NAMES},
        tmp_path)


def test_status_codecs(rec):
    by_name = {c["name"]: c for c in rec["status"]["cameras"]}
    assert rec["status"].get("mode") == "local-recorder"
    want = {"cam1": "h264", "cam2": "hevc", "cam3": "h264", "cam4": "hevc"}
    for n, codec in want.items():
        c = by_name[n]
        assert c["state"] == "recording", c
        assert c["video_codec"] == codec, c
        assert c["segments"] >= 1, c
        assert 20 <= c["fps"] <= 30, c
    assert by_name["cam1"]["audio_codec"] == "aac"
    assert by_name["cam4"]["audio_codec"] in ("", None)


def test_g711_audio_dropped_video_kept(rec):
    c = {c["name"]: c for c in rec["status"]["cameras"]}["cam3"]
    note = c["note"].lower()
    assert "audio" in note and "drop" in note, c
    assert c["audio_codec"] in ("", None), c
    assert c["video_codec"] == "h264" and c["segments"] >= 1, c


def _export(rec, camera, tmp_path):
    out = tmp_path / ("%s.mp4" % camera)
    r = rec["cg"].cli("ring", "cat", camera, "begin", "end", "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.exists() and out.stat().st_size > 0
    return out


def test_export_whole_span(rec, tmp_path):
    """ring cat of cam1's whole span: as long as its segments, and no
    hole between consecutive video frames."""
    segs = rec["cams"]["cam1"]["segments"]
    recorded_s = sum(s["duration_ms"] for s in segs) / 1000
    out = _export(rec, "cam1", tmp_path)
    info = cglib.ffprobe_json(out, "-show_format", "-show_streams")
    dur = float(info["format"]["duration"])
    assert abs(dur - recorded_s) <= 1.0, \
        "export %.2f s, segments %.2f s" % (dur, recorded_s)
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == ["audio", "video"], kinds

    pk = cglib.ffprobe_json(out, "-select_streams", "v:0", "-show_entries",
                            "packet=dts_time,pts_time", "-show_packets")
    dts = [float(p["dts_time"]) for p in pk["packets"] if "dts_time" in p]
    assert len(dts) >= recorded_s * 25 - 25, "%d video packets" % len(dts)
    worst = max(b - a for a, b in zip(dts, dts[1:]))
    assert worst <= FRAME_MS / 1000 + 0.002, \
        "largest step between video packets %.3f s" % worst
    assert all(b > a for a, b in zip(dts, dts[1:])), "DTS not increasing"


def test_export_g711_camera_is_video_only(rec, tmp_path):
    out = _export(rec, "cam3", tmp_path)
    info = cglib.ffprobe_json(out, "-show_streams")
    kinds = [s["codec_type"] for s in info["streams"]]
    assert kinds == ["video"], kinds


def test_export_hevc(rec, tmp_path):
    out = _export(rec, "cam2", tmp_path)
    info = cglib.ffprobe_json(out, "-show_streams")
    v = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert v and v[0]["codec_name"] == "hevc", info["streams"]
    assert (v[0]["width"], v[0]["height"]) == (1920, 1080)
