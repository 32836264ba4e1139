# SPDX-License-Identifier: GPL-2.0-or-later
"""The policy commands from central and their console side, through the
real daemon and nginx: central's blocklist (R9) refuses and stops a
matching camera until an admin overrides it on the console or the list
changes; malformed and unknown commands get a result with the reason;
security events (R16) reach central ahead of queued segments; the
retention forecast (R10) raises its alarm before footage under the floor
is lost."""

import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

import cglib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
from consolelib import Gateway  # noqa: E402

GW = "gw-policy-01"


def _registry_row(cg, name, make, model, firmware):
    """A camera's device information as discovery leaves it (the table
    exists once the daemon ran)."""
    db = sqlite3.connect(str(cg.state_dir / "state.db"), timeout=10)
    with db:
        db.execute("INSERT INTO registry_cameras(name, manufacturer, model, firmware,"
                   " update_method) VALUES (?, ?, ?, ?, 'manual')",
                   (name, make, model, firmware))
    db.close()


def _first_run(cg):
    cg.start(wait_ring=False)

    def tables():
        try:
            return cg.db_rows("SELECT name FROM sqlite_master WHERE name = 'registry_cameras'")
        except sqlite3.OperationalError:
            return None
    assert cglib.poll(tables, 15)
    assert cg.stop() == 0


def _results(central, n):
    results = central.file("gateways/%s/results" % GW)
    return cglib.poll(lambda: len(list(results.glob("*.json"))) >= n and
                    {p.stem: json.loads(p.read_text()) for p in results.glob("*.json")}, 30)


def _command(central, cid, body):
    cmds = central.file("gateways/%s/commands" % GW)
    cmds.mkdir(parents=True, exist_ok=True)
    (cmds / (cid + ".json")).write_text(json.dumps(body))


def _audit(cg, action):
    return cg.db_rows("SELECT actor, object, detail FROM audit WHERE action = ? ORDER BY id",
                      (action,))


def _growing(cg, camera, secs):
    n0 = len(cg.segments(camera))
    time.sleep(secs)
    return len(cg.segments(camera)) > n0


@pytest.mark.budget(150)
def test_blocklist_refuse_override_stop(env, central_mtls, uplink_config, schema_check,
                                        tmp_path):
    srv = env.cameras(cams=2)
    cg = env.camgate()
    uplink_config(cg, central_mtls, {"door": srv.url(1), "yard": srv.url(2)},
                  gateway={"id": GW, "status_interval": "1s"}, commands_interval="1s")
    _first_run(cg)
    _registry_row(cg, "door", "Acme", "X100-PRO", "1.0.3")
    _registry_row(cg, "yard", "Other", "Y1", "2.0")
    cg.start()
    cg.wait_segments({"door": 2, "yard": 2}, 30)

    # A recording camera that becomes blocked stops; malformed lists
    # change nothing and say why; an unknown command is refused.
    _command(central_mtls, "b1", {"command": "blocklist", "args": {"entries": [
        {"make": "acme", "model": "X100*", "reason": "default password, CVE-2026-0001"}]}})
    _command(central_mtls, "b2", {"command": "blocklist", "args": {"entries": "acme"}})
    _command(central_mtls, "b3", {"command": "blocklist", "args": {"entries": [{}]}})
    _command(central_mtls, "b4", {"command": "blocklist-everything"})
    got = _results(central_mtls, 4)
    assert got, "no results"
    assert got["b1"]["status"] == "done", got["b1"]
    assert got["b2"]["status"] == "failed" and "array" in got["b2"]["message"], got["b2"]
    assert got["b3"]["status"] == "failed" and "every camera" in got["b3"]["message"], got["b3"]
    assert got["b4"]["status"] == "refused" and "unknown command" in got["b4"]["message"], \
        got["b4"]
    assert cglib.poll(lambda: _audit(cg, "camera-blocked"), 10), "no camera-blocked audit row"
    assert [r["object"] for r in _audit(cg, "camera-blocked")] == ["door"]
    assert cglib.poll(lambda: _audit(cg, "camera-stopped"), 10)
    time.sleep(1)
    assert not _growing(cg, "door", 5), "a blocked camera still records"
    assert _growing(cg, "yard", 5), "a camera off the list stopped"
    events = central_mtls.file("gateways/%s/events" % GW)
    assert cglib.poll(lambda: any("camera-blocked" in p.read_text()
                                for p in events.glob("*.json")), 15), "no alarm at central"

    # An admin overrides it on the console with a reason: it records again.
    g = Gateway(tmp_path, camgate=cg)
    admin = g.first_boot()
    out = admin.cmd("blocklist override door")
    assert "usage" in out or "error" in out, out
    out = admin.cmd("blocklist override door vetted by the unit, firmware 1.0.4 due")
    assert "may record" in out, out
    out = admin.cmd("blocklist show")
    assert "X100*" in out and "vetted by the unit" in out, out
    assert cglib.poll(lambda: _audit(cg, "camera-unblocked"), 10)
    assert cglib.poll(lambda: _growing(cg, "door", 3), 20), "override did not restart it"
    over = _audit(cg, "blocklist-override")
    assert over and over[0]["actor"] == "admin" and "vetted" in over[0]["detail"], over

    # A new list from central ends the override.
    _command(central_mtls, "b5", {"command": "blocklist", "args": {"entries": [
        {"model": "x100-*", "firmware": "1.0.*"}]}})
    assert cglib.poll(lambda: len(_audit(cg, "camera-blocked")) == 2, 20)
    time.sleep(1)
    assert not _growing(cg, "door", 5), "the new list did not stop it again"
    admin.line("exit")
    assert cg.stop() == 0
    srv.stop()
    counts = schema_check(central_mtls, GW)
    assert counts.get("command-result.schema.json") == 5, counts


