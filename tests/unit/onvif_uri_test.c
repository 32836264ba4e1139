// SPDX-License-Identifier: GPL-2.0-or-later
/* onvif: which hosts in camera URLs are reachable (onvif.h G3), XAddr
 * choice, and scope parsing. Peers here are either loopback (always a local
 * subnet) or documentation addresses no test machine has. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/onvif/onvif_int.h"

static void expect_rewrite(const char *uri, const char *peer, const char *want, bool rewritten)
{
	char out[ONVIF_URI_MAX];
	bool rw = !rewritten;

	assert_int_equal(onvif__rewrite_uri(uri, peer, out, sizeof(out), &rw), 0);
	assert_string_equal(out, want);
	assert_int_equal(rw, rewritten);
}

static void test_rewrite(void **state)
{
	(void)state;
	/* The address that answered is always right. */
	expect_rewrite("http://203.0.113.5/onvif/device_service", "203.0.113.5",
		       "http://203.0.113.5/onvif/device_service", false);
	/* Loopback, link-local, unspecified, another subnet: replaced. */
	expect_rewrite("rtsp://127.0.0.1:554/live", "203.0.113.5", "rtsp://203.0.113.5:554/live",
		       true);
	expect_rewrite("http://169.254.10.20/onvif/device_service", "203.0.113.5",
		       "http://203.0.113.5/onvif/device_service", true);
	expect_rewrite("http://0.0.0.0:8080/onvif/device_service", "203.0.113.5",
		       "http://203.0.113.5:8080/onvif/device_service", true);
	expect_rewrite("rtsp://192.168.200.9/Streaming/Channels/101?transportmode=unicast",
		       "203.0.113.5",
		       "rtsp://203.0.113.5/Streaming/Channels/101?transportmode=unicast", true);
	/* Credentials and port survive. */
	expect_rewrite("rtsp://admin:pw@localhost:8554/cam1", "203.0.113.5",
		       "rtsp://admin:pw@203.0.113.5:8554/cam1", true);
	/* Link-local is fine between link-local peers; loopback between
	 * loopback ones (a camera on this host). */
	expect_rewrite("http://169.254.1.1/x", "169.254.9.9", "http://169.254.9.9/x", true);
	expect_rewrite("rtsp://127.0.0.1:8554/cam1", "127.0.0.10", "rtsp://127.0.0.1:8554/cam1",
		       false);
	/* Same local subnet (127/8 on lo): kept. */
	expect_rewrite("http://127.0.0.7/x", "127.0.0.10", "http://127.0.0.7/x", false);
	/* Names are kept, IPv6 peers get brackets. */
	expect_rewrite("http://camera.example/x", "203.0.113.5", "http://camera.example/x", false);
	expect_rewrite("http://[fe80::1]/x", "2001:db8::5", "http://[2001:db8::5]/x", true);
	expect_rewrite("http://127.0.0.1/x", "2001:db8::5", "http://[2001:db8::5]/x", true);
	/* Unparsable: unchanged. */
	expect_rewrite("not a url", "203.0.113.5", "not a url", false);
}

static void test_pick_xaddr(void **state)
{
	char out[ONVIF_URI_MAX];
	bool rw;

	(void)state;
	assert_int_equal(onvif__pick_xaddr("http://169.254.1.20/onvif/device_service "
					   "http://203.0.113.5:8080/onvif/device_service",
					   "203.0.113.5", out, sizeof(out), &rw),
			 0);
	assert_string_equal(out, "http://203.0.113.5:8080/onvif/device_service");
	assert_false(rw);
	assert_int_equal(onvif__pick_xaddr("https://203.0.113.5/x  http://10.9.9.9/onvif/ds",
					   "203.0.113.5", out, sizeof(out), &rw),
			 0);
	assert_string_equal(out, "http://203.0.113.5/onvif/ds");
	assert_true(rw);
	assert_int_equal(
		onvif__pick_xaddr("https://203.0.113.5/x", "203.0.113.5", out, sizeof(out), &rw),
		-ENOENT);
	assert_int_equal(onvif__pick_xaddr("", "203.0.113.5", out, sizeof(out), &rw), -ENOENT);
}

static void test_scopes(void **state)
{
	struct onvif_scopes s;

	(void)state;
	onvif_scopes_parse(
		"onvif://www.onvif.org/type/video_encoder "
		"onvif://www.onvif.org/name/Front%20Door "
		"onvif://www.onvif.org/location/city/Berlin "
		"onvif://www.onvif.org/hardware/M3045-V "
		"onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/Profile/T "
		"http://vendor.example/x onvif://www.onvif.org/name/ "
		"onvif://www.onvif.org/bad%zz",
		&s);
	assert_string_equal(s.name, "Front Door");
	assert_string_equal(s.location, "city/Berlin");
	assert_string_equal(s.hardware, "M3045-V");
	assert_string_equal(s.profiles, "Streaming,T");
	onvif_scopes_parse(NULL, &s);
	assert_string_equal(s.name, "");
	onvif_scopes_parse("onvif://www.onvif.org/name/50%", &s);
	assert_string_equal(s.name, "50%");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_pick_xaddr),
		cmocka_unit_test(test_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
