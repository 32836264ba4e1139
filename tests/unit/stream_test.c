// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stream_test - the rest of drivers/stream that needs no camera: DTS
 * sanitation (stream_ts.c), the camera URL with its credentials and the
 * form logs show (stream_util.c), and a stream thread reading a clip the
 * ffmpeg CLI encodes once per run (each end of file is a "disconnect"),
 * into a whole-segment sink and a streaming one, and the configurations
 * stream_start() refuses. The segmenter itself is in fmp4_mux_test.c, the
 * RTSP socket read-ahead in stream_sock_test.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libavformat/avformat.h>

#include "drivers/stream/stream.h"
#include "drivers/stream/stream_int.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "tests/unit/testutil.h"

#define SEG_MS 1000

static char tmpdir[64];
static char clip_aac[256];

static int make_clip(void **state)
{
	(void)state;
	testutil_mkdtemp(tmpdir, sizeof(tmpdir), "stream_test");
	snprintf(clip_aac, sizeof(clip_aac), "%s/aac.ts", tmpdir);
	return testutil_make_clip(clip_aac) ? -1 : 0;
}

static int remove_clip(void **state)
{
	(void)state;
	testutil_rmtree(tmpdir);
	return 0;
}

/* ---- drivers/stream internals: DTS sanitation, URL ------------------ */

static int ts_fix(struct stream_ts *t, AVPacket *p, int64_t dts, int64_t pts, int64_t now_ms)
{
	p->dts = dts;
	p->pts = pts;
	return stream__ts_fix(t, p, now_ms * 1000);
}

static void test_ts_sanitation(void **state)
{
	const int64_t F = 3600; /* one frame at 25 fps, 90 kHz */
	AVPacket *p = av_packet_alloc();
	struct stream_ts t;

	(void)state;
	stream__ts_reset(&t, (AVRational){ 1, 90000 });
	assert_int_equal(ts_fix(&t, p, AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0), STREAM_TS_DROP);
	assert_int_equal(ts_fix(&t, p, AV_NOPTS_VALUE, 1000, 0), STREAM_TS_OK);
	assert_int_equal(p->dts, 1000);
	assert_int_equal(ts_fix(&t, p, 1000 + F, AV_NOPTS_VALUE, 40), STREAM_TS_OK);
	assert_int_equal(p->pts, 1000 + F);
	/* nothing at all: one step on */
	assert_int_equal(ts_fix(&t, p, AV_NOPTS_VALUE, AV_NOPTS_VALUE, 80), STREAM_TS_OK);
	assert_int_equal(p->dts, 1000 + 2 * F);
	/* repeated and slightly backwards DTS: bumped */
	assert_int_equal(ts_fix(&t, p, 1000 + 2 * F, 1000 + 2 * F, 81), STREAM_TS_FIXED);
	assert_int_equal(p->dts, 1000 + 2 * F + 1);
	assert_int_equal(ts_fix(&t, p, 1000 + F, 1000 + 3 * F, 82), STREAM_TS_FIXED);
	assert_int_equal(p->dts, 1000 + 2 * F + 2);
	assert_int_equal(p->pts, 1000 + 3 * F);
	/* PTS before DTS: raised */
	assert_int_equal(ts_fix(&t, p, 1000 + 3 * F, 1000, 120), STREAM_TS_FIXED);
	assert_int_equal(p->pts, p->dts);
	/* a second back: a jump, and the state is left alone */
	assert_int_equal(ts_fix(&t, p, 1000 + 3 * F - 90000, AV_NOPTS_VALUE, 160), STREAM_TS_JUMP);
	assert_int_equal(ts_fix(&t, p, 1000 + 4 * F, AV_NOPTS_VALUE, 160), STREAM_TS_OK);
	/* 10 s ahead in 40 ms of wall time: a jump */
	assert_int_equal(ts_fix(&t, p, 1000 + 4 * F + 900000, AV_NOPTS_VALUE, 200), STREAM_TS_JUMP);
	/* 10 s ahead in 10 s: packets were lost, the timeline holds */
	assert_int_equal(ts_fix(&t, p, 1000 + 4 * F + 900000, AV_NOPTS_VALUE, 10160), STREAM_TS_OK);
	/* a burst after a 6 s network stall: media time carries on */
	assert_int_equal(ts_fix(&t, p, 1000 + 5 * F + 900000, AV_NOPTS_VALUE, 16160), STREAM_TS_OK);
	av_packet_free(&p);
}

