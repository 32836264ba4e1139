// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * backoff_test - capped exponential backoff with full jitter
 * (lib/backoff.h): the ceiling's growth and cap, the jitter's bounds,
 * reset, arithmetic at the extremes, and seeds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/backoff.h"

static void test_ceiling_doubles_to_max(void **state)
{
	static const uint32_t want[] = { 100, 200, 400, 800, 1600, 3000, 3000 };
	struct backoff b;

	(void)state;
	backoff_init(&b, 100, 3000, 42);
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(backoff_ceiling(&b), want[i]);
		backoff_next(&b);
	}
}

static void test_delay_within_bounds(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 500, 30000, 7);
	for (int i = 0; i < 200; i++) {
		uint32_t ceil = backoff_ceiling(&b);
		uint32_t d = backoff_next(&b);

		assert_in_range(d, 250, ceil);
	}
}

static void test_first_failure_waits(void **state)
{
	struct backoff b;

	(void)state;
	for (uint64_t seed = 1; seed < 64; seed++) {
		backoff_init(&b, 1000, 60000, seed);
		assert_in_range(backoff_next(&b), 500, 1000);
	}
}

/* Full jitter: the delays spread over the whole window, not one value. */
static void test_jitter_spreads(void **state)
{
	struct backoff b;
	uint32_t lo = UINT32_MAX, hi = 0;

	(void)state;
	backoff_init(&b, 1000, 1000, 99);
	for (int i = 0; i < 500; i++) {
		uint32_t d = backoff_next(&b);

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo < 600);
	assert_true(hi > 900);
}

static void test_reset(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 100, 10000, 3);
	for (int i = 0; i < 10; i++)
		backoff_next(&b);
	assert_int_equal(backoff_ceiling(&b), 10000);
	backoff_reset(&b);
	assert_int_equal(backoff_ceiling(&b), 100);
	assert_in_range(backoff_next(&b), 50, 100);
	assert_int_equal(backoff_ceiling(&b), 200);
}

static void test_no_overflow(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 1000, 300000, 11);
	for (int i = 0; i < 100000; i++)
		assert_in_range(backoff_next(&b), 500, 300000);
	assert_int_equal(backoff_ceiling(&b), 300000);

	/* extremes: the whole uint32_t range as the window */
	backoff_init(&b, 1, UINT32_MAX, 5);
	for (int i = 0; i < 100; i++) {
		uint32_t ceil = backoff_ceiling(&b);

		assert_true(ceil >= 1);
		assert_true(backoff_next(&b) <= ceil);
	}
	assert_int_equal(backoff_ceiling(&b), UINT32_MAX);

	backoff_init(&b, UINT32_MAX, UINT32_MAX, 5);
	for (int i = 0; i < 100; i++)
		assert_true(backoff_next(&b) >= UINT32_MAX / 2);
}

static void test_degenerate_config(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 0, 0, 0); /* zero base, zero seed */
	assert_true(backoff_ceiling(&b) >= 1);
	assert_true(backoff_next(&b) <= backoff_ceiling(&b));
	backoff_init(&b, 5000, 100, 1); /* max below base */
	assert_int_equal(backoff_ceiling(&b), 5000);
	assert_in_range(backoff_next(&b), 2500, 5000);
}

/* Two gateways or cameras started in the same clock tick must not retry
 * in step; getrandom() gives each its own seed. */
static void test_seeds_differ(void **state)
{
	int x = 0;
	uint64_t a = backoff_seed(&x), b = backoff_seed(&x);

	(void)state;
	assert_int_not_equal(a, b);
	assert_int_not_equal(a, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ceiling_doubles_to_max),
		cmocka_unit_test(test_delay_within_bounds),
		cmocka_unit_test(test_first_failure_waits),
		cmocka_unit_test(test_jitter_spreads),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_no_overflow),
		cmocka_unit_test(test_degenerate_config),
		cmocka_unit_test(test_seeds_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
