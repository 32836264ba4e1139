# SPDX-License-Identifier: GPL-2.0-or-later
"""Compliance duties through `camgate run` and a real central (nginx over
mutual TLS), docs/compliance.md:
 - R2: a camera of the config file (a manual camera), a central
   set-setting of a gateway default and a console edit each reach central
   within seconds as a schema-valid registry record whose deadline is the
   10th working day after the change (UTC+7); central's acknowledgement
   closes the duty; with central down, a change goes overdue under a clock
   moved 20 days ahead (the CAMGATE_TEST_CLOCK_FILE seam), and closes when
   central is back;
 - R11: a camera that goes away has its fault opened, due soon, overdue
   (clock moved ahead), and closed when it records again; each transition
   is a "compliance" event at central and the status object carries the
   table; maintenance done on central's command renews the duty."""

import datetime
import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

import cglib

sys.path.append(str(Path(__file__).resolve().parent.parent / "console"))
from consolelib import Gateway, console_supported  # noqa: E402

GW = "gw-test-01"
DAY_MS = 86400000
TZ_MS = 7 * 3600 * 1000
DEFAULTS = "\n[compliance]\nunit = ward-3-police\nusers = police,transport\nlocation = ward-3\n" \
    "owner = ward-3\nfault_after = 1s\n"


def ms_of(iso):
    return int(datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000)


def workday_deadline(changed_ms, n):
    """The end (UTC ms) of the n-th working day (Mon-Fri, no holidays in
    these tests) after the UTC+7 day of @changed_ms: lib/workdays.h's rule,
    computed independently."""
    day = (changed_ms + TZ_MS) // DAY_MS
    while n:
        day += 1
        if (day + 3) % 7 < 5:  # day 0 (1970-01-01) was a Thursday
            n -= 1
    return (day + 1) * DAY_MS - TZ_MS


def record(central, cam):
    f = central.file("gateways/%s/registry/%s.json" % (GW, cam))
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError):
        return None


def duty(cg, kind, cam):
    try:
        rows = cg.db_rows("SELECT * FROM compliance_duties WHERE kind = ? AND camera = ?",
                          (kind, cam))
    except sqlite3.OperationalError:
        return None
    return rows[0] if rows else None


def events(central, cam):
    out = []
    for p in central.file("gateways/%s/events" % GW).glob("*.json"):
        try:
            e = json.loads(p.read_text())
        except ValueError:
            continue
        if e["type"] == "compliance" and e["camera"] == cam:
            out.append(e["message"])
    return out


def set_offset(path, ms):
    tmp = path.with_suffix(".tmp")
    tmp.write_text("%d\n" % ms)
    tmp.replace(path)


def check_deadline(rec):
    assert ms_of(rec["deadline"]) == workday_deadline(ms_of(rec["changed_at"]), 10), rec


