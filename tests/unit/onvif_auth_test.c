// SPDX-License-Identifier: GPL-2.0-or-later
/* onvif: WS-Security digest, HTTP Digest and the time helpers, against
 * published vectors (RFC 2617 3.5, RFC 7616 3.9.1) and Python's hashlib. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/onvif/onvif_int.h"

static void test_wsse_digest(void **state)
{
	char out[64];

	(void)state;
	/* base64(sha1(b'0123456789abcdef' + b'2024-01-01T00:00:00Z' + b'secret')) */
	assert_int_equal(onvif__wsse_digest((const unsigned char *)"0123456789abcdef", 16,
					    "2024-01-01T00:00:00Z", "secret", out, sizeof(out)),
			 0);
	assert_string_equal(out, "W+AMPWIcgBDGW9XpBeBhrAdNo+g=");
	assert_int_equal(onvif__wsse_digest((const unsigned char *)"x", 1, "c", "p", out, 8),
			 -E2BIG);
}

static void test_digest_rfc2617(void **state)
{
	struct onvif_digest d = { .valid = true, .qop_auth = true, .nc = 1 };
	char out[ONVIF_AUTHZ_MAX];

	(void)state;
	snprintf(d.realm, sizeof(d.realm), "testrealm@host.com");
	snprintf(d.nonce, sizeof(d.nonce), "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	snprintf(d.opaque, sizeof(d.opaque), "5ccc069c403ebaf9f0171e9517f40e41");
	snprintf(d.algorithm, sizeof(d.algorithm), "MD5");
	assert_int_equal(onvif__digest_authz(&d, "Mufasa", "Circle Of Life", "GET",
					     "/dir/index.html", "0a4f113b", out, sizeof(out)),
			 0);
	assert_non_null(strstr(out, "response=\"6629fae49393a05397450978507c4ef1\""));
	assert_non_null(strstr(out, "nc=00000001"));
	assert_non_null(strstr(out, "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
	assert_int_equal(strncmp(out, "Authorization: Digest username=\"Mufasa\"", 39), 0);
}

static void test_digest_rfc7616_sha256(void **state)
{
	struct onvif_digest d = { .valid = true, .qop_auth = true, .nc = 1 };
	char out[ONVIF_AUTHZ_MAX];

	(void)state;
	snprintf(d.realm, sizeof(d.realm), "http-auth@example.org");
	snprintf(d.nonce, sizeof(d.nonce), "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
	snprintf(d.algorithm, sizeof(d.algorithm), "SHA-256");
	assert_int_equal(onvif__digest_authz(
				 &d, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
				 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", out, sizeof(out)),
			 0);
	assert_non_null(strstr(
		out,
		"response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""));
}

static void test_digest_challenge(void **state)
{
	struct soap *soap = onvif__soap_new();
	struct onvif_digest d = { 0 };

	(void)state;
	assert_non_null(soap);
	assert_int_equal(onvif__digest_challenge(soap,
						 "Digest realm=\"cam\", qop=\"auth,auth-int\", "
						 "nonce=\"abc\", opaque=\"o\", algorithm=SHA-256",
						 &d),
			 0);
	assert_true(d.valid);
	assert_true(d.qop_auth);
	assert_string_equal(d.realm, "cam");
	assert_string_equal(d.nonce, "abc");
	assert_string_equal(d.opaque, "o");
	assert_string_equal(d.algorithm, "SHA-256");
	/* Old RFC 2069 style: no qop, MD5 implied. */
	assert_int_equal(onvif__digest_challenge(soap, "Digest realm=\"r\", nonce=\"n\"", &d), 0);
	assert_false(d.qop_auth);
	assert_string_equal(d.algorithm, "MD5");
	/* Refused: Basic, no nonce, unknown algorithm; @d untouched. */
	assert_int_equal(onvif__digest_challenge(soap, "Basic realm=\"x\"", &d), -EINVAL);
	assert_int_equal(onvif__digest_challenge(soap, "Digest realm=\"x\"", &d), -EINVAL);
	assert_int_equal(
		onvif__digest_challenge(soap, "Digest nonce=\"x\", algorithm=SHA-512-256", &d),
		-EINVAL);
	assert_string_equal(d.nonce, "n");
	onvif__soap_free(soap);
}

static void test_time_helpers(void **state)
{
	char buf[32];
	int64_t t;

	(void)state;
	onvif__format_utc(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	onvif__format_utc(1704067200999, buf, sizeof(buf));
	assert_string_equal(buf, "2024-01-01T00:00:00Z");
	assert_int_equal(onvif__parse_http_date("Mon, 01 Jan 2024 00:00:00 GMT", &t), 0);
	assert_int_equal(t, 1704067200000);
	assert_int_equal(onvif__parse_http_date("Mon, 01 Jan 2024 00:00:00", &t), -EINVAL);
	assert_int_equal(onvif__parse_http_date("yesterday", &t), -EINVAL);
}

static void test_uuid(void **state)
{
	char a[64], b[64];

	(void)state;
	assert_int_equal(onvif__uuid(a, sizeof(a)), 0);
	assert_int_equal(onvif__uuid(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 45);
	assert_int_equal(strncmp(a, "urn:uuid:", 9), 0);
	assert_int_equal(a[23], '4');
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wsse_digest),
		cmocka_unit_test(test_digest_rfc2617),
		cmocka_unit_test(test_digest_rfc7616_sha256),
		cmocka_unit_test(test_digest_challenge),
		cmocka_unit_test(test_time_helpers),
		cmocka_unit_test(test_uuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
