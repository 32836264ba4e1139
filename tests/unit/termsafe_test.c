// SPDX-License-Identifier: GPL-2.0-or-later
/* termsafe: what reaches the terminal from a device or from central. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "lib/termsafe.h"

static const char *esc(const char *in)
{
	static char out[TERMSAFE_CAP(256)];

	return termsafe(in, out, sizeof(out), NULL);
}

/* Nothing a terminal obeys survives: no byte below 0x20, no DEL, no C1. */
static void assert_inert(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		assert_true(*p >= 0x20 && *p != 0x7f);
		if (*p == 0xc2)
			assert_true(p[1] > 0x9f);
	}
}

static void test_controls(void **state)
{
	(void)state;
	assert_string_equal(esc("\x1b[2J"), "\\x1b[2J");
	assert_string_equal(esc("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
	assert_string_equal(esc("a\r\nadmin> "), "a\\x0d\\x0aadmin> ");
	assert_string_equal(esc("\t\x7f\x01"), "\\x09\\x7f\\x01");
	/* C1 CSI and OSC as UTF-8 (U+009B, U+009D) */
	assert_string_equal(esc("x\xc2\x9b"
				"2J"),
			    "x\\xc2\\x9b2J");
	assert_string_equal(esc("\xc2\x9d"), "\\xc2\\x9d");
	/* Raw 8-bit C1 bytes are not UTF-8 either. */
	assert_string_equal(esc("\x9b"
				"2J"),
			    "\\x9b2J");
	assert_string_equal(esc(NULL), "");
	assert_string_equal(esc(""), "");
}

static void test_printable_utf8_kept(void **state)
{
	static const char *const keep[] = {
		"Cổng trước - Đà Nẵng", /* Vietnamese */
		"Ü\xc2\xa0nbsp",	/* U+00A0 is printable */
		"日本語カメラ",
		"\xf0\x9f\x93\xb7 camera", /* U+1F4F7, 4 bytes */
		"back\\slash %s \"quoted\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		assert_string_equal(esc(keep[i]), keep[i]);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* Lone continuation, cut sequence, overlong '/', surrogate, > U+10FFFF,
	 * 0xff: one escape per bad byte, the good text after it kept. */
	assert_string_equal(esc("\x80z"), "\\x80z");
	assert_string_equal(esc("\xe1\x80"), "\\xe1\\x80");
	assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(esc("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_string_equal(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	assert_string_equal(esc("\xff\xfe"), "\\xff\\xfe");
	/* A lead byte followed by ESC: both escaped, nothing swallowed. */
	assert_string_equal(esc("\xc3\x1b[2J"), "\\xc3\\x1b[2J");
	assert_string_equal(esc("\xe2\x82"
				"A"),
			    "\\xe2\\x82A");
}

/* Every byte value in every position: the output is inert and never longer
 * than TERMSAFE_CAP promises. */
static void test_all_bytes(void **state)
{
	char in[4], out[TERMSAFE_CAP(3)];
	bool cut;

	(void)state;
	for (unsigned int a = 1; a < 256; a++)
		for (unsigned int b = 0; b < 256; b += 7) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = (char)(b ? 0x9b : 0);
			in[3] = '\0';
			termsafe(in, out, sizeof(out), &cut);
			assert_false(cut);
			assert_inert(out);
		}
}

/* Truncation ends at a whole escape or a whole UTF-8 sequence. */
static void test_truncation(void **state)
{
	char out[64], big[TERMSAFE_CAP(3000)];
	char *in = malloc(3001);
	bool cut;

	(void)state;
	/* "ab" then ESC: with room for "ab" and 3 more bytes, no "\x1". */
	termsafe("ab\x1b", out, 6, &cut);
	assert_string_equal(out, "ab");
	assert_true(cut);
	termsafe("ab\x1b", out, 7, &cut);
	assert_string_equal(out, "ab\\x1b");
	assert_false(cut);
	/* A 3-byte character does not fit in 2 free bytes. */
	termsafe("a\xe1\xba\xa1", out, 4, &cut);
	assert_string_equal(out, "a");
	assert_true(cut);
	termsafe("a\xe1\xba\xa1", out, 5, &cut);
	assert_string_equal(out, "a\xe1\xba\xa1");
	/* C1 control: both escapes or neither. */
	termsafe("\xc2\x9b", out, 8, &cut);
	assert_string_equal(out, "");
	assert_true(cut);
	termsafe("\xc2\x9b", out, 9, &cut);
	assert_string_equal(out, "\\xc2\\x9b");
	termsafe("x", out, 1, &cut);
	assert_string_equal(out, "");
	assert_true(cut);
	/* Long input: every cap from 1 to 200 gives a prefix of the full
	 * escape that ends on a boundary. */
	assert_non_null(in);
	for (size_t i = 0; i < 3000; i++)
		in[i] = "a\x1b\xc3\xa9\x7f\xe2"[i % 6];
	in[3000] = '\0';
	termsafe(in, big, sizeof(big), &cut);
	assert_false(cut);
	assert_inert(big);
	for (size_t cap = 1; cap <= 200; cap++) {
		size_t n;

		termsafe(in, out, cap < sizeof(out) ? cap : sizeof(out), &cut);
		n = strlen(out);
		assert_true(cut);
		assert_true(n < cap);
		assert_memory_equal(out, big, n);
		/* The next output byte starts an escape or a character. */
		assert_true(big[n] == '\\' || ((unsigned char)big[n] & 0xc0) != 0x80);
		if (n >= 1 && out[n - 1] != '\\') {
			char *bs = strrchr(out, '\\');

			if (bs)
				assert_true(strlen(bs) >= 4 || bs[1] != 'x');
		}
	}
	free(in);
}

static void test_buf(void **state)
{
	struct termsafe_buf tb = { 0 };
	char *huge = malloc(5000);
	const char *a, *b, *c;

	(void)state;
	a = termsafe_add(&tb, "Cổng\x1b");
	b = termsafe_add(&tb, "\x07x");
	assert_string_equal(a, "Cổng\\x1b");
	assert_string_equal(b, "\\x07x");
	assert_non_null(huge);
	memset(huge, 0x1b, 4999);
	huge[4999] = '\0';
	c = termsafe_add(&tb, huge);
	assert_true(strlen(c) > 0 && strlen(c) % 4 == 0);
	/* Nearly full: what is left is less than one escape; then "". */
	assert_true(strlen(termsafe_add(&tb, "more")) < 4);
	for (int i = 0; i < 4; i++)
		termsafe_add(&tb, "more");
	assert_string_equal(termsafe_add(&tb, "more"), "");
	assert_true(tb.used <= sizeof(tb.text));
	assert_string_equal(a, "Cổng\\x1b");
	assert_string_equal(b, "\\x07x");
	free(huge);
}

/* JSON keeps its value: DEL and C1 become \u escapes a JSON parser reads
 * back to the same string; the layout's tabs and new lines stay. */
static void test_json(void **state)
{
	static const char raw[] = "Cổng\x7f\xc2\x9b"
				  "2J\x1b[0m";
	cJSON *o = cJSON_CreateObject(), *back;
	char *text, *safe;

	(void)state;
	cJSON_AddStringToObject(o, "name", raw);
	text = cJSON_Print(o);
	assert_non_null(text);
	assert_non_null(strstr(text, "\x7f")); /* cJSON leaves these raw */
	safe = termsafe_json(text);
	assert_non_null(safe);
	for (const unsigned char *p = (const unsigned char *)safe; *p; p++) {
		assert_true(*p >= 0x20 || *p == '\n' || *p == '\t');
		assert_true(*p != 0x7f && !(*p == 0xc2 && p[1] <= 0x9f));
	}
	assert_non_null(strstr(safe, "Cổng\\u007f\\u009b2J\\u001b[0m"));
	assert_non_null(strchr(safe, '\n'));
	back = cJSON_Parse(safe);
	assert_non_null(back);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(back, "name")), raw);
	cJSON_Delete(back);
	cJSON_Delete(o);
	free(text);
	free(safe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),     cmocka_unit_test(test_printable_utf8_kept),
		cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_all_bytes),
		cmocka_unit_test(test_truncation),   cmocka_unit_test(test_buf),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
