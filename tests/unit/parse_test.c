// SPDX-License-Identifier: GPL-2.0-or-later
/* parse: the strict value parsers behind config and the CLI. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/hex.h"
#include "lib/sha256.h"
#include "lib/parse.h"

static void test_i64(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_i64("-5", -10, 0, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(parse_i64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_i64("4x", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_i64("", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_i64(" 4", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_i64("99999999999999999999", 0, INT64_MAX, &v), -ERANGE);
}

static void test_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(parse_size("2G", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(parse_size("1KiB", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(parse_size("1X", &v), -EINVAL);
	assert_int_equal(parse_size("-1M", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
}

static void test_duration(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(parse_duration_ms("250ms", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(parse_duration_ms("4s", &v), 0);
	assert_int_equal(v, 4000);
	assert_int_equal(parse_duration_ms("3", &v), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(parse_duration_ms("2h", &v), 0);
	assert_int_equal(v, 7200000);
	assert_int_equal(parse_duration_ms("30d", &v), 0);
	assert_int_equal(v, 30ll * 86400000);
	assert_int_equal(parse_duration_ms("4 s", &v), -EINVAL);
	assert_int_equal(parse_duration_ms("4w", &v), -EINVAL);
}

static void test_time(void **state)
{
	const int64_t now = 1764406800000; /* 2025-11-29T09:00:00Z */
	char buf[32];
	int64_t v;

	(void)state;
	assert_int_equal(parse_time_ms("2025-11-29T09:00:00Z", now, &v), 0);
	assert_int_equal(v, now);
	assert_int_equal(parse_time_ms("2025-11-29T09:00:00.250Z", now, &v), 0);
	assert_int_equal(v, now + 250);
	assert_int_equal(parse_time_ms("@1764406800", now, &v), 0);
	assert_int_equal(v, now);
	assert_int_equal(parse_time_ms("-90s", now, &v), 0);
	assert_int_equal(v, now - 90000);
	assert_int_equal(parse_time_ms("now", now, &v), 0);
	assert_int_equal(v, now);
	assert_int_equal(parse_time_ms("begin", now, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(parse_time_ms("end", now, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(parse_time_ms("2025-13-01T00:00:00Z", now, &v), -EINVAL);
	assert_int_equal(parse_time_ms("yesterday", now, &v), -EINVAL);
	assert_int_equal(parse_time_ms("2025-11-29T09:00:00+07", now, &v), -EINVAL);
	format_time_ms(now + 7, buf, sizeof(buf));
	assert_string_equal(buf, "2025-11-29T09:00:00.007Z");
}

static void test_bool(void **state)
{
	bool b;

	(void)state;
	assert_int_equal(parse_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(parse_bool("maybe", &b), -EINVAL);
}

static void test_hex(void **state)
{
	const uint8_t b[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[2 * sizeof(b) + 1];

	(void)state;
	assert_string_equal(hex_encode(b, sizeof(b), out), "000fa5ff");
	assert_string_equal(hex_encode(b, 0, out), "");
}

/* FIPS 180-2 vectors, one-shot and split at every offset through a
 * reused context (final() must leave it ready for the next message). */
static void test_sha256(void **state)
{
	static const char abc[] = "abc";
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[SHA256_LEN];
	char hx[2 * SHA256_LEN + 1];
	struct sha256 *s;

	(void)state;
	assert_int_equal(sha256_oneshot(abc, 3, d), 0);
	assert_string_equal(hex_encode(d, sizeof(d), hx),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sha256_oneshot("", 0, d), 0);
	assert_string_equal(hex_encode(d, sizeof(d), hx),
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(sha256_new(&s), 0);
	for (size_t cut = 0; cut <= sizeof(two) - 1; cut++) {
		assert_int_equal(sha256_update(s, two, cut), 0);
		assert_int_equal(sha256_update(s, two + cut, sizeof(two) - 1 - cut), 0);
		assert_int_equal(sha256_final(s, d), 0);
		assert_string_equal(
			hex_encode(d, sizeof(d), hx),
			"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	}
	assert_int_equal(sha256_update(s, "junk", 4), 0);
	assert_int_equal(sha256_reset(s), 0);
	assert_int_equal(sha256_update(s, abc, 3), 0);
	assert_int_equal(sha256_final(s, d), 0);
	assert_int_equal(d[0], 0xba);
	sha256_free(s);
	sha256_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i64),	 cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration), cmocka_unit_test(test_time),
		cmocka_unit_test(test_bool),	 cmocka_unit_test(test_hex),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
