// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink_policy_test - the daemon's decisions on what the uplink reports
 * (firmware/uplink_policy.h), on a real state.db and fixed dates: the R2
 * deadline of a registry change on the working-day calendar, the
 * registry-deadline alarm raised at half the window and cleared when
 * central holds every record, status.json's registry.alarm_at and
 * alarms, the uplink alarms (TLS trust, first refusal only, corrupt
 * segment) and the audit row of a command from central.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "firmware/uplink_policy.h"
#include "lib/parse.h"
#include "storage/statedb.h"
#include "tests/unit/testutil.h"

#define VN   420 /* UTC+7 */
#define HOUR 3600000ll

struct fx {
	char dir[64];
	struct statedb *db;
	struct uplink_policy p;
};

/* @h o'clock local time (UTC+7) on a civil date, as UTC ms. */
static int64_t local_ms(int y, unsigned int m, unsigned int d, int h)
{
	return (int64_t)workdays_civil_day(y, m, d) * WORKDAYS_DAY_MS + (h - 7) * HOUR;
}

static int64_t end_of(int y, unsigned int m, unsigned int d)
{
	return local_ms(y, m, d, 24);
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_mkdtemp(fx->dir, sizeof(fx->dir), "uplink_policy_test");
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(uplink_policy_init(&fx->p, fx->db, 10, VN, "2026-01-01"), 0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	statedb_close(fx->db);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

/* The active alarm @code for @camera, or NULL; *@arrp to free. */
static const cJSON *active(struct fx *fx, const char *code, const char *camera, cJSON **arrp)
{
	const cJSON *a;

	assert_int_equal(alarm_active_json(fx->db, arrp), 0);
	cJSON_ArrayForEach (a, *arrp)
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "code")), code) &&
		    !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "camera")), camera))
			return a;
	return NULL;
}

static bool is_active(struct fx *fx, const char *code, const char *camera)
{
	cJSON *arr = NULL;
	bool on = active(fx, code, camera, &arr) != NULL;

	cJSON_Delete(arr);
	return on;
}

static void test_init_refuses_bad_holidays(void **state)
{
	struct fx *fx = *state;
	struct uplink_policy p = fx->p;

	assert_int_equal(uplink_policy_init(&p, fx->db, 10, VN, "2026-02-30"), -EINVAL);
	assert_memory_equal(&p, &fx->p, sizeof(p)); /* unchanged */
}

/* R2: 10 working days after the change's day, the holiday skipped. */
static void test_deadline(void **state)
{
	struct fx *fx = *state;

	/* Fri 2 Jan: 5..9, 12..16 Jan; the 1 Jan holiday does not count. */
	assert_int_equal(uplink_policy_deadline(&fx->p, local_ms(2026, 1, 2, 10)),
			 end_of(2026, 1, 16));
	/* Wed 31 Dec: the holiday on the 1st moves it a day. */
	assert_int_equal(uplink_policy_deadline(&fx->p, local_ms(2025, 12, 31, 16)),
			 end_of(2026, 1, 15));
}

static cJSON *status_at(struct fx *fx, const struct uplink_figures *fig)
{
	cJSON *st = cJSON_CreateObject();

	assert_non_null(st);
	assert_non_null(cJSON_AddObjectToObject(st, "registry"));
	uplink_policy_status(&fx->p, st, fig);
	return st;
}

/* The alarm comes at half the window (5 working days), not before; names
 * the record and its deadline; goes once nothing is pending. */
