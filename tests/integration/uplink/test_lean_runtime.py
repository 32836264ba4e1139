# SPDX-License-Identifier: GPL-2.0-or-later
"""The aarch64 camgate of the images, linked against the lean runtime
(scripts/runtime-build.sh: remux-only FFmpeg, libcurl on mbedtls with
nghttp2), run under qemu-aarch64 against the same RTSP simulator and the
same nginx central over mutual TLS as the host build: it records RTSP
into its ring, and uploads with a client certificate and EC key, the CA
file and a pinned server key (net/tls.c's rules on mbedtls).

The binary is build/rpi4-lean/camgate (`make BOARD=rpi4 RUNTIME=lean`,
which make check builds before this stage), or CAMGATE_LEAN_BIN; without
it the tests are skipped, saying how to build it."""

import math
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import cglib

REPO = Path(__file__).resolve().parents[3]
LEAN_BIN = Path(os.environ.get("CAMGATE_LEAN_BIN", REPO / "build" / "rpi4-lean" / "camgate"))
RUNTIME_LIB = REPO / "build" / "rpi4" / "runtime" / "lib"
SYSROOT = (REPO / "build" / "sysroot" / "aarch64-linux-gnu").resolve()
GW = "gw-lean-01"


@pytest.fixture
def lean(monkeypatch, tmp_path):
	"""cglib's camgate becomes a wrapper that runs the lean aarch64 binary
	under qemu-user, the way make check runs its unit tests (print-run)."""
	if not LEAN_BIN.exists():
		pytest.skip("no %s: make BOARD=rpi4 RUNTIME=lean" % LEAN_BIN)
	run = subprocess.run(["make", "-s", "BOARD=rpi4", "RUNTIME=lean", "print-run"], cwd=REPO,
			     capture_output=True, text=True, check=True).stdout.strip()
	assert "qemu-aarch64" in run and str(RUNTIME_LIB) in run, run
	wrapper = tmp_path / "camgate-lean"
	wrapper.write_text("#!/bin/sh\nexec %s %s \"$@\"\n" % (run, LEAN_BIN))
	wrapper.chmod(0o755)
	monkeypatch.setattr(cglib, "CAMGATE_BIN", wrapper)
	return wrapper


def _guest_maps(cg):
	"""Files qemu mapped for the guest (the libraries it loaded): those
	below the sysroot or the runtime; the rest is qemu's own."""
	roots = (str(SYSROOT), str(RUNTIME_LIB))
	return "\n".join(line for line in
			 Path("/proc/%d/maps" % cg.proc.pid).read_text().splitlines()
			 if any(r in line for r in roots))


def _assert_lean_libs(cg):
	maps = _guest_maps(cg)
	for lib in ("libavformat.so", "libcurl.so", "libmbedtls.so", "libmbedcrypto.so"):
		assert re.search(re.escape(str(RUNTIME_LIB)) + "/" + re.escape(lib), maps), \
			"%s not loaded from %s" % (lib, RUNTIME_LIB)
	# Nothing of Debian's FFmpeg, libcurl or OpenSSL came along.
	for lib in ("libavformat.so", "libcurl.so", "libcrypto.so", "libssl.so", "libgnutls.so",
		    "libx264", "libswresample"):
		assert not re.search(re.escape(str(SYSROOT)) + r"\S*/" + re.escape(lib), maps), \
			"%s loaded from the sysroot" % lib


def test_lean_rtsp_to_ring(env, lean):
	srv = env.cameras(cams=1, codec="h264", audio="aac")
	cg = env.camgate()
	cg.write_config({"cam1": srv.url(1)}, storage={"extents": 4, "extent_size": "8M"})
	cg.start()
	cglib.wait_for("three segments in the ring", lambda: len(cg.segments("cam1")) >= 3, 90, 0.5)
	_assert_lean_libs(cg)
	assert cg.stop() == 0
	segs = cg.segments("cam1")
	assert len(segs) >= 3
	# The remux kept the video and the audio: `ring cat` (the lean mov
	# demuxer and mp4 muxer again) and the host's ffprobe reads it back.
	s = segs[1]
	out = env.dir / "seg.mp4"
	r = cg.cli("ring", "cat", "cam1", "@%d" % (s["start_utc_ms"] // 1000),
		   "@%d" % math.ceil(cglib.seg_end_ms(s) / 1000), "-o", out)
	assert r.returncode == 0, r.stdout + r.stderr
	info = cglib.ffprobe_json(out, "-show_format", "-show_streams")
	assert sorted(x["codec_name"] for x in info["streams"]) == ["aac", "h264"], info
	assert float(info["format"]["duration"]) >= s["duration_ms"] / 1000 - 0.1, (s, info)


def test_lean_upload_mtls(env, lean, pki, central_mtls, uplink_config):
	central = central_mtls
	srv = env.cameras(cams=1, codec="h264", audio="none")
	cg = env.camgate()
	# By name: mbedtls 2.28 matches a host name against the certificate's
	# DNS names only, never an IP address SAN (docs/operations.md).
	uplink_config(cg, central, {"cam1": srv.url(1)}, gateway={"id": GW},
		      storage={"extents": 4, "extent_size": "8M"}, pin=pki.pin,
		      base_url=central.url.replace("127.0.0.1", "localhost"))
	cg.start()

	def uploaded():
		return sum(1 for s in cg.segments("cam1") if s["uploaded"])
	cglib.wait_for("two segments acknowledged by central", lambda: uploaded() >= 2, 120, 0.5)
	_assert_lean_libs(cg)
	assert cg.stop() == 0
	time.sleep(1)  # nginx logs a request after answering it
	puts = [line.split() for line in (central.d / "access.log").read_text().splitlines()
		if " PUT /gateways/%s/media/" % GW in line]
	ok = [f for f in puts if 200 <= int(f[3]) < 300]
	assert len(ok) >= 2, puts
	# mbedtls 2.28 speaks TLS 1.2 (libcurl 7.88 on it); its default order
	# puts ChaCha20-Poly1305 first, the fast one on cores without AES
	# instructions (net/tls.c, T6), and nginx takes the client's order.
	assert {(f[5], f[9]) for f in ok} == {("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305")}, ok
	# Each acknowledged segment is stored at central.
	for f in ok:
		assert central.file(f[2]).stat().st_size > 0, f
