# SPDX-License-Identifier: GPL-2.0-or-later
"""A clean stop (SIGTERM) while central is answering slowly: transfers in
flight may finish (bounded), so every segment central stored is also
marked uploaded in the ring and none is sent again at the next start."""

import time

import cglib

GW = "gw-stop-01"
NAMES = ["cam1", "cam2"]
DELAY_S = 2.5  # central's answer comes this long after it stored the body


def test_stop_waits_for_answers_in_flight(env, central, fault_proxy, uplink_config, pki,
					  uplink_check):
	srv = env.cameras(cams=2, codec="h264", audio="none")
	cg = env.camgate()
	uplink_config(cg, fault_proxy, {n: srv.url(i + 1) for i, n in enumerate(NAMES)},
		      gateway={"id": GW}, storage={"extents": 4, "extent_size": "8M"},
		      client_cert="", client_key="")
	cg.start()
	cg.wait_segments({n: 2 for n in NAMES}, 30)
	# From now on central answers each request DELAY_S after storing it.
	base = len(fault_proxy.forwarded)
	fault_proxy.default = "delay:%s" % DELAY_S
	cglib.wait_for("a segment stored by central and not yet answered",
		       lambda: any(p.endswith(".m4s") for p in fault_proxy.forwarded[base:]),
		       20, 0.02)
	assert cg.stop() == 0
	srv.stop()
	cams = cg.ring_ls()["cameras"]
	held = 0
	for c in cams:
		for s in c["segments"]:
			rel = "gateways/%s/%s" % (GW, uplink_check.seg_path(c["name"], s["seq"],
									   s["start_utc_ms"]))
			if central.file(rel).exists():
				held += 1
				assert s["uploaded"], "%s is at central but not marked uploaded" % rel
	assert held >= 2, cams
