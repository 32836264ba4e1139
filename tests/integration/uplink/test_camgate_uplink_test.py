# SPDX-License-Identifier: GPL-2.0-or-later
"""`camgate -c FILE uplink test` tries the central of the config file's
[uplink] section, the link `camgate run` would use (README, docs/uplink.md);
options given on the command line override single settings."""

import subprocess

import cglib


def verdicts(out):
	"""{step: "ok"|"FAIL"|"skip"} from the test's step lines."""
	got = {}
	for line in out.splitlines():
		f = line.split()
		if len(f) >= 2 and f[0] in ("ok", "FAIL", "skip"):
			got[f[1]] = f[0]
	return got


def configured(env, central, uplink_config, **over):
	cg = env.camgate()
	uplink_config(cg, central, {}, gateway={"id": "gw-utest"}, **over)
	return cg


def test_uses_config_uplink(env, central_mtls, uplink_config):
	"""Every step passes from the file alone: URL, CA, client certificate
	and gateway id all come from it (mutual TLS: no client certificate, no
	PUT)."""
	cg = configured(env, central_mtls, uplink_config)
	r = cg.cli("uplink", "test")
	out = r.stdout + r.stderr
	assert r.returncode == 0, out
	v = verdicts(out)
	for step in ("url", "dns", "tcp", "tls", "put", "get"):
		assert v.get(step) == "ok", (step, out)
	assert central_mtls.url in out
	# The round trip used the gateway id of the file.
	puts = [a for a in central_mtls.access() if a[1] == "PUT"]
	assert puts and all("/gateways/gw-utest/" in a[2] for a in puts), puts


def test_option_overrides_file(env, central_mtls, uplink_config, pki):
	"""--ca on the command line replaces the file's ca_file."""
	cg = configured(env, central_mtls, uplink_config)
	r = cg.cli("uplink", "test", "--ca", pki.other_ca)
	out = r.stdout + r.stderr
	assert r.returncode == 1, out
	assert verdicts(out).get("tls") == "FAIL", out
	assert "not signed by the configured CA" in out


def test_no_base_url_is_an_error(env):
	"""A config without [uplink] base_url and no --url: a usage error that
	says so, not a test of an empty URL."""
	cg = env.camgate()
	cg.write_config({})
	r = cg.cli("uplink", "test")
	assert r.returncode == 2, r.stdout + r.stderr
	assert "no [uplink] base_url" in r.stderr
	assert "is not an https:// URL" not in r.stdout + r.stderr


def test_no_config_needs_url(tmp_path):
	"""Without a config file, only the options count: --url is required."""
	r = subprocess.run([str(cglib.CAMGATE_BIN), "-c", str(tmp_path / "absent.conf"),
			    "uplink", "test"], capture_output=True, text=True, timeout=30)
	assert r.returncode == 2, r.stdout + r.stderr
	assert "no config file" in r.stderr and "--url" in r.stderr
