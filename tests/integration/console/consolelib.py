# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the console tests: a gateway's config and state folder, and
`camgate console` sessions over a pty (ptyconsole.py)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cglib  # noqa: E402
from ptyconsole import PtyConsole  # noqa: E402

ADMIN_PW = "gate-keeper-71"  # passes the dictionary check
ITERATIONS = "1000"  # PBKDF2: the production count is in firmware/accounts.h


def console_supported():
    if not cglib.CAMGATE_BIN.exists():
        return False
    r = subprocess.run([str(cglib.CAMGATE_BIN), "console", "--help"],
                       capture_output=True, text=True, timeout=30)
    return r.returncode == 0


class Gateway:
    """A config file and state folder the console works on; with a
    daemon when the test starts one (cglib.Camgate)."""

    def __init__(self, workdir, camgate=None):
        self.dir = Path(workdir)
        if camgate:
            self.conf, self.state_dir = camgate.conf, camgate.state_dir
        else:
            self.conf = self.dir / "camgate.conf"
            self.state_dir = self.dir / "state"
            self.state_dir.mkdir(exist_ok=True)
            self.conf.write_text(cglib.ini_text([
                ("gateway", {"id": "gw-console", "state_dir": self.state_dir}),
                ("storage", {"dir": self.dir / "ring", "extents": 4,
                             "extent_size": "4M"}),
                # R2: the unit's defaults, so a camera added without its
                # own registry fields may be committed.
                ("compliance", {"unit": "ward-3-police", "users": "police",
                                "owner": "ward-3", "location": "ward-3"}),
            ]))
        self.log = self.dir / "console.log"
        self.sessions = []
        self.iterations = ITERATIONS

    def env(self):
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "TERM": "vt100", "LANG": "C.UTF-8", "HOME": str(self.dir),
                "CAMGATE_PBKDF2_ITERATIONS": self.iterations}

    def console(self, *extra):
        c = PtyConsole([cglib.CAMGATE_BIN, "-c", self.conf, "console"]
                       + list(extra), self.env(), self.log)
        self.sessions.append(c)
        return c

    def close(self):
        for c in self.sessions:
            c.close()

    def audit(self):
        db = sqlite3.connect("file:%s?mode=ro" % (self.state_dir / "state.db"),
                             uri=True, timeout=10)
        try:
            return [r for r in db.execute(
                "SELECT id, actor, action, object, detail FROM audit ORDER BY id")]
        finally:
            db.close()

    def sql(self, statement, params=()):
        db = sqlite3.connect(str(self.state_dir / "state.db"), timeout=10)
        try:
            db.execute(statement, params)
            db.commit()
        finally:
            db.close()

    # -- common sessions

    def first_boot(self):
        c = self.console()
        c.expect("First start")
        c.expect("new password: ")
        c.line(ADMIN_PW)
        c.expect("again: ")
        c.line(ADMIN_PW)
        c.expect("admin> ")
        return c

    def login(self, name, password, prompt=None):
        c = self.console()
        c.expect("login: ")
        c.line(name)
        c.expect("password: ")
        c.line(password)
        c.expect(prompt or (r"%s\*?> " % name))
        return c

    def add_user(self, admin, name, role, password, scope=None):
        admin.line("user add %s %s%s" % (name, role, " " + scope if scope else ""))
        admin.expect("new password: ")
        admin.line(password)
        admin.expect("again: ")
        admin.line(password)
        admin.expect("account %s added" % name)
        admin.expect("admin> ")
