# SPDX-License-Identifier: GPL-2.0-or-later
"""`camgate run` with [onvif] discovery: the daemon finds the cameras in a
private network, fills the registry (R2 fields), notices one that goes away,
and asks to record the ones it found. Real multicast, inside namespaces."""

import json
import signal
import sqlite3
import subprocess
import time

import cglib
import pytest

PASSWORD = "cam-pass-1"  # as tests/integration/onvif/conftest.py gives the simulators


def registry(state):
    db = sqlite3.connect(str(state / "state.db"), timeout=10)
    try:
        return {r[0]: r for r in db.execute(
            "SELECT name, manufacturer, serial, ip, stream_uri, gone, update_method"
            " FROM registry_cameras")}
    finally:
        db.close()


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    return pred()


@pytest.mark.budget(90)
def test_daemon_discovers_registers_and_notices_gone(onvif_net, tmp_path):
    sims = onvif_net.start_cams(3)
    state = tmp_path / "state"
    conf = tmp_path / "camgate.conf"
    conf.write_text(
        "[gateway]\nid = gw-disc\nstate_dir = %s\nstatus_interval = 1s\n"
        "[storage]\ndir = %s\nextents = 2\nextent_size = 1M\n"
        "[stream]\nbackoff_min = 1s\nbackoff_max = 2s\n"
        "[onvif]\ndiscovery = yes\nusername = admin\npassword = %s\n"
        "interval = 5s\nprobe_window = 1s\n"
        % (state, tmp_path / "ring", PASSWORD))
    log = open(tmp_path / "camgate.log", "wb")
    p = subprocess.Popen(["ip", "netns", "exec", onvif_net.gw, str(cglib.CAMGATE_BIN),
                          "-c", str(conf), "run"], stderr=log)
    try:
        reg = wait_for(lambda: (lambda r: r if len(r) == 3 else None)(
            registry(state) if (state / "state.db").exists() else {}), 30)
        assert reg and len(reg) == 3, (tmp_path / "camgate.log").read_text()[-3000:]
        serials = {r[2] for r in reg.values()}
        assert serials == {"SN-" + s.ip for s in sims}
        for r in reg.values():
            assert r[1] == "Camsim" and r[6] == "onvif-auto" and not r[5]
            assert r[4] == "rtsp://%s:554/stream" % r[3]
        # Every discovered camera is asked to record (the simulators serve no
        # RTSP, so they sit in backoff; what matters is that they are there).
        st = wait_for(lambda: (lambda s: s if len(s.get("cameras", [])) == 3 else None)(
            json.loads((state / "status.json").read_text())
            if (state / "status.json").exists() else {}), 15)
        assert st and {c["name"] for c in st["cameras"]} == set(reg), st
        # One camera goes away: the next round marks it gone.
        gone = sims[0]
        gone.stop()
        name = [n for n, r in reg.items() if r[3] == gone.ip][0]
        assert wait_for(lambda: registry(state)[name][5], 20), registry(state)[name]
        changes = sqlite3.connect(str(state / "state.db")).execute(
            "SELECT count(*) FROM registry_changes WHERE camera = ?", (name,)).fetchone()[0]
        assert changes >= 2  # new, then gone
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            assert p.wait(timeout=30) == 0
        finally:
            if p.poll() is None:
                p.kill()
            log.close()


@pytest.mark.budget(90)
def test_daemon_hello_and_bye_update_registry(onvif_net, tmp_path):
    """With a long interval, only the Hello can explain a new camera in the
    registry within seconds, and only the Bye its prompt departure."""
    onvif_net.start_cams(1)
    state = tmp_path / "state"
    conf = tmp_path / "camgate.conf"
    conf.write_text(
        "[gateway]\nid = gw-hello\nstate_dir = %s\n"
        "[storage]\ndir = %s\nextents = 2\nextent_size = 1M\n"
        "[onvif]\ndiscovery = yes\nusername = admin\npassword = %s\n"
        "interval = 1h\nprobe_window = 1s\n" % (state, tmp_path / "ring", PASSWORD))
    log = open(tmp_path / "camgate.log", "wb")
    p = subprocess.Popen(["ip", "netns", "exec", onvif_net.gw, str(cglib.CAMGATE_BIN),
                          "-c", str(conf), "run"], stderr=log)
    try:
        first = wait_for(lambda: (state / "state.db").exists() and len(registry(state)) == 1, 20)
        assert first, (tmp_path / "camgate.log").read_text()[-3000:]
        time.sleep(0.5)
        sim = onvif_net.start_cam(0, "--hello")
        t0 = time.monotonic()
        assert wait_for(lambda: len(registry(state)) == 2, 15), \
            (tmp_path / "camgate.log").read_text()[-3000:]
        assert time.monotonic() - t0 < 15  # far inside the 1 h interval
        name = [n for n, r in registry(state).items() if r[3] == sim.ip][0]
        sim.stop()  # sends a Bye
        assert wait_for(lambda: registry(state)[name][5], 10), \
            (tmp_path / "camgate.log").read_text()[-3000:]
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            assert p.wait(timeout=30) == 0
        finally:
            if p.poll() is None:
                p.kill()
            log.close()
