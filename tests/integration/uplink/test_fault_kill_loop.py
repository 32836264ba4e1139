# SPDX-License-Identifier: GPL-2.0-or-later
"""Power cuts, repeated: `camgate run` records four cameras and uploads
them to central (nginx over mutual TLS) while it is killed with SIGKILL at
random moments and started again at once, CAMGATE_FAULT_KILLS times (20
in `make check`, 100 in `make check-long`; the seed is printed and
CAMGATE_FAULT_SEED replays a run).

After the last restart the cameras lose power and the gateway drains:
- `ring verify` is clean;
- every segment central acknowledged before any cut is still there,
  byte for byte the same (a repeated PUT may rewrite it, never change it);
- every segment the ring holds is at central byte for byte, and each
  camera's sequence at central has no hole (on a long run the ring
  overwrites uploaded footage; central keeps it all): what a cut loses is the
  segment being written, never a closed one, and the next one takes the
  next number.
The test prints what it did and what the cuts cost."""

import hashlib
import os
import random
import time

import pytest

import cglib
from test_camgate_outage import GW, LIVE_WINDOW, NAMES, PARALLEL, finish, media_acks

KILLS = int(os.environ.get("CAMGATE_FAULT_KILLS", "20"))
SEED = int(os.environ.get("CAMGATE_FAULT_SEED", str(int(time.time()))))


def central_media(central):
	"""{relative path: SHA-256} of every media segment stored at central."""
	root = central.file("gateways/" + GW + "/media")
	out = {}
	for p in root.glob("*/*.m4s"):
		out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
	return out


@pytest.mark.budget(60 + 9 * KILLS)
def test_random_kills_lose_nothing_acknowledged(env, central_mtls, uplink_config, uplink_check,
						schema_check):
	central = central_mtls
	rnd = random.Random(SEED)
	print("fault: %d kills, seed %d" % (KILLS, SEED))
	srv = env.cameras(cams=4, codec="h264", audio="aac")
	cg = env.camgate()
	uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
		      gateway={"id": GW}, storage={"extents": 8, "extent_size": "32M"},
		      live_window=LIVE_WINDOW, parallel=PARALLEL, backoff_max="2s")
	cg.start()
	cglib.wait_for("segments of every camera at central",
		       lambda: {c for _, c, _ in media_acks(central)} == set(NAMES), 30)

	held = {}  # central's media before each cut: must survive unchanged
	for k in range(KILLS):
		time.sleep(rnd.uniform(1.5, 7.0))
		cg.assert_running()
		held.update(central_media(central))
		cg.kill9()
		cg.start()
	time.sleep(4)
	cams = finish(cg, srv)

	r = cg.verify()
	assert r.returncode == 0, "ring verify after %d kills: %s%s" % (KILLS, r.stdout, r.stderr)
	now = central_media(central)
	lost = sorted(p for p in held if p not in now)
	changed = sorted(p for p in held if p in now and now[p] != held[p])
	assert not lost, "acknowledged segments gone from central: %s" % lost[:5]
	assert not changed, "acknowledged segments changed at central: %s" % changed[:5]
	# The ring may have overwritten uploaded footage on a long run:
	# central holds every seq from the first on, the ring's among them.
	uplink_check.arrived(central, GW, cams, only_uploaded=False)
	for c in cams:
		seqs = sorted(int(p.rsplit("-", 1)[1][:-4]) for p in now
			      if p.startswith(c["name"] + "/"))
		assert seqs == list(range(seqs[0], seqs[-1] + 1)), "%s: hole at central: %s" \
			% (c["name"], seqs)
		ring = [s["seq"] for s in c["segments"]]
		assert set(ring) <= set(seqs), "%s: ring %s central %s" % (c["name"], ring, seqs)
	schema_check(central, GW)
	puts = [r for r in central.requests() if r["method"] == "PUT" and r["uri"].endswith(".m4s")]
	print("fault: %d kills; %d segments at central (%d acknowledged before a cut), "
	      "%d media PUTs (%d repeated after a cut), none lost or changed"
	      % (KILLS, len(now), len(held), len(puts), len(puts) - len(now)))
