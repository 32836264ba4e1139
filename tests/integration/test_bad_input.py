# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad input: broken config files are refused with FILE:LINE: key, and
broken cameras (garbage, silence, a stall after DESCRIBE, timestamps
that jump backwards) never stop camgate or the healthy cameras."""

import re
import subprocess
import time

import pytest

import cglib

GOOD_URL = "rtsp://127.0.0.1:9/cam1"  # never contacted by config check


def _conf_lines(cg, extra_camera_keys=None):
    cg.write_config({"cam1": dict({"url": GOOD_URL},
                                  **(extra_camera_keys or {}))})
    return cg.conf.read_text().splitlines()


def _line_of(lines, prefix, after=0):
    for i, ln in enumerate(lines):
        if i >= after and ln.startswith(prefix):
            return i + 1
    raise AssertionError("%r not in config" % prefix)


def _assert_error(r, conf, line, key):
    assert r.returncode == 1, "exit %d, stderr: %s" % (r.returncode, r.stderr)
    want = "%s:%d: %s" % (conf, line, key)
    assert want in r.stderr, "%r not in stderr:\n%s" % (want, r.stderr)


def test_good_config_checks(env):
    cg = env.camgate()
    _conf_lines(cg)
    r = cg.cli("config", "check")
    assert r.returncode == 0, r.stderr


def test_unknown_key(env):
    cg = env.camgate()
    lines = _conf_lines(cg)
    at = _line_of(lines, "segment_duration")
    lines.insert(at, "segmnet_duraton = 2s")
    cg.write_raw("\n".join(lines) + "\n")
    r = cg.cli("config", "check")
    _assert_error(r, cg.conf, at + 1, "segmnet_duraton")
    # The daemon refuses it too, at once.
    r = cg.cli("run", timeout=20)
    assert r.returncode == 1, r.stderr


@pytest.mark.parametrize("section,key,value", [
    ("storage", "extents", "1"),
    ("storage", "extent_size", "64K"),
    ("stream", "segment_duration", "0s"),
    ("stream", "backoff_max", "400d"),
    ("gateway", "status_interval", "1ms"),
])
def test_out_of_range(env, section, key, value):
    cg = env.camgate()
    lines = _conf_lines(cg)
    sec = _line_of(lines, "[%s]" % section)
    at = _line_of(lines, key + " ", sec)
    lines[at - 1] = "%s = %s" % (key, value)
    cg.write_raw("\n".join(lines) + "\n")
    _assert_error(cg.cli("config", "check"), cg.conf, at, key)


def test_bad_values_all_reported(env):
    """Every error of the file is reported, not only the first."""
    cg = env.camgate()
    lines = _conf_lines(cg)
    a = _line_of(lines, "extents ")
    b = _line_of(lines, "transport ")
    lines[a - 1] = "extents = many"
    lines[b - 1] = "transport = carrier-pigeon"
    cg.write_raw("\n".join(lines) + "\n")
    r = cg.cli("config", "check")
    _assert_error(r, cg.conf, a, "extents")
    _assert_error(r, cg.conf, b, "transport")


@pytest.mark.parametrize("second_keys", ["same", "disjoint"])
def test_duplicate_camera(env, second_keys):
    """Two [camera:cam1] sections: refused, whether or not their keys
    collide, with the position of the second."""
    cg = env.camgate()
    cg.write_config({"cam1": GOOD_URL})
    text = cg.conf.read_text()
    if second_keys == "same":
        text += "[camera:cam1]\nurl = %s\nenabled = yes\n" % GOOD_URL
    else:
        text += "[camera:cam1]\nusername = someone\n"
    cg.write_raw(text)
    lines = text.splitlines()
    first = _line_of(lines, "[camera:cam1]")
    second = _line_of(lines, "[camera:cam1]", first)
    r = cg.cli("config", "check")
    assert r.returncode == 1, "duplicate camera accepted: %s" % r.stdout
    m = re.search(r"%s:(\d+): " % re.escape(str(cg.conf)), r.stderr)
    assert m, "no FILE:LINE in %r" % r.stderr
    assert int(m.group(1)) >= second, r.stderr
    assert "cam1" in r.stderr, r.stderr


def test_missing_config_file(env, tmp_path):
    cg = env.camgate()
    r = cg.cli("config", "check", config=tmp_path / "nope.conf")
    assert r.returncode == 1, r.stderr
    assert "nope.conf" in r.stderr


def test_usage_error(env):
    cg = env.camgate()
    _conf_lines(cg)
    r = cg.cli("ring", "frobnicate")
    assert r.returncode == 2, r
    r = subprocess.run([str(cglib.CAMGATE_BIN), "no-such-command"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2, r


# -------------------------------------------------- broken cameras, one run

BAD = ("garbage", "stall", "describe")
JUMP_AT_S = 8
RUN_S = 22


@pytest.fixture(scope="module")
def bad_run(module_env):
    """One gateway with a healthy camera, three broken servers and a
    camera whose clock steps back 5 s; status sampled throughout."""
    with cglib.budget(RUN_S + 90, "broken-camera run"):
        good = module_env.cameras(name="good", cams=1)
        jumpy = module_env.cameras(name="jumpy", cams=1,
                                   jump_back_at=JUMP_AT_S, jump_back_by=5)
        bad = {m: module_env.bad_server(m) for m in BAD}
        cg = module_env.camgate()
        cams = {"good": good.url(), "jumpy": jumpy.url()}
        cams.update({m: b.url() for m, b in bad.items()})
        cg.write_config(cams, stream={"connect_timeout": "2s",
                                      "stall_timeout": "3s",
                                      "backoff_min": "500ms",
                                      "backoff_max": "2s"})
        cg.start()
        start_ms = cglib.now_ms()
        seen = {n: set() for n in cams}
        last = {}
        t_end = time.monotonic() + RUN_S
        while time.monotonic() < t_end:
            time.sleep(1)
            cg.assert_running()
            try:
                st = cg.status()
            except cglib.Failure:
                continue  # no snapshot yet
            for c in st.get("cameras", []):
                if c.get("name") in seen:
                    seen[c["name"]].add(c.get("state"))
                    last[c["name"]] = c
        alive = cg.running()
        rc = cg.stop()
        return {"cg": cg, "seen": seen, "last": last, "alive": alive,
                "stop_rc": rc, "start_ms": start_ms, "cams": cg.cameras()}


def test_daemon_survives_bad_cameras(bad_run):
    assert bad_run["alive"], "camgate died"
    assert bad_run["stop_rc"] == 0


def test_healthy_camera_unaffected(bad_run):
    segs = bad_run["cams"]["good"]["segments"]
    assert len(segs) >= (RUN_S - 6) // 2, len(segs)
    assert bad_run["cams"]["good"]["gaps"] == []


@pytest.mark.parametrize("mode", BAD)
def test_bad_camera_backs_off(bad_run, mode):
    c = bad_run["last"].get(mode)
    assert c, "%s camera missing from status" % mode
    assert "backoff" in bad_run["seen"][mode], \
        "%s: states seen %s" % (mode, bad_run["seen"][mode])
    assert "recording" not in bad_run["seen"][mode]
    assert c["last_error"], c
    assert c["reconnects"] >= 1, c
    assert not bad_run["cams"].get(mode, {}).get("segments"), \
        "%s: segments recorded from a broken server" % mode


def test_timestamp_jump_back(bad_run):
    c = bad_run["last"]["jumpy"]
    assert c["discontinuities"] >= 1, c
    segs = bad_run["cams"]["jumpy"]["segments"]
    jump_ms = bad_run["start_ms"] + JUMP_AT_S * 1000
    after = [s for s in segs if s["start_utc_ms"] > jump_ms + 2000]
    assert len(after) >= 3, "recording did not go on after the jump"
    # Wall-clock start times stay monotonic even though the camera's
    # media clock went back.
    starts = [s["start_utc_ms"] for s in segs]
    assert starts == sorted(starts), starts
    assert any(s["discont"] for s in segs[1:]), "no segment marked discont"


def test_verify_after_bad_run(bad_run):
    r = bad_run["cg"].verify()
    assert r.returncode == 0, r.stdout + r.stderr