static void test_camera_url(void **state)
{
	char url[STREAM_URL_MAX], log[STREAM_URL_MAX], longurl[STREAM_URL_MAX + 8];

	(void)state;
	assert_int_equal(stream__build_url("rtsp://10.0.0.5:554/s1", NULL, NULL, url, sizeof(url),
					   log, sizeof(log)),
			 0);
	assert_string_equal(url, "rtsp://10.0.0.5:554/s1");
	assert_string_equal(log, "rtsp://10.0.0.5:554/s1");
	assert_int_equal(stream__build_url("rtsp://10.0.0.5/s1?a=b@c", "ad m@n", "p@ss:w/rd?#%",
					   url, sizeof(url), log, sizeof(log)),
			 0);
	assert_string_equal(url, "rtsp://ad%20m%40n:p%40ss%3Aw%2Frd%3F%23%25@10.0.0.5/s1?a=b@c");
	assert_string_equal(log, "rtsp://10.0.0.5/s1?a=b@c");
	/* userinfo in the URL wins; logs never show it */
	assert_int_equal(stream__build_url("rtsp://u:p@10.0.0.5/s1", "admin", "x", url, sizeof(url),
					   log, sizeof(log)),
			 0);
	assert_string_equal(url, "rtsp://u:p@10.0.0.5/s1");
	assert_string_equal(log, "rtsp://10.0.0.5/s1");
	assert_int_equal(
		stream__build_url("rtsp://h/s", "ad:min", "x", url, sizeof(url), log, sizeof(log)),
		-EINVAL);
	assert_int_equal(
		stream__build_url("10.0.0.5/s1", NULL, NULL, url, sizeof(url), log, sizeof(log)),
		-EINVAL);
	memset(longurl, 'a', sizeof(longurl) - 1);
	memcpy(longurl, "rtsp://", 7);
	longurl[sizeof(longurl) - 1] = '\0';
	assert_int_equal(stream__build_url(longurl, NULL, NULL, url, sizeof(url), log, sizeof(log)),
			 -E2BIG);
}

/* ---- a stream thread on a file ---------------------------------------- */

struct scap {
	pthread_mutex_t lock;
	int inits, segs, discont, fail_next;
	int opens, closes, dropped, writes;
	bool bad_init_id, first_discont;
};

static int scap_init(void *arg, const char *camera, const void *data, size_t len,
		     uint64_t *init_idp)
{
	struct scap *c = arg;

	(void)data;
	pthread_mutex_lock(&c->lock);
	c->inits++;
	pthread_mutex_unlock(&c->lock);
	assert_string_equal(camera, "file1");
	assert_true(len > 0);
	*init_idp = 7;
	return 0;
}

