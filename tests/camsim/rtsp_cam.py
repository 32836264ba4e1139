#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Simulated IP cameras: a real RTSP server (GStreamer GstRtspServer).

Serves /cam1 .. /camN on 127.0.0.1:PORT. Each camera plays a clip that
ffmpeg encodes once (cached in --clip-dir): 1080p25, keyframe every 2 s,
about 4 Mbit/s, H.264 or H.265, with AAC, G.711 mu-law or no audio.

Nothing is encoded live. The clip is split into access units once, kept in
memory, and pushed through appsrc elements by one pacing thread at wall
clock speed, looping forever with timestamps that keep increasing (as a
camera's would), so 16 cameras cost little CPU. Optionally the timestamps
jump backwards once (--jump-back-at), as a camera whose clock is stepped.

Run with /usr/bin/python3 (needs python3-gi, gir1.2-gst-rtsp-server-1.0).
"""

import argparse
import ctypes
import heapq
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

FPS = 25
GOP_FRAMES = 2 * FPS
CLIP_SECONDS = 10
AAC_RATE = 16000
PCMU_RATE = 8000
PCMU_CHUNK = 160  # 20 ms of 8 kHz mu-law
LEAD_S = 0.004  # push this much ahead of the due time
APPSRC_MAX_BYTES = 8 << 20  # a client that DESCRIBEs but never PLAYs
FLUSHING_GIVE_UP_S = 5.0


def log(msg):
    sys.stderr.write("rtsp_cam: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------- clips

def clip_paths(clip_dir, codec, size, bitrate):
    tag = "%s-%s-%s-%ds" % (codec, size, bitrate, CLIP_SECONDS)
    ext = "h264" if codec == "h264" else "hevc"
    return os.path.join(clip_dir, "video-%s.%s" % (tag, ext))


def encode_video(path, codec, size, bitrate):
    """Encode the test clip once; AUDs are inserted so splitting into
    access units needs no parser. No B-frames, closed GOPs, headers
    repeated on every keyframe, as IP cameras send them."""
    src = "testsrc2=size=%s:rate=%d:duration=%d" % (size, FPS, CLIP_SECONDS)
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-f", "lavfi", "-i", src, "-pix_fmt", "yuv420p",
           "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate]
    if codec == "h264":
        cmd += ["-c:v", "libx264", "-preset", "veryfast",
                "-tune", "zerolatency", "-bf", "0",
                "-g", str(GOP_FRAMES), "-keyint_min", str(GOP_FRAMES),
                "-sc_threshold", "0",
                "-bsf:v", "h264_metadata=aud=insert", "-f", "h264"]
    else:
        params = ("keyint=%d:min-keyint=%d:scenecut=0:bframes=0:"
                  "open-gop=0:repeat-headers=1:log-level=error"
                  % (GOP_FRAMES, GOP_FRAMES))
        cmd += ["-c:v", "libx265", "-preset", "ultrafast",
                "-x265-params", params,
                "-bsf:v", "hevc_metadata=aud=insert", "-f", "hevc"]
    tmp = path + ".tmp"
    subprocess.run(cmd + [tmp], check=True, timeout=300)
    os.rename(tmp, path)


def encode_audio(path, kind):
    if kind == "aac":
        args = ["-ar", str(AAC_RATE), "-ac", "1", "-c:a", "aac",
                "-b:a", "32k", "-f", "adts"]
    else:
        args = ["-ar", str(PCMU_RATE), "-ac", "1", "-c:a", "pcm_mulaw",
                "-f", "mulaw"]
    src = "sine=frequency=440:sample_rate=48000:duration=%d" % CLIP_SECONDS
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-f", "lavfi", "-i", src] + args
    tmp = path + ".tmp"
    subprocess.run(cmd + [tmp], check=True, timeout=120)
    os.rename(tmp, path)


def split_annexb(data, codec):
    """Access units of an Annex-B stream that has an AUD before each.
    The AUDs only mark the boundaries and are left out (cameras seldom
    send them). Returns [(bytes, is_keyframe)]."""
    nals = []  # (begin incl. leading zero, nal type)
    for m in re.finditer(b"\x00\x00\x01", data):
        p = m.start()
        if p + 3 >= len(data):
            break
        b = data[p + 3]
        t = b & 0x1F if codec == "h264" else (b >> 1) & 0x3F
        begin = p - 1 if p > 0 and data[p - 1] == 0 else p
        nals.append((begin, t))
    aud = 9 if codec == "h264" else 35
    aus = []
    cur = None  # [first nal begin, keyframe]
    for k, (begin, t) in enumerate(nals):
        end = nals[k + 1][0] if k + 1 < len(nals) else len(data)
        if t == aud:
            if cur is not None:
                aus.append((data[cur[0]:begin], cur[1]))
            cur = [end, False]
        elif cur is not None:
            if t == 5 if codec == "h264" else 16 <= t <= 21:
                cur[1] = True
    if cur is not None:
        aus.append((data[cur[0]:], cur[1]))
    return aus


def split_adts(data):
    """Raw AAC frames of an ADTS stream and the AudioSpecificConfig."""
    frames = []
    asc = None
    i = 0
    while i + 7 <= len(data):
        if data[i] != 0xFF or (data[i + 1] & 0xF6) != 0xF0:
            raise ValueError("ADTS sync lost at %d" % i)
        prot_absent = data[i + 1] & 1
        hlen = 7 if prot_absent else 9
        flen = ((data[i + 3] & 3) << 11) | (data[i + 4] << 3) | \
            (data[i + 5] >> 5)
        if asc is None:
            aot = (data[i + 2] >> 6) + 1
            sfi = (data[i + 2] >> 2) & 0xF
            chan = ((data[i + 2] & 1) << 2) | (data[i + 3] >> 6)
            asc = ((aot << 11) | (sfi << 7) | (chan << 3)).to_bytes(2, "big")
        frames.append(data[i + hlen:i + flen])
        i += flen
    return frames, asc


class Track:
    """One elementary stream held in memory: prototype buffers, each with
    its nominal duration, looped with continuously increasing time."""

    def __init__(self, caps, units, frame_ns):
        self.caps = caps
        self.frame_ns = frame_ns
        self.bufs = []
        for data, key in units:
            buf = Gst.Buffer.new_wrapped(data)
            if not key:
                buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
            self.bufs.append(buf)


def load_video(clip_dir, codec, size, bitrate):
    path = clip_paths(clip_dir, codec, size, bitrate)
    if not os.path.exists(path):
        t0 = time.monotonic()
        encode_video(path, codec, size, bitrate)
        log("encoded %s in %.1f s" % (path, time.monotonic() - t0))
    with open(path, "rb") as f:
        aus = split_annexb(f.read(), codec)
    if len(aus) != FPS * CLIP_SECONDS or not aus[0][1]:
        raise RuntimeError("%s: %d access units, expected %d"
                           % (path, len(aus), FPS * CLIP_SECONDS))
    name = "x-h264" if codec == "h264" else "x-h265"
    caps = "video/%s,stream-format=byte-stream,alignment=au," \
           "framerate=%d/1" % (name, FPS)
    return Track(caps, aus, Gst.SECOND // FPS)


def load_audio(clip_dir, kind):
    ext = "aac" if kind == "aac" else "ul"
    path = os.path.join(clip_dir, "audio-%s-%ds.%s" % (kind, CLIP_SECONDS, ext))
    if not os.path.exists(path):
        encode_audio(path, kind)
    with open(path, "rb") as f:
        data = f.read()
    if kind == "aac":
        frames, asc = split_adts(data)
        caps = "audio/mpeg,mpegversion=4,stream-format=raw,rate=%d," \
               "channels=1,codec_data=(buffer)%s" % (AAC_RATE, asc.hex())
        return Track(caps, [(fr, True) for fr in frames],
                     1024 * Gst.SECOND // AAC_RATE)
    chunks = [(data[i:i + PCMU_CHUNK], True)
              for i in range(0, len(data) - PCMU_CHUNK + 1, PCMU_CHUNK)]
    caps = "audio/x-mulaw,rate=%d,channels=1" % PCMU_RATE
    return Track(caps, chunks, PCMU_CHUNK * Gst.SECOND // PCMU_RATE)


# ---------------------------------------------------------------- pacing

class Feed:
    """One track of one prepared media: where it is in the clip."""

    def __init__(self, appsrc, track, cam):
        self.appsrc = appsrc
        self.track = track
        self.cam = cam
        self.n = 0  # units pushed since start
        self.handler = 0  # need-data handler until started
        self.flushing_since = None
        self.alive = True

    def stream_ns(self):
        return self.n * self.track.frame_ns


class Pacer(threading.Thread):
    """Pushes every feed's next unit when its time comes (wall clock).
    One thread for all cameras: a heap ordered by due time."""

    def __init__(self):
        super().__init__(daemon=True)
        self.cv = threading.Condition()
        self.heap = []
        self.seq = 0

    def add(self, feed, t0):
        feed.t0 = t0
        with self.cv:
            self.seq += 1
            heapq.heappush(self.heap, (t0, self.seq, feed))
            self.cv.notify()

    def run(self):
        while True:
            with self.cv:
                while not self.heap:
                    self.cv.wait()
                due, _, feed = self.heap[0]
                delay = due - LEAD_S - time.monotonic()
                if delay > 0:
                    self.cv.wait(delay)
                    continue
                heapq.heappop(self.heap)
            if not feed.alive:
                continue
            self.push(feed)
            with self.cv:
                self.seq += 1
                nxt = feed.t0 + feed.stream_ns() / 1e9
                heapq.heappush(self.heap, (nxt, self.seq, feed))

    def push(self, feed):
        tr = feed.track
        proto = tr.bufs[feed.n % len(tr.bufs)]
        buf = proto.copy()
        ts = feed.stream_ns() + feed.cam.ts_offset_ns(feed.stream_ns())
        buf.pts = ts
        buf.dts = ts
        buf.duration = tr.frame_ns
        feed.n += 1
        ret = feed.appsrc.emit("push-buffer", buf)
        # A track whose appsrc is not started yet drops a unit or two;
        # one that stays stopped belongs to a media that has gone.
        if ret != Gst.FlowReturn.FLUSHING:
            feed.flushing_since = None
        elif feed.flushing_since is None:
            feed.flushing_since = time.monotonic()
        elif time.monotonic() - feed.flushing_since > FLUSHING_GIVE_UP_S:
            feed.alive = False


# ---------------------------------------------------------------- server

class Camera:
    def __init__(self, index, video, audio, jump_at_s, jump_by_s):
        self.name = "cam%d" % index
        self.video = video
        self.audio = audio
        self.jump_at_ns = int(jump_at_s * Gst.SECOND) if jump_at_s else None
        self.jump_by_ns = int(jump_by_s * Gst.SECOND)

    def ts_offset_ns(self, stream_ns):
        """Timestamps follow the pipeline's running time, which starts
        with the media: the RTSP server's sinks sync on them, so a
        stream ahead of it would be held back. Behind it (after the
        jump) buffers go out at once, as from a stepped camera clock."""
        if self.jump_at_ns is not None and stream_ns >= self.jump_at_ns:
            return -self.jump_by_ns
        return 0

    def launch(self):
        vpay = "rtph264pay" if "h264" in self.video.caps else "rtph265pay"
        src = "appsrc name=%s is-live=true format=time do-timestamp=false " \
              "max-bytes=%d leaky-type=upstream caps=\"%s\""
        desc = "( " + src % ("vsrc", APPSRC_MAX_BYTES, self.video.caps)
        desc += " ! %s name=pay0 pt=96 config-interval=0" % vpay
        if self.audio is not None:
            apay = "rtpmp4gpay" if "mpeg" in self.audio.caps \
                else "rtppcmupay"
            desc += " " + src % ("asrc", APPSRC_MAX_BYTES, self.audio.caps)
            desc += " ! %s name=pay1 pt=%d" % (
                apay, 97 if apay == "rtpmp4gpay" else 0)
        return desc + " )"


def setup_factory(cam, pacer):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(cam.launch())
    factory.set_shared(True)
    factory.set_latency(0)

    def on_configure(_factory, media):
        bin_ = media.get_element()
        feeds = [Feed(bin_.get_by_name("vsrc"), cam.video, cam)]
        if cam.audio is not None:
            feeds.append(Feed(bin_.get_by_name("asrc"), cam.audio, cam))

        def on_unprepared(_media):
            for f in feeds:
                f.alive = False
        media.connect("unprepared", on_unprepared)

        # appsrc refuses buffers (FLUSHING) until it has started, and
        # asks for data once it has: start every track then, together.
        lock = threading.Lock()

        def on_need_data(_src, _length):
            with lock:
                if not feeds[0].handler:
                    return
                for f in feeds:
                    f.appsrc.disconnect(f.handler)
                    f.handler = 0
            t0 = time.monotonic()
            for f in feeds:
                pacer.add(f, t0)
            log("%s: media started" % cam.name)

        for f in feeds:
            f.handler = f.appsrc.connect("need-data", on_need_data)

    factory.connect("media-configure", on_configure)
    return factory


def setup_auth(server, factories, user, password):
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    auth.add_digest(user, password, token)
    server.set_auth(auth)
    role = Gst.Structure.new_from_string(
        "user, media.factory.access=(boolean)true, "
        "media.factory.construct=(boolean)true")
    for f in factories:
        f.add_role_from_structure(role)


def per_camera(values, n, what, allowed):
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not items:
        raise SystemExit("--%s: empty" % what)
    for v in items:
        if v not in allowed:
            raise SystemExit("--%s: %r not one of %s" % (what, v, allowed))
    # A shorter list repeats its last entry.
    return [items[min(i, len(items) - 1)] for i in range(n)]


def die_with_parent():
    """A test run that dies must not leave cameras streaming."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8554,
                   help="TCP port; 0 picks a free one")
    p.add_argument("--address", default="127.0.0.1",
                   help="listen address (a camera's, inside a test's "
                   "network namespace)")
    p.add_argument("--cams", type=int, default=1)
    p.add_argument("--codec", default="h264",
                   help="per camera, comma-separated: h264|h265 "
                   "(a short list repeats its last entry)")
    p.add_argument("--audio", default="aac",
                   help="per camera, comma-separated: aac|pcmu|none")
    p.add_argument("--clip-dir", default="build/clips")
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--bitrate", default="4M")
    p.add_argument("--jump-back-at", type=float, default=0,
                   help="seconds of stream time after which timestamps "
                   "jump backwards once (0: never)")
    p.add_argument("--jump-back-by", type=float, default=5.0)
    p.add_argument("--jump-cams", default="",
                   help="which cameras jump, e.g. 1,3 (default all)")
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--ready-file", default="")
    p.add_argument("--prepare-only", action="store_true",
                   help="encode the clips the options need, then exit")
    p.add_argument("--max-lifetime", type=float, default=3600,
                   help="exit after this many seconds (0: never)")
    a = p.parse_args(argv)
    if not 1 <= a.cams <= 64:
        p.error("--cams must be 1..64")
    if a.jump_back_at and not 0 < a.jump_back_by < a.jump_back_at:
        p.error("--jump-back-by must be > 0 and below --jump-back-at")
    return a