def _security_events(central):
    out = []
    for p in central.file("gateways/%s/events" % GW).glob("*.json"):
        e = json.loads(p.read_text())
        if e["type"] == "security":
            out.append((p.name, e))
    return out


@pytest.mark.budget(150)
def test_security_events_ahead_of_segments(env, central_mtls, uplink_config, schema_check,
                                           tmp_path):
    """Segments queue while central is unreachable; the audit log is
    edited meanwhile. At the next start the chain check finds it and its
    security event reaches central ahead of the queued segments (only a
    transfer already in flight may precede it). Then a burst of failed
    console logins and the lockout it causes are reported the same way."""
    srv = env.cameras(cams=2)
    cg = env.camgate()
    cams = {"door": srv.url(1), "yard": srv.url(2)}
    dead = "https://127.0.0.1:%d/" % cglib.free_port()
    uplink_config(cg, central_mtls, cams, gateway={"id": GW}, base_url=dead)
    cg.start()
    cg.wait_segments({"door": 4, "yard": 4}, 40)
    assert cg.stop() == 0
    queued = sum(len(c["segments"]) for c in cg.ring_ls()["cameras"])
    assert queued >= 8
    db = sqlite3.connect(str(cg.state_dir / "state.db"), timeout=10)
    with db:
        db.execute("UPDATE audit SET detail = detail || ' (edited)'"
                   " WHERE id = (SELECT max(id) FROM audit)")
    db.close()

    # Central back, one transfer at a time and slow, so the order shows.
    uplink_config(cg, central_mtls, cams, gateway={"id": GW}, parallel="1",
                  rate_limit="256K")
    cg.start()
    ev = cglib.poll(lambda: [e for e in _security_events(central_mtls)
                           if "audit-chain" in e[1]["message"]], 30)
    assert ev, "no audit-chain security event at central"
    name = ev[0][0]
    access = [a for a in central_mtls.access() if a[1] == "PUT"]
    at = [i for i, a in enumerate(access) if a[2].endswith("/events/" + name)]
    assert at, "event not in nginx's log"
    before = [a for a in access[:at[0]] if a[2].endswith(".m4s")]
    assert len(before) <= 1, "segments sent ahead of the security event: %s" % before
    assert queued - len(before) >= 6, "the backlog was gone before the event"
    alarms = cg.db_rows("SELECT code FROM alarms WHERE active = 1")
    assert {"code": "audit-chain-broken"} in alarms, alarms

    # Five failed logins, then the locked account: a burst and a lockout.
    g = Gateway(tmp_path, camgate=cg)
    c = g.first_boot()
    c.line("exit")
    c.wait()
    for session in range(2):
        c = g.console()
        for _ in range(3 if session == 0 else 2):
            c.expect("login: ")
            c.line("admin")
            c.expect("password: ")
            c.line("wrong-password")
            c.expect("Login incorrect")
        if session == 0:
            c.wait()
    c.expect("login: ")
    c.line("admin")
    c.expect("password: ")
    c.line("still-wrong")
    c.expect("Login incorrect")
    msgs = lambda: [e[1]["message"] for e in _security_events(central_mtls)]
    assert cglib.poll(lambda: any(m.startswith("login-burst") for m in msgs()) and
                    any(m.startswith("lockout: account 'admin'") for m in msgs()), 20), msgs()
    assert sum(m.startswith("login-burst") for m in msgs()) == 1, msgs()
    assert cg.stop() == 0
    srv.stop()
    schema_check(central_mtls, GW)


