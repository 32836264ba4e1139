# SPDX-License-Identifier: GPL-2.0-or-later
"""TLS is verified always: a wrong CA, an expired certificate, a wrong host
name, a pin mismatch, a missing or foreign client certificate and a
redirect to http:// are each refused with an error that says what is wrong,
and nothing reaches central (nor anything in plaintext)."""

import hashlib
from pathlib import Path

import pytest


def sha256_file(p):
	return hashlib.sha256(Path(p).read_bytes()).hexdigest()


ONE = ("--cameras", "1", "--segments", "1", "--drain", "3")


def refused(d, central, rc, *words):
	log = d.logtext()
	assert rc == 3, log
	assert not central.file("gateways").exists(), "something was stored"
	for w in words:
		assert w in log, "%r not in the log:\n%s" % (w, log)
	st = d.stats()
	assert st["pending_rows"] > 0 and st["ring_pending"] == 1, st


def test_wrong_ca(central, driver, pki):
	d = driver()
	rc = d.run(central.url, "--ca", str(pki.other_ca), *ONE, ca=False)
	refused(d, central, rc, "certificate failed verification",
		"unable to get local issuer certificate")


def test_expired_certificate(nginx_factory, driver, pki):
	central = nginx_factory(cert=pki.expired)
	d = driver()
	refused(d, central, d.run(central.url, *ONE), "certificate failed verification",
		"expired")


def test_wrong_host_name(nginx_factory, driver, pki):
	central = nginx_factory(cert=pki.wrong_host)
	d = driver()
	refused(d, central, d.run(central.url, *ONE), "certificate failed verification",
		"127.0.0.1")


def test_pin_mismatch(central, driver, pki):
	d = driver()
	refused(d, central, d.run(central.url, "--pin", pki.other_pin, *ONE),
		"does not match the configured pin")


def test_pin_match(central, driver, pki):
	d = driver()
	assert d.run(central.url, "--pin", pki.pin, *ONE) == 0, d.logtext()


def test_missing_client_certificate(nginx_factory, driver):
	central = nginx_factory(mtls=True)
	d = driver()
	refused(d, central, d.run(central.url, *ONE), "refused by central: HTTP 400",
		"No required SSL certificate was sent")


def test_foreign_client_certificate(nginx_factory, driver, pki):
	central = nginx_factory(mtls=True)
	d = driver()
	rc = d.run(central.url, "--cert", str(pki.rogue_client[0]), "--key",
		   str(pki.rogue_client[1]), *ONE)
	refused(d, central, rc, "refused by central: HTTP 400")


def test_client_certificate_accepted(nginx_factory, driver, pki):
	central = nginx_factory(mtls=True)
	d = driver()
	rc = d.run(central.url, "--cert", str(pki.client[0]), "--key", str(pki.client[1]),
		   "--cameras", "1", "--segments", "2", "--drain", "30")
	assert rc == 0, d.logtext()
	for s in d.segments():
		assert sha256_file(central.file("gateways/gw1/" + s["path"])) == s["sha256"]


@pytest.mark.parametrize("proto", ["TLSv1.2", "TLSv1.3"])
def test_suite_order(nginx_factory, driver, fast_suite, proto):
	"""The client offers the suite this CPU runs fastest first (AES-128-GCM
	with AES instructions, ChaCha20-Poly1305 without); nginx, which takes
	the client's order, uses it. OpenSSL's own first choice would be
	AES-256-GCM."""
	central = nginx_factory(protocols=proto)
	d = driver()
	assert d.run(central.url, *ONE) == 0, d.logtext()
	lines = (central.d / "access.log").read_text().splitlines()
	assert lines
	for line in lines:
		f = line.split()
		assert f[5] == proto and f[7] == fast_suite[proto], line


def test_redirect_to_http_refused(central, driver):
	d = driver()
	rc = d.run(central.url, "--gateway", "redir-http", *ONE)
	log = d.logtext()
	assert rc == 3, log
	assert "not https://" in log, log
	assert not central.file("landed").exists()
	# Nothing was sent in plaintext: nginx would log the plain request.
	assert not [a for a in central.access() if a[2].startswith("/landed")]


def test_redirect_to_https_followed(central, driver):
	d = driver()
	rc = d.run(central.url, "--gateway", "redir-https", "--cameras", "1", "--segments",
		   "2", "--drain", "30")
	assert rc == 0, d.logtext()
	for s in d.segments():
		f = central.file("landed/gateways/redir-https/" + s["path"])
		assert sha256_file(f) == s["sha256"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "ftp://127.0.0.1/", "127.0.0.1"])
def test_plaintext_url_refused(driver, url):
	d = driver()
	rc = d.run(url, *ONE)
	assert rc == 1
	assert "must be an https:// URL" in d.logtext()
