// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * compliance_test - duty states (firmware/compliance.h) on a fixed,
 * stepped clock in UTC+7, on a real state.db: the R2 window across
 * weekends, holidays next to weekends, year end and leap years; a change
 * on a Friday evening and on a holiday; a holiday list changed later;
 * the fault lifecycle (opened, due soon, overdue, closed) and maintenance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <errno.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "firmware/compliance.h"
#include "lib/clock.h"
#include "lib/workdays.h"
#include "storage/statedb.h"
#include "testutil.h"

#define VN   420
#define HOUR 3600000ll

static int64_t now_ms;

static int64_t fake_wall(void *arg)
{
	(void)arg;
	return now_ms;
}

static int64_t fake_mono(void *arg)
{
	(void)arg;
	return now_ms;
}

static const struct clock_source fake = { fake_wall, fake_mono, NULL };

/* UTC ms of local (UTC+7) Y-M-D at hour H. */
static int64_t local_ms(int y, unsigned int m, unsigned int d, int h)
{
	return (int64_t)workdays_civil_day(y, m, d) * WORKDAYS_DAY_MS + (h - 7) * HOUR;
}

static int64_t end_of(int y, unsigned int m, unsigned int d)
{
	return local_ms(y, m, d, 24);
}

struct fx {
	char dir[256];
	struct statedb *sdb;
	struct compliance *c;
	char last[512];
	int told;
};

static void notify(void *arg, const char *kind, const char *camera, const char *text)
{
	struct fx *fx = arg;

	snprintf(fx->last, sizeof(fx->last), "%s %s %s", kind, camera, text);
	fx->told++;
}

static int setup(void **state)
{
	static struct fx fx;

	memset(&fx, 0, sizeof(fx));
	testutil_mkdtemp(fx.dir, sizeof(fx.dir), "compliance");
	assert_int_equal(statedb_open(fx.dir, &fx.sdb), 0);
	assert_int_equal(audit_open(fx.sdb), 0);
	assert_int_equal(compliance_new(fx.sdb, VN, "2026-01-01, 2026-04-30..2026-05-01", &fx.c),
			 0);
	compliance_set_notify(fx.c, notify, &fx);
	clock_set_source(&fake);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	clock_set_source(NULL);
	compliance_free(fx->c);
	statedb_close(fx->sdb);
	testutil_rmtree(fx->dir);
	return 0;
}

struct got {
	enum compliance_state state;
	bool open;
	int64_t deadline;
	int n;
};

static int got_row(void *arg, const struct compliance_row *r)
{
	struct got *g = arg;

	g->state = r->state;
	g->open = r->open;
	g->deadline = r->deadline_ms;
	g->n++;
	return 0;
}

static struct got get(struct fx *fx, const char *kind, const char *cam)
{
	struct got g = { 0 };

	assert_true(compliance_get(fx->c, kind, cam, got_row, &g) >= 0);
	return g;
}