static int scap_segs(struct scap *c)
{
	int n;

	pthread_mutex_lock(&c->lock);
	n = c->segs;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* A streaming sink: what one open() gave, until close(). */
struct swriter {
	struct scap *c;
	size_t bytes;
};

static int scap_open(void *arg, const char *camera, uint64_t init_id, void **writerp)
{
	struct scap *c = arg;
	struct swriter *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_string_equal(camera, "file1");
	w->c = c;
	pthread_mutex_lock(&c->lock);
	c->opens++;
	c->bad_init_id |= init_id != 7;
	pthread_mutex_unlock(&c->lock);
	*writerp = w;
	return 0;
}

static int scap_write(void *arg, void *writer, const void *data, size_t len)
{
	struct swriter *w = writer;
	struct scap *c = w->c;
	int ret = 0;

	assert_ptr_equal(arg, c);
	assert_non_null(data);
	pthread_mutex_lock(&c->lock);
	if (c->fail_next) {
		c->fail_next--;
		ret = -EIO;
	} else {
		c->writes++;
		w->bytes += len;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static int scap_close(void *arg, void *writer, const struct stream_seg *seg)
{
	struct swriter *w = writer;
	struct scap *c = w->c;

	assert_ptr_equal(arg, c);
	pthread_mutex_lock(&c->lock);
	c->closes++;
	if (!seg) {
		c->dropped++;
	} else {
		if (!c->segs)
			c->first_discont = seg->discont;
		c->segs++;
		c->discont += seg->discont;
		c->bad_init_id |= seg->init_id != 7 || !w->bytes;
	}
	pthread_mutex_unlock(&c->lock);
	free(w);
	return 0;
}

/* Streams the AAC clip through @sink until @c has @want segments (at
 * most 5 s), then stops; the stream's counters in @st. */
static void run_file(const struct stream_sink *sink, struct scap *c, int want,
		     struct stream_stats *st)
{
	struct stream_cfg cfg = {
		.name = "file1",
		.segment_ms = SEG_MS,
		.connect_timeout_ms = 3000,
		.stall_timeout_ms = 3000,
		.backoff_min_ms = 100,
		.backoff_max_ms = 200,
	};
	struct stream *s = NULL;
	char url[300];

	snprintf(url, sizeof(url), "file://%s", clip_aac);
	cfg.url = url;
	assert_int_equal(stream_start(&cfg, sink, &s), 0);
	for (int i = 0; i < 500 && scap_segs(c) < want; i++)
		usleep(10000);
	stream_get_stats(s, st);
	stream_stop(s);
}

static void test_stream_file(void **state)
{
	struct scap c = { .lock = PTHREAD_MUTEX_INITIALIZER, .fail_next = 1 };
	struct stream_sink sink = { .init = scap_init,
				    .arg = &c,
				    .open = scap_open,
				    .write = scap_write,
				    .close = scap_close };
	struct stream_stats st;

	(void)state;
	/* two passes over the file: 2 x 6 segments, less the one refused
	 * (its first write fails) */
	run_file(&sink, &c, 11, &st);
	assert_true(c.segs >= 11);
	assert_true(c.inits >= 2);
	assert_false(c.bad_init_id);
	/* each pass starts a run; the first segment was refused, so the
	 * first one stored is the run's discont one */
	assert_true(c.first_discont);
	assert_true(c.discont >= 2);
	assert_true(st.reconnects >= 1);
	assert_true(st.errors >= 2); /* the refused segment, the end of file */
	assert_true(st.segments >= 10);
	assert_string_equal(st.video_codec, "h264");
	assert_string_equal(st.audio_codec, "aac");
	assert_int_equal(st.width, 320);
	assert_int_equal(st.height, 240);
	assert_true(st.fps > 23.5 && st.fps < 24.5);
	assert_true(st.bitrate_bps > 0);
	assert_int_equal(st.dts_fixed, 0);
	assert_int_equal(st.discontinuities, 0);
	/* The health the daemon judges a camera by: down since, or 0 while
	 * segments come. */
	if (st.down_since_utc_ms == 0)
		assert_int_equal(st.state, STREAM_RECORDING);
}

/* A camera that never answers is down since the stream started, by the
 * stream's own account (not by anyone's polling interval). */
static void test_stream_down_since(void **state)
{
	struct scap c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct stream_sink sink = { .init = scap_init,
				    .arg = &c,
				    .open = scap_open,
				    .write = scap_write,
				    .close = scap_close };
	struct stream_cfg cfg = {
		.name = "dead1",
		.url = "rtsp://127.0.0.1:1/stream",
		.connect_timeout_ms = 500,
		.stall_timeout_ms = 500,
		.backoff_min_ms = 100,
		.backoff_max_ms = 200,
	};
	struct stream *s = NULL;
	struct stream_stats st;
	int64_t t0 = time_now_ms();

	(void)state;
	assert_int_equal(stream_start(&cfg, &sink, &s), 0);
	usleep(300000);
	stream_get_stats(s, &st);
	stream_stop(s);
	assert_true(st.state != STREAM_RECORDING);
	assert_true(st.down_since_utc_ms >= t0 && st.down_since_utc_ms <= t0 + 300);
	assert_true(st.errors >= 1);
}

/* The same file through a streaming sink: a failed write drops that
 * segment (close with NULL), every writer is closed once. */
static void test_stream_streamed(void **state)
{
	struct scap c = { .lock = PTHREAD_MUTEX_INITIALIZER, .fail_next = 1 };
	struct stream_sink sink = { .init = scap_init,
				    .arg = &c,
				    .open = scap_open,
				    .write = scap_write,
				    .close = scap_close };
	struct stream_stats st;

	(void)state;
	run_file(&sink, &c, 8, &st);
	assert_true(c.segs >= 8);
	assert_int_equal(c.dropped, 1);
	assert_int_equal(c.opens, c.closes);
	assert_int_equal(c.closes, c.segs + c.dropped);
	assert_true(c.writes >= c.segs);
	assert_false(c.bad_init_id);
	assert_true(c.first_discont);
	assert_true(st.segments >= 7);
	assert_true(st.bytes > 0);
}

static void test_stream_bad_cfg(void **state)
{
	struct scap c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct stream_sink sink = { .init = scap_init,
				    .arg = &c,
				    .open = scap_open,
				    .write = scap_write,
				    .close = scap_close };
	struct stream_cfg cfg = { .name = "cam", .url = "rtsp://127.0.0.1:1/x" };
	struct stream *s = NULL;
	struct timespec t0, t1;

	(void)state;
	cfg.name = "";
	assert_int_equal(stream_start(&cfg, &sink, &s), -EINVAL);
	cfg.name = "cam";
	cfg.url = "127.0.0.1/x";
	assert_int_equal(stream_start(&cfg, &sink, &s), -EINVAL);
	cfg.url = "rtsp://127.0.0.1:1/x";
	cfg.username = "a:b";
	assert_int_equal(stream_start(&cfg, &sink, &s), -EINVAL);
	cfg.username = NULL;
	sink.close = NULL; /* a sink that cannot end a segment */
	assert_int_equal(stream_start(&cfg, &sink, &s), -EINVAL);
	sink.close = scap_close;
	cfg.segment_ms = 50;
	assert_int_equal(stream_start(&cfg, &sink, &s), -EINVAL);
	assert_null(s);
	/* nothing listens on port 1: backoff, and a prompt stop */
	cfg.segment_ms = 0;
	cfg.backoff_min_ms = 5000;
	cfg.backoff_max_ms = 10000;
	assert_int_equal(stream_start(&cfg, &sink, &s), 0);
	usleep(200000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stream_stop(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
	assert_string_equal(stream_state_name(STREAM_BACKOFF), "backoff");
	stream_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts_sanitation),  cmocka_unit_test(test_camera_url),
		cmocka_unit_test(test_stream_file),    cmocka_unit_test(test_stream_streamed),
		cmocka_unit_test(test_stream_bad_cfg), cmocka_unit_test(test_stream_down_since),
	};

	log_init("stream_test", false, LOG_ERR);
	av_log_set_level(AV_LOG_ERROR);
	return cmocka_run_group_tests(tests, make_clip, remove_clip);
}
