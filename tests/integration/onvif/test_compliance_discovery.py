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
