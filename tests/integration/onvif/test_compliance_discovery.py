# SPDX-License-Identifier: GPL-2.0-or-later
"""R2 from discovery (docs/compliance.md): a camera the daemon discovers,
and another device answering later at the same address, each reach
central (nginx in the gateway's namespace) as a schema-valid registry
record whose deadline is the 10th working day (UTC+7) after the change;
central's acknowledgement closes the camera's "registry" duty. Real
multicast, inside namespaces."""

import datetime
import json
import subprocess

import cglib
import pytest

from test_daemon_discovery import NsCentral, POLL_S, daemon, db_rows, gw_conf, reg_rows

DAY_MS = 86400000
TZ_MS = 7 * 3600 * 1000
DEFAULTS = "[compliance]\nunit = ward-3-police\nusers = police\nlocation = ward-3\n" \
    "owner = ward-3\n"


def ms_of(iso):
    return int(datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000)


def workday_deadline(changed_ms, n):
    """lib/workdays.h's rule, computed independently (no holidays)."""
    day = (changed_ms + TZ_MS) // DAY_MS
    while n:
        day += 1
        if (day + 3) % 7 < 5:  # 1970-01-01 was a Thursday
            n -= 1
    return (day + 1) * DAY_MS - TZ_MS


def duty_open(state, cam):
    rows = db_rows(state, "SELECT open FROM compliance_duties WHERE kind = 'registry'"
                   " AND camera = ?", (cam,))
    return rows[0][0] if rows else None


@pytest.mark.budget(150)
def test_discovery_changes_reach_central_with_deadline(onvif_net, tmp_path):
    central = NsCentral(onvif_net, tmp_path).start()
    try:
        sims = onvif_net.start_cams(1)
        state = tmp_path / "state"
        conf = gw_conf(state, tmp_path / "ring", extra=central.uplink_conf() + DEFAULTS)
        with daemon(onvif_net, tmp_path, conf):
            log = tmp_path / "camgate.log"
            reg = cglib.wait_for("the camera in the registry", lambda: (
                state / "state.db").exists() and len(reg_rows(state)) == 1
                and reg_rows(state), 30, POLL_S)
            assert reg, log.read_text()[-3000:]
            name = next(iter(reg))
            rec = cglib.wait_for("record of %s at central" % name,
                                 lambda: central.record(name), 30, POLL_S)
            assert rec and rec["update_method"] == "onvif-auto", rec
            assert ms_of(rec["deadline"]) == workday_deadline(ms_of(rec["changed_at"]), 10), rec
            assert rec["provider_unit"] == "ward-3-police", rec
            assert cglib.wait_for("duty closed by the acknowledgement",
                                  lambda: duty_open(state, name) == 0, 30, POLL_S), \
                db_rows(state, "SELECT * FROM compliance_duties")
            # Another device at the same address: a new serial in the record.
            old_serial = rec["serial"]
            sims[0].stop()
            subprocess.run(["ip", "-n", "%s-cam0" % onvif_net.name, "addr", "del",
                            "%s/%d" % (sims[0].ip, onvif_net.prefix), "dev",
                            "%s-c0" % onvif_net.name], check=True, timeout=10)
            onvif_net.start_cam(0, "--serial", "SN-REPLACED-77", ip=sims[0].ip)
            rec2 = cglib.wait_for("the new device's record at central", lambda: (
                lambda r: r if r and r.get("serial") not in (None, old_serial) else None)(
                    central.record(name)), 60, POLL_S)
            assert rec2, (central.record(name), log.read_text()[-3000:])
            assert ms_of(rec2["deadline"]) == workday_deadline(ms_of(rec2["changed_at"]), 10)
            assert cglib.wait_for("duty closed again", lambda: duty_open(state, name) == 0,
                                  30, POLL_S)
        counts = central.up._check_objects(central.nginx, "gw-gone")
        assert counts.get("registry-record.schema.json", 0) >= 1, counts
    finally:
        central.stop()


def fault_detail(state, cam):
    rows = db_rows(state, "SELECT open, detail FROM compliance_duties WHERE kind = 'fault'"
                   " AND camera = ?", (cam,))
    return rows[0][1] if rows and rows[0][0] else ""


def status_fault(state, cam):
    try:
        st = json.loads((state / "status.json").read_text())
    except (OSError, ValueError):
        return None
    return next((r for r in st.get("compliance", [])
                 if r["kind"] == "fault" and r["camera"] == cam and r["open"]), None)


@pytest.mark.budget(120)
def test_health_signals_in_fault_detail(onvif_net, tmp_path):
    """R11 health from discovery (docs/compliance.md): a camera whose clock
    is 600 s ahead, and one that refuses the [onvif] credentials after they
    changed at the camera, each have the fault duty open with a detail
    naming the signal, in state.db and in the status object (status.json).
    (The simulators serve no RTSP: the streams are down too, and the
    detail says both.)"""
    skewed = onvif_net.start_cam(0, "--skew", "600")
    other = onvif_net.start_cam(0)
    state = tmp_path / "state"
    conf = gw_conf(state, tmp_path / "ring", interval="5s",
                   extra=DEFAULTS + "fault_after = 1s\nclock_max = 5m\nauth_refused_max = 2\n")
    with daemon(onvif_net, tmp_path, conf):
        log = tmp_path / "camgate.log"
        reg = cglib.wait_for("both cameras in the registry", lambda: (
            state / "state.db").exists() and len(reg_rows(state)) == 2
            and reg_rows(state), 30, POLL_S)
        assert reg, log.read_text()[-3000:]
        by_ip = {r["ip"]: n for n, r in reg.items()}
        sk, ot = by_ip[skewed.ip], by_ip[other.ip]
        assert abs(reg[sk]["clock_offset_ms"] - 600000) < 5000, reg[sk]
        d = cglib.wait_for("clock in the fault detail", lambda: (
            lambda x: x if "clock 600 s off" in x else None)(fault_detail(state, sk)),
            30, POLL_S)
        assert d, db_rows(state, "SELECT * FROM compliance_duties")
        assert "ONVIF auth" not in fault_detail(state, ot)
        # The other camera's password changes at the camera.
        other.stop()
        subprocess.run(["ip", "-n", "%s-cam0" % onvif_net.name, "addr", "del",
                        "%s/%d" % (other.ip, onvif_net.prefix), "dev",
                        "%s-c0" % onvif_net.name], check=True, timeout=10)
        onvif_net.start_cam(0, "--uuid", other.uuid, "--serial", reg[ot]["serial"],
                            "--pass", "changed-at-the-camera", ip=other.ip)
        d = cglib.wait_for("auth refusals in the fault detail", lambda: (
            lambda x: x if "ONVIF auth refused" in x else None)(fault_detail(state, ot)),
            40, POLL_S)
        assert d, (db_rows(state, "SELECT * FROM compliance_duties"), log.read_text()[-3000:])
        n = int(d.split("ONVIF auth refused ")[1].split()[0])
        assert n >= 2, d
        r = cglib.wait_for("the refusals in status.json", lambda: (
            lambda x: x if x and "ONVIF auth refused" in x["detail"] else None)(
                status_fault(state, ot)), 10, POLL_S)
        assert r and r["requirement"] == "R11", status_fault(state, ot)
        r = status_fault(state, sk)
        assert r and "clock 600 s off" in r["detail"], r
