# SPDX-License-Identifier: GPL-2.0-or-later
"""The installer console over a pty, as a person at a serial terminal
uses it: first start to recording, roles, bad input of every kind, a
hang-up mid-command, and a tampered audit log."""

import hashlib
import json
import os
import random
import signal
import sqlite3
import struct
import subprocess
import time

import cglib
import pytest
from consolelib import ADMIN_PW, Gateway
from ptyconsole import BACKSPACE, CTRL_C, CTRL_D, PtyConsole

INST_PW = "fitter-pw-22"


def set_pidfile(cg):
    """The daemon writes STATE_DIR/camgate.pid; until it does, the test."""
    pid = cg.state_dir / "camgate.pid"
    if not pid.exists():
        pid.write_text("%d\n" % cg.proc.pid)


@pytest.mark.budget(240)
def test_first_boot_to_recording(env, request):
    cams = env.cameras(cams=2)
    cg = env.camgate()
    cg.write_config({})
    cg.start()
    set_pidfile(cg)
    gw = Gateway(env.dir, camgate=cg)
    request.node.cg_logs.append(("console session", gw.log))
    try:
        # First start: typed with a mistake fixed by backspaces.
        c = gw.console()
        c.expect("First start")
        c.expect("new password: ")
        c.type("gate-keepzz")
        c.send(BACKSPACE * 2)
        c.line("er-71")
        c.expect("again: ")
        c.line(ADMIN_PW)
        c.expect("admin> ")
        gw.add_user(c, "inst", "installer", "initial-pw-1")
        c.line("exit")
        assert c.wait() == 0

        # The installer's first login forces a new password.
        c = gw.console()
        c.expect("login: ")
        c.line("inst")
        c.expect("password: ")
        c.line("initial-pw-1")
        c.expect("must be changed")
        c.expect("new password: ")
        c.line(INST_PW)
        c.expect("again: ")
        c.line(INST_PW)
        c.expect("inst> ")
        # Tab completes command words (libedit redraws with cursor
        # movements, so only the inserted rest is matched).
        c.type("cam\t")
        c.expect("era ")
        c.type("ad\t")
        c.expect("d ")
        c.line("cam1 %s owner=police location=gate-1 update=10m" % cams.url(1))
        c.expect("camera cam1 staged")
        c.expect(r"inst\*> ")
        out = c.cmd("camera add cam2 %s transport=tcp" % cams.url(2))
        assert "camera cam2 staged" in out
        # Central's endpoint is an admin's to set (test below).
        out = c.cmd("uplink set base_url=https://127.0.0.1:9/central auth=none")
        assert "admin only" in out
        out = c.cmd("show changes")
        assert "camera-add" in out and "registry-set" in out
        # R2: no commit while a camera lacks its mandatory fields; the
        # gateway's defaults fill them.
        out = c.cmd("commit")
        assert "R2 fields empty" in out and "nothing committed" in out, out
        for key, value in (("unit", "ward-3-police"), ("users", "police,transport"),
                           ("owner", "ward-3"), ("location", "ward-3")):
            c.cmd("settings set compliance.%s %s" % (key, value))
        out = c.cmd("commit")
        assert "changes committed" in out and "daemon reloading" in out, out

        cg.wait_segments({"cam1": 1, "cam2": 1}, 90)

        out = c.cmd("show camera cam1")
        assert "owner=police" in out and "location=gate-1" in out
        assert "not allowed for role installer" in c.cmd("log verify")
        c.line("exit")
        assert c.wait() == 0

        # The admin points the gateway at central and reads the audit
        # log: every step, chain intact.
        c = gw.login("admin", ADMIN_PW)
        out = c.cmd("uplink set base_url=https://127.0.0.1:9/central auth=none")
        assert "not staged" not in out and "admin only" not in out, out
        assert "changes committed" in c.cmd("commit")
        out = c.cmd("log verify")
        assert "chain intact" in out, out
        out = c.cmd("log show 40")
        for what in ("first-boot-admin", "user-add", "login", "password-changed",
                     "camera-add", "registry-set", "setting-refused", "setting"):
            assert what in out, (what, out)
        c.line("exit")
        assert c.wait() == 0
    finally:
        gw.close()
    rows = gw.audit()
    assert ("inst", "logout") in [(r[1], r[2]) for r in rows]
    assert ("admin", "logout") in [(r[1], r[2]) for r in rows]
    assert any(r[2] == "camera-add" and r[3] == "camera:cam2" for r in rows)


