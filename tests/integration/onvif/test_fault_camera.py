# SPDX-License-Identifier: GPL-2.0-or-later
"""Cameras that reboot onto another address (as after a DHCP lease) and
cameras whose password is changed at the camera, under `camgate run` with
[onvif] discovery, inside the namespaces of tests/integration/onvif
(never the machine's own). Each camera is an onvif_sim and a
tests/camsim/rtsp_cam.py on the camera's address in its namespace.

Proved: a camera that loses power and comes back at a new address (same
endpoint reference and serial, a Hello) is followed there: its registry
record takes the new address and stream URI (a change queued for central,
which receives it), recording resumes from the new address, and every
segment recorded before is still in the ring unchanged. A password
changed at the camera: ONVIF and RTSP refuse the gateway, the refusal is
named in the stream's error and in the R11 fault detail ("ONVIF auth
refused"), nothing stored is lost; once the installer sets the new
password (config file, SIGHUP) recording resumes and the fault closes."""

import json
import signal
import subprocess

import pytest

import cglib
from test_daemon_discovery import (NsCentral, POLL_S, daemon, db_rows, gw_conf, reg_rows,
                                   rtsp_in_cam_ns, status_of)

PASSWORD = "cam-pass-1"  # as conftest.py gives the simulators
NEW_PASSWORD = "cam-pass-2"


