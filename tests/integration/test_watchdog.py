# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon pets the board's watchdog only while its critical threads
progress (firmware/daemon_watchdog.c, firmware/liveness.h). On the host
board the watchdog is the SANDBOX DRIVER (drivers/watchdog): the file
STATE_DIR/watchdog.sandbox records each pet and the close.

The TEST SEAM CAMGATE_TEST_STALL blocks one thread for good where a hung
thread would hang: "storage" inside a ring write, "camera" in the camera's
thread before it reaches storage; CAMGATE_TEST_LIVENESS_MS=2000 shortens
the deadlines to 2 s.
  - a clean stop closes the watchdog with the magic 'V';
  - a stalled storage thread stops the pets; a kill -9 then leaves it armed;
  - a stalled camera thread does not stop them.
A stalled uplink thread: uplink/test_camgate_watchdog.py (needs central)."""

import os
import time

import cglib

DEADLINE_MS = 2000


def sandbox(cg):
    """The sandbox driver's record as a dict, or {} before the first write."""
    p = cg.state_dir / "watchdog.sandbox"
    if not p.exists():
        return {}
    return dict(line.split(" ", 1) for line in p.read_text().splitlines() if " " in line)


def pets(cg):
    return int(sandbox(cg).get("pets", "-1"))


def start(env, stall=None):
    srv = env.cameras(cams=1)
    cg = env.camgate()
    cg.write_config({"cam1": srv.url(1)}, storage={"extents": 4, "extent_size": "4M"},
                    stream={"segment_duration": "1s"})
    e = dict(os.environ, CAMGATE_TEST_LIVENESS_MS=str(DEADLINE_MS))
    if stall:
        e["CAMGATE_TEST_STALL"] = stall
    cg.runs += 1
    cg.proc = cg.procs.start([cglib.CAMGATE_BIN, "-c", cg.conf, "run"], cg.log,
                             "%s run" % cg.name, env=e)
    cglib.wait_for("the first pets", lambda: cg.assert_running() or pets(cg) >= 2, 30)
    return cg


def log_text(cg):
    return cg.log.read_text(errors="replace")


def test_clean_stop_is_a_magic_close(env):
    cg = start(env)
    cg.wait_segments({"cam1": 1}, 30)
    assert sandbox(cg)["state"] == "armed"
    assert cg.stop() == 0
    rec = sandbox(cg)
    assert rec["state"] == "magic-closed", rec
    assert rec["driver"] == "sandbox"


def test_stalled_storage_stops_the_pets(env):
    cg = start(env, stall="storage")
    cglib.wait_for("the stall to be noticed",
                   lambda: "watchdog: storage: an operation stuck" in log_text(cg), 30)
    frozen = pets(cg)
    time.sleep(3)  # three pet intervals
    cg.assert_running()
    assert pets(cg) == frozen, "pets went on while a storage write hung"
    assert "no more pets" in log_text(cg)
    assert "TEST SEAM" in log_text(cg)
    # A hung daemon that is killed leaves the watchdog armed: the
    # hardware would reset the board.
    cg.kill9()
    assert sandbox(cg)["state"] == "armed"


def test_stalled_camera_keeps_the_pets(env):
    cg = start(env, stall="camera")
    cglib.wait_for("the camera thread to stall",
                   lambda: "the camera thread stalls here" in log_text(cg), 30)
    before = pets(cg)
    time.sleep(DEADLINE_MS / 1000 + 3)  # well past the deadline
    cg.assert_running()
    assert pets(cg) >= before + 3, "a hung camera stopped the pets"
    assert "no more pets" not in log_text(cg)
    cg.kill9()
