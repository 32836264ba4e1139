# SPDX-License-Identifier: GPL-2.0-or-later
"""PTZ rights (R1) on the console against the ONVIF simulator: the
console runs in the gateway's namespace of a private network
(conftest.py), the camera's ONVIF address comes from the registry and its
credentials from [onvif] in the config. An operator in whose scope the
camera is steers it; an auditor, and an operator whose scope lacks it,
are refused; every attempt is an audit row."""

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
import cglib  # noqa: E402
from consolelib import Gateway  # noqa: E402
from ptyconsole import PtyConsole  # noqa: E402


def _onvif_conftest():
    """This folder's conftest.py by path: another folder's conftest may
    hold the name `conftest` in a run of several folders."""
    spec = importlib.util.spec_from_file_location(
        "onvif_conftest_for_ptz", Path(__file__).resolve().parent / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


PASSWORD = _onvif_conftest().PASSWORD


class NetnsGateway(Gateway):
    """The console of Gateway, started in network namespace @ns."""

    def __init__(self, workdir, ns):
        Path(workdir).mkdir(exist_ok=True)
        super().__init__(workdir)
        self.ns = ns

    def console(self, *extra):
        c = PtyConsole([shutil.which("ip"), "netns", "exec", self.ns, cglib.CAMGATE_BIN,
                        "-c", self.conf, "console"] + list(extra), self.env(), self.log)
        self.sessions.append(c)
        return c


def _login_first(g, name, pw):
    c = g.login(name, pw, prompt="must be changed")
    c.expect("new password: ")
    c.line(pw + "x")
    c.expect("again: ")
    c.line(pw + "x")
    c.expect("%s> " % name)
    return c


@pytest.mark.budget(90)
def test_ptz_rights(onvif_net, tmp_path):
    sim = onvif_net.start_cam(0, "--ptz", "--no-discovery")
    flat = onvif_net.start_cam(0, "--no-discovery")
    g = NetnsGateway(tmp_path / "gw", onvif_net.gw)
    onvif_net.logs.append(("console", g.log))
    g.conf.write_text(g.conf.read_text() + cglib.ini_text([
        ("onvif", {"username": "admin", "password": PASSWORD}),
        ("camera:door", {"url": "rtsp://%s/cam1" % sim.ip}),
        ("camera:flat", {"url": "rtsp://%s/cam1" % flat.ip}),
    ]))
    os.chmod(g.conf, 0o600)
    admin = g.first_boot()
    g.add_user(admin, "op", "operator", "operator-pw-1", "door,flat")
    g.add_user(admin, "op2", "operator", "operator-pw-2", "flat")
    g.add_user(admin, "aud", "auditor", "auditor-pw-1")
    for name, xaddr in (("door", sim.xaddr), ("flat", flat.xaddr)):
        g.sql("INSERT INTO registry_cameras(name, xaddr, update_method) VALUES (?, ?, 'manual')",
              (name, xaddr))
    admin.line("exit")
    admin.wait()

    op = _login_first(g, "op", "operator-pw-1")
    out = op.cmd("ptz door move 0.5 -0.25")
    assert "door: move pan 0.50 tilt -0.25" in out and "error" not in out, out
    assert "door: stop" in op.cmd("ptz door stop")
    assert "door: preset preset1" in op.cmd("ptz door preset preset1")
    out = op.cmd("ptz door preset nosuch")
    assert "error" in out and "refused" in out, out
    assert "from -1 to 1" in op.cmd("ptz door move 3 0")
    out = op.cmd("ptz flat stop")
    assert "error: the camera has no PTZ" in out, out
    op.line("exit")
    op.wait()

    op2 = _login_first(g, "op2", "operator-pw-2")
    assert "outside your scope" in op2.cmd("ptz door move 0.1 0")
    op2.line("exit")
    op2.wait()
    aud = _login_first(g, "aud", "auditor-pw-1")
    assert "not allowed for role auditor" in aud.cmd("ptz door stop")
    aud.line("exit")
    aud.wait()

    rows = [(r[1], r[2], r[3]) for r in g.audit()]
    assert ("op", "ptz", "door") in rows, rows
    assert sum(1 for r in rows if r == ("op", "ptz", "door")) == 3, rows
    assert ("op", "ptz-failed", "door") in rows and ("op", "ptz-failed", "flat") in rows
    assert ("op2", "denied", "door") in rows and ("aud", "denied", "ptz") in rows, rows
