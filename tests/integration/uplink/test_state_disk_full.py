# SPDX-License-Identifier: GPL-2.0-or-later
"""A full state disk: state_dir (state.db: audit, outbox, alarms) on a
small tmpfs of its own, `camgate run` recording three cameras into a ring
too small for them with a retention floor (every eviction is of
protected footage) and on_full = overwrite, uploading to central (nginx).

The state filesystem is first brought under the state_disk_low threshold
(state-disk-low must be raised, in the alarms and the status object),
then filled to the last byte for a while, then freed. While it is full:
no protected segment leaves the ring without its audit row (the evict
hook fails closed), the ring stops taking segments, and the log stays
small (repeating errors are limited). After it is freed, without a
restart: recording resumes, the state-write-failed alarm was raised and
is cleared, state-disk-low is cleared, and every segment recorded while
the outbox refused its row reaches central."""

import os
import subprocess
import time

import pytest

import cglib

NAMES = ("cam1", "cam2", "cam3")
GW = "gw-statedisk-01"
STATE_FS = "8m"
LOW = 2 * 1024 * 1024  # state_disk_low
FULL_S = 20


@pytest.fixture
def state_fs(env):
    """A Camgate whose state_dir is a tmpfs of STATE_FS, unmounted at
    teardown."""
    cg = env.camgate()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % STATE_FS, "tmpfs",
                        str(cg.state_dir)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.strip())
    try:
        yield cg
    finally:
        if cg.running():
            cg.kill9()
        subprocess.run(["umount", "-l", str(cg.state_dir)], capture_output=True)


def fill(path, leave):
    """Write @path until the filesystem has at most @leave bytes free."""
    vfs = os.statvfs(os.path.dirname(path))
    free = vfs.f_bavail * vfs.f_frsize
    with open(path, "ab") as f:
        chunk = b"\0" * 65536
        while free > leave:
            n = min(len(chunk), free - leave)
            try:
                f.write(chunk[:n])
                f.flush()
            except OSError:
                break
            vfs = os.statvfs(os.path.dirname(path))
            free = vfs.f_bavail * vfs.f_frsize


def log_lines(cg):
    return len(cg.log.read_bytes().splitlines())


def alarm_rows(cg, code):
    return cg.db_rows("SELECT * FROM alarms WHERE code = ?", (code,))


def segs(cg):
    """{(camera, seq): segment} as `ring ls` lists them."""
    return {(n, s["seq"]): s for n, c in cg.cameras().items() for s in c["segments"]}


