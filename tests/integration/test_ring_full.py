# SPDX-License-Identifier: GPL-2.0-or-later
"""A ring too small for what it records: the oldest footage goes first;
footage inside the retention floor goes only with an alarm and an audit
entry, or not at all when on_full = stop."""

import time

import pytest

import cglib

NAMES = ("cam1", "cam2", "cam3")
# Three 1 MiB extents (the minimum size) and three ~1 Mbit/s cameras:
# full in about 8 s, one more extent every ~3 s after that.
TINY_RING = {"extents": 3, "extent_size": "1M"}


@pytest.fixture(scope="module")
def small_cams(module_env):
    with cglib.budget(60, "camera server"):
        return module_env.cameras(name="lowrate", cams=3, codec="h264",
                                  audio="none", size="640x360", bitrate="1M")


def _config(cg, srv, **storage):
    cg.write_config({n: srv.url(i + 1) for i, n in enumerate(NAMES)},
                    storage=dict(TINY_RING, **storage))


def _track_ids(cg, seen):
    """Remember every segment listed; return the ids no longer listed."""
    left = set()
    for name, cam in cg.cameras().items():
        for s in cam["segments"]:
            seen[s["id"]] = (name, s["seq"])
            left.add(s["id"])
    return set(seen) - left


def _wait_evicted(cg, seen, n, what):
    def evicted():
        cg.assert_running()
        return len(_track_ids(cg, seen)) >= n
    cglib.wait_for(what, evicted, 60, 1.0)


@pytest.mark.budget(90)
def test_overwrite_oldest_first(env, small_cams):
    cg = env.camgate()
    _config(cg, small_cams, retention_floor="0s", on_full="overwrite")
    cg.start()
    seen = {}
    _wait_evicted(cg, seen, 8, "the ring to wrap twice")
    assert cg.stop() == 0

    gone = _track_ids(cg, seen)
    cams = cg.cameras()
    left = {s["id"] for c in cams.values() for s in c["segments"]}
    assert max(gone) < min(left), \
        "evicted %s while older %s remain" % (sorted(gone)[-3:], sorted(left)[:3])
    for n in NAMES:
        seqs = [s["seq"] for s in cams[n]["segments"]]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (n, seqs)
        first_seen = min(q for name, q in seen.values() if name == n)
        assert seqs[0] > first_seen, "%s: oldest segment still there" % n
    assert not cg.db_rows("SELECT * FROM audit WHERE action = "
                          "'evict-protected'")
    r = cg.verify()
    assert r.returncode == 0, r.stdout + r.stderr

    st = cg.ring_stat()
    assert st["extents"] == 3, st
    assert st["bytes_used"] <= st["bytes_total"], st
    assert st["evicted_pinned"] == 0, st
    assert st["evicted_segs"] >= len(gone), \
        "ring stat counts %d evicted, %d listed segments are gone" \
        % (st["evicted_segs"], len(gone))


@pytest.mark.budget(90)
def test_overwrite_protected_with_alarm_and_audit(env, small_cams):
    cg = env.camgate()
    _config(cg, small_cams, retention_floor="1h", on_full="overwrite")
    cg.start()
    seen = {}
    _wait_evicted(cg, seen, 4, "protected footage to be overwritten")
    status = cg.status()
    assert cg.stop() == 0
    gone = _track_ids(cg, seen)

    alarms = cg.db_rows("SELECT * FROM alarms")
    assert alarms, "protected footage overwritten without an alarm row"
    audit = cg.db_rows("SELECT * FROM audit WHERE action = 'evict-protected'")
    assert audit, "protected footage overwritten without an audit row"
    for a in audit:
        assert a["ts_ms"] > 0 and a["object"], a
    assert status.get("alarms"), "status shows no alarm: %s" % status
    r = cg.verify()
    assert r.returncode == 0, r.stdout + r.stderr

    st = cg.ring_stat()
    assert st["evicted_pinned"] >= len(gone) and \
        st["evicted_segs"] >= st["evicted_pinned"], \
        "ring stat %s; %d protected segments are gone" % (st, len(gone))