@pytest.mark.budget(120)
def test_registry_every_source(env, central_mtls, uplink_config, schema_check, monkeypatch,
                               tmp_path):
    clock = tmp_path / "clock-offset"
    set_offset(clock, 0)
    monkeypatch.setenv("CAMGATE_TEST_CLOCK_FILE", str(clock))
    cg = env.camgate()
    # A manual camera: a section of the config file, nothing listening.
    uplink_config(cg, central_mtls, {"door": "rtsp://127.0.0.1:9/none"},
                  gateway={"status_interval": "1s"}, commands_interval="1s")
    cg.write_raw(cg.conf.read_text() + DEFAULTS)
    cg.start(wait_ring=False)

    # 1. The config file's camera: registered as manual, sent with its deadline.
    t0 = time.monotonic()
    rec = cglib.poll(lambda: record(central_mtls, "door"), 20)
    assert rec, "no registry record of the manual camera at central"
    assert time.monotonic() - t0 < 20
    assert rec["update_method"] == "manual" and rec["provider_unit"] == "ward-3-police", rec
    assert rec["users"] == ["police", "transport"], rec
    check_deadline(rec)
    # Central's acknowledgement closes the duty.
    d = cglib.poll(lambda: (duty(cg, "registry", "door") or {}).get("open") == 0 and
                 duty(cg, "registry", "door"), 15)
    assert d and d["state"] == "ok", duty(cg, "registry", "door")

    # 2. Central sets a gateway default: every record goes again.
    cmds = central_mtls.file("gateways/%s/commands" % GW)
    cmds.mkdir(parents=True, exist_ok=True)
    (cmds / "s1.json").write_text(json.dumps({"command": "set-setting", "args": {
        "key": "compliance.owner", "value": "city-hall"}}))
    rec = cglib.poll(lambda: (record(central_mtls, "door") or {}).get("owner") == "city-hall" and
                   record(central_mtls, "door"), 30)
    assert rec, record(central_mtls, "door")
    check_deadline(rec)
    # Central sets the holiday list; a malformed one fails with the reason.
    (cmds / "h1.json").write_text(json.dumps({"command": "holidays", "args": {
        "holidays": "2030-01-01, 2030-02-01..2030-02-05"}}))
    (cmds / "h2.json").write_text(json.dumps({"command": "holidays", "args": {
        "holidays": "2030-02-30"}}))
    results = central_mtls.file("gateways/%s/results" % GW)
    got = cglib.poll(lambda: (results / "h1.json").exists() and (results / "h2.json").exists()
                   and {n: json.loads((results / (n + ".json")).read_text())
                        for n in ("h1", "h2")}, 30)
    assert got and got["h1"]["status"] == "done", got
    assert got["h2"]["status"] == "failed" and "YYYY-MM-DD" in got["h2"]["message"], got
    assert "holidays = 2030-01-01, 2030-02-01..2030-02-05" in cg.conf.read_text()

    # 3. A console edit reaches central without any resend command.
    if console_supported():
        gw = Gateway(env.dir, camgate=cg)
        try:
            c = gw.first_boot()
            out = c.cmd("camera set door location=north-gate manufacturer=Acme model=X1")
            out = c.cmd("commit")
            t_commit = time.monotonic()
            assert "changes committed" in out, out
            out = c.cmd("show compliance")
            assert "registry" in out and "door" in out, out
            # R11 on the console: audited with the user who did it.
            out = c.cmd('maintenance done door --note "lens cleaned, housing resealed"')
            assert "maintenance of door recorded" in out, out
            assert "usage" in c.cmd("maintenance done door lens")
            assert "no camera" in c.cmd("maintenance done nonesuch --note x")
            c.line("exit")
        finally:
            gw.close()
        rec = cglib.poll(lambda: (record(central_mtls, "door") or {}).get("location") ==
                       {"description": "north-gate"} and record(central_mtls, "door"), 20)
        assert rec, record(central_mtls, "door")
        assert rec["manufacturer"] == "Acme" and rec["model"] == "X1", rec
        # "Within seconds": the commit reloads, the reload ships the change.
        print("figure: console commit to record at central: %.2f s"
              % (time.monotonic() - t_commit))
        assert time.monotonic() - t_commit < 10
        check_deadline(rec)

    # 4. Central down: a new camera's duty opens and, 20 days later by the
    # gateway's clock, is overdue with its alarm; central back: closed.
    central_mtls.stop()
    cg.write_raw(cg.conf.read_text() + "\n[camera:yard]\nurl = rtsp://127.0.0.1:9/yard\n")
    cg.hup()
    d = cglib.poll(lambda: (duty(cg, "registry", "yard") or {}).get("open") == 1 and
                 duty(cg, "registry", "yard"), 20)
    assert d and d["state"] == "ok", d
    assert d["deadline_ms"] == workday_deadline(d["opened_ms"], 10), d
    set_offset(clock, 20 * DAY_MS)
    d = cglib.poll(lambda: (duty(cg, "registry", "yard") or {}).get("state") == "overdue" and
                 duty(cg, "registry", "yard"), 20)
    assert d, duty(cg, "registry", "yard")
    # The alarm follows the duty's transition (its own write, same tick).
    want = {"code": "compliance-registry", "camera": "yard"}
    assert cglib.poll(lambda: want in cg.db_rows(
        "SELECT code, camera FROM alarms WHERE active = 1"), 10), \
        cg.db_rows("SELECT code, camera FROM alarms WHERE active = 1")
    central_mtls.start()
    d = cglib.poll(lambda: (duty(cg, "registry", "yard") or {}).get("open") == 0 and
                 duty(cg, "registry", "yard"), 40)
    assert d, duty(cg, "registry", "yard")
    assert cglib.poll(lambda: any("closed" in m for m in events(central_mtls, "yard")), 40)
    msgs = events(central_mtls, "yard")
    assert any("overdue" in m for m in msgs), msgs

    def status_kinds():
        try:
            st = json.loads(central_mtls.file("gateways/%s/status.json" % GW).read_text())
        except (OSError, ValueError):
            return None
        kinds = {(r["kind"], r["camera"], r["state"]) for r in st.get("compliance", [])}
        return ("registry", "yard", "ok") in kinds and ("maintenance", "door", "ok") in kinds
    assert cglib.poll(status_kinds, 20), central_mtls.file("gateways/%s/status.json" % GW)
    assert cg.stop() == 0
    if console_supported():
        rows = cg.db_rows("SELECT actor, object, detail FROM audit"
                          " WHERE action = 'maintenance-done'")
        assert rows == [{"actor": "admin", "object": "door",
                         "detail": "lens cleaned, housing resealed"}], rows
    counts = schema_check(central_mtls, GW)
    assert counts.get("registry-record.schema.json", 0) >= 2, counts
    assert counts.get("status.schema.json", 0) >= 1, counts


