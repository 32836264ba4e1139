# SPDX-License-Identifier: GPL-2.0-or-later
"""The outbox in state.db is the one record of what central holds
(docs/architecture.md, "One record of a segment's upload"): the ring holds
media only. Recreating the ring's index from the extents (`ring rebuild`,
which knows nothing of uploads) changes nothing: `ring ls` still shows
every acknowledged segment uploaded, and the next start sends none of
them again. When the ring's index carried the flag, committed apart from
the outbox, a rebuild (or a crash between the two commits) made every
segment look not uploaded and the next start sent them all again."""

import re
import time

import cglib

GW = "gw-record-01"
NAMES = ["cam1", "cam2"]
SEG_RE = re.compile(r"/gateways/%s/media/.*\.m4s$" % GW)


def _seg_puts(central):
	"""{uri: 2xx PUTs} of media segments, as nginx logged them."""
	out = {}
	for _, method, uri, status in central.access():
		if method == "PUT" and 200 <= status < 300 and SEG_RE.search(uri):
			out[uri] = out.get(uri, 0) + 1
	return out


def _uploaded(cg):
	return {(c["name"], s["seq"]) for c in cg.ring_ls()["cameras"] for s in c["segments"]
		if s["uploaded"]}


def test_rebuilt_index_keeps_what_central_holds(env, central_mtls, uplink_config):
	central = central_mtls
	srv = env.cameras(cams=2, codec="h264", audio="none")
	cg = env.camgate()
	uplink_config(cg, central, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
		      gateway={"id": GW}, storage={"extents": 4, "extent_size": "8M"})
	cg.start()
	cglib.wait_for("three segments of each camera at central",
		       lambda: all(sum(1 for c, _ in _uploaded(cg) if c == n) >= 3 for n in NAMES),
		       60, 0.5)
	assert cg.stop() == 0
	srv.stop()
	time.sleep(1)	# nginx logs a request after answering it
	before = _uploaded(cg)
	puts = _seg_puts(central)
	assert len(before) >= 6 and puts, (before, puts)
	assert all(n == 1 for n in puts.values()), puts

	r = cg.cli("ring", "rebuild")
	assert r.returncode == 0, r.stdout + r.stderr
	assert _uploaded(cg) == before, "the rebuild changed what reads as uploaded"

	# A start with the cameras gone: the ring scan finds nothing owed
	# that central already acknowledged.
	cg.start()
	time.sleep(4)
	cg.assert_running()
	assert cg.stop() == 0
	time.sleep(1)
	again = {u: n for u, n in _seg_puts(central).items() if n > 1}
	assert not again, "sent again after the rebuild: %s" % sorted(again)
	assert _uploaded(cg) >= before