def test_roles(gw):
    c = gw.first_boot()
    gw.add_user(c, "op", "operator", "operator-pw-1")
    gw.add_user(c, "aud", "auditor", "auditor-pw-1")
    c.line("exit")
    c.wait()
    for name, pw in (("op", "operator-pw-1"), ("aud", "auditor-pw-1")):
        c = gw.login(name, pw, prompt="must be changed")
        c.expect("new password: ")
        c.line(pw + "x")
        c.expect("again: ")
        c.line(pw + "x")
        c.expect("%s> " % name)
        if name == "op":
            assert "not allowed for role operator" in c.cmd("user add x operator")
            assert "not allowed for role operator" in c.cmd("uplink set base_url=x")
            assert "not allowed" not in c.cmd("show cameras")
        else:
            assert "not allowed for role auditor" in c.cmd("show cameras")
            assert "not allowed for role auditor" in c.cmd("camera add a rtsp://h/a")
            assert "chain intact" in c.cmd("log verify")
            assert "login" in c.cmd("log show 5")
        c.line("exit")
        assert c.wait() == 0
    denied = [r for r in gw.audit() if r[2] == "denied"]
    assert len(denied) == 4


def test_lockout(gw):
    c = gw.first_boot()
    c.line("exit")
    c.wait()
    for session in range(2):
        c = gw.console()
        for _ in range(3 if session == 0 else 2):
            c.expect("login: ")
            c.line("admin")
            c.expect("password: ")
            c.line("wrong-password")
            c.expect("Login incorrect")
        if session == 0:
            assert c.wait() == 0  # three tries per session
    c.expect("login: ")
    c.line("admin")
    c.expect("password: ")
    c.line(ADMIN_PW)
    # Locked, even the right password gets the wrong password's answer;
    # only the audit log tells why.
    c.expect("Login incorrect")
    assert "locked" not in c.seen.lower()
    failed = [r for r in gw.audit() if r[2] == "login-failed"]
    assert len(failed) == 6
    assert [r[4] for r in failed] == ["wrong password"] * 5 + [failed[-1][4]]
    assert failed[-1][4].startswith("account locked for ")


def test_weak_password_refused(gw):
    """A dictionary word is refused with the library's reason at first
    start and at passwd, and a strong one then goes through."""
    c = gw.console()
    c.expect("First start")
    for pw in ("password", ADMIN_PW):
        c.expect("new password: ")
        c.line(pw)
        c.expect("again: ")
        c.line(pw)
    c.expect("admin> ")
    assert ("password not accepted: The password fails the dictionary check"
            in c.seen)
    c.line("passwd")
    c.expect("current password: ")
    c.line(ADMIN_PW)
    for pw in ("Password1", "12345678", "river-stone-58"):
        c.expect("new password: ")
        c.line(pw)
        c.expect("again: ")
        c.line(pw)
    c.expect("password changed")
    c.expect("admin> ")
    refused = [ln for ln in c.seen.splitlines() if "not accepted" in ln]
    assert len(refused) == 3, refused
    assert "dictionary" in refused[1] and "simplistic" in refused[2], refused
    c.line("exit")
    assert c.wait() == 0
    c = gw.login("admin", "river-stone-58")
    c.line("exit")
    assert c.wait() == 0


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


