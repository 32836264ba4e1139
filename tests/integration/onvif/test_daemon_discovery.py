# SPDX-License-Identifier: GPL-2.0-or-later
"""`camgate run` with [onvif] discovery: the daemon finds the cameras in a
private network, fills the registry (R2 fields), notices one that goes away,
and asks to record the ones it found. Real multicast, inside namespaces."""

import contextlib
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
import types
from pathlib import Path

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
        # One camera goes away: after DISCOVERY_GONE_ROUNDS silent rounds
        # (5 s apart) with its endpoint and stream unreachable, it is gone.
        gone = sims[0]
        gone.stop()
        name = [n for n, r in reg.items() if r[3] == gone.ip][0]
        assert cglib.wait_for("%s marked gone" % name,
                              lambda: registry(state)[name][5], 45, POLL_S), \
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


# ---- gone, silent and named cameras (docs/onvif.md "Gone") ----

GONE_ROUNDS = 3  # DISCOVERY_GONE_ROUNDS in firmware/discovery.h
GW_ID = "gw-gone"


class NsCentral:
    """The uplink tests' nginx central, run inside the gateway's namespace
    on its loopback: the daemon there reaches it, nothing else does."""

    def __init__(self, onvif_net, d):
        up = cglib.uplink_fixtures()
        self.net, self.up = onvif_net, up
        self.pki = up.PKI(Path(d) / "pki")
        self.nginx = up.Nginx(Path(d) / "central", self.pki)

    def start(self):
        n = self.nginx
        n.log = open(n.d / "stderr.log", "ab")
        n.proc = subprocess.Popen(["ip", "netns", "exec", self.net.gw, self.up.NGINX,
                                   "-c", str(n.conf), "-p", str(n.d)],
                                  stdout=n.log, stderr=n.log)
        probe = ("import socket; socket.create_connection(('127.0.0.1', %d), 0.5)"
                 % n.port)
        ok = cglib.wait_for("central listening", lambda: n.proc.poll() is None and
                            self.net.gw_run(cglib.PYTHON, "-c", probe).returncode == 0,
                            10, 0.2)
        assert ok, (n.d / "error.log").read_text()[-2000:]
        return self

    def stop(self):
        self.nginx.stop()

    def uplink_conf(self):
        return ("[uplink]\nbase_url = https://127.0.0.1:%d\nca_file = %s\n"
                "backoff_min = 200ms\nbackoff_max = 2s\nconnect_timeout = 3s\n"
                "status_interval = 2s\ncommands_interval = 0\n"
                % (self.nginx.port, self.pki.ca))

    def json_files(self, pattern):
        out = []
        for p in self.nginx.file("gateways/" + GW_ID).glob(pattern):
            try:
                out.append(json.loads(p.read_text()))
            except ValueError:
                pass  # still being written
        return out

    def record(self, camera):
        p = self.nginx.file("gateways/%s/registry/%s.json" % (GW_ID, camera))
        try:
            return json.loads(p.read_text())
        except (OSError, ValueError):
            return None

    def alarm_events(self, camera, text):
        return [e for e in self.json_files("events/*.json")
                if e.get("type") == "alarm" and e.get("camera") == camera
                and text in e.get("message", "")]


def reg_rows(state):
    """{name: row}; every column, so a registry without one is still read."""
    db = sqlite3.connect(str(state / "state.db"), timeout=10)
    db.row_factory = sqlite3.Row
    try:
        return {r["name"]: dict(r) for r in db.execute("SELECT * FROM registry_cameras")}
    finally:
        db.close()


def rounds_done(log):
    """Discovery rounds the daemon finished, from its log."""
    return log.read_text(errors="replace").count("discovery: round done")


def db_rows(state, sql, params=()):
    db = sqlite3.connect(str(state / "state.db"), timeout=10)
    try:
        return list(db.execute(sql, params))
    finally:
        db.close()


