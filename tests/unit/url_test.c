// SPDX-License-Identifier: GPL-2.0-or-later
/* lib/url: credentials found and hidden the one way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/url.h"

static const char *redact(const char *url)
{
	static char buf[128];

	return url_redact(url, buf, sizeof(buf));
}

static void test_redact(void **state)
{
	char small[16];

	(void)state;
	assert_string_equal(redact("rtsp://u:p@10.0.0.5:554/s1"), "rtsp://***@10.0.0.5:554/s1");
	assert_string_equal(redact("rtsp://admin@cam"), "rtsp://***@cam");
	assert_string_equal(redact("rtsp://:@cam/x"), "rtsp://***@cam/x");
	/* A raw '@' in the password: hidden whole (the last '@' of the
	 * authority ends the userinfo), not "***@ss@cam". */
	assert_string_equal(redact("rtsp://u:p@ss@cam/x"), "rtsp://***@cam/x");
	/* '@' after the authority is not userinfo. */
	assert_string_equal(redact("rtsp://cam/s1?a=b@c"), "rtsp://cam/s1?a=b@c");
	assert_string_equal(redact("rtsp://cam?a=b@c"), "rtsp://cam?a=b@c");
	assert_string_equal(redact("rtsp://cam#x@y"), "rtsp://cam#x@y");
	assert_string_equal(redact("rtsp://10.0.0.5/s1"), "rtsp://10.0.0.5/s1");
	assert_string_equal(redact("not a url u:p@h"), "not a url u:p@h");
	assert_string_equal(redact("://u:p@h"), "://u:p@h");
	assert_string_equal(redact(""), "");
	/* Too small for the redacted URL: never a truncated one that could
	 * end inside the userinfo. */
	assert_string_equal(
		url_redact("rtsp://user:secret@camera.example/s1", small, sizeof(small)), "***");
}

static void test_userinfo(void **state)
{
	const char *u = "http://ad%20m:pw@h:80/onvif";
	size_t start = 99, len = 99;

	(void)state;
	assert_true(url_userinfo(u, &start, &len));
	assert_int_equal(start, 7);
	assert_int_equal(len, strlen("ad%20m:pw"));
	assert_false(url_userinfo("http://h:80/a@b", &start, &len));
	assert_false(url_userinfo("h@x", &start, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_userinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