def ring(conf, name):
    """The camera's ring listing: {"segments": [...], "gaps": [...]}."""
    r = subprocess.run([str(cglib.CAMGATE_BIN), "-c", str(conf), "ring", "ls", name, "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [c for c in json.loads(r.stdout)["cameras"] if c["name"] == name][0]


def hashes(conf, name):
    return {s["seq"]: s["sha256"] for s in ring(conf, name)["segments"]}


def recording(state, name=None, after_ms=0, n=2):
    """The status entry of a camera recording with at least @n segments
    (the last one after @after_ms), or None."""
    for c in status_of(state).get("cameras", []):
        if (name is None or c["name"] == name) and c["state"] == "recording" and \
           c["segments"] >= n and c.get("last_segment_utc_ms", after_ms) >= after_ms:
            return c
    return None


def power_off(onvif_net, sim, rtsp, ip):
    """The camera's ONVIF stack and stream die at once (no Bye) and
    its address goes away."""
    for p in (sim.proc, rtsp):
        p.kill()
        p.wait(timeout=10)
    subprocess.run(["ip", "-n", "%s-cam0" % onvif_net.name, "addr", "del",
                    "%s/%d" % (ip, onvif_net.prefix), "dev", "%s-c0" % onvif_net.name],
                   check=True, timeout=10)


@pytest.mark.budget(150)
def test_camera_reboots_onto_new_address(onvif_net, tmp_path):
    central = NsCentral(onvif_net, tmp_path / "c").start()
    ip1 = "10.77.0.%d" % onvif_net.next_host[0]
    sim = onvif_net.start_cam(0, "--rtsp", "rtsp://%s:8554/cam1" % ip1)
    rtsp = rtsp_in_cam_ns(onvif_net, ip1, tmp_path / "a")
    state = tmp_path / "state"
    conf = tmp_path / "camgate.conf"
    try:
        with daemon(onvif_net, tmp_path, gw_conf(state, tmp_path / "ring", interval="1h",
                                                 extra=central.uplink_conf())):
            log = tmp_path / "camgate.log"
            cam = cglib.wait_for("the camera recording", lambda: recording(state, n=3),
                                 60, POLL_S)
            assert cam, log.read_text()[-3000:]
            name = cam["name"]
            row = reg_rows(state)[name]
            assert row["ip"] == ip1, row
            assert cglib.wait_for("record at central", lambda: central.record(name), 30, POLL_S)
            changes = db_rows(state, "SELECT count(*) FROM registry_changes WHERE camera = ?",
                              (name,))[0][0]
            # Power cut: no Bye; the lease renews to another address.
            before = hashes(conf, name)
            power_off(onvif_net, sim, rtsp, ip1)
            down_ms = cglib.now_ms()
            ip2 = "10.77.0.%d" % onvif_net.next_host[0]
            # The same device: endpoint reference, serial and MAC kept.
            sim2 = onvif_net.start_cam(0, "--uuid", sim.uuid, "--serial", row["serial"],
                                       "--mac", row["mac"], "--hello", "--rtsp", "rtsp://%s:8554/cam1" % ip2)
            rtsp = rtsp_in_cam_ns(onvif_net, ip2, tmp_path / "b")
            assert sim2.ip == ip2 and sim2.uuid == sim.uuid
            # The Hello is what tells: the discovery interval is 1 h.
            moved = cglib.wait_for("the registry at the new address", lambda: (
                lambda r: r if r["ip"] == ip2 else None)(reg_rows(state)[name]), 20, POLL_S)
            assert moved, log.read_text()[-3000:]
            assert moved["stream_uri"] == "rtsp://%s:8554/cam1" % ip2, moved
            assert not moved["gone"] and moved["serial"] == row["serial"], moved
            assert sorted(reg_rows(state)) == [name]  # the same camera, not a second one
            assert db_rows(state, "SELECT count(*) FROM registry_changes WHERE camera = ?",
                           (name,))[0][0] > changes
            back = cglib.wait_for("recording from the new address", lambda: recording(
                state, name, after_ms=down_ms, n=1), 40, POLL_S)
            assert back, log.read_text()[-3000:]
            t_back = cglib.now_ms()
            cglib.wait_for("two segments from the new address", lambda: len(
                [s for s in ring(conf, name)["segments"] if s["start_utc_ms"] > down_ms]) >= 2,
                20, POLL_S)
            rec = cglib.wait_for("the new address at central", lambda: (
                lambda r: r if r and r.get("address") == ip2 else None)(central.record(name)),
                30, POLL_S)
            assert rec and rec["stream_uri"] == moved["stream_uri"], rec
            after = hashes(conf, name)
            lost = {k for k, h in before.items() if after.get(k) != h}
            assert not lost, "segments recorded before the move lost: %s" % sorted(lost)
            audit = db_rows(state, "SELECT action, detail FROM audit WHERE object = ?"
                            " AND action LIKE 'camera-%'", (name,))
            print("camera moved %s -> %s: followed by its Hello, recording again %.1f s after "
                  "the new address came up; %d segments recorded before kept; audit %s"
                  % (ip1, ip2, (t_back - down_ms) / 1000, len(before), audit))
    finally:
        rtsp.kill()
        rtsp.wait(timeout=10)
        central.stop()


@pytest.mark.budget(150)
def test_camera_password_changed(onvif_net, tmp_path):
    ip = "10.77.0.%d" % onvif_net.next_host[0]
    sim = onvif_net.start_cam(0, "--rtsp", "rtsp://%s:8554/cam1" % ip)
    rtsp = rtsp_in_cam_ns(onvif_net, ip, tmp_path / "a", "--user", "admin", "--password", PASSWORD)
    state = tmp_path / "state"
    conf = tmp_path / "camgate.conf"
    text = gw_conf(state, tmp_path / "ring", interval="5s",
                   extra="[compliance]\nfault_after = 1s\nauth_refused_max = 2\n")
    try:
        with daemon(onvif_net, tmp_path, text) as proc:
            log = tmp_path / "camgate.log"
            cam = cglib.wait_for("the camera recording", lambda: recording(state, n=3),
                                 60, POLL_S)
            assert cam, log.read_text()[-3000:]
            name = cam["name"]
            # The password is changed at the camera (ONVIF and RTSP), which
            # restarts its services (no Bye).
            before = hashes(conf, name)
            power_off(onvif_net, sim, rtsp, ip)
            onvif_net.start_cam(0, "--uuid", sim.uuid, "--serial", "SN-%s" % ip,
                                "--pass", NEW_PASSWORD, "--rtsp", "rtsp://%s:8554/cam1" % ip,
                                ip=ip)
            rtsp = rtsp_in_cam_ns(onvif_net, ip, tmp_path / "b", "--user", "admin",
                            "--password", NEW_PASSWORD)
            def refused():
                c = next((c for c in status_of(state).get("cameras", [])
                          if c["name"] == name), None)
                e = (c or {}).get("last_error", "")
                return c if c and c["state"] != "recording" and \
                    ("401" in e or "nauthorized" in e) else None
            err = cglib.wait_for("the stream refused", refused, 30, POLL_S)
            assert err, status_of(state).get("cameras")
            detail = cglib.wait_for("ONVIF auth refused in the fault detail", lambda: (
                lambda r: r[0][1] if r and r[0][0] and "ONVIF auth refused" in r[0][1]
                else None)(db_rows(state, "SELECT open, detail FROM compliance_duties"
                                   " WHERE kind = 'fault' AND camera = ?", (name,))),
                30, POLL_S)
            assert detail, log.read_text()[-3000:]
            # The installer sets the new password and reloads.
            conf.write_text(conf.read_text().replace("password = %s" % PASSWORD,
                                                     "password = %s" % NEW_PASSWORD))
            proc.send_signal(signal.SIGHUP)
            fixed_ms = cglib.now_ms()
            back = cglib.wait_for("recording again", lambda: recording(
                state, name, after_ms=fixed_ms, n=1), 40, POLL_S)
            assert back, log.read_text()[-3000:]
            assert cglib.wait_for("the fault closed", lambda: not db_rows(
                state, "SELECT open FROM compliance_duties WHERE kind = 'fault'"
                " AND camera = ? AND open = 1", (name,)), 30, POLL_S), \
                db_rows(state, "SELECT * FROM compliance_duties WHERE kind = 'fault'")
            after = hashes(conf, name)
            lost = {k for k, h in before.items() if after.get(k) != h}
            assert not lost, "segments recorded before the change lost: %s" % sorted(lost)
            print("password changed at the camera: stream error %r, fault detail %r; recording "
                  "again %.1f s after the reload; %d segments recorded before kept"
                  % (err.get("last_error"), detail, (cglib.now_ms() - fixed_ms) / 1000,
                     len(before)))
    finally:
        rtsp.kill()
        rtsp.wait(timeout=10)
