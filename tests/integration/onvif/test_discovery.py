# SPDX-License-Identifier: GPL-2.0-or-later
"""`camgate discover` against simulated ONVIF cameras in a private network:
real WS-Discovery multicast over veth pairs, real HTTP, real auth."""

import json
import subprocess
import time

import cglib
import pytest

PASSWORD = "cam-pass-1"  # as tests/integration/onvif/conftest.py gives the simulators


def by_endpoint(doc):
    return {c["endpoint"]: c for c in doc["cameras"]}


@pytest.mark.budget(120)
@pytest.mark.parametrize("n", [1, 8, 32])
def test_all_found_none_twice(onvif_net, n):
    sims = onvif_net.start_cams(n)
    t0 = time.monotonic()
    docs, r = onvif_net.discover("--timeout", "2s", "--jobs", "8")
    assert r.returncode == 0, r.stderr
    cams = docs[0]["cameras"]
    assert len(cams) == n, r.stderr
    assert {c["endpoint"] for c in cams} == {s.uuid for s in sims}
    for c in cams:
        assert c["error"] is None, c
        assert c["manufacturer"] == "Camsim"
        assert c["serial"] == "SN-" + c["peer"]
        assert c["iface"] == onvif_net.name + "-g0"
        assert c["auth"] in ("ws-security", "http-digest")
        assert abs(c["clock_offset_ms"]) < 2000
        assert c["media_version"] == 2
        assert len(c["profiles"]) == 2
        assert c["profiles"][0]["stream_uri"] == "rtsp://%s:554/stream" % c["peer"]
    # The probe window dominates: interrogation runs in parallel.
    assert time.monotonic() - t0 < 2.5 + 0.25 * n


@pytest.mark.parametrize("onvif_net", [2], indirect=True)
def test_camera_on_second_interface(onvif_net):
    a = onvif_net.start_cam(0)
    b = onvif_net.start_cam(1)
    docs, r = onvif_net.discover("--timeout", "1s")
    cams = by_endpoint(docs[0])
    assert set(cams) == {a.uuid, b.uuid}, r.stderr
    assert cams[a.uuid]["iface"] == onvif_net.name + "-g0"
    assert cams[b.uuid]["iface"] == onvif_net.name + "-g1"
    assert cams[b.uuid]["peer"] == "10.77.1.10"
    # --iface limits the multicast to one network.
    docs, r = onvif_net.discover("--timeout", "1s", "--iface", onvif_net.name + "-g1")
    assert set(by_endpoint(docs[0])) == {b.uuid}


def test_xaddr_and_stream_rewrite(onvif_net):
    liar = onvif_net.start_cam(0, "--advertise-host", "169.254.3.3",
                               "--rtsp", "rtsp://127.0.0.1:8554/main")
    nat = onvif_net.start_cam(0, "--advertise-host", "192.168.200.9")
    honest = onvif_net.start_cam(0)
    docs, r = onvif_net.discover("--timeout", "1s")
    cams = by_endpoint(docs[0])
    c = cams[liar.uuid]
    assert c["xaddr"] == "http://%s:80/onvif/device_service" % liar.ip
    assert "169.254.3.3" in c["xaddrs_raw"]
    assert c["profiles"][0]["stream_uri"] == "rtsp://%s:8554/main" % liar.ip
    assert c["profiles"][0]["stream_uri_raw"] == "rtsp://127.0.0.1:8554/main"
    assert cams[nat.uuid]["xaddr"].startswith("http://%s:80/" % nat.ip)
    assert cams[nat.uuid]["error"] is None
    assert cams[honest.uuid]["xaddr"] == honest.xaddr


def test_auth_quirks(onvif_net):
    cams = {
        "plus1h": onvif_net.start_cam(0, "--auth", "wsse", "--skew", "3600"),
        "minus1h": onvif_net.start_cam(0, "--auth", "wsse", "--skew", "-3600"),
        "epoch": onvif_net.start_cam(0, "--auth", "wsse", "--epoch1970"),
        "digest": onvif_net.start_cam(0, "--auth", "digest", "--auth-datetime"),
    }
    docs, r = onvif_net.discover("--timeout", "1s")
    got = by_endpoint(docs[0])
    for what, sim in cams.items():
        c = got[sim.uuid]
        assert c["error"] is None, (what, c)
        assert c["serial"], what
    assert got[cams["plus1h"].uuid]["auth"] == "ws-security"
    assert abs(got[cams["plus1h"].uuid]["clock_offset_ms"] - 3600000) < 2500
    assert abs(got[cams["minus1h"].uuid]["clock_offset_ms"] + 3600000) < 2500
    assert got[cams["epoch"].uuid]["clock_offset_ms"] < -1_000_000_000_000
    assert got[cams["digest"].uuid]["auth"] == "http-digest"


def test_wrong_password_is_clear_and_quick(onvif_net):
    onvif_net.start_cam(0)
    pw = onvif_net.workdir / "password"
    pw.write_text("not-" + PASSWORD + "\n")
    t0 = time.monotonic()
    r = onvif_net.gw_run(cglib.CAMGATE_BIN, "discover", "--json",
                         "--timeout", "1s", "--user", "admin", "--password-file", pw)
    assert r.returncode == 0
    assert "credentials refused" in r.stdout
    assert time.monotonic() - t0 < 5


