# SPDX-License-Identifier: GPL-2.0-or-later
"""The command channel against nginx's JSON directory listing, the status
object, and `camgate uplink test` (run through the driver binary, which
links the same firmware/cmd_uplink.c), step by step in plain words."""

import json
import subprocess
import time

import pytest


def test_commands_run_once_with_results(central, driver):
	cmds = central.file("gateways/gw1/commands")
	cmds.mkdir(parents=True)
	(cmds / "c1.json").write_text(json.dumps({"command": "resend-registry"}))
	(cmds / "c2.json").write_text(json.dumps(
		{"command": "set-setting", "args": {"key": "test.echo", "value": "42"}}))
	(cmds / "c3.json").write_text(json.dumps(
		{"command": "set-setting", "args": {"key": "storage.dir", "value": "/"}}))
	(cmds / "c4.json").write_text(json.dumps({"command": "format-disk"}))
	d = driver()
	rc = d.run(central.url, "--cameras", "2", "--segments", "1", "--commands-ms", "1000",
		   "--run", "4", "--drain", "30")
	assert rc == 0, d.logtext()
	res = {}
	for i in range(1, 5):
		res[i] = json.loads(central.file("gateways/gw1/results/c%d.json" % i).read_text())
		assert res[i]["id"] == "c%d" % i
	assert res[1]["status"] == "done"
	assert res[2]["status"] == "done" and "42" in res[2]["message"]
	assert res[3]["status"] == "refused"
	assert res[4]["status"] == "refused" and "unknown command" in res[4]["message"]
	for cam in ("cam1", "cam2"):
		assert central.file("gateways/gw1/registry/%s.json" % cam).exists()
	# Each ran once although polled several times.
	gets = [a for a in central.access() if a[2].endswith("/commands/")]
	puts = [a for a in central.access() if "/results/" in a[2]]
	assert len(gets) >= 3 and len(puts) == 4, (gets, puts)
	# And not again after a restart (ids are remembered in state.db).
	rc = d.run(central.url, "--segments", "0", "--commands-ms", "1000", "--run", "3",
		   "--drain", "20")
	assert rc == 0
	assert len([a for a in central.access() if "/results/" in a[2]]) == 4


def test_status_object(central, driver):
	d = driver()
	rc = d.run(central.url, "--cameras", "1", "--segments", "2", "--status-ms", "1000",
		   "--run", "3", "--drain", "20")
	assert rc == 0, d.logtext()
	st = json.loads(central.file("gateways/gw1/status.json").read_text())
	assert st["gateway"] == "gw1" and st["firmware"] == "test"
	assert st["uplink"]["link"] == "up" and st["uplink"]["sent_objects"] >= 3
	assert set(st["uplink"]["queue"]) == {"urgent", "live", "backlog"}
	assert st["storage"]["capacity_bytes"] == 8 * 16 * 1024 * 1024
	assert st["registry"]["pending_changes"] == 0
	assert isinstance(st["alarms"], list)
	puts = [a for a in central.access() if a[2].endswith("/status.json")]
	assert len(puts) >= 3, puts


def uplink_test(driver_bin, *args):
	p = subprocess.run([str(driver_bin), "uplink", "test", "--gateway", "gw1"] +
			   [str(a) for a in args], capture_output=True, text=True, timeout=60)
	return p.returncode, p.stdout + p.stderr


def test_uplink_test_all_good(central, driver_bin, pki, fast_suite):
	rc, out = uplink_test(driver_bin, "--url", central.url, "--ca", pki.ca, "--pin", pki.pin)
	assert rc == 0, out
	for step in ("url", "dns", "tcp", "tls", "pin", "put", "get"):
		assert any(l.startswith("ok") and l.split()[1] == step for l in out.splitlines()), out
	assert "reachable and accepts" in out
	# The tls step names what was negotiated; nginx takes the client's
	# first suite.
	tls = [l for l in out.splitlines() if l.split()[:2] == ["ok", "tls"]][0]
	assert any(tls.endswith("; %s / %s" % kv) for kv in fast_suite.items()), tls


@pytest.mark.parametrize("case", ["wrong-ca", "pin", "no-client-cert", "refused", "http"])
def test_uplink_test_failures(nginx_factory, driver_bin, pki, case):
	central = nginx_factory(mtls=case == "no-client-cert")
	args = ["--url", central.url, "--ca", pki.ca]
	want = {"wrong-ca": ("tls", "not signed by the configured CA"),
		"pin": ("pin", "does not match the configured pin"),
		"no-client-cert": ("put", "requires a client certificate"),
		"refused": ("tcp", "nothing listens there"),
		"http": ("url", "plaintext is never used")}[case]
	if case == "wrong-ca":
		args[3] = pki.other_ca
	elif case == "pin":
		args += ["--pin", pki.other_pin]
	elif case == "refused":
		central.stop()
	elif case == "http":
		args[1] = central.url.replace("https", "http")
	rc, out = uplink_test(driver_bin, *args)
	assert rc == 1, out
	line = [l for l in out.splitlines() if l.startswith("FAIL")]
	assert line and line[0].split()[1] == want[0] and want[1] in line[0], out
	assert "NOT usable" in out
	time.sleep(0)