@pytest.mark.budget(150)
def test_fault_lifecycle_and_maintenance(env, central_mtls, uplink_config, schema_check,
                                         monkeypatch, tmp_path):
    clock = tmp_path / "clock-offset"
    set_offset(clock, 0)
    monkeypatch.setenv("CAMGATE_TEST_CLOCK_FILE", str(clock))
    cams = env.cameras(cams=1)
    cg = env.camgate()
    uplink_config(cg, central_mtls, {"cam1": cams.url(1)},
                  gateway={"status_interval": "1s"}, commands_interval="1s")
    cg.write_raw(cg.conf.read_text() + DEFAULTS)
    cg.start()
    cg.wait_segments({"cam1": 1}, 60)
    assert cglib.poll(lambda: duty(cg, "maintenance", "cam1"), 15)

    # The camera goes away: after fault_after (1 s) the fault opens.
    cams.stop()
    d = cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("open") == 1 and
                 duty(cg, "fault", "cam1"), 60)
    assert d, duty(cg, "fault", "cam1")
    assert d["deadline_ms"] == workday_deadline(d["opened_ms"], 5), d
    now = int(time.time() * 1000)
    set_offset(clock, d["soon_ms"] - now + 3600000)
    assert cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("state") == "due-soon", 20)
    set_offset(clock, d["deadline_ms"] - now + 3600000)
    assert cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("state") == "overdue", 20)

    # Back: it records again and the fault closes.
    cams.start()
    assert cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("open") == 0, 90), \
        duty(cg, "fault", "cam1")
    assert cglib.poll(lambda: any("closed" in m and m.startswith("fault")
                                for m in events(central_mtls, "cam1")), 20)
    msgs = [m for m in events(central_mtls, "cam1") if m.startswith("fault")]
    for what in ("opened", "due-soon", "overdue", "closed"):
        assert any(what in m for m in msgs), (what, msgs)

    # Maintenance: 6 months from the camera's first tracking, then
    # overdue by the clock; central records one done: renewed.
    m = duty(cg, "maintenance", "cam1")
    set_offset(clock, m["deadline_ms"] - int(time.time() * 1000) + 3600000)
    assert cglib.poll(lambda: (duty(cg, "maintenance", "cam1") or {}).get("state") ==
                    "overdue", 20)
    cmds = central_mtls.file("gateways/%s/commands" % GW)
    cmds.mkdir(parents=True, exist_ok=True)
    (cmds / "m1.json").write_text(json.dumps({"command": "maintenance-done", "args": {
        "camera": "cam1", "note": "lens cleaned"}}))
    (cmds / "m2.json").write_text(json.dumps({"command": "maintenance-done", "args": {
        "camera": "nonesuch", "note": "x"}}))
    assert cglib.poll(lambda: (duty(cg, "maintenance", "cam1") or {}).get("state") == "ok", 30), \
        duty(cg, "maintenance", "cam1")
    res = central_mtls.file("gateways/%s/results/m2.json" % GW)
    assert cglib.poll(lambda: res.exists(), 20)
    assert json.loads(res.read_text())["status"] == "failed"
    assert cg.stop() == 0
    rows = cg.db_rows("SELECT actor, action, object, detail FROM audit"
                      " WHERE action = 'maintenance-done'")
    assert rows == [{"actor": "central", "action": "maintenance-done", "object": "cam1",
                     "detail": "lens cleaned"}], rows
    counts = schema_check(central_mtls, GW)
    assert counts.get("event.schema.json", 0) >= 4, counts