/* The R2 window on fixed dates, through compliance_open(). */
static void test_registry_window(void **state)
{
	struct fx *fx = *state;

	/* Friday 2026-01-02 at 18:00 local (11:00 UTC): Monday the 5th is
	 * the first working day; 10 working days end on Friday the 16th. */
	now_ms = local_ms(2026, 1, 2, 18);
	assert_int_equal(compliance_open(fx->c, "registry", "fri", now_ms, NULL), 0);
	assert_int_equal(get(fx, "registry", "fri").deadline, end_of(2026, 1, 16));
	/* Friday 23:00 local (16:00 UTC): still Friday, same window. */
	assert_int_equal(compliance_open(fx->c, "registry", "late", local_ms(2026, 1, 2, 23), NULL),
			 0);
	assert_int_equal(get(fx, "registry", "late").deadline, end_of(2026, 1, 16));
	/* 00:30 local Saturday (17:30 UTC Friday): the day is Saturday. */
	assert_int_equal(compliance_open(fx->c, "registry", "sat", local_ms(2026, 1, 3, 0), NULL),
			 0);
	assert_int_equal(get(fx, "registry", "sat").deadline, end_of(2026, 1, 16));
	/* A change on a holiday (New Year, Thursday): Friday 2nd counts. */
	assert_int_equal(compliance_open(fx->c, "registry", "hol", local_ms(2026, 1, 1, 10), NULL),
			 0);
	assert_int_equal(get(fx, "registry", "hol").deadline, end_of(2026, 1, 15));
	/* Holidays next to a weekend: Thu 30 Apr + Fri 1 May, then Sat, Sun:
	 * a change on Wednesday 29 April counts from Monday 4 May. */
	assert_int_equal(compliance_open(fx->c, "registry", "may", local_ms(2026, 4, 29, 9), NULL),
			 0);
	assert_int_equal(get(fx, "registry", "may").deadline, end_of(2026, 5, 15));
	/* Year end: Wednesday 31 Dec 2025, New Year's Day is a holiday. */
	assert_int_equal(compliance_open(fx->c, "registry", "ye", local_ms(2025, 12, 31, 16), NULL),
			 0);
	assert_int_equal(get(fx, "registry", "ye").deadline, end_of(2026, 1, 15));
	/* Leap year: Friday 28 Feb 2020 -> 29th is a Saturday, counted out. */
	assert_int_equal(compliance_open(fx->c, "registry", "leap", local_ms(2020, 2, 28, 9), NULL),
			 0);
	assert_int_equal(get(fx, "registry", "leap").deadline, end_of(2020, 3, 13));
	/* A second change while open keeps the first window (O4's clock). */
	assert_int_equal(
		compliance_open(fx->c, "registry", "fri", local_ms(2026, 1, 9, 9), "again"), 0);
	assert_int_equal(get(fx, "registry", "fri").deadline, end_of(2026, 1, 16));
}

/* A holiday decreed later changes later windows, not open ones. */
static void test_holiday_change(void **state)
{
	struct fx *fx = *state;

	now_ms = local_ms(2026, 2, 9, 9);
	assert_int_equal(compliance_open(fx->c, "registry", "a", now_ms, NULL), 0);
	assert_int_equal(get(fx, "registry", "a").deadline, end_of(2026, 2, 23));
	assert_int_equal(compliance_set_calendar(fx->c, VN, "2026-02-16..2026-02-20"), 0);
	assert_int_equal(compliance_open(fx->c, "registry", "b", now_ms, NULL), 0);
	assert_int_equal(get(fx, "registry", "a").deadline, end_of(2026, 2, 23));
	assert_int_equal(get(fx, "registry", "b").deadline, end_of(2026, 3, 2));
	assert_int_equal(compliance_set_calendar(fx->c, VN, "2026-02-30"), -EINVAL);
	/* The R2 window follows [uplink] deadline_days. */
	assert_int_equal(compliance_set_days(fx->c, "registry", 2), 0);
	assert_int_equal(compliance_open(fx->c, "registry", "c", now_ms, NULL), 0);
	assert_int_equal(get(fx, "registry", "c").deadline, end_of(2026, 2, 11));
	assert_int_equal(compliance_set_days(fx->c, "nonesuch", 2), -EINVAL);
	assert_int_equal(compliance_open(fx->c, "nonesuch", "c", now_ms, NULL), -EINVAL);
}

static bool alarm_active(struct fx *fx, const char *code)
{
	cJSON *arr = NULL;
	char *text;
	bool found;

	assert_int_equal(alarm_active_json(fx->sdb, &arr), 0);
	text = cJSON_PrintUnformatted(arr);
	found = strstr(text, code) != NULL;
	cJSON_free(text);
	cJSON_Delete(arr);
	return found;
}