@pytest.mark.budget(240)
def test_failed_logins_look_alike(gw):
    """Unknown name, wrong password and locked account (right password)
    get one message after one delay; the audit log has the true reason.
    The PBKDF2 count is high enough that skipping the hash for a locked
    account showed (0.15 to 0.4 s here); attempts are interleaved so load on
    the machine hits all three alike, and medians are compared."""
    gw.iterations = "200000"  # the production count (accounts.h)
    c = gw.first_boot()
    gw.add_user(c, "keeper", "operator", "ochre-lamp-93")
    c.line("exit")
    assert c.wait() == 0
    far = int(time.time() * 1000) + 86400 * 1000
    gw.sql("UPDATE accounts SET failures = 9, locked_until_ms = ? "
           "WHERE name = 'keeper'", (far,))
    kinds = [("admin", "wrong-guess-1"), ("keeper", "ochre-lamp-93"),
             ("nobody", "wrong-guess-1")]
    times = {name: [] for name, _ in kinds}
    verdicts = set()
    for rnd in range(5):
        gw.sql("UPDATE accounts SET failures = 0 WHERE name = 'admin'")
        c = gw.console()
        for name, pw in kinds[rnd % 3:] + kinds[:rnd % 3]:
            c.expect("login: ")
            c.line(name)
            c.expect("password: ")
            c.type(pw)
            t0 = time.monotonic()
            c.send("\r")
            m = c.expect(r"Login incorrect\.|Account locked[^\r\n]*")
            times[name].append(time.monotonic() - t0)
            verdicts.add(m.group(0))
        assert c.wait() == 0
    medians = {name: median(t) for name, t in times.items()}
    assert max(medians.values()) - min(medians.values()) < 0.1, times
    assert min(medians.values()) >= 0.9, times  # the delay floor
    assert verdicts == {"Login incorrect."}
    details = {(r[1], r[4]) for r in gw.audit() if r[2] == "login-failed"}
    assert ("admin", "wrong password") in details
    assert ("nobody", "unknown account") in details
    assert any(a == "keeper" and d.startswith("account locked for ")
               for a, d in details), details


def test_ctrl_c_and_ctrl_d_at_every_prompt(gw):
    c = gw.first_boot()
    # Command line: Ctrl-C drops it, nothing runs.
    c.type("user remove admin")
    c.send(CTRL_C)
    c.expect(r"\^C")
    c.expect("admin> ")
    # New-password prompt of `user add`: Ctrl-C cancels, no account.
    c.line("user add bob operator")
    c.expect("new password: ")
    c.send(CTRL_C)
    c.expect("admin> ")
    assert "bob" not in c.cmd("user list")
    # Confirmation prompt: Ctrl-C cancels.
    c.cmd("camera add gate rtsp://127.0.0.1/g")
    c.cmd("commit")
    c.line("camera remove gate")
    c.expect("type yes to confirm: ")
    c.send(CTRL_C)
    c.expect(r"admin\*?> ")
    assert "no staged changes" in c.cmd("show changes")
    # Ctrl-D on an empty command line logs out.
    c.send(CTRL_D)
    assert c.wait() == 0
    # Login prompt: Ctrl-C gives a new prompt; password prompt: Ctrl-C
    # goes back to login; Ctrl-D at login ends the session.
    c = gw.console()
    c.expect("login: ")
    c.send("adm" + CTRL_C)
    c.expect("login: ")
    c.line("admin")
    c.expect("password: ")
    c.send(CTRL_C)
    c.expect("login: ")
    c.send(CTRL_D)
    assert c.wait() == 0
    assert not [r for r in gw.audit() if r[2] == "login-failed"]


def test_garbage_and_long_lines(gw):
    c = gw.first_boot()
    rnd = random.Random(5)
    for _ in range(20):
        junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 80)))
        junk = junk.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x04", b"")
        c.send(junk + b"\r")
    c.drain(1.0)
    # Whatever half-line is left goes with Ctrl-C; twice, as the junk may
    # end in an editor prefix (ESC, ^X, ^V) that takes the first one.
    c.send(CTRL_C)
    c.drain(0.5)
    c.send(CTRL_C)
    c.expect(r"\^C")
    c.drain(0.5)
    assert "camgate" in c.cmd("show version")
    c.send("x" * 65536 + "\r")
    c.expect("line longer than 4096 bytes", timeout=60)
    c.expect("admin> ")
    assert "camgate" in c.cmd("show version")
    c.line("exit")
    assert c.wait() == 0


