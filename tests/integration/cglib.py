# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the integration suite: real camera servers, a camgate
daemon under test, its CLI, and the bookkeeping that guarantees every
process started is gone at teardown."""

import contextlib
import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CAMSIM = REPO / "tests" / "camsim"
PYTHON = "/usr/bin/python3"  # the one with python3-gi
CAMGATE_BIN = Path(os.environ.get("CAMGATE_BIN",
                                  str(REPO / "build" / "host" / "camgate")))
CLIP_DIR = Path(os.environ.get("CAMSIM_CLIP_DIR", str(REPO / "build" / "clips")))

CLI_TIMEOUT_S = 60  # any one `camgate ring ...` call
STOP_TIMEOUT_S = 30  # SIGTERM to exit
READY_TIMEOUT_S = 120  # a camera server (clips are cached by then)
LOG_TAIL_LINES = 200


class Failure(AssertionError):
    pass


@contextlib.contextmanager
def budget(seconds, what):
    """Raise in the main thread when @what runs longer than @seconds.
    Not nestable: one budget at a time (SIGALRM)."""
    def on_alarm(_sig, _frame):
        raise Failure("%s exceeded its budget of %d s" % (what, seconds))
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def poll(pred, timeout, interval=0.2):
    """Poll pred() until it returns something true or timeout seconds
    pass; return its last value (false on a timeout), for tests that
    assert on it with a message of their own."""
    deadline = time.monotonic() + timeout
    while True:
        last = pred()
        if last or time.monotonic() >= deadline:
            return last
        time.sleep(interval)


def wait_for(what, pred, timeout, interval=0.25):
    """Poll pred() until it returns something true; return that."""
    last = poll(pred, timeout, interval)
    if not last:
        raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
    return last


def now_ms():
    return int(time.time() * 1000)


def log_tail(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(%s)" % e
    return "\n".join(text.splitlines()[-lines:])


class Procs:
    """Every process a test or fixture starts; all are killed at close()."""

    def __init__(self, logs):
        self.procs = []
        self.logs = logs  # list of (title, path) shown on failure

    def start(self, cmd, log_path, title, **kw):
        log_path = Path(log_path)
        f = open(log_path, "ab")
        f.write(("$ %s\n" % " ".join(str(c) for c in cmd)).encode())
        f.flush()
        p = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                             stdout=f, stderr=subprocess.STDOUT, **kw)
        f.close()
        self.procs.append(p)
        if (title, log_path) not in self.logs:
            self.logs.append((title, log_path))
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class CameraServer:
    """tests/camsim/rtsp_cam.py: N cameras on one port, which stays the
    same across kill() and start() so a camera can come back."""

    def __init__(self, procs, workdir, name="cams", cams=1, codec="h264",
                 audio="aac", size=None, bitrate=None, jump_back_at=None,
                 jump_back_by=None, user=None, password=None):
        self.procs = procs
        self.dir = Path(workdir)
        self.name = name
        self.port = free_port()
        self.proc = None
        self.ready_ms = None
        args = ["--cams", cams, "--codec", codec, "--audio", audio,
                "--clip-dir", CLIP_DIR, "--max-lifetime", 900]
        if size:
            args += ["--size", size]
        if bitrate:
            args += ["--bitrate", bitrate]
        if jump_back_at:
            args += ["--jump-back-at", jump_back_at]
        if jump_back_by:
            args += ["--jump-back-by", jump_back_by]
        if user:
            args += ["--user", user, "--password", password or ""]
        self.args = args

    def url(self, i=1):
        return "rtsp://127.0.0.1:%d/cam%d" % (self.port, i)

    def start(self, timeout=READY_TIMEOUT_S):
        """Start and wait until it listens. Binding the old port may
        fail for a moment after a kill: retried."""
        ready = self.dir / ("%s.ready" % self.name)
        deadline = time.monotonic() + timeout
        while True:
            if ready.exists():
                ready.unlink()
            cmd = [PYTHON, CAMSIM / "rtsp_cam.py", "--port", self.port,
                   "--ready-file", ready] + self.args
            self.proc = self.procs.start(cmd, self.dir / ("%s.log" % self.name),
                                         "camera server %s" % self.name)
            while not ready.exists() and self.proc.poll() is None:
                if time.monotonic() > deadline:
                    raise Failure("camera server %s not ready" % self.name)
                time.sleep(0.05)
            if ready.exists():
                self.ready_ms = now_ms()
                return self
            if time.monotonic() > deadline:
                raise Failure("camera server %s exited %s"
                              % (self.name, self.proc.returncode))
            time.sleep(0.5)

    def kill(self):
        """SIGKILL: a camera losing power."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self, kill=True):
        """Down (SIGKILL, or SIGTERM) and up again on the same port."""
        self.kill() if kill else self.stop()
        return self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class BadServer:
    """tests/camsim/bad_rtsp.py in one of its modes."""

    def __init__(self, procs, workdir, mode):
        self.procs = procs
        self.dir = Path(workdir)
        self.mode = mode
        self.port = None
        self.proc = None

    def url(self):
        return "rtsp://127.0.0.1:%d/cam1" % self.port

    def start(self):
        ready = self.dir / ("bad-%s.ready" % self.mode)
        cmd = [PYTHON, CAMSIM / "bad_rtsp.py", "--mode", self.mode,
               "--port", 0, "--ready-file", ready, "--max-lifetime", 300]
        self.proc = self.procs.start(cmd, self.dir / ("bad-%s.log" % self.mode),
                                     "bad server %s" % self.mode)
        wait_for("bad server %s" % self.mode, ready.exists, 20, 0.05)
        with open(ready) as f:
            self.port = json.load(f)["port"]
        return self