def status_of(state):
    try:
        return json.loads((state / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def active_alarms(state, code, camera):
    return [a for a in status_of(state).get("alarms", [])
            if a["code"] == code and a["camera"] == camera]


def gw_conf(state, ring, interval="5s", extra=""):
    return ("[gateway]\nid = %s\nstate_dir = %s\nstatus_interval = 1s\n"
            "[storage]\ndir = %s\nextents = 4\nextent_size = 4M\n"
            "[stream]\nbackoff_min = 1s\nbackoff_max = 2s\nsegment_duration = 1s\n"
            "[onvif]\ndiscovery = yes\nusername = admin\npassword = %s\n"
            "interval = %s\nprobe_window = 1s\n%s"
            % (GW_ID, state, ring, PASSWORD, interval, extra))


@pytest.mark.budget(150)
def test_daemon_gone_camera_reaches_central_and_alarms(onvif_net, tmp_path):
    """A camera that vanishes (no Bye) is gone only after GONE_ROUNDS silent
    rounds with its endpoint and stream unreachable; central then gets its
    registry record with gone and why, and a camera-gone alarm event; the
    alarm stays in status until the camera is back, then clears."""
    central = NsCentral(onvif_net, tmp_path).start()
    try:
        sims = onvif_net.start_cams(2)
        state = tmp_path / "state"
        conf = gw_conf(state, tmp_path / "ring", extra=central.uplink_conf())
        with daemon(onvif_net, tmp_path, conf):
            log = tmp_path / "camgate.log"
            reg = cglib.wait_for("2 cameras in the registry", lambda: (
                state / "state.db").exists() and len(reg_rows(state)) == 2
                and reg_rows(state), 30, POLL_S)
            assert reg, log.read_text()[-3000:]
            name = [n for n, r in reg.items() if r["ip"] == sims[0].ip][0]
            assert cglib.wait_for("record of %s at central" % name,
                                  lambda: central.record(name), 30, POLL_S), \
                log.read_text()[-3000:]
            sims[0].stop()  # power lost: no Bye
            # One or two silent rounds are no evidence.
            done = rounds_done(log)
            assert cglib.wait_for("two more rounds", lambda: rounds_done(log) >= done + 2,
                                  30, POLL_S / 3)
            assert not reg_rows(state)[name]["gone"], reg_rows(state)[name]
            assert cglib.wait_for("%s gone" % name, lambda: reg_rows(state)[name]["gone"],
                                  40, POLL_S), log.read_text()[-3000:]
            row = reg_rows(state)[name]
            assert row.get("missed_rounds", 0) >= GONE_ROUNDS, row
            m = re.match(r"no answer to (\d+) discovery rounds and RTSP unreachable since "
                         r"\d{4}-\d\d-\d\dT", row.get("gone_reason", ""))
            assert m and int(m.group(1)) >= GONE_ROUNDS, row
            # Central: the changed record and the alarm.
            rec = cglib.wait_for("gone record at central", lambda: (
                lambda r: r if r and r.get("gone") else None)(central.record(name)), 30, POLL_S)
            assert rec and rec.get("gone_reason") == row["gone_reason"], rec
            assert cglib.wait_for("camera-gone event at central", lambda: central.alarm_events(
                name, "raised camera-gone"), 30, POLL_S), central.json_files("events/*.json")
            # The audit says what happened, not "config reload". The main
            # thread writes it at its next pass (every 250 ms), which may
            # come after central has the record.
            audit = cglib.wait_for("camera-removed audit row", lambda: db_rows(
                state, "SELECT detail FROM audit WHERE action = 'camera-removed'"
                " AND object = ?", (name,)), 5, POLL_S)
            assert audit and audit[-1][0] == "camera gone: " + row["gone_reason"], audit
            # The alarm stays while the camera is away ...
            time.sleep(3)
            assert active_alarms(state, "camera-gone", name), status_of(state).get("alarms")
            listed = [c for c in status_of(state)["cameras"] if c["name"] == name]
            assert listed and listed[0]["state"] == "gone", status_of(state)["cameras"]
            other = [n for n in reg if n != name][0]
            assert not reg_rows(state)[other]["gone"]
            # ... and clears when it answers again (same device, new address).
            onvif_net.start_cam(0, "--uuid", sims[0].uuid, "--serial", reg[name]["serial"])
            assert cglib.wait_for("%s back" % name, lambda: not reg_rows(state)[name]["gone"],
                                  30, POLL_S), log.read_text()[-3000:]
            assert cglib.wait_for("camera-gone cleared in status", lambda: not active_alarms(
                state, "camera-gone", name), 15, POLL_S), status_of(state).get("alarms")
            assert cglib.wait_for("%s listed as present" % name, lambda: [
                c for c in status_of(state)["cameras"]
                if c["name"] == name and c["state"] != "gone"], 15, POLL_S)
            assert cglib.wait_for("camera-gone cleared at central", lambda: central.alarm_events(
                name, "cleared camera-gone"), 30, POLL_S)
            assert cglib.wait_for("present record at central", lambda: (
                lambda r: r and not r.get("gone"))(central.record(name)), 30, POLL_S)
    finally:
        central.stop()


def rtsp_in_cam_ns(onvif_net, ip, tmp_path, *extra):
    """tests/camsim/rtsp_cam.py on the camera's own address in its
    namespace: the stream a camera serves whatever its ONVIF stack does;
    @extra go to rtsp_cam.py. Binding the port again right after a kill
    may fail for a moment: retried."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    ready = tmp_path / "rtsp.ready"
    log = tmp_path / "rtsp_cam.log"
    if ("rtsp_cam %s" % ip, log) not in onvif_net.logs:
        onvif_net.logs.append(("rtsp_cam %s" % ip, log))
    deadline = time.monotonic() + 60
    while True:
        if ready.exists():
            ready.unlink()
        p = subprocess.Popen(["ip", "netns", "exec", "%s-cam0" % onvif_net.name, cglib.PYTHON,
                              str(cglib.CAMSIM / "rtsp_cam.py"), "--address", ip,
                              "--port", "8554", "--cams", "1", "--size", "640x360",
                              "--bitrate", "1M", "--audio", "none",
                              "--clip-dir", str(cglib.CLIP_DIR), "--ready-file", str(ready),
                              "--max-lifetime", "300"] + list(extra),
                             stderr=open(log, "ab"))
        while not ready.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if ready.exists():
            return p
        p.kill()
        p.wait(timeout=10)
        if time.monotonic() >= deadline:
            raise RuntimeError("rtsp_cam did not start: " + cglib.log_tail(log))
        time.sleep(0.5)


@pytest.mark.budget(150)
def test_daemon_silent_camera_keeps_recording(onvif_net, tmp_path):
    """A camera whose ONVIF stack stops answering (WS-Discovery and HTTP)
    while its RTSP stream still delivers is never gone: it goes on
    recording without a hole, however many rounds it misses."""
    ip = "10.77.0.%d" % onvif_net.next_host[0]
    sim = onvif_net.start_cam(0, "--rtsp", "rtsp://%s:8554/cam1" % ip)
    assert sim.ip == ip
    rtsp = rtsp_in_cam_ns(onvif_net, ip, tmp_path)
    try:
        state = tmp_path / "state"
        conf = gw_conf(state, tmp_path / "ring")
        with daemon(onvif_net, tmp_path, conf):
            log = tmp_path / "camgate.log"
            cam = cglib.wait_for("the camera recording", lambda: [
                c for c in status_of(state).get("cameras", [])
                if c["state"] == "recording" and c["segments"] >= 2], 60, POLL_S)
            assert cam, log.read_text()[-3000:]
            name = cam[0]["name"]
            sim.proc.send_signal(signal.SIGUSR1)  # ONVIF wedged, stream not
            muted_ms = cglib.now_ms()
            done = rounds_done(log)
            assert cglib.wait_for("%d silent rounds" % (GONE_ROUNDS + 2), lambda: rounds_done(
                log) >= done + GONE_ROUNDS + 2, 60, POLL_S), log.read_text()[-3000:]
            row = reg_rows(state)[name]
            assert not row["gone"], row
            assert row.get("missed_rounds", 0) >= GONE_ROUNDS + 1, row
            st = [c for c in status_of(state)["cameras"] if c["name"] == name]
            assert st and st[0]["state"] == "recording", status_of(state)
            assert not active_alarms(state, "camera-gone", name)
            assert not db_rows(state, "SELECT * FROM audit WHERE object = ? AND action IN"
                               " ('camera-removed', 'camera-changed')", (name,))
            unmuted_ms = cglib.now_ms()
            sim.proc.send_signal(signal.SIGUSR2)
            time.sleep(2)
            r = subprocess.run([str(cglib.CAMGATE_BIN), "-c", str(tmp_path / "camgate.conf"),
                                "ring", "ls", name, "--json"],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            ring = [c for c in json.loads(r.stdout)["cameras"] if c["name"] == name][0]
            segs = [s for s in ring["segments"]
                    if s["start_utc_ms"] >= muted_ms - 2000 and s["start_utc_ms"] <= unmuted_ms]
            assert segs and segs[-1]["start_utc_ms"] >= unmuted_ms - 5000, ring["gaps"]
            holes = [g for g in ring["gaps"] if g["to_utc_ms"] >= muted_ms and
                     g["from_utc_ms"] <= unmuted_ms]
            assert not holes, holes
    finally:
        rtsp.terminate()
        rtsp.wait(timeout=10)


@pytest.mark.budget(150)
def test_daemon_stream_outage_raises_offline_not_gone(onvif_net, tmp_path):
    """With a long discovery interval, a stream outage is noticed from the
    stream's own health: camera-offline once it has not delivered for
    30 s, cleared when it delivers again; a camera whose ONVIF endpoint
    still answers is not gone."""
    ip = "10.77.0.%d" % onvif_net.next_host[0]
    onvif_net.start_cam(0, "--rtsp", "rtsp://%s:8554/cam1" % ip)
    rtsp = rtsp_in_cam_ns(onvif_net, ip, tmp_path)
    try:
        state = tmp_path / "state"
        with daemon(onvif_net, tmp_path, gw_conf(state, tmp_path / "ring", interval="1h")):
            log = tmp_path / "camgate.log"
            cam = cglib.wait_for("the camera recording", lambda: [
                c for c in status_of(state).get("cameras", [])
                if c["state"] == "recording" and c["segments"] >= 2], 60, POLL_S)
            assert cam, log.read_text()[-3000:]
            name = cam[0]["name"]
            rtsp.kill()  # the stream dies; ONVIF goes on answering
            rtsp.wait(timeout=10)
            down_ms = cglib.now_ms()
            al = cglib.wait_for("camera-offline", lambda: active_alarms(
                state, "camera-offline", name), 60, POLL_S)
            assert al, log.read_text()[-3000:]
            assert cglib.now_ms() - down_ms >= 30000 - 1000
            assert "not recording since" in al[0]["message"], al
            assert not reg_rows(state)[name]["gone"]
            rtsp = rtsp_in_cam_ns(onvif_net, ip, tmp_path)
            assert cglib.wait_for("camera-offline cleared", lambda: not active_alarms(
                state, "camera-offline", name), 40, POLL_S), log.read_text()[-3000:]
    finally:
        rtsp.kill()
        rtsp.wait(timeout=10)


def _names_on_fresh_gateway(onvif_net, tmp_path, tag, order, uuids):
    """Start the two 'Lobby' cameras in @order (the first answers every
    probe at once, the second 0.6 s later), run a fresh gateway until it
    registered both; {serial: name}."""
    sims = []
    for i, serial in enumerate(order):
        sims.append(onvif_net.start_cam(0, "--name", "Lobby", "--serial", serial,
                                        "--uuid", uuids[serial], "--probe-delay-ms", "0",
                                        "--probe-delay-min-ms", "600" if i else "0"))
    d = tmp_path / tag
    d.mkdir()
    state = d / "state"
    try:
        with daemon(onvif_net, d, gw_conf(state, d / "ring", interval="1h")):
            reg = cglib.wait_for("both cameras registered", lambda: (
                state / "state.db").exists() and len(reg_rows(state)) == 2
                and reg_rows(state), 30, POLL_S)
            assert reg, (d / "camgate.log").read_text()[-3000:]
    finally:
        for s in sims:
            s.stop()
    return {r["serial"]: n for n, r in reg.items()}, state, d


@pytest.mark.budget(150)
def test_daemon_names_do_not_depend_on_answer_order(onvif_net, tmp_path):
    """Two cameras that share a scope name get the same names on two fresh
    gateways that heard them in opposite orders; a console rename is
    kept, audited and sent to central."""
    import uuid as uuidlib
    serials = ["ACME-7731", "ACME-2045"]
    uuids = {s: "urn:uuid:%s" % uuidlib.uuid4() for s in serials}
    first, _, _ = _names_on_fresh_gateway(onvif_net, tmp_path, "gw1", serials, uuids)
    second, _, _ = _names_on_fresh_gateway(onvif_net, tmp_path, "gw2", serials[::-1], uuids)
    assert first == second, (first, second)
    assert first == {"ACME-7731": "lobby-7731", "ACME-2045": "lobby-2045"}, first

    # The installer renames one on the console; the name sticks.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
    import consolelib
    central = NsCentral(onvif_net, tmp_path / "c").start()
    sims = [onvif_net.start_cam(0, "--name", "Lobby", "--serial", s, "--uuid", uuids[s])
            for s in serials]
    d = tmp_path / "gw3"
    d.mkdir()
    state = d / "state"
    gw = None
    try:
        conf = gw_conf(state, d / "ring", extra=central.uplink_conf())
        with daemon(onvif_net, d, conf):
            assert cglib.wait_for("both registered", lambda: (state / "state.db").exists()
                                  and len(reg_rows(state)) == 2, 30, POLL_S)
            gw = consolelib.Gateway(d, camgate=types.SimpleNamespace(
                conf=d / "camgate.conf", state_dir=state))
            c = gw.first_boot()
            c.cmd("camera rename lobby-7731 Lobby-West")
            assert "renamed to Lobby-West at commit" in c.seen, c.seen[-500:]
            c.cmd("commit")
            assert "1 changes committed" in c.seen, c.seen[-500:]
            rows = reg_rows(state)
            assert "Lobby-West" in rows and "lobby-7731" not in rows, rows
            audit = [a for a in gw.audit() if a[2] == "camera-rename"]
            assert audit and audit[-1][1] == "admin" and \
                audit[-1][4] == "name: lobby-7731 -> Lobby-West", audit
            # A round later (kicked by the reload) it is still the installer's name.
            time.sleep(4)
            rows = reg_rows(state)
            assert sorted(rows) == ["Lobby-West", "lobby-2045"], rows
            assert cglib.wait_for("renamed record at central", lambda: (
                lambda r: r and r.get("serial") == "ACME-7731")(central.record("Lobby-West")),
                30, POLL_S), (d / "camgate.log").read_text()[-3000:]
            assert cglib.wait_for("old name removed at central", lambda: (
                lambda r: r and r.get("removed"))(central.record("lobby-7731")), 30, POLL_S)
            assert cglib.wait_for("the daemon records it by its new name", lambda: [
                c for c in status_of(state).get("cameras", []) if c["name"] == "Lobby-West"],
                20, POLL_S), status_of(state)
    finally:
        if gw:
            gw.close()
        for s in sims:
            s.stop()
        central.stop()
