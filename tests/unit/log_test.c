// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log_test - the limiter for repeating errors (lib/log.h): one line per
 * LOG_LIMIT_MS per call site, the held-back count carried by the next
 * line shown, call sites independent, and the lines really written to
 * stderr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

static void test_pass_then_hold_back(void **state)
{
	struct log_limit l = { 0 };
	uint32_t dropped = 99;

	(void)state;
	assert_true(log_limit_pass(&l, 1000, &dropped));
	assert_int_equal(dropped, 0);
	for (int i = 0; i < 500; i++)
		assert_false(log_limit_pass(&l, 1000 + i * 10, &dropped));
	assert_false(log_limit_pass(&l, 1000 + LOG_LIMIT_MS - 1, &dropped));
	assert_true(log_limit_pass(&l, 1000 + LOG_LIMIT_MS, &dropped));
	assert_int_equal(dropped, 501);
	/* The count starts again from the line shown. */
	assert_false(log_limit_pass(&l, 1000 + LOG_LIMIT_MS + 1, &dropped));
	assert_true(log_limit_pass(&l, 1000 + 3 * LOG_LIMIT_MS, &dropped));
	assert_int_equal(dropped, 1);
	assert_true(log_limit_pass(&l, 1000 + 5 * LOG_LIMIT_MS, &dropped));
	assert_int_equal(dropped, 0);
}

static void test_sites_independent(void **state)
{
	struct log_limit a = { 0 }, b = { 0 };
	uint32_t dropped;

	(void)state;
	assert_true(log_limit_pass(&a, 5, &dropped));
	assert_false(log_limit_pass(&a, 6, &dropped));
	assert_true(log_limit_pass(&b, 6, &dropped));
	assert_int_equal(dropped, 0);
}

/* Runs @n calls of one call site with stderr sent to a temporary file
 * and returns what was written (malloc'ed). */
static char *capture(int n)
{
	char path[] = "/tmp/log_test.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char *buf = calloc(1, 65536);
	ssize_t got;

	assert_true(fd >= 0 && saved >= 0 && buf);
	unlink(path);
	dup2(fd, STDERR_FILENO);
	for (int i = 0; i < n; i++)
		log_err_limited("outbox: media: database or disk is full (%d)", i);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	got = read(fd, buf, 65535);
	close(fd);
	assert_true(got >= 0);
	return buf;
}

static void test_flood_is_one_line(void **state)
{
	char *out;
	int lines = 0;

	(void)state;
	log_init("camgate", LOG_DEST_PLAIN, LOG_INFO);
	out = capture(10000);
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 1);
	assert_non_null(strstr(out, "database or disk is full (0)"));
	assert_null(strstr(out, "repeated"));
	free(out);
}

/* The line shown after a hold-back says how many were held back. */
static void test_repeated_suffix(void **state)
{
	struct log_limit l = { 0 };
	char path[] = "/tmp/log_test.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char buf[512] = "";

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	log_init("camgate", LOG_DEST_PLAIN, LOG_INFO);
	dup2(fd, STDERR_FILENO);
	log_limited(&l, LOG_ERR, "audit: commit: %s", "database or disk is full");
	for (int i = 0; i < 7; i++)
		log_limited(&l, LOG_ERR, "audit: commit: %s", "database or disk is full");
	atomic_store(&l.next_ms, 0); /* as if LOG_LIMIT_MS had passed */
	log_limited(&l, LOG_ERR, "audit: commit: %s", "database or disk is full");
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "camgate: error: audit: commit: database or disk is full\n"
				 "camgate: error: audit: commit: database or disk is full"
				 " (repeated 7 times)\n");
}

/* A limited line is still subject to the level. */
static void test_level_respected(void **state)
{
	struct log_limit l = { 0 };
	uint32_t dropped;

	(void)state;
	log_init("camgate", LOG_DEST_PLAIN, LOG_ERR);
	log_limited(&l, LOG_WARNING, "not shown");
	/* Below the level nothing was consumed: the slot is still free. */
	assert_true(log_limit_pass(&l, 1, &dropped));
	log_init("camgate", LOG_DEST_PLAIN, LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_then_hold_back),
		cmocka_unit_test(test_sites_independent),
		cmocka_unit_test(test_flood_is_one_line),
		cmocka_unit_test(test_repeated_suffix),
		cmocka_unit_test(test_level_respected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