def test_invalid_values_stage_nothing(gw):
    before = gw.conf.read_text()
    c = gw.first_boot()
    c.cmd("camera add gate rtsp://127.0.0.1/g")
    c.cmd("commit")
    before = gw.conf.read_text()
    bad = [
        ("settings set gateway.log_level loud", "log_level"),
        ("settings set gateway.status_interval 5parsecs", "status_interval"),
        ("settings set storage.extents 1", "extents"),
        ("settings set storage.extent_size 12Q", "extent_size"),
        ("settings set storage.on_full panic", "on_full"),
        ("settings set stream.transport pigeon", "transport"),
        ("settings set nosuch.key 1", "sections are"),
        ("camera set gate enabled=maybe", "enabled"),
        ("camera set gate bogus=1", "unknown camera key"),
        ("camera set gate url=rtsp://u:p@h/x", "credentials"),
        ("camera add 'bad name' rtsp://h/x", "camera names"),
        ("uplink set base_url=http://plain.example/x", "base_url"),
        ("uplink set parallel=99", "parallel"),
        ("uplink set tz_offset=-9999", "tz_offset"),
    ]
    for line, key in bad:
        out = c.cmd(line)
        assert key in out, (line, out)
    assert "no staged changes" in c.cmd("show changes")
    c.line("exit")
    assert c.wait() == 0
    assert gw.conf.read_text() == before


