# SPDX-License-Identifier: GPL-2.0-or-later
"""`camgate run` with [onvif] discovery: the daemon finds the cameras in a
private network, fills the registry (R2 fields), notices one that goes away,
and asks to record the ones it found. Real multicast, inside namespaces."""

import contextlib
import json
import signal
import sqlite3
import subprocess
import time

import cglib
import pytest

PASSWORD = "cam-pass-1"  # as tests/integration/onvif/conftest.py gives the simulators
POLL_S = 0.3  # how often the waits below look at the database


def registry(state):
    db = sqlite3.connect(str(state / "state.db"), timeout=10)
    try:
        return {r[0]: r for r in db.execute(
            "SELECT name, manufacturer, serial, ip, stream_uri, gone, update_method"
            " FROM registry_cameras")}
    finally:
        db.close()


@contextlib.contextmanager
def daemon(onvif_net, tmp_path, conf_text):
    """`camgate run` in the gateway's namespace; on the way out it must
    stop cleanly on SIGTERM. Its log is shown when the test fails."""
    conf = tmp_path / "camgate.conf"
    conf.write_text(conf_text)
    log_path = tmp_path / "camgate.log"
    onvif_net.logs.append(("camgate run", log_path))
    log = open(log_path, "wb")
    p = subprocess.Popen(["ip", "netns", "exec", onvif_net.gw, str(cglib.CAMGATE_BIN),
                          "-c", str(conf), "run"], stderr=log)
    try:
        yield p
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            assert p.wait(timeout=30) == 0
        finally:
            if p.poll() is None:
                p.kill()
            log.close()


@pytest.mark.budget(90)
def test_daemon_discovers_registers_and_notices_gone(onvif_net, tmp_path):
    sims = onvif_net.start_cams(3)
    state = tmp_path / "state"
    conf = (
        "[gateway]\nid = gw-disc\nstate_dir = %s\nstatus_interval = 1s\n"
        "[storage]\ndir = %s\nextents = 2\nextent_size = 1M\n"
        "[stream]\nbackoff_min = 1s\nbackoff_max = 2s\n"
        "[onvif]\ndiscovery = yes\nusername = admin\npassword = %s\n"
        "interval = 5s\nprobe_window = 1s\n"
        % (state, tmp_path / "ring", PASSWORD))
    with daemon(onvif_net, tmp_path, conf):
        reg = cglib.wait_for("3 cameras in the registry", lambda: (
            lambda r: r if len(r) == 3 else None)(
            registry(state) if (state / "state.db").exists() else {}), 30, POLL_S)
        assert reg and len(reg) == 3, (tmp_path / "camgate.log").read_text()[-3000:]
        serials = {r[2] for r in reg.values()}
        assert serials == {"SN-" + s.ip for s in sims}
        for r in reg.values():
            assert r[1] == "Camsim" and r[6] == "onvif-auto" and not r[5]
            assert r[4] == "rtsp://%s:554/stream" % r[3]
        # Every discovered camera is asked to record (the simulators serve no
        # RTSP, so they sit in backoff; what matters is that they are there).
        st = cglib.wait_for("3 cameras in status.json", lambda: (
            lambda s: s if len(s.get("cameras", [])) == 3 else None)(
            json.loads((state / "status.json").read_text())
            if (state / "status.json").exists() else {}), 15, POLL_S)
        assert st and {c["name"] for c in st["cameras"]} == set(reg), st
        # One camera goes away: the next round marks it gone.
        gone = sims[0]
        gone.stop()
        name = [n for n, r in reg.items() if r[3] == gone.ip][0]
        assert cglib.wait_for("%s marked gone" % name,
                              lambda: registry(state)[name][5], 20, POLL_S), \
            registry(state)[name]
        changes = sqlite3.connect(str(state / "state.db")).execute(
            "SELECT count(*) FROM registry_changes WHERE camera = ?", (name,)).fetchone()[0]
        assert changes >= 2  # new, then gone


@pytest.mark.budget(90)
def test_daemon_hello_and_bye_update_registry(onvif_net, tmp_path):
    """With a long interval, only the Hello can explain a new camera in the
    registry within seconds, and only the Bye its prompt departure."""
    onvif_net.start_cams(1)
    state = tmp_path / "state"
    conf = (
        "[gateway]\nid = gw-hello\nstate_dir = %s\n"
        "[storage]\ndir = %s\nextents = 2\nextent_size = 1M\n"
        "[onvif]\ndiscovery = yes\nusername = admin\npassword = %s\n"
        "interval = 1h\nprobe_window = 1s\n" % (state, tmp_path / "ring", PASSWORD))
    with daemon(onvif_net, tmp_path, conf):
        first = cglib.wait_for("the first camera in the registry", lambda: (
            state / "state.db").exists() and len(registry(state)) == 1, 20, POLL_S)
        assert first, (tmp_path / "camgate.log").read_text()[-3000:]
        time.sleep(0.5)
        sim = onvif_net.start_cam(0, "--hello")
        t0 = time.monotonic()
        assert cglib.wait_for("the Hello camera in the registry",
                              lambda: len(registry(state)) == 2, 15, POLL_S), \
            (tmp_path / "camgate.log").read_text()[-3000:]
        assert time.monotonic() - t0 < 15  # far inside the 1 h interval
        name = [n for n, r in registry(state).items() if r[3] == sim.ip][0]
        sim.stop()  # sends a Bye
        assert cglib.wait_for("%s marked gone after its Bye" % name,
                              lambda: registry(state)[name][5], 10, POLL_S), \
            (tmp_path / "camgate.log").read_text()[-3000:]
