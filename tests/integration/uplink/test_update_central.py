# SPDX-License-Identifier: GPL-2.0-or-later
"""Firmware updates over the network and the trial boot after one
(firmware/update.c, firmware/daemon_update.c, firmware/update_health.c),
against the test central (real nginx over mutual TLS) with real RAUC
bundles checked by the real `rauc info --keyring`:

- `camgate update URL` downloads the bundle from central over the uplink's
  TLS rules and installs it; a 404, a TLS failure (a CA that does not sign
  central's certificate) and a tampered download are refused with a clear
  error, nothing is installed and no staging file is left;
- central's `update` command runs the download, verification and install
  in the background: the result says it started, the status object at
  central (valid against docs/schema/) ends in installed-reboot-pending
  with the bytes downloaded, and every step is an audit row at central;
  a downgrade is refused without "force" and installed with it, audited
  as central's; a SHA-256 that does not match is refused;
- trial boot: a daemon that is healthy (central reached) for
  [update] healthy_after marks the slot good; one that never is (central
  unreachable) marks it bad and calls the reboot hook within
  [update] trial_timeout; a trial of a version no longer running is
  reported rolled back.

`rauc install` goes to the SANDBOX RAUC stand-in (tests/integration/
updatelib.py): this host's kernel has no device mapper for the bundle's
dm-verity mount. The trial's `rauc status`, mark-good and mark-bad are
the real rauc, answered by a real `rauc service` with two slot files and
a `bootloader=custom` backend that keeps the boot state in files."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time

import pytest

import cglib
from updatelib import NEWER, OLDER, RaucService, StandIn, make_kit

GW = "gw-test-01"


def wait_for(what, pred, timeout):
    return cglib.wait_for(what, pred, timeout, 0.2)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return make_kit(tmp_path_factory.mktemp("update-kit"))


@pytest.fixture
def rauc(tmp_path, monkeypatch):
    s = StandIn(tmp_path / "rauc")
    monkeypatch.setenv("CAMGATE_RAUC", str(s.path))
    return s


@pytest.fixture
def slots(tmp_path, monkeypatch, kit):
    """A real rauc service, slot B booted; camgate reaches it through the
    environment it inherits."""
    made = []

    def make(states=None):
        svc = RaucService(tmp_path / "slots", kit["keyring"], states)
        made.append(svc)
        for k, v in svc.env().items():
            monkeypatch.setenv(k, v)
        return svc
    yield make
    for svc in made:
        svc.close()


def running_version():
    r = subprocess.run([str(cglib.CAMGATE_BIN), "--version"], capture_output=True,
                       text=True, timeout=30)
    return r.stdout.split()[1]


def publish(central, kit, which, name=None):
    """The bundle @which at central: its URL."""
    rel = "bundles/%s" % (name or kit[which].name)
    dest = central.file(rel)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kit[which], dest)
    return "%s/%s" % (central.url, rel)


def configure(cg, central, uplink_config, kit, update=None, **uplink):
    uplink_config(cg, central, {}, **uplink)
    keys = {"keyring": kit["keyring"]}
    keys.update(update or {})
    cg.write_raw(cg.conf.read_text() + "\n" + cglib.ini_text([("update", keys)]))


def audit(cg, prefix="update-"):
    db = sqlite3.connect(str(cg.state_dir / "state.db"))
    try:
        return db.execute("SELECT actor, action, object, detail FROM audit"
                          " WHERE action LIKE ? ORDER BY id", (prefix + "%",)).fetchall()
    finally:
        db.close()


def staging_left(cg):
    return list(cg.state_dir.glob("update.raucb*"))


# ---- camgate update URL ----

@pytest.mark.budget(90)
def test_cli_url_installs(env, central_mtls, uplink_config, kit, rauc):
    cg = env.camgate()
    configure(cg, central_mtls, uplink_config, kit)
    url = publish(central_mtls, kit, "newer")
    r = cg.cli("update", url, timeout=120)
    assert r.returncode == 0, r.stderr
    staged = str(cg.state_dir / "update.raucb")
    assert rauc.calls() == ["install %s" % staged], rauc.calls()
    assert not staging_left(cg)
    assert "downloading: %d of %d bytes (100%%)" % ((kit["newer"].stat().st_size,) * 2) \
        in r.stderr, r.stderr
    assert "installed" in r.stdout and NEWER in r.stdout, r.stdout
    steps = [a[1] for a in audit(cg)]
    assert steps == ["update-start", "update-download", "update-verified",
                     "update-installing", "update-installed"], steps
    assert all(a[0] == "local" and a[2] == url for a in audit(cg))
    # The next boot's trial reads the update record.
    rec = json.loads((cg.state_dir / "update.json").read_text())
    assert rec["state"] == "installed-reboot-pending" and rec["version"] == NEWER, rec


@pytest.mark.budget(120)
def test_cli_url_refused(env, central_mtls, uplink_config, kit, rauc, pki):
    cg = env.camgate()
    configure(cg, central_mtls, uplink_config, kit)
    tampered = publish(central_mtls, kit, "tampered")
    cases = [
        (central_mtls.url + "/bundles/missing.raucb", "HTTP 404"),
        (tampered, "signature or bundle check failed"),
        ("http://127.0.0.1:%d/bundles/x.raucb" % central_mtls.port, "not an https:// URL"),
    ]
    for url, why in cases:
        r = cg.cli("update", url, timeout=120)
        assert r.returncode == 1, (url, r.stdout, r.stderr)
        assert why in r.stderr, (url, r.stderr)
        assert not staging_left(cg), url
    # TLS: the configured CA does not sign central's certificate.
    text = cg.conf.read_text().replace(str(pki.ca), str(pki.other_ca))
    other = cg.dir / "other-ca.conf"
    other.write_text(text)
    r = cg.cli("update", publish(central_mtls, kit, "newer"), config=other, timeout=120)
    assert r.returncode == 1 and "download failed" in r.stderr, r.stderr
    assert "certificate" in r.stderr.lower(), r.stderr
    # The size cap: a download over [update] max_size stops there.
    big = central_mtls.file("bundles/big.raucb")
    big.write_bytes(os.urandom(1536 * 1024))
    capped = cg.dir / "capped.conf"
    capped.write_text(cg.conf.read_text() + "\n[update]\nmax_size = 1M\n")
    r = cg.cli("update", central_mtls.url + "/bundles/big.raucb", config=capped, timeout=120)
    assert r.returncode == 1 and "larger than 1048576 bytes" in r.stderr, r.stderr
    assert rauc.calls() == [], "a refused download reached rauc install"
    assert not staging_left(cg)
    assert not (cg.state_dir / "update.json").exists()
    refused = [a for a in audit(cg) if a[1] in ("update-refused", "update-failed")]
    assert len(refused) == 5, audit(cg)
    assert "HTTP 404" in refused[0][3] and "signature" in refused[1][3], refused


@pytest.mark.budget(60)
def test_cli_url_disk_full(env, central_mtls, uplink_config, kit, rauc):
    """The state partition fills during the download: "disk full", the
    staging file is removed (its space back) and the failure audited."""
    cg = env.camgate()
    configure(cg, central_mtls, uplink_config, kit)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(cg.state_dir)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip("cannot mount a small tmpfs here: %s" % r.stderr.strip())
    try:
        big = central_mtls.file("bundles/big.raucb")
        big.parent.mkdir(parents=True, exist_ok=True)
        big.write_bytes(os.urandom(1536 * 1024))
        r = cg.cli("update", central_mtls.url + "/bundles/big.raucb", timeout=120)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "disk full" in r.stderr, r.stderr
        assert not staging_left(cg)
        rows = audit(cg)
        assert rows[-1][1] == "update-failed" and "disk full" in rows[-1][3], rows
        assert rauc.calls() == []
    finally:
        subprocess.run(["umount", str(cg.state_dir)], check=True)


# ---- central's update command ----

def command(central, cid, body):
    cmds = central.file("gateways/%s/commands" % GW)
    cmds.mkdir(parents=True, exist_ok=True)
    (cmds / (cid + ".json")).write_text(json.dumps(body))


def result(central, cid, timeout=30):
    p = central.file("gateways/%s/results/%s.json" % (GW, cid))
    wait_for("the result of %s" % cid, p.exists, timeout)
    return json.loads(p.read_text())


def central_status(central):
    p = central.file("gateways/%s/status.json" % GW)
    return json.loads(p.read_text()) if p.exists() else {}


def central_audit(central):
    """The audit rows central received as events: their messages."""
    out = []
    for p in central.file("gateways/%s/events" % GW).glob("*.json"):
        e = json.loads(p.read_text())
        if e.get("type") == "audit":
            out.append(e["message"])
    return out


def wait_update_state(central, states, timeout=60, detail=""):
    """status.update at central once its state is one of @states (and its
    detail holds @detail)."""
    def there():
        u = central_status(central).get("update", {})
        return u if u.get("state") in states and detail in u.get("detail", "") else None
    return wait_for("status.update at central in %s (%s)" % (sorted(states), detail),
                    there, timeout)


@pytest.mark.budget(150)
def test_central_update_command(env, central_mtls, uplink_config, kit, rauc, schema_check):
    cg = env.camgate()
    configure(cg, central_mtls, uplink_config, kit, commands_interval="1s")
    url = publish(central_mtls, kit, "newer")
    size = kit["newer"].stat().st_size
    digest = hashlib.sha256(kit["newer"].read_bytes()).hexdigest()
    cg.start(wait_ring=False)
    command(central_mtls, "u1", {"command": "update", "args": {"url": url, "sha256": digest}})
    res = result(central_mtls, "u1")
    assert res["status"] == "done" and "started" in res["message"], res
    u = wait_update_state(central_mtls, {"installed-reboot-pending", "failed", "refused"})
    assert u["state"] == "installed-reboot-pending", u
    assert u["bytes"] == size and u["version"] == NEWER and u["actor"] == "central", u
    assert rauc.calls() == ["install %s" % (cg.state_dir / "update.raucb")], rauc.calls()
    assert not staging_left(cg)
    steps = [a[1] for a in audit(cg) if a[0] == "central"]
    assert steps == ["update-start", "update-download", "update-verified",
                     "update-installing", "update-installed"], audit(cg)

    # A SHA-256 that is not the bundle's: refused, nothing installed.
    command(central_mtls, "u2", {"command": "update",
                                 "args": {"url": url, "sha256": "0" * 64}})
    assert result(central_mtls, "u2")["status"] == "done"
    u = wait_update_state(central_mtls, {"refused", "failed"}, detail="SHA-256")
    assert u["state"] == "refused", u

    # A downgrade: refused without force, installed with it, as central's.
    old = publish(central_mtls, kit, "older")
    command(central_mtls, "u3", {"command": "update", "args": {"url": old}})
    assert result(central_mtls, "u3")["status"] == "done"
    u = wait_update_state(central_mtls, {"refused", "failed"}, detail="downgrade")
    assert u["state"] == "refused", u
    assert "\"force\": true" in u["detail"], u
    assert len(rauc.calls()) == 1
    command(central_mtls, "u4", {"command": "update", "args": {"url": old, "force": True}})
    assert result(central_mtls, "u4")["status"] == "done"
    u = wait_update_state(central_mtls, {"installed-reboot-pending", "failed"}, 60,
                          detail=OLDER)
    assert u["state"] == "installed-reboot-pending" and u["version"] == OLDER, u
    forced = [a for a in audit(cg) if a[1] == "update-downgrade-forced"]
    assert len(forced) == 1 and forced[0][0] == "central", forced
    assert "DOWNGRADE forced by central" in forced[0][3]

    # Malformed arguments: failed with what is expected.
    command(central_mtls, "u5", {"command": "update", "args": {"url": "ftp://x/y"}})
    r5 = result(central_mtls, "u5")
    assert r5["status"] == "failed" and "https://" in r5["message"], r5

    # Every step reached central as an audit event.
    msgs = wait_for("both installs' audit rows at central",
                    lambda: (lambda m: m if sum("central update-installed" in x for x in m)
                             >= 2 else None)(central_audit(central_mtls)), 20)
    for action in ("update-download", "update-verified", "update-refused",
                   "update-downgrade-forced", "update-installing", "update-installed"):
        assert any("central %s" % action in m for m in msgs), (action, msgs)
    assert cg.stop() == 0
    counts = schema_check(central_mtls, GW)
    assert counts.get("status.schema.json") == 1, counts


@pytest.mark.budget(120)
def test_one_update_at_a_time(env, central_mtls, central, uplink_config, kit, rauc,
                              fault_proxy):
    """A download a slow server (our proxy in front of another nginx, not
    below base_url: no credentials go there) holds back: a second update
    is refused while the first runs, and the first still completes."""
    cg = env.camgate()
    configure(cg, central_mtls, uplink_config, kit, commands_interval="1s")
    publish(central, kit, "newer")
    fault_proxy.default = "delay:4"
    slow = "%s/bundles/%s" % (fault_proxy.url, kit["newer"].name)
    cg.start(wait_ring=False)
    command(central_mtls, "b1", {"command": "update", "args": {"url": slow}})
    assert result(central_mtls, "b1")["status"] == "done"
    # The status object at central shows the step while it lasts.
    u = wait_update_state(central_mtls, {"downloading"}, 10)
    assert u["source"] == slow and u["actor"] == "central", u
    command(central_mtls, "b2", {"command": "update", "args": {"url": slow}})
    r2 = result(central_mtls, "b2")
    assert r2["status"] == "failed" and "one at a time" in r2["message"], r2
    u = wait_update_state(central_mtls, {"installed-reboot-pending", "failed", "refused"})
    assert u["state"] == "installed-reboot-pending", u
    assert len(rauc.calls()) == 1
    assert cg.stop() == 0


# ---- the trial boot ----

def trial_record(cg, version, state="installed-reboot-pending"):
    (cg.state_dir / "update.json").write_text(json.dumps(
        {"state": state, "version": version, "from": "0.0.9", "actor": "central",
         "detail": "test", "time_ms": int(time.time() * 1000)}))


@pytest.mark.budget(90)
def test_trial_healthy_marks_good(env, central_mtls, uplink_config, kit, rauc, slots,
                                  schema_check):
    """No update record (a bundle installed by other means): RAUC's word
    that the booted slot is not good makes this boot a trial; healthy
    (central reached) for healthy_after, camgate marks it good."""
    svc = slots({"B": "bad"})
    cg = env.camgate()
    configure(cg, central_mtls, uplink_config, kit,
              update={"healthy_after": "3s", "trial_timeout": "60s",
                      "reboot_command": "echo reboot >> %s" % (cg.dir / "reboots")})
    cg.start(wait_ring=False)
    wait_for("rauc status mark-good", lambda: svc.state("B") == "good", 30)
    assert svc.backend() == ["set-state B good"], svc.backend()
    u = wait_update_state(central_mtls, {"good"}, 20)
    assert "healthy for" in u["detail"], u
    assert not (cg.dir / "reboots").exists()
    steps = [a[1] for a in audit(cg)]
    assert steps == ["update-trial", "update-good"], audit(cg)
    assert "slot B" in audit(cg)[0][3], audit(cg)
    rec = json.loads((cg.state_dir / "update.json").read_text())
    assert rec["state"] == "good", rec
    # The next start is no trial: nothing marked again.
    assert cg.stop() == 0
    cg.start(wait_ring=False)
    time.sleep(3)
    assert cg.stop() == 0
    assert svc.backend() == ["set-state B good"], svc.backend()
    assert [a[1] for a in audit(cg)] == steps
    schema_check(central_mtls, GW)


@pytest.mark.budget(90)
def test_trial_never_healthy_rolls_back(env, uplink_config, kit, rauc, slots):
    """The update record says this version was just installed; central is
    unreachable (nothing listens), so the trial never gets healthy:
    mark-bad and the reboot hook within trial_timeout."""
    svc = slots()
    cg = env.camgate()
    nowhere = type("C", (), {"url": "https://127.0.0.1:%d" % cglib.free_port()})()
    reboots = cg.dir / "reboots"
    configure(cg, nowhere, uplink_config, kit,
              update={"healthy_after": "2s", "trial_timeout": "6s",
                      "reboot_command": "echo reboot >> %s" % reboots})
    trial_record(cg, running_version())
    t0 = time.monotonic()
    cg.start(wait_ring=False)
    wait_for("the reboot hook", reboots.exists, 30)
    took = time.monotonic() - t0
    assert 5 < took < 20, took
    assert svc.backend() == ["set-state B bad"], svc.backend()
    assert svc.state("B") == "bad"
    assert reboots.read_text().split() == ["reboot"]
    rows = audit(cg)
    assert [a[1] for a in rows] == ["update-trial", "update-rolled-back", "update-reboot"], rows
    assert "central not reached" in rows[1][3], rows[1]
    rec = json.loads((cg.state_dir / "update.json").read_text())
    assert rec["state"] == "rolled-back", rec
    assert cg.stop() == 0


@pytest.mark.budget(60)
def test_trial_of_another_version_fell_back(env, central_mtls, uplink_config, kit, rauc,
                                           slots):
    """The record says a trial of 99.0.0 ran, but this version runs: the
    bootloader went back on its own (boot count); reported once."""
    svc = slots()
    cg = env.camgate()
    configure(cg, central_mtls, uplink_config, kit)
    trial_record(cg, NEWER, state="trial")
    cg.start(wait_ring=False)
    u = wait_update_state(central_mtls, {"rolled-back"}, 20)
    assert NEWER in u["detail"] and "bootloader" in u["detail"], u
    assert cg.stop() == 0
    cg.start(wait_ring=False)
    time.sleep(3)
    assert cg.stop() == 0
    rows = [a for a in audit(cg) if a[1] == "update-rolled-back"]
    assert len(rows) == 1, rows
    assert rauc.calls() == [] and svc.backend() == []
