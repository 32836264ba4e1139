// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * workdays_test - the R2 working-day calendar (lib/workdays.h) on
 * fixed calendars: weekends, single holidays, holiday ranges (Tet), the
 * year end, the time zone edge and the holiday list parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/workdays.h"

#define VN   420 /* UTC+7 */
#define HOUR 3600000ll

/* UTC ms of local (UTC+7) time Y-M-D h:00. */
static int64_t local_ms(int y, unsigned int m, unsigned int d, int h)
{
	return (int64_t)workdays_civil_day(y, m, d) * WORKDAYS_DAY_MS + (h - 7) * HOUR;
}

/* UTC ms at which local day Y-M-D ends (24:00 local). */
static int64_t end_of(int y, unsigned int m, unsigned int d)
{
	return local_ms(y, m, d, 24);
}

static void test_civil_days(void **state)
{
	struct workdays w;

	(void)state;
	assert_int_equal(workdays_civil_day(1970, 1, 1), 0);
	assert_int_equal(workdays_civil_day(2000, 3, 1), 11017);
	assert_int_equal(workdays_init(&w, VN, NULL), 0);
	assert_false(workdays_is_workday(&w, workdays_civil_day(2026, 1, 3))); /* Sat */
	assert_false(workdays_is_workday(&w, workdays_civil_day(2026, 1, 4))); /* Sun */
	assert_true(workdays_is_workday(&w, workdays_civil_day(2026, 1, 5)));  /* Mon */
	assert_true(workdays_is_workday(&w, workdays_civil_day(2026, 1, 1)));  /* Thu */
}

static void test_deadline_weekends_and_new_year(void **state)
{
	struct workdays w;

	(void)state;
	assert_int_equal(workdays_init(&w, VN, "2026-01-01"), 0);
	assert_false(workdays_is_workday(&w, workdays_civil_day(2026, 1, 1)));
	/* Friday 2 Jan: Mon 5 .. Fri 9, Mon 12 .. Fri 16. */
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 1, 2, 10), 10), end_of(2026, 1, 16));
	/* Saturday and Sunday give the same deadline. */
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 1, 3, 9), 10), end_of(2026, 1, 16));
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 1, 4, 23), 10), end_of(2026, 1, 16));
	/* The creation hour does not matter, the day does. */
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 1, 5, 0), 10), end_of(2026, 1, 19));
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 1, 5, 23), 10), end_of(2026, 1, 19));
	/* Half the window: 5 working days. */
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 1, 2, 10), 5), end_of(2026, 1, 9));
	/* n = 0: the end of the creation day. */
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 1, 2, 10), 0), end_of(2026, 1, 2));
}

static void test_deadline_year_end(void **state)
{
	struct workdays w;

	(void)state;
	assert_int_equal(workdays_init(&w, VN, "2025-01-01, 2026-01-01"), 0);
	/* Wed 31 Dec 2025: Fri 2 Jan (1), Mon 5 .. Fri 9 (6), Mon 12 .. Thu 15. */
	assert_int_equal(workdays_deadline(&w, local_ms(2025, 12, 31, 16), 10),
			 end_of(2026, 1, 15));
	/* Without the holiday the New Year's Day counts. */
	assert_int_equal(workdays_init(&w, VN, ""), 0);
	assert_int_equal(workdays_deadline(&w, local_ms(2025, 12, 31, 16), 10),
			 end_of(2026, 1, 14));
}

static void test_deadline_tet_range(void **state)
{
	struct workdays w;

	(void)state;
	/* Tet 2026: Mon 16 .. Fri 20 February off. */
	assert_int_equal(workdays_init(&w, VN, "2026-02-16..2026-02-20 2026-04-30,2026-05-01"), 0);
	assert_int_equal(w.nholidays, 7);
	/* Fri 13 Feb: Mon 23 .. Fri 27 (5), Mon 2 .. Fri 6 March (10). */
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 2, 13, 12), 10), end_of(2026, 3, 6));
	/* Mon 27 April: Tue 28, Wed 29, (30 Apr, 1 May off), Mon 4 .. Fri 8,
	 * Mon 11 .. Wed 13. */
	assert_int_equal(workdays_deadline(&w, local_ms(2026, 4, 27, 12), 10), end_of(2026, 5, 13));
}

static void test_time_zone_edge(void **state)
{
	struct workdays w;
	/* 18:00Z Friday 2 Jan is 01:00 Saturday 3 Jan in Vietnam. */
	int64_t t = (int64_t)workdays_civil_day(2026, 1, 2) * WORKDAYS_DAY_MS + 18 * HOUR;

	(void)state;
	assert_int_equal(workdays_init(&w, VN, "2026-01-01"), 0);
	assert_int_equal(workdays_local_day(&w, t), workdays_civil_day(2026, 1, 3));
	assert_int_equal(workdays_deadline(&w, t, 1), end_of(2026, 1, 5));
	/* In UTC the same instant is still Friday. */
	assert_int_equal(workdays_init(&w, 0, "2026-01-01"), 0);
	assert_int_equal(workdays_deadline(&w, t, 1),
			 (int64_t)workdays_civil_day(2026, 1, 6) * WORKDAYS_DAY_MS);
}

static void test_elapsed(void **state)
{
	struct workdays w;

	(void)state;
	assert_int_equal(workdays_init(&w, VN, "2026-01-01"), 0);
	assert_int_equal(workdays_elapsed(&w, local_ms(2026, 1, 2, 10), local_ms(2026, 1, 2, 23)),
			 0);
	/* Mon 12 Jan 00:30: Jan 5 .. 9 are over, the 12th is not. */
	assert_int_equal(workdays_elapsed(&w, local_ms(2026, 1, 2, 10), local_ms(2026, 1, 12, 1)),
			 5);
	assert_int_equal(workdays_elapsed(&w, local_ms(2026, 1, 2, 10), end_of(2026, 1, 16)), 10);
	assert_int_equal(workdays_elapsed(&w, 100, 50), 0);
}

static void test_parse_errors(void **state)
{
	struct workdays w = { .nholidays = 99 };
	char big[32];

	(void)state;
	assert_int_equal(workdays_init(&w, VN, "2026-13-01"), -EINVAL);
	assert_int_equal(workdays_init(&w, VN, "2026-02-29"), -EINVAL);
	assert_int_equal(workdays_init(&w, VN, "2026-1-01"), -EINVAL);
	assert_int_equal(workdays_init(&w, VN, "2026-01-01x"), -EINVAL);
	assert_int_equal(workdays_init(&w, VN, "2026-01-02..2026-01-01"), -EINVAL);
	assert_int_equal(workdays_init(&w, VN, "1969-12-31"), -EINVAL);
	assert_int_equal(workdays_init(&w, 900, ""), -EINVAL);
	assert_int_equal(w.nholidays, 99); /* untouched on failure */
	snprintf(big, sizeof(big), "2020-01-01..2022-01-01");
	assert_int_equal(workdays_init(&w, VN, big), -E2BIG);
	assert_int_equal(workdays_init(&w, VN, "2024-02-29, 2024-02-29 ,"), 0);
	assert_int_equal(w.nholidays, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil_days),
		cmocka_unit_test(test_deadline_weekends_and_new_year),
		cmocka_unit_test(test_deadline_year_end),
		cmocka_unit_test(test_deadline_tet_range),
		cmocka_unit_test(test_time_zone_edge),
		cmocka_unit_test(test_elapsed),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
