# SPDX-License-Identifier: GPL-2.0-or-later
"""Central whose certificate does not verify (a CA the gateway does not
trust): an error in the log and the alarm `uplink-tls` in the status,
raised once; a reload with the right CA clears it and the footage goes."""

import cglib

GW = "gw-tls-01"


def alarm_codes(cg):
	if not (cg.state_dir / "status.json").exists():
		return []
	return [a["code"] for a in cg.status().get("alarms", [])]


def test_untrusted_central_raises_uplink_tls(env, central_mtls, uplink_config, pki):
	srv = env.cameras(cams=1, codec="h264", audio="none")
	cg = env.camgate()
	uplink_config(cg, central_mtls, {"cam1": srv.url(1)}, gateway={"id": GW},
		      storage={"extents": 4, "extent_size": "8M"}, ca_file=pki.other_ca)
	cg.start()
	cglib.wait_for("the uplink-tls alarm in status", lambda: "uplink-tls" in alarm_codes(cg),
		       30, 0.5)
	cg.wait_segments({"cam1": 2}, 30)
	log = cg.log.read_text()
	errs = [l for l in log.splitlines() if "identity does not verify" in l]
	assert len(errs) == 1, errs  # told once, not per probe
	assert " err: " in errs[0], errs[0]
	assert not list(central_mtls.www.rglob("*.m4s")), "sent although central did not verify"
	# The right CA, by reload: the alarm clears and the footage arrives.
	text = cg.conf.read_text().replace(str(pki.other_ca), str(pki.ca))
	cg.write_raw(text)
	cg.hup()
	cglib.wait_for("the uplink-tls alarm cleared",
		       lambda: "uplink-tls" not in alarm_codes(cg), 30, 0.5)
	cglib.wait_for("a segment at central", lambda: list(central_mtls.www.rglob("*.m4s")), 30,
		       0.5)
	assert cg.stop() == 0
	srv.stop()