@pytest.mark.budget(90)
def test_stop_keeps_protected_footage(env, small_cams):
    cg = env.camgate()
    _config(cg, small_cams, retention_floor="1h", on_full="stop")
    cg.start()
    cg.wait_segments({n: 1 for n in NAMES}, 20)
    first = {s["id"] for c in cg.cameras().values() for s in c["segments"]}
    history = []

    def stopped_growing():
        cg.assert_running()
        st = cg.ring_stat()
        history.append((time.monotonic(), st["segs"]))
        recent = [n for t, n in history if t >= time.monotonic() - 6]
        steady = len(history) >= 8 and len(set(recent)) == 1 and \
            history[0][0] <= time.monotonic() - 8
        return st if steady and st["bytes_used"] * 2 > st["bytes_total"] \
            else None
    st = cglib.wait_for("the full ring to stop taking segments",
                        stopped_growing, 60, 1.0)
    assert st["evicted_segs"] == 0 and st["evicted_pinned"] == 0, st
    alarms = cg.db_rows("SELECT * FROM alarms WHERE active = 1")
    assert alarms, "ring full with on_full=stop but no active alarm"
    assert cg.status().get("alarms"), "status shows no alarm"
    cg.assert_running()
    assert cg.stop() == 0

    left = {s["id"] for c in cg.cameras().values() for s in c["segments"]}
    assert first <= left, "protected segments %s were evicted" % (first - left)
    r = cg.verify()
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.budget(150)
def test_full_ring_says_so_and_recovers(env, small_cams):
    """With the floor pinning everything and on_full = stop: ring stat
    counts the pinned bytes as protected, status shows each camera
    storage-full with 0 fps (not "recording 25 fps"), the alarm is up;
    once the floor is lifted by a reload, recording resumes and the
    storage-full alarms clear."""
    cg = env.camgate()
    _config(cg, small_cams, retention_floor="1h", on_full="stop")
    cg.start()
    cg.wait_segments({n: 1 for n in NAMES}, 20)

    def all_refused():
        cg.assert_running()
        cams = {c["name"]: c for c in cg.status().get("cameras", [])}
        full = [c for c in cams.values() if c["state"] == "storage-full"]
        return cams if len(full) == len(NAMES) else None
    cams = cglib.wait_for("every camera to read storage-full", all_refused, 60, 1.0)
    for name, c in cams.items():
        assert c["fps"] == 0 and c["bitrate_bps"] == 0, c
        assert c["segments_refused"] > 0, c
    st = cg.ring_stat()
    seg_bytes = sum(s["bytes"] for c in cg.cameras().values() for s in c["segments"])
    assert st["bytes_pinned"] >= seg_bytes > 0, (st, seg_bytes)
    text = cg.cli("ring", "stat")
    assert "(0.0 MiB protected)" not in text.stdout, text.stdout
    lines = [ln for ln in cg.cli("status").stdout.splitlines() if ln.startswith("camera ")]
    assert len(lines) == len(NAMES) and all(" storage-full " in ln for ln in lines), lines
    assert cg.db_rows("SELECT * FROM alarms WHERE active = 1 AND code = 'storage-full'")

    _config(cg, small_cams, retention_floor="0s", on_full="stop")
    cg.hup()

    def resumed():
        cg.assert_running()
        cams = {c["name"]: c for c in cg.status().get("cameras", [])}
        rec = [c for c in cams.values() if c["state"] == "recording" and c["fps"] > 0]
        up = cg.db_rows("SELECT * FROM alarms WHERE active = 1 AND code = 'storage-full'")
        return cams if len(rec) == len(NAMES) and not up else None
    cglib.wait_for("recording to resume and storage-full to clear", resumed, 60, 1.0)
    assert cg.stop() == 0