# Settings every test starts from; a test overrides what it is about.
BASE_GATEWAY = {"id": "gw-test-01", "log_level": "info",
                "status_interval": "1s"}
# 32 MiB: a few minutes of the test clips; tests that need more say so.
BASE_STORAGE = {"extents": 4, "extent_size": "8M",
                "retention_floor": "0s", "on_full": "overwrite"}
BASE_STREAM = {"segment_duration": "2s", "transport": "tcp",
               "stall_timeout": "4s", "connect_timeout": "3s",
               "backoff_min": "500ms", "backoff_max": "2s"}


def ini_text(sections):
    """sections: list of (name, {key: value}) kept in order."""
    out = []
    for name, keys in sections:
        out.append("[%s]" % name)
        for k, v in keys.items():
            if isinstance(v, bool):
                v = "yes" if v else "no"
            out.append("%s = %s" % (k, v))
        out.append("")
    return "\n".join(out)


class Camgate:
    """One gateway under test: its config, state, ring, daemon and CLI."""

    def __init__(self, procs, workdir, name="camgate"):
        self.procs = procs
        self.dir = Path(workdir)
        self.name = name
        self.conf = self.dir / ("%s.conf" % name)
        self.state_dir = self.dir / ("%s-state" % name)
        self.ring_dir = self.dir / ("%s-ring" % name)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / ("%s-run.log" % name)
        self.cli_log = self.dir / ("%s-cli.log" % name)
        self.proc = None
        self.runs = 0
        if ("%s CLI" % name, self.cli_log) not in procs.logs:
            procs.logs.append(("%s CLI" % name, self.cli_log))

    def write_config(self, cameras, gateway=None, storage=None, stream=None):
        """cameras: {name: url or {key: value}}, in order."""
        gw = dict(BASE_GATEWAY, state_dir=self.state_dir, **(gateway or {}))
        st = dict(BASE_STORAGE, dir=self.ring_dir, **(storage or {}))
        sections = [("gateway", gw), ("storage", st),
                    ("stream", dict(BASE_STREAM, **(stream or {})))]
        for name, cam in cameras.items():
            keys = {"url": cam} if isinstance(cam, str) else dict(cam)
            keys.setdefault("enabled", True)
            sections.append(("camera:%s" % name, keys))
        self.write_raw(ini_text(sections))

    def write_raw(self, text):
        tmp = self.conf.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.conf)

    # -- the daemon

    def start(self, wait_ring=True):
        assert self.proc is None or self.proc.poll() is not None
        self.runs += 1
        with open(self.log, "ab") as f:
            f.write(b"\n==== run %d ====\n" % self.runs)
        self.proc = self.procs.start([CAMGATE_BIN, "-c", self.conf, "run"],
                                     self.log, "%s run" % self.name)
        if wait_ring:
            # The first run creates the ring; the CLI needs it.
            def ring_there():
                self.assert_running()
                return self.cli("ring", "stat", "--json").returncode == 0
            wait_for("camgate to open its ring", ring_there, 30, 0.1)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_running(self):
        if not self.running():
            raise Failure("camgate run exited with %s"
                          % (self.proc.returncode if self.proc else None))

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise Failure("camgate did not stop within %d s of SIGTERM"
                          % timeout)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=10)

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    # -- the CLI

    def cli(self, *args, timeout=CLI_TIMEOUT_S, config=None):
        cmd = [str(CAMGATE_BIN), "-c", str(config or self.conf)] + \
            [str(a) for a in args]
        t0 = time.monotonic()
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True,
                               errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            self._cli_log(cmd, None, "", "(timed out)", t0)
            raise Failure("%s timed out after %d s" % (" ".join(cmd), timeout))
        self._cli_log(cmd, r.returncode, r.stdout, r.stderr, t0)
        return r

    def _cli_log(self, cmd, rc, out, err, t0):
        with open(self.cli_log, "a") as f:
            f.write("$ %s  -> %s (%.2f s)\n" % (" ".join(cmd), rc,
                                                time.monotonic() - t0))
            if len(out) > 4000:
                out = out[:4000] + "\n...(cut)\n"
            if out:
                f.write(out if out.endswith("\n") else out + "\n")
            if err:
                f.write("stderr: " + err.replace("\n", "\nstderr: ") + "\n")

    def cli_json(self, *args):
        r = self.cli(*args)
        if r.returncode != 0:
            raise Failure("camgate %s exited %d: %s"
                          % (" ".join(map(str, args)), r.returncode,
                             r.stderr.strip()[-500:]))
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            raise Failure("camgate %s printed no JSON (%s): %r"
                          % (" ".join(map(str, args)), e, r.stdout[:300]))

    def ring_ls(self, camera=None):
        args = ["ring", "ls"] + ([camera] if camera else []) + ["--json"]
        return self.cli_json(*args)

    def cameras(self):
        """{name: {"segments": [...], "gaps": [...]}} from ring ls."""
        return {c["name"]: c for c in self.ring_ls().get("cameras", [])}

    def segments(self, camera):
        c = self.cameras().get(camera)
        return c["segments"] if c else []

    def ring_stat(self):
        return self.cli_json("ring", "stat", "--json")

    def status(self):
        return self.cli_json("status", "--json")

    def camera_status(self, name):
        for c in self.status().get("cameras", []):
            if c.get("name") == name:
                return c
        return None

    def wait_segments(self, counts, timeout):
        """Wait until each camera in counts {name: n} has n segments."""
        def enough():
            self.assert_running()
            try:
                cams = self.cameras()
            except Failure:
                return None  # no ring yet right after start
            return all(len(cams.get(n, {}).get("segments", [])) >= k
                       for n, k in counts.items()) and cams
        return wait_for("segments %s" % counts, enough, timeout, 0.5)

    def verify(self):
        return self.cli("ring", "verify", timeout=120)

    def db_rows(self, sql, params=()):
        """Rows from STATE_DIR/state.db, opened read-only."""
        uri = "file:%s?mode=ro" % (self.state_dir / "state.db")
        db = sqlite3.connect(uri, uri=True, timeout=10)
        try:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, params)]
        finally:
            db.close()


