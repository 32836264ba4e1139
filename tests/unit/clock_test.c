// SPDX-License-Identifier: GPL-2.0-or-later
/* lib/clock: the system clocks by default, a test's source when set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clock.h"
#include "lib/parse.h"

struct fake {
	int64_t wall, mono;
	int reads;
};

static int64_t fake_wall(void *arg)
{
	struct fake *f = arg;

	f->reads++;
	return f->wall;
}

static int64_t fake_mono(void *arg)
{
	struct fake *f = arg;

	f->reads++;
	return f->mono;
}

static int64_t sys_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_system(void **state)
{
	int64_t w = sys_ms(CLOCK_REALTIME), m = sys_ms(CLOCK_MONOTONIC);

	(void)state;
	assert_in_range(clock_wall_ms(), w, w + 1000);
	assert_in_range(clock_mono_ms(), m, m + 1000);
	assert_in_range(time_now_ms(), w, w + 1000);
	assert_in_range(time_mono_ms(), m, m + 1000);
}

static void test_injected(void **state)
{
	/* 2026-12-24T23:59:59Z, a date the tests can rely on. */
	struct fake f = { .wall = 1798156799000, .mono = 42 };
	const struct clock_source src = { fake_wall, fake_mono, &f };
	int64_t w;

	(void)state;
	clock_set_source(&src);
	assert_int_equal(clock_wall_ms(), 1798156799000);
	assert_int_equal(clock_mono_ms(), 42);
	/* The older names read the same source. */
	assert_int_equal(time_now_ms(), 1798156799000);
	f.mono += 5000;
	assert_int_equal(time_mono_ms(), 5042);
	assert_int_equal(f.reads, 4);
	/* Time stands still until the test moves it. */
	assert_int_equal(clock_wall_ms(), clock_wall_ms());
	clock_set_source(NULL);
	w = sys_ms(CLOCK_REALTIME);
	assert_in_range(clock_wall_ms(), w, w + 1000);
	assert_int_equal(f.reads, 6);
}

/* The test seam of a running daemon: the offset in a file, re-read. */
static void test_seam_file(void **state)
{
	char path[] = "/tmp/clock-seam-XXXXXX";
	int fd = mkstemp(path);
	int64_t w;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unsetenv("CAMGATE_TEST_CLOCK_FILE");
	assert_false(clock_test_seam());
	setenv("CAMGATE_TEST_CLOCK_FILE", path, 1);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%lld\n", 20 * 86400000ll);
	fclose(f);
	assert_true(clock_test_seam());
	w = sys_ms(CLOCK_REALTIME) + 20 * 86400000ll;
	assert_in_range(clock_wall_ms(), w, w + 1000);
	/* Rewritten: seen within 200 ms; monotonic time never moves. */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "0\n");
	fclose(f);
	usleep(250 * 1000);
	w = sys_ms(CLOCK_REALTIME);
	assert_in_range(clock_wall_ms(), w, w + 1000);
	w = sys_ms(CLOCK_MONOTONIC);
	assert_in_range(clock_mono_ms(), w, w + 1000);
	/* Unreadable: no offset. */
	unlink(path);
	usleep(250 * 1000);
	w = sys_ms(CLOCK_REALTIME);
	assert_in_range(clock_wall_ms(), w, w + 1000);
	clock_set_source(NULL);
	unsetenv("CAMGATE_TEST_CLOCK_FILE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system),
		cmocka_unit_test(test_injected),
		cmocka_unit_test(test_seam_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