def main(argv):
    args = parse_args(argv)
    die_with_parent()
    Gst.init(None)
    os.makedirs(args.clip_dir, exist_ok=True)
    codecs = per_camera(args.codec, args.cams, "codec", ("h264", "h265"))
    audios = per_camera(args.audio, args.cams, "audio",
                        ("aac", "pcmu", "none"))
    jumpers = set(int(x) for x in args.jump_cams.split(",") if x.strip())

    videos, audio_tracks = {}, {}
    cams = []
    for i in range(args.cams):
        c, a = codecs[i], audios[i]
        if c not in videos:
            videos[c] = load_video(args.clip_dir, c, args.size,
                                   args.bitrate)
        if a != "none" and a not in audio_tracks:
            audio_tracks[a] = load_audio(args.clip_dir, a)
        jumps = args.jump_back_at and (not jumpers or i + 1 in jumpers)
        cams.append(Camera(i + 1, videos[c], audio_tracks.get(a),
                           args.jump_back_at if jumps else 0,
                           args.jump_back_by))

    if args.prepare_only:
        return 0
    pacer = Pacer()
    pacer.start()
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    factories = []
    for cam in cams:
        f = setup_factory(cam, pacer)
        mounts.add_factory("/" + cam.name, f)
        factories.append(f)
    if args.user:
        setup_auth(server, factories, args.user, args.password)
    if server.attach(None) == 0:
        log("cannot listen on %s:%d" % (args.address, args.port))
        return 1
    port = server.get_bound_port()
    log("listening on rtsp://%s:%d/cam1..cam%d (%s)"
        % (args.address, port, args.cams, ",".join("%s+%s" % ca
                                     for ca in zip(codecs, audios))))

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)
    if args.max_lifetime > 0:
        GLib.timeout_add(int(args.max_lifetime * 1000), loop.quit)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"port": port, "pid": os.getpid(),
                       "cams": args.cams, "codecs": codecs,
                       "audio": audios}, f)
        os.rename(tmp, args.ready_file)
    loop.run()
    log("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