def ffprobe_json(path, *args):
    r = subprocess.run(["ffprobe", "-v", "error", "-of", "json"] + list(args) +
                       [str(path)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise Failure("ffprobe %s: %s" % (path, r.stderr.strip()[-500:]))
    return json.loads(r.stdout)


def seg_end_ms(seg):
    return seg["start_utc_ms"] + seg["duration_ms"]


def decode_errors(path):
    """Decode every frame of @path in full (ffmpeg -v error ... -f null);
    returns what the decoders complained about, "" for clean footage. A
    truncated access unit shows here ("error while decoding MB",
    "Error parsing NAL unit"), not in a remux or a probe. The HEVC decoder
    reports a slice cut short only at a level below "error" unless told
    to treat it as one (-err_detect explode)."""
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error",
                        "-err_detect", "explode",
                        "-i", str(path), "-f", "null", "-"],
                       capture_output=True, text=True, errors="replace",
                       timeout=300)
    err = r.stderr.strip()
    if r.returncode != 0 and not err:
        err = "ffmpeg exited %d" % r.returncode
    return err


def iso_ms(utc_ms):
    """A time `camgate ring cat` reads, to the millisecond."""
    t = time.gmtime(utc_ms // 1000)
    return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", t), utc_ms % 1000)


def export_segment(cg, camera, seg, out):
    """`ring cat` of @seg alone: its init and media segment, as stored
    (segments that meet [FROM, TO) are exported whole, and segments
    tile, so a range of 1 ms at its start meets it alone)."""
    start = seg["start_utc_ms"]
    r = cg.cli("ring", "cat", camera, iso_ms(start), iso_ms(start + 1),
               "-o", out)
    if r.returncode != 0:
        raise Failure("ring cat %s seq %d: %s" % (camera, seg["seq"],
                                                  r.stderr.strip()[-500:]))
    return out


def assert_segments_decode(cg, segs_by_camera, tmp_dir):
    """Each segment of {camera: [segment, ...]}, exported alone, decodes
    without an error; all are checked before the verdict."""
    bad = []
    for camera, segs in segs_by_camera.items():
        assert segs, "%s: no segment to decode" % camera
        for s in segs:
            out = Path(tmp_dir) / ("%s-%d.mp4" % (camera, s["seq"]))
            err = decode_errors(export_segment(cg, camera, s, out))
            out.unlink()
            if err:
                bad.append("%s seq %d (%d ms%s): %s" % (
                    camera, s["seq"], s["duration_ms"],
                    ", discont" if s["discont"] else "", err[-300:]))
    assert not bad, "segments that do not decode:\n%s" % "\n".join(bad)


def camgate_verify(path, *extra):
    """`camgate verify PATH EXTRA...`: (exit status, stdout + stderr)."""
    r = subprocess.run([str(CAMGATE_BIN), "verify", str(path)] + [str(e) for e in extra],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def sei_nal(clip="video-h264-1920x1080-4M-10s.h264"):
    """The SEI NAL unit (user data unregistered: the carrier ONVIF Media
    Signing uses) the camera simulator's H.264 clip carries once per loop
    (x264 writes its version there), without its start code."""
    data = (CLIP_DIR / clip).read_bytes()
    at = data.index(b"x264 - core")
    start = data.rindex(b"\x00\x00\x01", 0, at) + 3
    assert data[start] & 0x1f == 6, "not an SEI NAL unit"
    end = data.index(b"\x00\x00\x01", at)
    while data[end - 1] == 0:  # a 4-byte start code's leading zero
        end -= 1
    return data[start:end]


def uplink_fixtures():
    """tests/integration/uplink/conftest.py as a module of its own name
    (its PKI, Nginx, DigestNginx), for tests outside that folder or run in
    one session with another folder's conftest (a plain `from conftest
    import` may then find the other one)."""
    path = REPO / "tests" / "integration" / "uplink" / "conftest.py"
    spec = importlib.util.spec_from_file_location("cg_uplink_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