@pytest.mark.budget(90)
def test_retention_forecast_alarm_in_advance(env, central_mtls, uplink_config, schema_check):
    """A 24 MiB ring cannot hold a camera's 1 h floor: the forecast says so
    and raises retention-at-risk while the ring still has room and nothing
    was evicted, with the breach time in the future; central's status
    carries the forecast. A camera whose floor the ring holds gets none."""
    srv = env.cameras(cams=1)
    cg = env.camgate()
    uplink_config(cg, central_mtls,
                  {"door": {"url": srv.url(1), "retention_floor": "1h"}},
                  gateway={"id": GW}, storage={"extents": 3, "extent_size": "8M",
                                               "retention_floor": "1s", "on_full": "stop"})
    cg.start()

    def risk():
        rows = cg.db_rows("SELECT camera, message, ts_ms FROM alarms"
                          " WHERE active = 1 AND code = 'retention-at-risk'")
        return rows and (rows, cg.ring_stat())
    got = cglib.poll(risk, 40)
    assert got, "no retention-at-risk alarm"
    rows, st = got
    assert [r["camera"] for r in rows] == ["door"], rows
    assert "cannot be held" in rows[0]["message"], rows
    assert st["evicted_segs"] == 0 and st["bytes_used"] < st["bytes_total"], st
    assert not cg.db_rows("SELECT code FROM alarms WHERE code IN"
                          " ('storage-full', 'protected-footage-overwritten')")
    assert not cg.db_rows("SELECT code FROM alarms WHERE code = 'retention-floor-unset'")
    status = central_mtls.file("gateways/%s/status.json" % GW)

    def forecast():
        try:
            return json.loads(status.read_text())["retention"]["door"]
        except (OSError, ValueError, KeyError):
            return None
    fc = cglib.poll(lambda: (f := forecast()) and f["breach_at_ms"] and f, 15)
    assert fc, "no forecast in central's status"
    assert fc["floor_ms"] == 3600000 and 0 < fc["capacity_ms"] < 3600000, fc
    assert fc["breach_at_ms"] > rows[0]["ts_ms"], (fc, rows)
    assert cg.stop() == 0
    srv.stop()
    schema_check(central_mtls, GW)


@pytest.mark.budget(120)
def test_sharing_class_decides_what_central_gets(env, central_mtls, uplink_config,
                                                 schema_check, tmp_path):
    """An owner-only third-party camera sends its registry record (class
    and owner in it) but no footage until central asks for a time range;
    a province camera sends everything. The console refuses a class
    outside the set and a third-party owner without a contact."""
    srv = env.cameras(cams=2)
    cg = env.camgate()
    uplink_config(cg, central_mtls, {"door": srv.url(1), "yard": srv.url(2)},
                  gateway={"id": GW}, commands_interval="1s")
    _first_run(cg)
    db = sqlite3.connect(str(cg.state_dir / "state.db"), timeout=10)
    with db:
        db.execute("INSERT INTO registry_cameras(name, update_method, sharing_class, owner)"
                   " VALUES ('door', 'manual', 'owner-only',"
                   " 'Ha Long Hotel; +84 203 3800 000')")
        db.execute("INSERT INTO registry_cameras(name, update_method) VALUES ('yard', 'manual')")
    db.close()
    cg.start()
    cg.wait_segments({"door": 4, "yard": 4}, 40)
    _command(central_mtls, "r1", {"command": "resend-registry"})
    media = lambda cam: list(central_mtls.file("gateways/%s/media/%s" % (GW, cam))
                             .glob("*.m4s"))
    assert cglib.poll(lambda: len(media("yard")) >= 3, 20), "province camera sent nothing"
    rec = central_mtls.file("gateways/%s/registry/door.json" % GW)
    assert cglib.poll(rec.exists, 20)
    got = json.loads(rec.read_text())
    assert got["sharing_class"] == "owner-only", got
    assert got["owner"].startswith("Ha Long Hotel;"), got
    yrec = central_mtls.file("gateways/%s/registry/yard.json" % GW)
    assert cglib.poll(yrec.exists, 10)
    yard = json.loads(yrec.read_text())
    assert yard["sharing_class"] == "province", yard
    status = central_mtls.file("gateways/%s/status.json" % GW)

    def classes():
        try:
            return {c["name"]: c.get("sharing_class")
                    for c in json.loads(status.read_text())["cameras"]}
        except (OSError, ValueError, KeyError):
            return None
    assert cglib.poll(lambda: classes() == {"door": "owner-only", "yard": "province"}, 15), \
        classes()
    assert not media("door"), "owner-only footage went to central unasked"
    assert not central_mtls.file("gateways/%s/media/door/live.m3u8" % GW).exists()
    # On request (R15): the range central names, and only it.
    segs = cg.segments("door")
    _command(central_mtls, "q1", {"command": "resend-range", "args": {
        "camera": "door", "from_ms": segs[0]["start_utc_ms"],
        "to_ms": segs[1]["start_utc_ms"] + 1}})
    _command(central_mtls, "q2", {"command": "resend-range", "args": {"camera": "door"}})
    got = _results(central_mtls, 3)
    assert got["q1"]["status"] == "done" and "2 segments" in got["q1"]["message"], got["q1"]
    assert got["q2"]["status"] == "failed" and "from_ms" in got["q2"]["message"], got["q2"]
    assert cglib.poll(lambda: len(media("door")) == 2, 20), media("door")

    g = Gateway(tmp_path, camgate=cg)
    admin = g.first_boot()
    # [storage] retention_floor = 0s: the console says so at login (R10).
    assert "no retention floor is set" in admin.seen, admin.seen
    assert "one of province, public, owner-only" in admin.cmd("camera set door sharing=open")
    assert "CONTACT" in admin.cmd("camera set door owner=Someone;")
    admin.line("exit")
    assert cg.stop() == 0
    srv.stop()
    schema_check(central_mtls, GW)
