# SPDX-License-Identifier: GPL-2.0-or-later
"""The footage disk turns read-only under `camgate run` while four cameras
record and upload: the ring on a small loop-mounted ext4 with
errors=remount-ro, and an ext4 error triggered through
/sys/fs/ext4/DEV/trigger_fs_error, which is how a real disk fault makes
the kernel remount it read-only. (A plain `mount -o remount,ro` is refused
with EBUSY while camgate holds the extents open for writing, so it cannot
happen under a running gateway.) ext4 aborts its journal then, so
`remount,rw` is refused too: the repair is stop, fsck, mount, start.

Proved: camgate keeps running and raises `storage-error` for every camera
at the next status tick; the segments stored before keep uploading from
the read-only ring; after the repair and a restart every segment stored
before the fault is still in the ring unchanged, recording resumes, the
alarm is cleared, and everything in the ring reaches central byte for
byte with no hole (docs/storage.md, "A read-only or failing footage
disk")."""

import subprocess

import pytest

import cglib
from test_camgate_outage import GW, NAMES, check_complete, finish, media_acks

IMG_MB = 160
RING = {"extents": 4, "extent_size": "32M"}


def sh(*cmd):
	return subprocess.run([str(c) for c in cmd], capture_output=True, text=True)


def mount(img, where):
	return sh("mount", "-o", "loop,errors=remount-ro", img, where)


@pytest.fixture
def ring_fs(env, tmp_path):
	"""(Camgate whose ring is on an ext4 image of IMG_MB, the image);
	unmounted at teardown."""
	cg = env.camgate()
	img = tmp_path / "ring.img"
	with open(img, "wb") as f:
		f.truncate(IMG_MB << 20)
	r = sh("mkfs.ext4", "-q", "-F", img)
	if r.returncode:
		pytest.skip("mkfs.ext4: %s" % r.stderr.strip())
	cg.ring_dir.mkdir(parents=True, exist_ok=True)
	r = mount(img, cg.ring_dir)
	if r.returncode:
		pytest.skip("cannot loop-mount an ext4 image here: %s" % r.stderr.strip())
	try:
		yield cg, img
	finally:
		if cg.running():
			cg.kill9()
		sh("umount", cg.ring_dir)


def stored(cg):
	"""{(camera, seq): sha256} of the ring's segments."""
	return {(n, s["seq"]): s["sha256"] for n, c in cg.cameras().items() for s in c["segments"]}


def alarms(cg, active):
	return {r["camera"] for r in cg.db_rows(
		"SELECT camera FROM alarms WHERE code = 'storage-error' AND active = ?",
		(1 if active else 0,))}


@pytest.mark.budget(120)
def test_ring_disk_read_only(env, ring_fs, central_mtls, uplink_config, uplink_check,
			     schema_check):
	cg, img = ring_fs
	central = central_mtls
	srv = env.cameras(cams=4, codec="h264", audio="aac")

	def configure():
		uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
			      gateway={"id": GW}, storage=RING, live_window=3, parallel=4,
			      backoff_max="2s")
	configure()
	cg.start()
	cg.wait_segments({n: 2 for n in NAMES}, 30)
	cglib.wait_for("a few segments at central", lambda: len(media_acks(central)) >= 4, 30)
	dev = sh("findmnt", "-n", "-o", "SOURCE", cg.ring_dir).stdout.strip()
	before = stored(cg)
	with open("/sys/fs/ext4/%s/trigger_fs_error" % dev.rsplit("/", 1)[1], "w") as f:
		f.write("camgate test: disk fault")
	# Linux 6.x shows the remount as "emergency_ro", older kernels as "ro".
	opts = sh("findmnt", "-n", "-o", "OPTIONS", cg.ring_dir).stdout.strip().split(",")
	assert {"ro", "emergency_ro"} & set(opts), opts

	cglib.wait_for("storage-error for every camera",
		       lambda: alarms(cg, True) == set(NAMES), 15, 0.2)
	cg.assert_running()
	states = {c["name"]: c["state"] for c in cg.status()["cameras"]}
	assert set(states.values()) == {"not-stored"}, states
	# What was stored before the fault still goes to central.
	cglib.wait_for("the segments stored before the fault at central",
		       lambda: {(c, s) for _, c, s in media_acks(central)} >= set(before), 30, 0.5)

	# The repair: ext4 aborted its journal, so remount,rw is refused.
	assert sh("mount", "-o", "remount,rw", cg.ring_dir).returncode != 0
	cg.stop()
	assert sh("umount", cg.ring_dir).returncode == 0
	# The loop device lets go of the image a moment after the umount;
	# mounting before that would find the old, still read-only, one.
	cglib.wait_for("the loop device released",
		       lambda: not sh("losetup", "-j", img).stdout.strip(), 10, 0.1)
	r = sh("e2fsck", "-fy", img)
	assert r.returncode in (0, 1), r.stdout + r.stderr
	assert mount(img, cg.ring_dir).returncode == 0
	cg.start()
	after = stored(cg)
	lost = {k for k, h in before.items() if after.get(k) != h}
	assert not lost, "segments stored before the fault lost or changed: %s" % sorted(lost)
	cg.wait_segments({n: len([k for k in after if k[0] == n]) + 2 for n in NAMES}, 30)
	cglib.wait_for("storage-error cleared", lambda: not alarms(cg, True), 10, 0.2)
	assert alarms(cg, False) == set(NAMES)
	cams = finish(cg, srv)
	assert cg.verify().returncode == 0
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	print("read-only ring: %d segments stored before the fault kept; %d in the ring at the "
	      "end, all at central" % (len(before), sum(len(c["segments"]) for c in cams)))