def test_long_values(gw):
    """Values up to the documented limits go in through the line editor,
    are written to the config file, and the file still loads."""
    url = "rtsp://127.0.0.1:8554/" + "a" * 978  # 1000 bytes
    token = "eyJ" + "x" * 997  # a 1000-byte bearer token
    holidays = ",".join("2026-%02d-%02d" % (1 + i // 28, 1 + i % 28)
                        for i in range(25))
    c = gw.first_boot()
    out = c.cmd("camera add gate %s" % url)
    assert "staged" in out, out
    out = c.cmd("settings set uplink.holidays %s" % holidays)
    assert "error" not in out, out
    out = c.cmd("uplink set token=%s" % token)
    assert "error" not in out, out
    out = c.cmd("commit")
    assert "error" not in out, out
    shown = c.cmd("show cameras")
    assert url in "".join(shown.split()), shown
    c.line("exit")
    assert c.wait() == 0
    text = gw.conf.read_text()
    assert "url = %s\n" % url in text
    assert "holidays = %s\n" % holidays in text
    sealed = [l for l in text.splitlines() if l.startswith("token = enc:v1:")]
    assert len(sealed) == 1 and len(sealed[0]) > 1000
    assert token not in text
    r = subprocess.run([cglib.CAMGATE_BIN, "-c", str(gw.conf), "config", "check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


EVIL = "\x1b[2J\x1b]0;owned\x07\r\nadmin> "


def assert_inert(text):
    """Nothing a terminal obeys, other than the console's own line ends."""
    for ch in text:
        o = ord(ch)
        assert ch in "\r\n" or (o >= 0x20 and o != 0x7f and not 0x80 <= o <= 0x9f), \
            "raw %r in %r" % (ch, text)


def test_device_and_central_text_escaped(gw):
    """Registry fields (from the camera and from central) and the status
    snapshot's camera errors reach the console and `camgate status`
    escaped; Vietnamese text shows as it is; the stored values stay raw."""
    c = gw.first_boot()
    c.cmd("camera add gate rtsp://127.0.0.1/g owner=police")
    c.cmd("commit")
    rows = [r for r in gw.audit() if r[2] == "registry-set"]
    assert rows, "no registry in the console's state folder"
    gw.sql("UPDATE registry_cameras SET manufacturer = ?, model = ?, owner = ?"
           " WHERE name = 'gate'", ("Acme" + EVIL, "Cổng trước", "police" + EVIL))
    (gw.state_dir / "status.json").write_text(json.dumps({
        "gateway": "gw-console", "firmware": "1.0", "mode": "local", "uptime_s": 5,
        "time_utc_ms": 0, "storage": {}, "alarms": [],
        "cameras": [{"name": "gate", "state": "backoff", "video_codec": "h264",
                     "fps": 0, "bitrate_bps": 0, "segments": 0, "reconnects": 1,
                     "note": "", "last_error": "connect: 401 " + EVIL}]}))
    out = c.cmd("show camera gate")
    assert_inert(out)
    assert "Acme\\x1b[2J\\x1b]0;owned\\x07\\x0d\\x0aadmin> " in out, out
    assert "Cổng trước" in out and "owner=police\\x1b[2J" in out, out
    out = c.cmd("show status")
    assert_inert(out)
    assert "last error: connect: 401 \\x1b[2J" in out, out
    c.line("exit")
    assert c.wait() == 0
    r = subprocess.run([cglib.CAMGATE_BIN, "-c", str(gw.conf), "status"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert_inert(r.stdout)
    assert "last error: connect: 401 \\x1b[2J" in r.stdout, r.stdout
    db = sqlite3.connect(str(gw.state_dir / "state.db"))
    try:
        raw = db.execute("SELECT manufacturer FROM registry_cameras WHERE name = 'gate'")
        assert raw.fetchone()[0] == "Acme" + EVIL
    finally:
        db.close()


def test_hangup_mid_command(gw):
    c = gw.first_boot()
    c.type("camera add gate rtsp://127.0.0.1/")
    c.hangup()
    assert c.wait() == 0
    rows = gw.audit()
    assert rows[-1][1:3] == ("admin", "logout") and rows[-1][4] == "hang-up"
    assert "camera:gate" not in gw.conf.read_text()


def test_tampered_audit_log(gw):
    c = gw.first_boot()
    c.cmd("show version")
    c.line("exit")
    c.wait()
    c = gw.login("admin", ADMIN_PW)
    assert "chain intact" in c.cmd("log verify")
    rows = gw.audit()
    victim = rows[2]
    gw.sql("UPDATE audit SET detail = 'nothing' WHERE id = ?", (victim[0],))
    assert "BAD at row %d: content changed" % victim[0] in c.cmd("log verify")
    gw.sql("UPDATE audit SET detail = ? WHERE id = ?", (victim[4], victim[0]))
    assert "chain intact" in c.cmd("log verify")
    gw.sql("DELETE FROM audit WHERE id = ?", (victim[0],))
    out = c.cmd("log verify")
    assert "BAD at row %d: chain broken" % (victim[0] + 1) in out, out
    c.line("exit")
    c.wait()


def rechain_sha256(gw, from_id, keyed):
    """What the hostile tester did after editing a row: recompute the
    SHA-256 chain (format in firmware/audit.h) from row @from_id on,
    without the key; @keyed is what the keyed column is set to."""
    db = sqlite3.connect(str(gw.state_dir / "state.db"), timeout=10)
    try:
        rows = db.execute("SELECT id, ts_ms, actor, action, object, detail,"
                          " hash FROM audit ORDER BY id").fetchall()
        prev = bytes(32)
        for rid, ts, actor, action, obj, detail, h in rows:
            if rid < from_id:
                prev = h
                continue
            m = hashlib.sha256(prev + struct.pack("<qq", rid, ts))
            for text in (actor, action, obj, detail):
                b = text.encode()
                m.update(struct.pack("<I", len(b)) + b)
            db.execute("UPDATE audit SET prev_hash = ?, hash = ?, keyed = ?"
                       " WHERE id = ?", (prev, m.digest(), keyed, rid))
            prev = m.digest()
        db.commit()
    finally:
        db.close()


def test_audit_rechained_without_key(gw):
    """Editing a row and recomputing the SHA-256 chain from there passed
    `log verify`; the chain is keyed now (HMAC-SHA256, STATE_DIR/audit.key)."""
    c = gw.first_boot()
    c.cmd("show version")
    c.line("exit")
    c.wait()
    key = gw.state_dir / "audit.key"
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 48
    rows = gw.audit()
    assert rows[1][2] == "audit-chain-keyed", rows
    victim = [r for r in rows if r[2] == "first-boot-admin"][0]
    gw.sql("UPDATE audit SET detail = 'nothing' WHERE id = ?", (victim[0],))
    rechain_sha256(gw, victim[0], 1)
    c = gw.login("admin", ADMIN_PW)
    out = c.cmd("log verify")
    assert ("BAD at row %d: content changed, or written under another key"
            % victim[0]) in out, out
    rechain_sha256(gw, victim[0], 0)
    out = c.cmd("log verify")
    assert "BAD at row %d: not keyed" % victim[0] in out, out
    c.line("exit")
    c.wait()
    # The verdict is audited, and the log is not rewritten to hide it.
    assert [r for r in gw.audit() if r[2] == "log-verify"][-1][4] == \
        "bad at row %d" % victim[0]


def test_serial_line(gw):
    """`camgate console --tty DEV` on a pty standing in for the board's
    UART: raw mode, sessions one after another, a hang-up, SIGTERM."""
    c = gw.first_boot()
    c.line("exit")
    c.wait()
    master, slave = os.openpty()
    name = os.ttyname(slave)
    os.close(slave)
    proc = subprocess.Popen([str(cglib.CAMGATE_BIN), "-c", str(gw.conf), "console",
                             "--tty", name, "--baud", "115200"],
                            env=gw.env(), stdin=subprocess.DEVNULL,
                            stdout=open(gw.log, "ab"), stderr=subprocess.STDOUT)
    line = PtyConsole.attach(master, proc.pid, gw.log)
    try:
        line.expect("login: ")
        line.line("admin")
        line.expect("password: ")
        line.line(ADMIN_PW)
        line.expect("admin> ")
        assert "camgate" in line.cmd("show version")
        line.line("exit")
        line.expect("login: ")  # the next session on the same line
        line.type("adm")
        line.hangup()
        assert proc.poll() is None  # waits for the line to come back
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        line.log.close()
    sources = {r[3] for r in gw.audit() if r[2] == "login"}
    assert os.path.basename(name) in sources


def installer_session(gw, admin):
    """An installer account (its forced first change done), logged in."""
    gw.add_user(admin, "inst", "installer", "initial-pw-1")
    c = gw.login("inst", "initial-pw-1", prompt="must be changed")
    c.expect("new password: ")
    c.line(INST_PW)
    c.expect("again: ")
    c.line(INST_PW)
    c.expect("inst> ")
    return c


def test_installer_cannot_move_identity_or_trust(gw, tmp_path):
    """Where accounts, secrets, the audit log and trust live is an
    admin's to change; an installer's attempt stages nothing and is
    audited."""
    admin = gw.first_boot()
    c = installer_session(gw, admin)
    admin.line("exit")
    admin.wait()
    new_dir = tmp_path / "elsewhere"
    for line in ("settings set gateway.state_dir %s" % new_dir,
                 "settings set gateway.console_tty /dev/ttyUSB9",
                 "settings set storage.dir %s" % new_dir,
                 "uplink set base_url=https://evil.example/",
                 "uplink set ca_file=/etc/shadow",
                 "uplink set pin=sha256//AAAA",
                 "uplink set client_cert=/tmp/c.pem",
                 "uplink set auth=none",
                 "uplink set token=stolen"):
        out = c.cmd(line)
        assert "admin only" in out, (line, out)
    assert "no staged changes" in c.cmd("show changes")
    # What an installer may still do is staged as before.
    assert "not staged" not in c.cmd("settings set storage.retention_floor 2h")
    assert "changes committed" in c.cmd("commit")
    c.line("exit")
    assert c.wait() == 0
    text = gw.conf.read_text()
    assert "retention_floor = 2h" in text
    assert str(new_dir) not in text and "evil" not in text and "shadow" not in text
    refused = [r for r in gw.audit() if r[2] == "setting-refused"]
    assert len(refused) == 9 and all(r[1] == "inst" for r in refused), refused
    assert {r[3] for r in refused} >= {"gateway.state_dir", "uplink.ca_file",
                                       "uplink.base_url"}
    assert not new_dir.exists()


def test_moved_state_dir_is_no_first_start(gw, tmp_path):
    """A state folder without the accounts never yields a first start on
    a gateway that had accounts: the admin's move is refused, and a
    config changed behind the console's back gets a refusal, audited."""
    c = gw.first_boot()
    new_dir = tmp_path / "fresh-state"
    new_dir.mkdir()
    out = c.cmd("settings set gateway.state_dir %s" % new_dir)
    assert "holds no accounts" in out, out
    assert "no staged changes" in c.cmd("show changes")
    c.line("exit")
    assert c.wait() == 0
    assert ("admin", "setting-refused", "gateway.state_dir") in [r[1:4] for r in gw.audit()]
    # The move done by hand (or by an older firmware's console).
    text = gw.conf.read_text()
    gw.conf.write_text(text.replace("state_dir = %s" % gw.state_dir,
                                    "state_dir = %s" % new_dir))
    assert str(new_dir) in gw.conf.read_text()
    c = gw.console()
    c.expect("First start refused")
    c.expect("login: ")
    c.line("admin")
    c.expect("password: ")
    c.line(ADMIN_PW)
    c.expect("Login incorrect")
    c.send(CTRL_D)
    assert c.wait() == 0
    db = sqlite3.connect("file:%s?mode=ro" % (new_dir / "state.db"), uri=True, timeout=10)
    rows = db.execute("SELECT id, actor, action, object, detail FROM audit").fetchall()
    db.close()
    assert [r[2] for r in rows if r[2].startswith("first-boot")] == ["first-boot-refused"], rows
    assert not [r for r in rows if r[2] == "first-boot-admin"]
    # Back in its folder, the gateway's accounts log in as before.
    gw.conf.write_text(text)
    c = gw.login("admin", ADMIN_PW)
    c.line("exit")
    assert c.wait() == 0


def test_first_start_attempts_audited(gw):
    """Every first-start attempt leaves an audit row: one given up, and
    the one that sets the admin password; factory-reset makes the next
    console a first start again."""
    c = gw.console()
    c.expect("First start")
    c.expect("new password: ")
    c.send(CTRL_C)
    assert c.wait() == 0
    c = gw.first_boot()
    c.line("factory-reset")
    c.expect("type yes to confirm: ")
    c.line("yes")
    c.expect("factory reset done")
    assert c.wait() == 0
    c = gw.first_boot()
    c.line("exit")
    assert c.wait() == 0
    actions = [r[2] for r in gw.audit() if r[2].startswith("first-boot")]
    assert actions == ["first-boot-failed", "first-boot-admin", "first-boot-admin"], actions


def test_onvif_password_sealed(gw):
    """settings set onvif.password: accepted, sealed in the file, never
    shown back; the file then passes config check."""
    c = gw.first_boot()
    c.line("settings set onvif.password")
    c.expect("onvif.password: ")
    c.line("onvif-secret-9")
    c.expect(r"admin\*> ")
    out = c.cmd("settings show onvif")
    assert "(secret)" in out and "onvif-secret-9" not in out, out
    assert "changes committed" in c.cmd("commit")
    c.line("exit")
    assert c.wait() == 0
    text = gw.conf.read_text()
    assert "onvif-secret-9" not in text and "password = enc:v1:" in text, text
    os.chmod(gw.conf, 0o644)
    r = subprocess.run([str(cglib.CAMGATE_BIN), "-c", str(gw.conf), "config", "check"],
                       capture_output=True, text=True, env=gw.env(), timeout=60)
    assert r.returncode == 0, r.stderr


def test_config_check_fails_on_readable_plain_secret(gw):
    """A camera password in the clear in a file group or others can read:
    camgate warns, config check fails; owner-only, it passes."""
    with open(gw.conf, "a") as f:
        f.write("\n[camera:gate]\nurl = rtsp://127.0.0.1/g\npassword = plain-pw\n")
    check = [str(cglib.CAMGATE_BIN), "-c", str(gw.conf), "config", "check"]
    os.chmod(gw.conf, 0o644)
    r = subprocess.run(check, capture_output=True, text=True, env=gw.env(), timeout=60)
    assert r.returncode != 0 and "camera:gate.password is stored unsealed" in r.stderr, r
    os.chmod(gw.conf, 0o600)
    r = subprocess.run(check, capture_output=True, text=True, env=gw.env(), timeout=60)
    assert r.returncode == 0, r.stderr
