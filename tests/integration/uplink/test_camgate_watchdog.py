# SPDX-License-Identifier: GPL-2.0-or-later
"""The uplink thread is critical for the watchdog (firmware/liveness.h):
with central configured, its status tick is the heartbeat. With the TEST
SEAM CAMGATE_TEST_STALL=uplink its thread blocks for good at a status
tick, and the pets recorded by the host board's SANDBOX DRIVER
(STATE_DIR/watchdog.sandbox) stop once CAMGATE_TEST_LIVENESS_MS passes;
without the seam they go on while it uploads (test_watchdog.py covers
storage and camera stalls)."""

import os
import time

import cglib

DEADLINE_MS = 2000


def pets(cg):
    p = cg.state_dir / "watchdog.sandbox"
    if not p.exists():
        return -1
    rec = dict(line.split(" ", 1) for line in p.read_text().splitlines() if " " in line)
    return int(rec.get("pets", "-1"))


def start(env, central, uplink_config, stall):
    srv = env.cameras(cams=1, codec="h264", audio="none")
    cg = env.camgate()
    uplink_config(cg, central, {"cam1": srv.url(1)}, gateway={"id": "gw-wd-01"},
                  storage={"extents": 4, "extent_size": "4M"}, status_interval="1s")
    e = dict(os.environ, CAMGATE_TEST_LIVENESS_MS=str(DEADLINE_MS))
    if stall:
        e["CAMGATE_TEST_STALL"] = stall
    cg.runs += 1
    cg.proc = cg.procs.start([cglib.CAMGATE_BIN, "-c", cg.conf, "run"], cg.log,
                             "%s run" % cg.name, env=e)
    cglib.wait_for("the first pets", lambda: cg.assert_running() or pets(cg) >= 2, 30)
    return cg


def test_stalled_uplink_stops_the_pets(env, central, uplink_config):
    cg = start(env, central, uplink_config, "uplink")
    cglib.wait_for("the stall to be noticed",
                   lambda: "watchdog: uplink: no progress" in cg.log.read_text(errors="replace"),
                   30)
    frozen = pets(cg)
    time.sleep(3)
    cg.assert_running()
    assert pets(cg) == frozen, "pets went on while the uplink thread hung"
    cg.kill9()


def test_working_uplink_keeps_the_pets(env, central, uplink_config):
    cg = start(env, central, uplink_config, None)
    before = pets(cg)
    time.sleep(DEADLINE_MS / 1000 + 3)
    cg.assert_running()
    assert pets(cg) >= before + 3
    assert "no more pets" not in cg.log.read_text(errors="replace")
    assert cg.stop() == 0
