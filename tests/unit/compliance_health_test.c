// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * compliance_health_test - the R11 health signals that open a camera's
 * fault duty (firmware/compliance_health.h), each against its threshold
 * on fixed measurements: just inside, just outside, turned off, unknown;
 * several at once; the hourly window over gaps; the main profile's frame
 * rate from the registry text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/compliance_health.h"

static const struct compliance_health_limits lim = {
	.fps_min_pct = 50,
	.bitrate_min_kbps = 64,
	.clock_max_ms = 300000,
	.auth_refused_max = 3,
	.gaps_max = 6,
};

/* A healthy 25 fps camera at 2 Mbit/s, its clock 2 s off. */
static struct compliance_health healthy(void)
{
	return (struct compliance_health){
		.fps = 25, .profile_fps = 25, .bitrate_bps = 2000000, .clock_offset_ms = 2000
	};
}

static void test_healthy(void **state)
{
	struct compliance_health h = healthy();
	char d[256] = "junk";

	(void)state;
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
	assert_string_equal(d, "");
}

static void test_fps(void **state)
{
	struct compliance_health h = healthy();
	struct compliance_health_limits off = lim;
	char d[256];

	(void)state;
	h.fps = 12.5; /* exactly half: still healthy */
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
	h.fps = 4.8;
	assert_true(compliance_health_check(&h, &lim, d, sizeof(d)));
	assert_string_equal(d, "fps 4.8 against 25 in the profile");
	/* Nothing measured (0 fps: the sink keeps nothing) or no profile
	 * (a camera of the config file): not judged. */
	h.fps = 0;
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
	h.fps = 4.8;
	h.profile_fps = 0;
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
	h.profile_fps = 25;
	off.fps_min_pct = 0;
	assert_false(compliance_health_check(&h, &off, d, sizeof(d)));
	off.fps_min_pct = 20; /* 4.8 < 5 */
	assert_true(compliance_health_check(&h, &off, d, sizeof(d)));
}

static void test_bitrate(void **state)
{
	struct compliance_health h = healthy();
	struct compliance_health_limits off = lim;
	char d[256];

	(void)state;
	h.bitrate_bps = 64000;
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
	h.bitrate_bps = 12345;
	assert_true(compliance_health_check(&h, &lim, d, sizeof(d)));
	assert_string_equal(d, "bitrate 12 kbit/s under 64");
	off.bitrate_min_kbps = 0;
	assert_false(compliance_health_check(&h, &off, d, sizeof(d)));
	h.bitrate_bps = 0; /* not measured */
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
}

static void test_clock(void **state)
{
	struct compliance_health h = healthy();
	struct compliance_health_limits off = lim;
	char d[256];

	(void)state;
	h.clock_offset_ms = 300000;
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
	h.clock_offset_ms = 312000;
	assert_true(compliance_health_check(&h, &lim, d, sizeof(d)));
	assert_string_equal(d, "clock 312 s off");
	h.clock_offset_ms = -312400; /* behind counts as much as ahead */
	assert_true(compliance_health_check(&h, &lim, d, sizeof(d)));
	assert_string_equal(d, "clock 312 s off");
	off.clock_max_ms = 0;
	assert_false(compliance_health_check(&h, &off, d, sizeof(d)));
}

static void test_auth(void **state)
{
	struct compliance_health h = healthy();
	struct compliance_health_limits off = lim;
	char d[256];

	(void)state;
	h.auth_refused = 2;
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
	h.auth_refused = 3;
	assert_true(compliance_health_check(&h, &lim, d, sizeof(d)));
	assert_string_equal(d, "ONVIF auth refused 3 times");
	off.auth_refused_max = 0;
	assert_false(compliance_health_check(&h, &off, d, sizeof(d)));
}

static void test_gaps(void **state)
{
	struct compliance_health h = healthy();
	struct compliance_health_limits off = lim;
	char d[256];

	(void)state;
	h.gaps = 5;
	assert_false(compliance_health_check(&h, &lim, d, sizeof(d)));
	h.gaps = 6;
	assert_true(compliance_health_check(&h, &lim, d, sizeof(d)));
	assert_string_equal(d, "6 stream gaps within an hour");
	off.gaps_max = 0;
	assert_false(compliance_health_check(&h, &off, d, sizeof(d)));
}

/* The hourly window: this hour so far, then the full hour before until a
 * clean hour passed; a silence of two hours forgets. */
static void test_gaps_hourly(void **state)
{
	const int64_t t0 = 1796000000000ll, min = 60000;
	struct compliance_gaps w = { 0 };

	(void)state;
	assert_int_equal(compliance_gaps_hourly(&w, 10, t0), 0); /* before: not this hour's */
	assert_int_equal(compliance_gaps_hourly(&w, 13, t0 + 20 * min), 3);
	assert_int_equal(compliance_gaps_hourly(&w, 17, t0 + 59 * min), 7);
	/* A new hour: the one before (7) holds while this one is quieter. */
	assert_int_equal(compliance_gaps_hourly(&w, 17, t0 + 61 * min), 7);
	assert_int_equal(compliance_gaps_hourly(&w, 18, t0 + 100 * min), 7);
	/* ... more this hour than the last: this hour's. */
	assert_int_equal(compliance_gaps_hourly(&w, 26, t0 + 110 * min), 9);
	/* Two clean hours later: none. */
	assert_int_equal(compliance_gaps_hourly(&w, 26, t0 + 125 * min), 9);
	assert_int_equal(compliance_gaps_hourly(&w, 26, t0 + 190 * min), 0);
	/* No call for over two hours: the hour skipped counts as none. */
	assert_int_equal(compliance_gaps_hourly(&w, 40, t0 + 400 * min), 0);
	assert_int_equal(compliance_gaps_hourly(&w, 41, t0 + 401 * min), 1);
}

static void test_several(void **state)
{
	struct compliance_health h = { .fps = 4.8,
				       .profile_fps = 25,
				       .bitrate_bps = 20000,
				       .clock_offset_ms = -600000,
				       .auth_refused = 5,
				       .gaps = 7 };
	char d[256], small[24];

	(void)state;
	assert_true(compliance_health_check(&h, &lim, d, sizeof(d)));
	assert_string_equal(d,
			    "fps 4.8 against 25 in the profile; bitrate 20 kbit/s under 64; "
			    "7 stream gaps within an hour; clock 600 s off; ONVIF auth refused 5 "
			    "times");
	/* A short buffer truncates, never overflows, and still says unhealthy. */
	assert_true(compliance_health_check(&h, &lim, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_profile_fps(void **state)
{
	(void)state;
	assert_true(compliance_profile_fps("prof0 H264 1920x1080@25; prof1 H264 640x360@15") ==
		    25.0);
	assert_true(compliance_profile_fps("main H265 2560x1440@12.5") == 12.5);
	/* The main profile without a rate: not the second profile's. */
	assert_true(compliance_profile_fps("prof0 H264 1920x1080; prof1 H264 640x360@15") == 0);
	assert_true(compliance_profile_fps("") == 0);
	assert_true(compliance_profile_fps(NULL) == 0);
	assert_true(compliance_profile_fps("p ? 0x0@0") == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),	    cmocka_unit_test(test_fps),
		cmocka_unit_test(test_bitrate),	    cmocka_unit_test(test_clock),
		cmocka_unit_test(test_auth),	    cmocka_unit_test(test_several),
		cmocka_unit_test(test_profile_fps), cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_gaps_hourly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