/* R11: opened, due soon, overdue, closed, each told and audited. */
static void test_fault_lifecycle(void **state)
{
	struct fx *fx = *state;
	int told;

	now_ms = local_ms(2026, 3, 2, 10); /* Monday */
	assert_int_equal(compliance_open(fx->c, "fault", "cam1", now_ms, "stream down"), 0);
	assert_non_null(strstr(fx->last, "fault cam1 opened (ok): camera fault to repair"));
	assert_true(alarm_active(fx, "compliance-fault")); /* alarm_open */
	assert_int_equal(get(fx, "fault", "cam1").deadline, end_of(2026, 3, 9));
	told = fx->told;
	assert_int_equal(compliance_evaluate(fx->c), 0);
	assert_int_equal(fx->told, told); /* nothing moved */
	now_ms = local_ms(2026, 3, 5, 1); /* past the 2nd working day */
	assert_int_equal(compliance_evaluate(fx->c), 0);
	assert_int_equal(get(fx, "fault", "cam1").state, COMPLIANCE_DUE_SOON);
	assert_non_null(strstr(fx->last, "due-soon"));
	now_ms = end_of(2026, 3, 9);
	assert_int_equal(compliance_evaluate(fx->c), 0);
	assert_int_equal(get(fx, "fault", "cam1").state, COMPLIANCE_OVERDUE);
	assert_non_null(strstr(fx->last, "overdue"));
	assert_int_equal(compliance_close(fx->c, "fault", "cam1", "recording again"), 0);
	assert_int_equal(get(fx, "fault", "cam1").state, COMPLIANCE_OK);
	assert_false(get(fx, "fault", "cam1").open);
	assert_non_null(strstr(fx->last, "closed"));
	assert_false(alarm_active(fx, "compliance-fault"));
	/* Closing what is closed tells nothing. */
	told = fx->told;
	assert_int_equal(compliance_close(fx->c, "fault", "cam1", NULL), 0);
	assert_int_equal(fx->told, told);
}

/* R11 maintenance: 6 calendar months; due soon 14 days before. */
static void test_maintenance(void **state)
{
	struct fx *fx = *state;
	int64_t last = 0;

	now_ms = local_ms(2025, 8, 31, 10);
	assert_int_equal(compliance_maintenance_done(fx->sdb, "cam2", now_ms, "inst", "lens"), 0);
	assert_int_equal(compliance_maintenance_last(fx->sdb, "cam2", &last), 0);
	assert_int_equal(last, now_ms);
	assert_int_equal(compliance_open(fx->c, "maintenance", "cam2", last, NULL), 0);
	/* Aug 31 + 6 months: Feb 28 (2026 is no leap year). */
	assert_int_equal(get(fx, "maintenance", "cam2").deadline, end_of(2026, 2, 28));
	now_ms = end_of(2026, 2, 13);
	assert_int_equal(compliance_evaluate(fx->c), 0);
	assert_int_equal(get(fx, "maintenance", "cam2").state, COMPLIANCE_OK);
	now_ms = end_of(2026, 2, 14) + 1;
	assert_int_equal(compliance_evaluate(fx->c), 0);
	assert_int_equal(get(fx, "maintenance", "cam2").state, COMPLIANCE_DUE_SOON);
	assert_true(alarm_active(fx, "compliance-maintenance"));
	now_ms = end_of(2026, 2, 28);
	assert_int_equal(compliance_evaluate(fx->c), 0);
	assert_int_equal(get(fx, "maintenance", "cam2").state, COMPLIANCE_OVERDUE);
	/* Leap year: Aug 31 2023 + 6 months is Feb 29 2024. */
	assert_int_equal(workdays_add_months(&(struct workdays){ .tz_offset_min = VN },
					     local_ms(2023, 8, 31, 10), 6),
			 end_of(2024, 2, 29));
	/* A camera without its mandatory fields is overdue at once. */
	assert_int_equal(compliance_open(fx->c, "registry-fields", "cam2", now_ms, "empty: unit"),
			 0);
	assert_int_equal(get(fx, "registry-fields", "cam2").state, COMPLIANCE_OVERDUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registry_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holiday_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maintenance, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
