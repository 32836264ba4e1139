# SPDX-License-Identifier: GPL-2.0-or-later
"""`camgate update FILE` (firmware/cmd_update.c) with real RAUC bundles
(scripts/mkbundle.sh, Debian's rauc, keys from scripts/mkkeys.sh):
`rauc info --keyring` refuses a bundle signed with another key and one
whose signed part was tampered with; a bundle for another board and a
downgrade are refused; an admin (name and password) may force the
downgrade; every step is an audit row.

`rauc install` cannot run on this host (it mounts the bundle through
dm-verity; the kernel has no device mapper), so it goes to the SANDBOX RAUC
stand-in ($CAMGATE_RAUC, tests/integration/updatelib.py: it records the
install call and passes every other rauc command, `info` included, to the
real rauc)."""

import subprocess

import pytest

import cglib
from consolelib import ADMIN_PW
from updatelib import StandIn, make_kit


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """Two key pairs, a small image and bundles made from it."""
    d = tmp_path_factory.mktemp("update")
    b = make_kit(d)
    b["stand_in"] = StandIn(d / "rauc")
    b["installer"] = b["stand_in"].path
    return b


def update(gw, kit, *args, stdin=""):
    env = dict(gw.env(), CAMGATE_RAUC=str(kit["installer"]))
    return subprocess.run([str(cglib.CAMGATE_BIN), "-c", str(gw.conf), "update",
                           "--keyring", str(kit["keyring"])] + [str(a) for a in args],
                          input=stdin, capture_output=True, text=True, timeout=120, env=env)


def installs(kit):
    return [c for c in kit["stand_in"].calls() if c.startswith("install ")]


def actions(gw, action):
    return [r for r in gw.audit() if r[2] == action]


def test_newer_bundle_is_installed_and_every_step_audited(gw, kit):
    before = len(installs(kit))
    r = update(gw, kit, "--check", kit["newer"])
    assert r.returncode == 0, r.stderr
    assert len(installs(kit)) == before, "--check installed"
    r = update(gw, kit, kit["newer"])
    assert r.returncode == 0, r.stderr
    assert installs(kit)[before:] == ["install %s" % kit["newer"]]
    steps = [r[2] for r in gw.audit() if r[2].startswith("update-")]
    assert steps == ["update-start", "update-verified",
                     "update-start", "update-verified", "update-installing", "update-installed"]
    assert all(r[1] == "local" and r[3] == str(kit["newer"])
               for r in gw.audit() if r[2].startswith("update-"))


@pytest.mark.parametrize("which,why", [
    ("other_key", "signature"),
    ("tampered", "signature"),
    ("other_board", "bundle is for 'camgate-rpi4'"),
    ("older", "downgrade"),
])
def test_refused(gw, kit, which, why):
    before = len(installs(kit))
    r = update(gw, kit, kit[which])
    assert r.returncode == 1
    assert why in r.stderr
    assert len(installs(kit)) == before, "a refused bundle reached rauc install"
    refused = actions(gw, "update-refused")
    assert len(refused) == 1 and why in refused[0][4]


def test_downgrade_forced_by_an_admin_only(gw, kit):
    c = gw.first_boot()  # makes the admin account
    c.close()
    before = len(installs(kit))
    # --force alone is a usage error.
    assert update(gw, kit, "--force", kit["older"]).returncode == 2
    # A wrong password, or a name that is no account: refused.
    r = update(gw, kit, "--force", "--admin", "admin", kit["older"], stdin="wrong-password\n")
    assert r.returncode == 1
    r = update(gw, kit, "--force", "--admin", "nobody", kit["older"], stdin=ADMIN_PW + "\n")
    assert r.returncode == 1
    assert len(installs(kit)) == before
    r = update(gw, kit, "--force", "--admin", "admin", kit["older"], stdin=ADMIN_PW + "\n")
    assert r.returncode == 0, r.stderr
    assert installs(kit)[before:] == ["install %s" % kit["older"]]
    forced = actions(gw, "update-downgrade-forced")
    assert len(forced) == 1 and forced[0][1] == "admin" and "DOWNGRADE" in forced[0][4]
    assert len(actions(gw, "update-refused")) == 2
