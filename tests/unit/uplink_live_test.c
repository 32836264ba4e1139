// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink_live_test - the pure parts of the uplink: object names, id
 * checks, the live playlist window (U3: only newer segments enter, media
 * sequence numbers fixed once given, discontinuities counted as they
 * slide out) and its exact HLS text, and the settings uplink_start()
 * refuses before touching anything (U2: https only).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/log.h"
#include "net/uplink_int.h"

static struct live_entry entry(uint64_t seq, uint64_t init, uint32_t flags)
{
	struct live_entry e = { .seq = seq,
				.init_id = init,
				.flags = flags,
				.start_ms = 1767607200000ll + (int64_t)seq * 4000,
				.duration_ms = 4000 };

	uplink_segment_path("cam1", seq, e.start_ms, e.name, sizeof(e.name));
	memmove(e.name, e.name + strlen("media/cam1/"), strlen(e.name) - 10);
	return e;
}

static void test_names(void **state)
{
	char buf[128];

	(void)state;
	/* 2026-01-05T10:00:04.000Z */
	assert_int_equal(uplink_segment_path("cam1", 118, 1767607204000ll, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "media/cam1/20260105T100004.000Z-118.m4s");
	assert_int_equal(uplink_init_path("cam1", 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "media/cam1/init-3.mp4");
	assert_int_equal(uplink_segment_path("cam1", 118, 1767607204000ll, buf, 20), -E2BIG);
	assert_true(uplink_id_ok("gw-0042"));
	assert_true(uplink_id_ok("a.b_c"));
	assert_false(uplink_id_ok(""));
	assert_false(uplink_id_ok(".hidden"));
	assert_false(uplink_id_ok("../x"));
	assert_false(uplink_id_ok("a/b"));
	assert_false(uplink_id_ok("a b"));
	assert_false(
		uplink_id_ok("0123456789012345678901234567890123456789012345678901234567890123"));
}

static void test_window(void **state)
{
	struct live_cam lc = { .n = 0 };
	struct live_entry e;

	(void)state;
	for (uint64_t s = 10; s <= 14; s++) {
		e = entry(s, 1, 0);
		assert_true(uplink__live_add(&lc, &e, 3));
	}
	assert_int_equal(lc.n, 3);
	assert_int_equal(lc.win[0].seq, 12);
	assert_int_equal(lc.win[0].msn, 12);
	/* Backlog (older or equal) never enters. */
	e = entry(11, 1, 0);
	assert_false(uplink__live_add(&lc, &e, 3));
	e = entry(14, 1, 0);
	assert_false(uplink__live_add(&lc, &e, 3));
	/* A gap: discontinuity, and msn keeps counting by one. */
	e = entry(20, 1, 0);
	assert_true(uplink__live_add(&lc, &e, 3));
	assert_true(lc.win[2].disc);
	assert_int_equal(lc.win[2].msn, 15);
	/* A new init and a stream discontinuity. */
	e = entry(21, 2, 0);
	assert_true(uplink__live_add(&lc, &e, 3));
	assert_true(lc.win[2].disc);
	e = entry(22, 2, RING_F_DISCONT);
	assert_true(uplink__live_add(&lc, &e, 3));
	assert_int_equal(lc.disc_seq, 0);
	e = entry(23, 2, 0);
	assert_true(uplink__live_add(&lc, &e, 3));
	assert_int_equal(lc.disc_seq, 1); /* seq 20's tag slid out */
	assert_int_equal(lc.win[0].msn, 16);
	assert_int_equal(lc.target_s, 4);
	/* A segment a frame longer rounds to the same target (4.3.3.1). */
	e = entry(24, 2, 0);
	e.duration_ms = 4040;
	assert_true(uplink__live_add(&lc, &e, 3));
	assert_int_equal(lc.target_s, 4);
	e = entry(25, 2, 0);
	e.duration_ms = 4500;
	assert_true(uplink__live_add(&lc, &e, 3));
	assert_int_equal(lc.target_s, 5);
}

static const char want_pl[] = "#EXTM3U\n"
			      "#EXT-X-VERSION:7\n"
			      "#EXT-X-TARGETDURATION:4\n"
			      "#EXT-X-MEDIA-SEQUENCE:5\n"
			      "#EXT-X-INDEPENDENT-SEGMENTS\n"
			      "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
			      "#EXT-X-PROGRAM-DATE-TIME:2026-01-05T10:00:20.000Z\n"
			      "#EXTINF:4.000,\n"
			      "20260105T100020.000Z-5.m4s\n"
			      "#EXT-X-DISCONTINUITY\n"
			      "#EXT-X-MAP:URI=\"init-2.mp4\"\n"
			      "#EXT-X-PROGRAM-DATE-TIME:2026-01-05T10:00:24.000Z\n"
			      "#EXTINF:4.000,\n"
			      "20260105T100024.000Z-6.m4s\n";

static void test_playlist_text(void **state)
{
	struct live_cam lc = { .n = 0 };
	struct live_entry e;
	char buf[2048];

	(void)state;
	assert_int_equal(uplink__playlist(&lc, buf, sizeof(buf)), -ENOENT);
	e = entry(5, 1, 0);
	uplink__live_add(&lc, &e, 6);
	e = entry(6, 2, 0);
	uplink__live_add(&lc, &e, 6);
	assert_int_equal(uplink__playlist(&lc, buf, sizeof(buf)), (int)strlen(want_pl));
	assert_string_equal(buf, want_pl);
	assert_int_equal(uplink__playlist(&lc, buf, 100), -E2BIG);
}

/* The window survives a restart through its own playlist text: the same
 * text back, media sequence numbers going on from where they were, the
 * discontinuity count kept, and the first entry after the restart
 * marked as a discontinuity. */
static void test_playlist_resume(void **state)
{
	struct live_cam lc = { .n = 0 }, back = { .n = 0 };
	struct live_entry e;
	char buf[4096], again[4096];
	int len;

	(void)state;
	for (uint64_t s = 10; s <= 14; s++) {
		e = entry(s, s < 12 ? 1 : 2, 0);
		uplink__live_add(&lc, &e, 3);
	}
	e = entry(20, 2, 0);
	uplink__live_add(&lc, &e, 3);
	e = entry(21, 2, 0);
	uplink__live_add(&lc, &e, 3);
	e = entry(22, 2, 0);
	uplink__live_add(&lc, &e, 3);
	e = entry(23, 2, 0);
	uplink__live_add(&lc, &e, 3);
	assert_int_equal(lc.disc_seq, 2);
	lc.win[1].duration_ms = 3217; /* EXTINF keeps milliseconds */
	len = uplink__playlist(&lc, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(uplink__playlist_parse(&back, buf), 0);
	assert_true(back.resumed);
	assert_int_equal(uplink__playlist(&back, again, sizeof(again)), len);
	assert_string_equal(again, buf);
	assert_int_equal(back.n, 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(back.win[i].msn, lc.win[i].msn);
		assert_int_equal(back.win[i].seq, lc.win[i].seq);
		assert_int_equal(back.win[i].init_id, lc.win[i].init_id);
		assert_int_equal(back.win[i].start_ms, lc.win[i].start_ms);
		assert_int_equal(back.win[i].duration_ms, lc.win[i].duration_ms);
		assert_string_equal(back.win[i].name, lc.win[i].name);
	}
	/* The next segment, in sequence, still follows a restart. */
	e = entry(24, 2, 0);
	assert_true(uplink__live_add(&back, &e, 3));
	assert_true(back.win[2].disc);
	assert_int_equal(back.win[2].msn, lc.win[2].msn + 1);
	assert_int_equal(back.disc_seq, 2);
	e = entry(25, 2, 0);
	assert_true(uplink__live_add(&back, &e, 3));
	assert_false(back.win[2].disc);
	/* Only newer segments enter, as before the restart. */
	e = entry(23, 2, 0);
	assert_false(uplink__live_add(&back, &e, 3));
	/* A ring made anew while state.db stayed: its numbers start over,
	 * at later times. The first segment after the restart enters (live
	 * view would stay frozen otherwise), the numbering goes on. */
	assert_int_equal(uplink__playlist(&back, buf, sizeof(buf)) > 0, 1);
	assert_int_equal(uplink__playlist_parse(&lc, buf), 0);
	e = entry(2, 1, 0); /* older in time and number: a resent segment */
	assert_false(uplink__live_add(&lc, &e, 3));
	e = entry(2, 1, 0);
	e.start_ms = lc.win[2].start_ms + 60000;
	assert_true(uplink__live_add(&lc, &e, 3));
	assert_true(lc.win[2].disc);
	assert_int_equal(lc.win[2].msn, back.win[2].msn + 1);
	e = entry(3, 1, 0);
	e.start_ms = lc.win[2].start_ms + 4000;
	assert_true(uplink__live_add(&lc, &e, 3));
	assert_false(lc.win[2].disc);
	/* Without a restart a lower number never enters. */
	e = entry(1, 1, 0);
	e.start_ms = lc.win[2].start_ms + 60000;
	assert_false(uplink__live_add(&lc, &e, 3));

	/* Not a playlist of ours: refused, nothing half read. */
	assert_int_equal(uplink__playlist_parse(&back, "#EXTM3U\n#EXTINF:x,\na-1.m4s\n"), -EPROTO);
	assert_int_equal(back.n, 0);
	assert_int_equal(uplink__playlist_parse(&back, "garbage"), -EPROTO);
	assert_int_equal(uplink__playlist_parse(&back, "#EXTM3U\n"), -EPROTO);
	assert_int_equal(uplink__playlist_parse(&back, "#EXTM3U\n#EXTINF:4.000,\nnoseq.m4s\n"),
			 -EPROTO);
}

static void test_start_refuses(void **state)
{
	static const char *const bad_urls[] = { "http://127.0.0.1/", "ftp://x/",      "x",
						"https://",	     "https:///path", NULL };
	struct uplink_cfg c;
	struct uplink *up = NULL;

	(void)state;
	log_init("uplink_live_test", LOG_DEST_PLAIN, LOG_CRIT);
	uplink_cfg_defaults(&c);
	c.gateway_id = "gw1";
	for (const char *const *u = bad_urls; *u; u++) {
		c.base_url = *u;
		assert_int_equal(uplink_start(&c, NULL, NULL, NULL, &up), -EINVAL);
	}
	c.base_url = "https://127.0.0.1:1";
	c.gateway_id = "../etc";
	assert_int_equal(uplink_start(&c, NULL, NULL, NULL, &up), -EINVAL);
	c.gateway_id = "gw1";
	c.tls.pin = "sha256//short";
	assert_int_equal(uplink_start(&c, NULL, NULL, NULL, &up), -EINVAL);
	c.tls.pin = NULL;
	c.auth = UPLINK_AUTH_BEARER;
	assert_int_equal(uplink_start(&c, NULL, NULL, NULL, &up), -EINVAL);
	c.auth = UPLINK_AUTH_SIGV4;
	c.username = "AKID";
	c.password = "secret";
	assert_int_equal(uplink_start(&c, NULL, NULL, NULL, &up), -EINVAL);
	c.auth = UPLINK_AUTH_NONE;
	c.tls.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(uplink_start(&c, NULL, NULL, NULL, &up), -ENOENT);
	assert_null(up);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),	      cmocka_unit_test(test_window),
		cmocka_unit_test(test_playlist_text), cmocka_unit_test(test_playlist_resume),
		cmocka_unit_test(test_start_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