def test_bad_cameras_do_not_stop_the_rest(onvif_net):
    good = onvif_net.start_cam(0)
    broken = onvif_net.start_cam(0, "--malformed", "GetDeviceInformation:truncated")
    slow = onvif_net.start_cam(0, "--delay-ms", "3000")
    no_media1 = onvif_net.start_cam(0, "--no-media2", "--profiles", "3")
    t0 = time.monotonic()
    docs, r = onvif_net.discover("--timeout", "1s", "--call-timeout", "1s")
    got = by_endpoint(docs[0])
    assert got[good.uuid]["error"] is None
    assert "malformed" in got[broken.uuid]["error"] or \
        "closed" in got[broken.uuid]["error"]
    assert "timed out" in got[slow.uuid]["error"]
    assert got[no_media1.uuid]["media_version"] == 1
    assert len(got[no_media1.uuid]["profiles"]) == 3
    assert time.monotonic() - t0 < 10


def test_cidr_sweep_without_multicast(onvif_net):
    sims = onvif_net.start_cams(3)
    docs, r = onvif_net.discover("--timeout", "1s", "--no-multicast",
                                 "--cidr", "10.77.0.0/24")
    assert r.returncode == 0, r.stderr
    cams = by_endpoint(docs[0])
    assert set(cams) == {s.uuid for s in sims}
    assert all(c["error"] is None for c in cams.values())


def test_hello_and_bye(onvif_net):
    p = subprocess.Popen(["ip", "netns", "exec", onvif_net.gw,
                          str(cglib.CAMGATE_BIN), "discover", "--json",
                          "--no-details", "--timeout", "200ms", "--watch", "4s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    sim = onvif_net.start_cam(0, "--hello")
    time.sleep(0.3)
    sim.stop()
    out, err = p.communicate(timeout=15)
    events = [json.loads(ln) for ln in out.splitlines() if ln.startswith('{"event"')]
    seen = [(e["event"], e["endpoint"]) for e in events]
    assert ("hello", sim.uuid) in seen, out + err
    assert ("bye", sim.uuid) in seen, out + err
    assert events[0]["xaddr"] == sim.xaddr


# What a hostile camera puts where a name goes: clear screen, set the
# window title, a C1 CSI (U+009B), and a new line with a fake prompt.
EVIL = "\x1b[2J\x1b]0;owned\x07\u009b31m\r\nadmin> "
NAME = "Cổng trước " + EVIL  # Vietnamese text must still show as it is


def assert_inert(text):
    """No byte a terminal obeys: C0 other than the line ends of the
    output itself, DEL, C1."""
    for ch in text:
        o = ord(ch)
        assert ch == "\n" or (o >= 0x20 and o != 0x7f and not 0x80 <= o <= 0x9f), \
            "raw %r in %r" % (ch, text)


def test_hostile_text_is_escaped(onvif_net):
    """Scopes (percent-encoded and raw), identity and endpoint with control
    sequences: `discover` and `discover --watch` print them escaped, the
    JSON keeps the raw value."""
    sim = onvif_net.start_cam(0, "--name", NAME, "--location", "lab" + EVIL,
                              "--make", "Acme" + EVIL, "--model", "M\x1b[8m",
                              "--firmware", "1.0\x7f")
    raw = onvif_net.start_cam(0, "--scopes",
                              "onvif://www.onvif.org/name/raw\x1b[2Jx "
                              "onvif://www.onvif.org/location/\x1b]0;t\x07")
    docs, r = onvif_net.discover("--timeout", "1s")
    assert r.returncode == 0, r.stderr
    cams = by_endpoint(docs[0])
    assert cams[sim.uuid]["scopes"]["name"] == NAME  # the JSON keeps the value
    assert_inert(r.stdout.replace("\t", " "))  # ... written with \u escapes
    assert "1.0\\u007f" in r.stdout and "\\u009b31m" in r.stdout, r.stdout
    pw = onvif_net.workdir / "password"
    r = onvif_net.gw_run(cglib.CAMGATE_BIN, "discover", "--user", "admin",
                         "--password-file", pw, "--timeout", "1s")
    assert r.returncode == 0, r.stderr
    assert_inert(r.stdout)
    assert_inert(r.stderr)
    assert "Cổng trước \\x1b[2J\\x1b]0;owned\\x07\\xc2\\x9b31m\\x0d\\x0aadmin> " in r.stdout
    assert "Acme\\x1b[2J" in r.stdout and "M\\x1b[8m" in r.stdout
    assert "firmware 1.0\\x7f" in r.stdout
    assert "raw\\x1b[2Jx" in r.stdout and "\\x1b]0;t\\x07" in r.stdout, r.stdout
    assert "2 cameras found" in r.stdout
    assert raw.uuid in r.stdout


def test_hostile_hello_is_escaped(onvif_net):
    """A Hello whose endpoint address holds control sequences reaches the
    watching operator escaped."""
    p = subprocess.Popen(["ip", "netns", "exec", onvif_net.gw,
                          str(cglib.CAMGATE_BIN), "discover", "--no-details",
                          "--timeout", "200ms", "--watch", "4s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    sim = onvif_net.start_cam(0, "--hello", "--uuid", "urn:uuid:1\x1b[2J\x1b]0;owned\x07",
                              "--advertise-host", "h\x1b[5m")
    time.sleep(0.3)
    sim.stop()
    out, err = p.communicate(timeout=15)
    assert_inert(out)
    assert_inert(err)
    hello = [ln for ln in out.splitlines() if ln.startswith("hello")]
    assert hello and "urn:uuid:1\\x1b[2J\\x1b]0;owned\\x07" in hello[0], out + err