@pytest.mark.budget(240)
def test_full_state_disk_fails_closed(env, state_fs, central_mtls, uplink_config,
                                      uplink_check):
    cg = state_fs
    srv = env.cameras(name="lowrate", cams=3, codec="h264", audio="none",
                      size="640x360", bitrate="1M")
    uplink_config(cg, central_mtls, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
                  gateway={"id": GW, "state_disk_low": str(LOW)},
                  storage={"extents": 3, "extent_size": "1M", "retention_floor": "1h",
                           "on_full": "overwrite"})
    cg.start()
    seen = {}

    def track():
        now = segs(cg)
        seen.update(now)
        return set(seen) - set(now)

    def evicted(n):
        def pred():
            cg.assert_running()
            return len(track()) >= n
        return pred
    cglib.wait_for("protected footage overwritten", evicted(3), 60, 0.5)
    assert cg.ring_stat()["evicted_pinned"] > 0
    assert not alarm_rows(cg, "state-disk-low")

    # Central goes away for a while: rows wait in the outbox, to be sent
    # (and acknowledged) while the state disk is full.
    central_mtls.stop()
    time.sleep(4)

    # Under the threshold, not yet full: the alarm comes before the failures.
    filler = str(cg.state_dir / "filler")
    fill(filler, LOW // 2)

    def low_raised():
        st = cg.status()
        return st.get("state_disk", {}).get("low") and \
            any(a["code"] == "state-disk-low" for a in st.get("alarms", []))
    cglib.wait_for("state-disk-low in the status object", low_raised, 15, 0.5)

    # Full.
    fill(filler, 0)
    fill(str(cg.state_dir / "filler2"), 0)  # what the first left below a chunk
    central_mtls.start()
    time.sleep(3)  # writes in flight finish or fail
    lines0 = log_lines(cg)
    w0 = time.time()
    stat0 = cg.ring_stat()
    t0 = time.monotonic()
    newest = []
    while time.monotonic() - t0 < FULL_S:
        cg.assert_running()
        track()
        newest.append(max(s["id"] for s in segs(cg).values()))
        time.sleep(1)
    stat1 = cg.ring_stat()
    lines1 = log_lines(cg)
    w1 = time.time()
    during = {k: s for k, s in segs(cg).items() if not s["uploaded"]}
    rows = {r["path"] for r in cg.db_rows("SELECT path FROM outbox")}
    rowless = [k for k, s in during.items()
               if uplink_check.seg_path(k[0], k[1], s["start_utc_ms"]) not in rows]
    assert rowless, "no segment's outbox row failed: the test did not fill the disk"

    assert lines1 - lines0 < 60, "%d log lines in %d s of a full state disk" \
        % (lines1 - lines0, FULL_S)
    # Central's 2xx cannot be committed: the rows are sent again, but
    # after a backoff (at most UPLINK_STORE_RETRY_MAX_MS, full jitter),
    # not as fast as central answers: on average at most one a second.
    puts = {}
    for r in central_mtls.requests():
        if r["method"] == "PUT" and w0 <= r["t"] <= w1:
            puts[r["uri"]] = puts.get(r["uri"], 0) + 1
    # status.json is a new version every status interval (2 s here) as
    # long as state.db takes its row into a free page: those versions
    # come on top of the resends the bound is about.
    def bound(uri):
        return FULL_S + (FULL_S // 2 if uri.endswith("/status.json") else 0)
    over = {u: n for u, n in puts.items() if n > bound(u)}
    assert not over, "%d PUTs in %d s, sent too often: %s" % (sum(puts.values()), FULL_S, over)
    # state.db takes rows into its free pages (rows the chain pruning and
    # the acknowledgements deleted) for a while after the disk is full,
    # and each protected eviction then has its audit row (checked below);
    # once it refuses them the ring stops taking segments for good: the
    # newest segment stays the same over the last 5 s (2.5 segments).
    assert len(set(newest[-5:])) == 1, \
        "the ring kept taking segments on a full state disk: %s" % newest
    assert stat1["evicted_pinned"] == stat0["evicted_pinned"] or \
        stat1["evicted_pinned"] - stat0["evicted_pinned"] <= \
        len(cg.db_rows("SELECT id FROM audit WHERE action = 'evict-protected'")), stat1

    # Free it: everything resumes without a restart.
    os.unlink(filler)
    os.unlink(str(cg.state_dir / "filler2"))
    resumed = newest[-1]

    def recording_again():
        cg.assert_running()
        track()
        return max(s["id"] for s in segs(cg).values()) > resumed
    cglib.wait_for("recording to resume", recording_again, 30, 0.5)

    def requeued():
        cg.assert_running()
        paths = {r["path"] for r in cg.db_rows("SELECT path FROM outbox")}
        now = segs(cg)
        return all(k not in now or now[k]["uploaded"] or
                   uplink_check.seg_path(k[0], k[1], during[k]["start_utc_ms"]) in paths
                   for k in rowless)
    cglib.wait_for("the segments whose outbox rows failed to be queued again",
                   requeued, 20, 0.5)
    # The cameras lose power: what the ring holds now is what must reach
    # central (no more evictions to race the backlog).
    srv.kill()

    def alarms_settled():
        cg.assert_running()
        track()
        swf = alarm_rows(cg, "state-write-failed")
        low = alarm_rows(cg, "state-disk-low")
        return swf and all(not a["active"] for a in swf) and \
            low and all(not a["active"] for a in low)
    cglib.wait_for("state-write-failed raised then cleared, state-disk-low cleared",
                   alarms_settled, 30, 0.5)

    # Segments recorded while their outbox rows failed reach central, and
    # the rest with them.

    def all_uploaded():
        cg.assert_running()
        track()
        cams = cg.ring_ls()["cameras"]
        return all(s["uploaded"] for c in cams for s in c["segments"]) and cams
    cams = cglib.wait_for("every segment uploaded", all_uploaded, 60, 0.5)
    assert cg.stop() == 0
    cg.proc = None

    root = central_mtls.file("gateways/" + GW)
    kept = segs(cg)
    audited = {a["object"] for a in
               cg.db_rows("SELECT object FROM audit WHERE action = 'evict-protected'")}
    # Each reached central, unless the ring overwrote it (retention
    # floor, on_full = overwrite: audited) before its turn in the backlog.
    for cam, seq in rowless:
        p = root / uplink_check.seg_path(cam, seq, during[cam, seq]["start_utc_ms"])
        assert p.exists() or ((cam, seq) not in kept and "%s/%d" % (cam, seq) in audited), \
            "%s/%d, recorded while the outbox failed, never reached central" % (cam, seq)
    assert any((root / uplink_check.seg_path(c, q, during[c, q]["start_utc_ms"])).exists()
               for c, q in rowless), "none of %s reached central" % rowless
    uplink_check.arrived(central_mtls, GW, cams)

    # No protected segment left the ring without its audit row.
    gone = set(seen) - set(kept)
    missing = sorted("%s/%d" % k for k in gone if "%s/%d" % k not in audited)
    assert not missing, "evicted without an audit row: %s" % missing
    st = cg.ring_stat()
    assert st["evicted_pinned"] <= len(audited), (st, len(audited))
    r = cg.verify()
    assert r.returncode == 0, r.stdout + r.stderr
