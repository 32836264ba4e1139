# SPDX-License-Identifier: GPL-2.0-or-later
"""Central's `export` command through the real daemon and nginx over
mutual TLS (docs/integrity.md, "Export requested by central"): refused,
with the missing field named and an `export-refused` audit row, without a
requester and for an account that may not export; accepted for an
operator, the signed manifest reaches central under exports/{id}/ and
`camgate verify` of that folder (the manifest against central's own media
and checkpoints) is clean, an altered segment at central is a finding,
the export is an audit row naming the performer and its range is held."""

import json
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

import cglib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
from consolelib import Gateway  # noqa: E402

GW = "gw-export-01"


def _command(central, cid, body):
    cmds = central.file("gateways/%s/commands" % GW)
    cmds.mkdir(parents=True, exist_ok=True)
    (cmds / (cid + ".json")).write_text(json.dumps(body))


def _result(central, cid):
    p = central.file("gateways/%s/results/%s.json" % (GW, cid))
    return cglib.wait_for("result " + cid, lambda: p.exists() and json.loads(p.read_text()), 60)


def _audit(cg, action):
    return cg.db_rows("SELECT actor, object, detail FROM audit WHERE action = ? ORDER BY id",
                      (action,))


verify = cglib.camgate_verify


def _covered(root, m):
    """Central holds every segment the manifest lists, and a checkpoint
    of the last one."""
    if not all((root / s["file"]).exists() for s in m["segments"]):
        return False
    last = max(s["position"] or 0 for s in m["segments"])
    return any(int(p.stem) >= last for p in root.glob("chain/%s/*.json" % m["camera"]))


@pytest.mark.budget(150)
def test_central_export(env, central_mtls, uplink_config, schema_check, tmp_path,
                        monkeypatch):
    srv = env.cameras(cams=1)
    cg = env.camgate()
    uplink_config(cg, central_mtls, {"cam1": srv.url(1)},
                  gateway={"id": GW, "status_interval": "1s"}, commands_interval="1s")
    cg.start()
    g = Gateway(tmp_path, camgate=cg)
    admin = g.first_boot()
    g.add_user(admin, "op", "operator", "operator-pw-77", "cam1")
    g.add_user(admin, "aud", "auditor", "auditor-pw-77")
    admin.line("exit")
    cg.wait_segments({"cam1": 6}, 40)
    segs = cg.segments("cam1")
    frm, to = segs[0]["start_utc_ms"], segs[4]["start_utc_ms"] + 1
    args = {"camera": "cam1", "from": frm, "to": to, "purpose": "accident review",
            "requester": "Traffic police, district 3", "performer": "op"}

    # refused: no requester (named), an auditor's account
    _command(central_mtls, "x1", {"command": "export",
                                  "args": dict(args, requester="")})
    _command(central_mtls, "x2", {"command": "export", "args": dict(args, performer="aud")})
    r1, r2 = _result(central_mtls, "x1"), _result(central_mtls, "x2")
    assert r1 and r1["status"] == "refused" and "requester" in r1["message"], r1
    assert "purpose" not in r1["message"], r1
    assert r2 and r2["status"] == "refused" and "may not export" in r2["message"], r2
    refused = _audit(cg, "export-refused")
    assert len(refused) == 2, refused
    assert all("requested by central" in r["detail"] for r in refused), refused
    assert not central_mtls.file("gateways/%s/exports" % GW).exists()

    # accepted: ISO times work as well as milliseconds
    _command(central_mtls, "x3", {"command": "export", "args": dict(
        args, to=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(to / 1000 + 1)))})
    r3 = _result(central_mtls, "x3")
    assert r3 and r3["status"] == "done", r3
    assert "hold" in r3["message"], r3
    xid = re.search(r"exports/([^/]+)/", r3["message"]).group(1)
    root = central_mtls.file("gateways/" + GW)
    pkg = root / "exports" / xid
    cglib.wait_for("the export at central", lambda: (pkg / "manifest.sig").exists() and
                   (pkg / "manifest.json").exists(), 30)
    m = json.loads((pkg / "manifest.json").read_text())
    assert m["performer"] == "op" and m["requester"] == "Traffic police, district 3"
    assert len(m["segments"]) >= 5, m["segments"]
    assert not (pkg / "footage.mp4").exists()
    cglib.wait_for("the export's media and checkpoint at central", lambda: _covered(root, m), 30)
    rc, out = verify(pkg)
    assert rc == 0 and "OK" in out and "footage.mp4 stays on the gateway" in out, out
    # the gateway's folder at central verifies with its exports
    rc, out = verify(root)
    assert rc == 0 and "export" in out, out

    rows = _audit(cg, "export")
    assert len(rows) == 1 and rows[0]["actor"] == "op", rows
    assert "requested by central" in rows[0]["detail"], rows
    assert m["segments"] and rows[0]["object"].startswith("cam1/"), rows
    held = cg.cli("hold", "--list").stdout
    assert "export for Traffic police, district 3: accident review" in held, held
    assert not list((cg.state_dir / "exports").iterdir()), "the local copy was kept"
    assert cg.stop() == 0
    counts = schema_check(central_mtls, GW)
    assert counts.get("export-manifest.schema.json") == 1, counts

    # camgate verify URL: the same, fetched over mTLS with the uplink's
    # credentials into a temporary folder that goes afterwards; a wrong
    # folder is a clear 404, a URL off base_url is refused, a central
    # that does not answer is named
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    gw_url = "%s/gateways/%s/" % (central_mtls.url, GW)
    r = cg.cli("verify", gw_url + "exports/" + xid + "/")
    assert r.returncode == 0 and "OK" in r.stdout and "files fetched" in r.stderr, r
    r = cg.cli("verify", gw_url)
    assert r.returncode == 0 and "accident review" in r.stdout, r
    r = cg.cli("verify", gw_url + "exports/no-such-export/")
    assert r.returncode == 1 and "404" in r.stderr, r
    r = cg.cli("verify", "https://127.0.0.1:9/gateways/%s/" % GW)
    assert r.returncode == 1 and "not below [uplink] base_url" in r.stderr, r
    dead = tmp_path / "dead.conf"
    dead.write_text(cg.conf.read_text().replace(central_mtls.url, "https://127.0.0.1:9"))
    r = cg.cli("verify", "https://127.0.0.1:9/gateways/%s/" % GW, config=dead)
    assert r.returncode == 1 and "https://127.0.0.1:9/gateways/" in r.stderr, r
    assert not list(tmp.iterdir()), "temporary folders left behind"

    # an altered segment at central is a finding of the export's verify
    copy = tmp_path / "central-copy"
    shutil.copytree(root, copy)
    seg = copy / m["segments"][2]["file"]
    b = bytearray(seg.read_bytes())
    b[len(b) // 2] ^= 0x01
    seg.write_bytes(bytes(b))
    rc, out = verify(copy / "exports" / xid)
    assert rc == 3 and "altered: " + m["segments"][2]["file"] in out, out
