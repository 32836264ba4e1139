#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seeds for export_fuzz (tests/fuzz/export_fuzz.c): tiny fragmented MP4s
encoded by the ffmpeg CLI (H.264 + AAC, H.265 as hvc1), cut at their top
level boxes into an init segment (ftyp + moov) and 1 s media segments
(moof + mdat), as the ring holds them, in the target's input format.

  python3 tests/fuzz/export_seeds.py tests/fuzz/corpus/export
"""
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ENC = {
    "h264-aac": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "8", "-c:a", "aac",
                 "-b:a", "16k"],
    "h265": ["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
             "-x265-params", "keyint=8:min-keyint=8:log-level=none", "-an"],
}


def boxes(data):
    i = 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        if size < 8:
            break
        yield kind.decode("latin-1"), data[i:i + size]
        i += size


def encode(name, tmp):
    out = Path(tmp) / (name + ".mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=64x48:rate=8", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=8000", "-t", "3"] + ENC[name] +
                   ["-movflags", "frag_keyframe+empty_moov+default_base_moof", str(out)],
                   check=True, timeout=120)
    init, frags = b"", []
    for kind, b in boxes(out.read_bytes()):
        if kind in ("ftyp", "moov"):
            init += b
        elif kind == "moof":
            frags.append(b)
        elif kind == "mdat" and frags:
            frags[-1] += b
    return init, frags


def seed(init, segs, flags=None):
    out = b"==> init <==\n" + init
    for i, s in enumerate(segs):
        out += b"\n==> seg 1 1000 %s <==\n" % (flags[i] if flags else "-").encode() + s
    return out


def main(dest):
    d = Path(dest)
    d.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ENC:
            init, frags = encode(name, tmp)
            (d / name).write_bytes(seed(init, frags))
            # a hole in the middle: two runs joined
            (d / (name + "-gap")).write_bytes(seed(init, frags, ["-", "g", "-"][:len(frags)]))
            # a discontinuity: the second run starts on a new timeline
            (d / (name + "-discont")).write_bytes(
                seed(init, frags, ["-", "dj", "-"][:len(frags)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/export"))