static void test_registry_deadline_alarm(void **state)
{
	struct fx *fx = *state;
	int64_t changed = local_ms(2026, 1, 2, 10);
	struct uplink_figures fig = {
		.registry_rows = 1,
		.registry_oldest_ms = changed,
		.registry_deadline_ms = end_of(2026, 1, 16),
		.registry_path = "registry/cam1.json",
	};
	char want[32];
	const cJSON *a, *reg, *alarms;
	cJSON *st, *arr = NULL;

	fig.now_ms = end_of(2026, 1, 9) - 1; /* the 5th working day, not over */
	st = status_at(fx, &fig);
	format_time_ms(end_of(2026, 1, 9), want, sizeof(want));
	reg = cJSON_GetObjectItem(st, "registry");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(reg, "alarm_at")), want);
	alarms = cJSON_GetObjectItem(st, "alarms");
	assert_true(cJSON_IsArray(alarms));
	assert_int_equal(cJSON_GetArraySize(alarms), 0);
	cJSON_Delete(st);
	assert_false(is_active(fx, "registry-deadline", ""));

	fig.now_ms = end_of(2026, 1, 9);
	st = status_at(fx, &fig);
	alarms = cJSON_GetObjectItem(st, "alarms");
	assert_int_equal(cJSON_GetArraySize(alarms), 1); /* raised before "alarms" is read */
	cJSON_Delete(st);
	a = active(fx, "registry-deadline", "", &arr);
	assert_non_null(a);
	assert_non_null(
		strstr(cJSON_GetStringValue(cJSON_GetObjectItem(a, "message")),
		       "registry/cam1.json not yet acknowledged by central; deadline 2026-01-16"));
	cJSON_Delete(arr);

	fig.now_ms = end_of(2026, 1, 16) + 1; /* missed */
	cJSON_Delete(status_at(fx, &fig));
	a = active(fx, "registry-deadline", "", &arr);
	assert_non_null(a);
	assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(a, "message")),
			       "deadline missed at"));
	cJSON_Delete(arr);

	memset(&fig, 0, sizeof(fig));
	fig.registry_path = "";
	fig.now_ms = end_of(2026, 1, 17);
	st = status_at(fx, &fig);
	assert_true(
		cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "registry"), "alarm_at")));
	cJSON_Delete(st);
	assert_false(is_active(fx, "registry-deadline", ""));
}

static void report(struct fx *fx, enum uplink_outcome_kind kind, const char *camera,
		   const char *path, const char *detail, unsigned int tries)
{
	struct uplink_outcome o = { .kind = kind,
				    .time_ms = 1767225600000ll,
				    .camera = camera,
				    .path = path,
				    .detail = detail,
				    .id = "",
				    .command = "",
				    .status = "",
				    .tries = tries };

	uplink_policy_outcome(&fx->p, &o);
}

static void test_link_alarms(void **state)
{
	struct fx *fx = *state;

	report(fx, UPLINK_OUT_TRUST_FAILED, "", "", "certificate expired", 0);
	assert_true(is_active(fx, "uplink-tls", ""));
	report(fx, UPLINK_OUT_TRUST_OK, "", "", "https://central/gateways/gw1/", 0);
	assert_false(is_active(fx, "uplink-tls", ""));

	/* Only an object's first refusal is an alarm; retries are not. */
	report(fx, UPLINK_OUT_REFUSED, "cam2", "media/cam2/x.m4s", "HTTP 403", 1);
	assert_false(is_active(fx, "uplink-refused", "cam2"));
	report(fx, UPLINK_OUT_REFUSED, "cam1", "media/cam1/x.m4s", "HTTP 403", 0);
	assert_true(is_active(fx, "uplink-refused", "cam1"));

	report(fx, UPLINK_OUT_CORRUPT_SEGMENT, "cam1", "media/cam1/y.m4s", "", 0);
	assert_true(is_active(fx, "uplink-corrupt-segment", "cam1"));
}

struct find_ctx {
	int found;
	int64_t ts;
	char detail[256];
};

static int find_command(void *arg, const struct audit_row *r)
{
	struct find_ctx *c = arg;

	if (strcmp(r->actor, "central") || strcmp(r->action, "command") || strcmp(r->object, "c42"))
		return 0;
	c->found++;
	c->ts = r->ts_ms;
	snprintf(c->detail, sizeof(c->detail), "%s", r->detail);
	return 0;
}

/* R8: a command from central is an audit row, at the uplink's time. */
static void test_command_audited(void **state)
{
	struct fx *fx = *state;
	struct uplink_outcome o = { .kind = UPLINK_OUT_COMMAND,
				    .time_ms = 1767225600000ll,
				    .camera = "",
				    .path = "",
				    .detail = "registry records queued",
				    .id = "c42",
				    .command = "resend-registry",
				    .status = "done" };
	struct find_ctx c = { 0 };

	uplink_policy_outcome(&fx->p, &o);
	assert_int_equal(audit_list(fx->db, 0, 0, find_command, &c), 0);
	assert_int_equal(c.found, 1);
	assert_int_equal(c.ts, 1767225600000ll);
	assert_string_equal(c.detail, "resend-registry done: registry records queued");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_refuses_bad_holidays, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_deadline, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_registry_deadline_alarm, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_link_alarms, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_command_audited, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
