// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * firmware/liveness and drivers/watchdog's sandbox driver: a storage
 * operation stuck past its deadline and an uplink that stops beating are
 * stalls, an idle storage and a part nobody expects are not; the sandbox
 * file records open, pets and the magic close. Time is a test clock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/watchdog/watchdog.h"
#include "firmware/liveness.h"
#include "lib/clock.h"

static int64_t mono = 1000;

static int64_t fake_mono(void *arg)
{
	(void)arg;
	return mono;
}

static int64_t fake_wall(void *arg)
{
	(void)arg;
	return 1700000000000LL + mono;
}

static const struct clock_source fake = { fake_wall, fake_mono, NULL };

static int setup(void **state)
{
	(void)state;
	mono = 1000;
	clock_set_source(&fake);
	unsetenv("CAMGATE_TEST_STALL");
	unsetenv("CAMGATE_TEST_LIVENESS_MS");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	clock_set_source(NULL);
	return 0;
}

static void test_storage_stuck_operation(void **state)
{
	struct liveness *l;
	char why[128];
	int t1, t2;

	(void)state;
	assert_int_equal(liveness_new(&l), 0);
	assert_true(liveness_ok(l, why, sizeof(why)));
	/* Idle for longer than the deadline: healthy. */
	mono += 10 * LIVE_STORAGE_DEADLINE_MS;
	assert_true(liveness_ok(l, why, sizeof(why)));
	/* Two cameras write; one finishes, the other hangs. */
	t1 = liveness_enter(l, LIVE_STORAGE);
	t2 = liveness_enter(l, LIVE_STORAGE);
	assert_true(t1 >= 0 && t2 >= 0 && t1 != t2);
	mono += 1000;
	liveness_leave(l, t1);
	mono += LIVE_STORAGE_DEADLINE_MS - 1000;
	assert_true(liveness_ok(l, why, sizeof(why))); /* exactly at the deadline */
	mono += 1;
	assert_false(liveness_ok(l, why, sizeof(why)));
	assert_non_null(strstr(why, "storage"));
	/* It returns: healthy again. */
	liveness_leave(l, t2);
	assert_true(liveness_ok(l, why, sizeof(why)));
	liveness_free(l);
}

static void test_uplink_heartbeat(void **state)
{
	struct liveness *l;
	char why[128];

	(void)state;
	assert_int_equal(liveness_new(&l), 0);
	/* Not expected (no central configured): never a stall. */
	mono += 10 * LIVE_UPLINK_DEADLINE_MS;
	assert_true(liveness_ok(l, why, sizeof(why)));
	liveness_expect(l, LIVE_UPLINK, liveness_beats_deadline(30000));
	for (int i = 0; i < 20; i++) {
		mono += 30000;
		liveness_beat(l, LIVE_UPLINK);
		assert_true(liveness_ok(l, why, sizeof(why)));
	}
	mono += LIVE_UPLINK_DEADLINE_MS + 1;
	assert_false(liveness_ok(l, why, sizeof(why)));
	assert_non_null(strstr(why, "uplink"));
	/* The uplink stopped (reload without central): not watched. */
	liveness_expect(l, LIVE_UPLINK, 0);
	assert_true(liveness_ok(l, why, sizeof(why)));
	/* A slow status tick stretches the deadline to three ticks. */
	assert_int_equal(liveness_beats_deadline(600000), 1800000);
	assert_int_equal(liveness_beats_deadline(5000), LIVE_UPLINK_DEADLINE_MS);
	liveness_free(l);
}

static void test_seam_deadline(void **state)
{
	struct liveness *l;
	char why[128];
	int t;

	(void)state;
	setenv("CAMGATE_TEST_LIVENESS_MS", "2000", 1);
	assert_int_equal(liveness_new(&l), 0);
	t = liveness_enter(l, LIVE_STORAGE);
	mono += 2001;
	assert_false(liveness_ok(l, why, sizeof(why)));
	liveness_leave(l, t);
	/* A seam naming another point does not block this one. */
	setenv("CAMGATE_TEST_STALL", "uplink", 1);
	liveness_free(l);
	assert_int_equal(liveness_new(&l), 0);
	liveness_test_stall(l, LIVE_SEAM_STORAGE);
	liveness_test_stall(l, LIVE_SEAM_CAMERA);
	liveness_test_stall(NULL, LIVE_SEAM_UPLINK);
	liveness_free(l);
}

static void read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
}

static void test_sandbox_driver(void **state)
{
	char dir[] = "/tmp/watchdog_test.XXXXXX", spec[160], path[128], buf[512];
	struct watchdog *wd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wd", dir);
	snprintf(spec, sizeof(spec), "sandbox:%s", path);
	assert_int_equal(watchdog_open("none", 15, &wd), -ENOENT);
	assert_null(wd);
	assert_int_equal(watchdog_open(spec, 15, &wd), 0);
	read_file(path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "driver sandbox\ntimeout_s 15\npets 0\n"));
	assert_non_null(strstr(buf, "state armed\n"));
	mono = 5000;
	assert_int_equal(watchdog_pet(wd), 0);
	assert_int_equal(watchdog_pet(wd), 0);
	read_file(path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "pets 2\nlast_pet_mono_ms 5000\nstate armed\n"));
	watchdog_close(wd, true);
	read_file(path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "state magic-closed\n"));
	assert_int_equal(watchdog_open(spec, 15, &wd), 0);
	watchdog_close(wd, false);
	read_file(path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "state closed-armed\n"));
	/* A device that is not there: an error, no handle. */
	assert_true(watchdog_open("/nonexistent/watchdog", 15, &wd) < 0);
	assert_null(wd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_storage_stuck_operation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seam_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_driver, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
