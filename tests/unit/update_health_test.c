// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * update_health_test - the trial boot's decision (firmware/update_health.h):
 * what counts as healthy, which boot is a trial, mark-good only after
 * healthy_after without a break, mark-bad at the timeout, a restarted
 * daemon continuing its trial; and the version order a downgrade is judged
 * by (firmware/update.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "firmware/update.h"
#include "firmware/update_health.h"

static void test_healthy(void **state)
{
	struct update_signals s = { .live_ok = true,
				    .uplink = true,
				    .central_reached = true,
				    .cameras = 3,
				    .recording = 1 };
	char why[128];

	(void)state;
	assert_true(update_healthy(&s, why, sizeof(why))); /* one of three records */
	s.recording = 0;
	assert_false(update_healthy(&s, why, sizeof(why)));
	assert_non_null(strstr(why, "none of 3 cameras"));
	s.cameras = 0; /* no camera configured: not asked for */
	assert_true(update_healthy(&s, why, sizeof(why)));
	s.central_reached = false;
	assert_false(update_healthy(&s, why, sizeof(why)));
	assert_non_null(strstr(why, "central"));
	s.uplink = false; /* a local recorder */
	assert_true(update_healthy(&s, why, sizeof(why)));
	s.live_ok = false;
	s.live_why = "storage stalled for 130 s";
	assert_false(update_healthy(&s, why, sizeof(why)));
	assert_non_null(strstr(why, "storage stalled"));
}

static struct update_record rec(const char *state, const char *version)
{
	struct update_record r = { 0 };

	snprintf(r.state, sizeof(r.state), "%s", state);
	snprintf(r.version, sizeof(r.version), "%s", version);
	return r;
}

static void test_boot_kind(void **state)
{
	struct update_record r;

	(void)state;
	assert_int_equal(update_boot_kind(NULL, "1.0.0", false, false), UPDATE_BOOT_NORMAL);
	assert_int_equal(update_boot_kind(NULL, "1.0.0", true, true), UPDATE_BOOT_NORMAL);
	/* rauc alone: a slot it does not hold good is on trial. */
	assert_int_equal(update_boot_kind(NULL, "1.0.0", true, false), UPDATE_BOOT_TRIAL);
	r = rec("installed-reboot-pending", "2.0.0");
	assert_int_equal(update_boot_kind(&r, "1.0.0", true, true), UPDATE_BOOT_PENDING);
	assert_int_equal(update_boot_kind(&r, "2.0.0", true, true), UPDATE_BOOT_TRIAL);
	r = rec("trial", "2.0.0"); /* a restart within the trial */
	assert_int_equal(update_boot_kind(&r, "2.0.0", false, false), UPDATE_BOOT_TRIAL);
	assert_int_equal(update_boot_kind(&r, "1.0.0", true, true), UPDATE_BOOT_FELL_BACK);
	r = rec("good", "2.0.0");
	assert_int_equal(update_boot_kind(&r, "2.0.0", true, true), UPDATE_BOOT_NORMAL);
	r = rec("rolled-back", "2.0.0");
	assert_int_equal(update_boot_kind(&r, "1.0.0", true, true), UPDATE_BOOT_NORMAL);
}

static void test_good_after_unbroken_health(void **state)
{
	struct update_trial t;

	(void)state;
	update_trial_init(&t, 1000, 0, 300, 900);
	assert_int_equal(update_trial_step(&t, 1000, true), UPDATE_WAIT);
	assert_int_equal(update_trial_step(&t, 1200, true), UPDATE_WAIT);
	assert_int_equal(update_trial_step(&t, 1250, false), UPDATE_WAIT); /* a break */
	assert_int_equal(update_trial_step(&t, 1300, true), UPDATE_WAIT);
	assert_int_equal(update_trial_step(&t, 1550, true), UPDATE_WAIT);
	assert_int_equal(update_trial_step(&t, 1600, true), UPDATE_MARK_GOOD);
}

static void test_bad_at_timeout(void **state)
{
	struct update_trial t;

	(void)state;
	update_trial_init(&t, 0, 0, 300, 900);
	for (int64_t now = 0; now < 900; now += 100)
		assert_int_equal(update_trial_step(&t, now, now % 200 == 0), UPDATE_WAIT);
	assert_int_equal(update_trial_step(&t, 900, false), UPDATE_MARK_BAD);
}

static void test_restart_continues_trial(void **state)
{
	struct update_trial t;

	(void)state;
	/* 800 of 900 ms gone before this start: 100 left. */
	update_trial_init(&t, 5000, 800, 300, 900);
	assert_int_equal(update_trial_step(&t, 5050, true), UPDATE_WAIT);
	assert_int_equal(update_trial_step(&t, 5100, true), UPDATE_MARK_BAD);
	/* A clock set back: a whole trial, not a negative one. */
	update_trial_init(&t, 5000, -100000, 300, 900);
	assert_int_equal(update_trial_step(&t, 5800, false), UPDATE_WAIT);
	assert_int_equal(update_trial_step(&t, 5900, false), UPDATE_MARK_BAD);
}

static void test_version_order(void **state)
{
	(void)state;
	assert_int_equal(update_version_cmp("1.2.3", "1.2.3"), 0);
	assert_true(update_version_cmp("1.2.3", "1.10.0") < 0);
	assert_true(update_version_cmp("1.2.3-4-gabc", "1.2.3") > 0);
	assert_int_equal(update_version_cmp("1.2.3-4-gabc", "1.2.3-4-gdef-dirty"), 0);
	assert_int_equal(update_version_cmp("1.2", "1.2.3"), -2);
	assert_int_equal(update_version_cmp("x", "1.2.3"), -2);
	assert_string_equal(update_state_name(UPDATE_INSTALLED), "installed-reboot-pending");
	assert_int_equal(update_state_parse("rolled-back"), UPDATE_ROLLED_BACK);
	assert_int_equal(update_state_parse("nonsense"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_boot_kind),
		cmocka_unit_test(test_good_after_unbroken_health),
		cmocka_unit_test(test_bad_at_timeout),
		cmocka_unit_test(test_restart_continues_trial),
		cmocka_unit_test(test_version_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
