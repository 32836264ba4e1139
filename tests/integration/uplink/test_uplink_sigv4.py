# SPDX-License-Identifier: GPL-2.0-or-later
"""AWS SigV4 as sent: the requests captured at our own proxy are verified
by an independent SigV4 implementation (hmac/hashlib, written from AWS's
specification), which is first checked against AWS's published example
(the GET Object example of the S3 SigV4 documentation). A server that
checks them itself, Ceph's radosgw, is in test_s3_radosgw.py."""

import hashlib
import hmac
from pathlib import Path


def sha256_file(p):
	return hashlib.sha256(Path(p).read_bytes()).hexdigest()


SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AKID = "AKIAIOSFODNN7EXAMPLE"


def _hmac(key, msg):
	return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4(method, path, headers, signed, payload_hash, secret, date, region, service,
	  query=""):
	"""@query: the canonical query string (sorted, encoded); also used by
	test_s3_radosgw.py to sign its own requests."""
	canon_headers = "".join("%s:%s\n" % (h, " ".join(headers[h].strip().split()))
				for h in signed)
	creq = "\n".join([method, path, query, canon_headers, ";".join(signed), payload_hash])
	scope = "%s/%s/%s/aws4_request" % (date[:8], region, service)
	sts = "\n".join(["AWS4-HMAC-SHA256", date, scope,
			 hashlib.sha256(creq.encode()).hexdigest()])
	k = _hmac(("AWS4" + secret).encode(), date[:8])
	for part in (region, service, "aws4_request"):
		k = _hmac(k, part)
	return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


def test_reference_vector():
	"""AWS S3 documentation, "Example: GET Object" (examplebucket, test.txt)."""
	empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	h = {"host": "examplebucket.s3.amazonaws.com", "range": "bytes=0-9",
	     "x-amz-content-sha256": empty, "x-amz-date": "20130524T000000Z"}
	sig = sigv4("GET", "/test.txt", h, sorted(h), empty, SECRET, "20130524T000000Z",
		    "us-east-1", "s3")
	assert sig == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"


def test_requests_are_signed(fault_proxy, driver):
	d = driver()
	rc = d.run(fault_proxy.url, "--auth", "sigv4", "--user", AKID, "--password", SECRET,
		   "--sigv4", "aws:amz:us-east-1:s3", "--cameras", "1", "--segments", "2",
		   "--drain", "30")
	assert rc == 0, d.logtext()
	segs = {"/gateways/gw1/" + s["path"]: s for s in d.segments()}
	checked = 0
	for r in fault_proxy.log:
		h = {k.lower(): v for k, v in r["headers"].items()}
		auth = h["authorization"]
		assert auth.startswith("AWS4-HMAC-SHA256 Credential=%s/" % AKID), auth
		fields = dict(x.strip().split("=", 1) for x in auth.split(" ", 1)[1].split(","))
		scope = fields["Credential"].split("/")
		assert scope[2:] == ["us-east-1", "s3", "aws4_request"]
		signed = fields["SignedHeaders"].split(";")
		assert "x-amz-content-sha256" in signed and "host" in signed
		want = sigv4(r["method"], r["path"], h, signed, h["x-amz-content-sha256"], SECRET,
			     h["x-amz-date"], "us-east-1", "s3")
		assert fields["Signature"] == want, r
		s = segs.get(r["path"])
		if s:
			# The signed payload hash is the segment's SHA-256.
			assert h["x-amz-content-sha256"] == s["sha256"]
			checked += 1
	assert checked == 2
	for s in d.segments():
		f = fault_proxy.upstream.file("gateways/gw1/" + s["path"])
		assert sha256_file(f) == s["sha256"]
