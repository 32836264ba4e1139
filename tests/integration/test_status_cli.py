# SPDX-License-Identifier: GPL-2.0-or-later
"""`camgate status` tells a live daemon from a dead one: the snapshot's
time and age, whether its writer still runs, and the uplink's state in
the text form too (not only in --json)."""

import time

import cglib


def test_status_running_then_killed(env):
    srv = env.cameras(cams=1, codec="h264", audio="none")
    cg = env.camgate()
    cg.write_config({"cam1": srv.url(1)})
    cg.start()
    cg.wait_segments({"cam1": 1}, 30)
    r = cg.cli("status")
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("daemon running (pid %d)" % cg.proc.pid), r.stdout
    assert "snapshot of 20" in first and " s ago" in first, first
    assert "uplink: none (local recorder" in r.stdout, r.stdout
    st = cg.status()
    assert st["daemon"]["running"] is True and st["daemon"]["pid"] == cg.proc.pid, st
    assert 0 <= st["daemon"]["snapshot_age_s"] < 30, st

    cg.kill9()
    srv.stop()
    time.sleep(2)
    r = cg.cli("status")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("daemon NOT RUNNING: this is its last snapshot"), r.stdout
    st = cg.status()
    assert st["daemon"]["running"] is False and "pid" not in st["daemon"], st
    assert st["daemon"]["snapshot_age_s"] >= 2, st


def test_status_shows_uplink_in_text(env, tmp_path):
    """A central that is not there: the text form names the link DOWN and
    the last error, as --json does."""
    cg = env.camgate()
    cg.write_config({"cam1": "rtsp://127.0.0.1:9/none"})
    text = cg.conf.read_text() + "\n[uplink]\nbase_url = https://127.0.0.1:9\n" \
        "backoff_min = 200ms\nbackoff_max = 1s\nconnect_timeout = 1s\n"
    cg.write_raw(text)
    cg.start()
    def down_line():
        r = cg.cli("status")
        lines = [l for l in r.stdout.splitlines() if l.startswith("uplink: ")]
        return lines and "last error" in lines[0] and lines[0]
    line = cglib.wait_for("the uplink's line with its last error", down_line, 30, 0.5)
    assert line.startswith("uplink: link DOWN to https://127.0.0.1:9"), line
    assert cg.stop() == 0
    r = cg.cli("status")
    assert r.stdout.startswith("daemon NOT RUNNING"), r.stdout


def test_status_daemon_state(env):
    """The daemon's lifecycle state is in the snapshot and both forms of
    `camgate status`; a reload passes through RELOADING, a stop ends in
    STOPPED, each transition logged as "state OLD -> NEW"."""
    cg = env.camgate()
    cg.write_config({})
    cg.start()
    r = cglib.wait_for("a snapshot", lambda: (lambda r: r.returncode == 0 and r)(
        cg.cli("status")), 15, 0.2)
    assert ", state RUNNING; snapshot of" in r.stdout.splitlines()[0], r.stdout
    assert cg.status()["daemon_state"] == "RUNNING"
    cg.hup()
    cglib.wait_for("the reload", lambda: "state RELOADING -> RUNNING" in
                   cg.log.read_text(errors="replace"), 10, 0.1)
    assert cg.stop() == 0
    log = cg.log.read_text(errors="replace")
    order = ["state STARTING -> RUNNING", "state RUNNING -> RELOADING (SIGHUP)",
             "state RELOADING -> RUNNING", "state RUNNING -> STOPPING",
             "state STOPPING -> STOPPED: stopped cleanly"]
    at = [log.find(s) for s in order]
    assert -1 not in at and at == sorted(at), (at, log[-3000:])
    assert "is not a transition" not in log
    # The last snapshot was taken while stopping.
    assert cg.status()["daemon_state"] == "STOPPING"
    r = cg.cli("status")
    assert "state STOPPING);" in r.stdout, r.stdout
