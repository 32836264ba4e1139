// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * export_test - export_clip() over segments the real segmenter (fmp4)
 * cut from a clip the ffmpeg CLI encodes once: H.264 24 fps with a
 * keyframe every 0.5 s and AAC, 1 s segments of several fragments each
 * (chunked, as `camgate run` stores them). The ring is replaced by an
 * in-memory stand-in of the three calls export uses (ring_list,
 * ring_read, ring_read_init), defined here, so tests can evict or corrupt
 * a segment at will. Outputs are checked by demuxing them back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libavformat/avformat.h>

#include "drivers/stream/fmp4.h"
#include "lib/log.h"
#include "storage/export.h"
#include "storage/ring.h"
#include "tests/unit/testutil.h"

#define FPS	  24
#define FRAME_US  (1000000 / FPS)
#define SEG_MS	  1000
#define MAX_SEGS  64
#define MAX_INITS 4
#define T0	  1700000000000LL /* UTC ms of the first segment */
#define GAP_MS	  3000		  /* between the two runs */
#define CHUNK	  4096		  /* sample bytes per fragment */

/* ---- the ring stand-in ------------------------------------------------ */

struct fake_blob {
	uint8_t *data;
	size_t len;
};

static struct {
	struct fake_blob init[MAX_INITS];
	int ninit;
	struct ring_seg_info info[MAX_SEGS];
	struct fake_blob seg[MAX_SEGS];
	int nseg;
	uint64_t evicted_id; /* reads as -ENOENT; 0: none */
	uint64_t corrupt_id; /* reads as -EBADMSG; 0: none */
} fr;

int ring_list(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
	      ring_list_fn fn, void *arg)
{
	(void)ring;
	for (int i = 0; i < fr.nseg; i++) {
		const struct ring_seg_info *in = &fr.info[i];
		int ret;

		if (camera && strcmp(camera, in->camera))
			continue;
		if (in->start_utc_ms >= to_ms || in->start_utc_ms + in->duration_ms <= from_ms)
			continue;
		ret = fn(arg, in);
		if (ret)
			return ret;
	}
	return 0;
}

static int fake_copy(const struct fake_blob *b, void *buf, size_t cap, size_t *lenp)
{
	*lenp = b->len;
	if (b->len > cap)
		return -E2BIG;
	memcpy(buf, b->data, b->len);
	return 0;
}

int ring_read(struct ring *ring, uint64_t seg_id, void *buf, size_t cap, size_t *lenp)
{
	(void)ring;
	if (seg_id == fr.evicted_id)
		return -ENOENT;
	if (seg_id == fr.corrupt_id)
		return -EBADMSG;
	for (int i = 0; i < fr.nseg; i++)
		if (fr.info[i].id == seg_id)
			return fake_copy(&fr.seg[i], buf, cap, lenp);
	return -ENOENT;
}

int ring_read_init(struct ring *ring, uint64_t init_id, void *buf, size_t cap, size_t *lenp)
{
	(void)ring;
	if (init_id < 1 || init_id > (uint64_t)fr.ninit)
		return -ENOENT;
	return fake_copy(&fr.init[init_id - 1], buf, cap, lenp);
}

/* ---- filling it with real segments ----------------------------------- */

static char tmpdir[64];
static char clip[256], out[256];
static struct ring *const RING = (struct ring *)&fr;

struct feeder {
	uint64_t init_id;
	int64_t utc_ms; /* next segment's start */
	bool discont;
	int first; /* index of the run's first segment */
};

static void feed_init(void *arg, const void *data, size_t len)
{
	struct feeder *f = arg;
	struct fake_blob *b = &fr.init[fr.ninit];

	assert_true(fr.ninit < MAX_INITS);
	b->data = malloc(len);
	assert_non_null(b->data);
	memcpy(b->data, data, len);
	b->len = len;
	f->init_id = (uint64_t)++fr.ninit;
}

/* Fragments of the open segment, collected as the ring would store them. */
static void feed_data(void *arg, const void *data, size_t len)
{
	struct fake_blob *b = &fr.seg[fr.nseg];
	uint8_t *p;

	(void)arg;
	assert_true(fr.nseg < MAX_SEGS);
	p = realloc(b->data, b->len + len);
	assert_non_null(p);
	memcpy(p + b->len, data, len);
	b->data = p;
	b->len += len;
}

static void feed_end(void *arg, const struct fmp4_seg *seg)
{
	struct feeder *f = arg;
	struct ring_seg_info *in = &fr.info[fr.nseg];
	struct fake_blob *b = &fr.seg[fr.nseg];

	assert_true(fr.nseg < MAX_SEGS);
	assert_non_null(seg); /* the clip is recorded whole */
	memset(in, 0, sizeof(*in));
	in->id = 100 + (uint64_t)fr.nseg;
	snprintf(in->camera, sizeof(in->camera), "cam1");
	in->seq = (uint64_t)fr.nseg;
	in->init_id = f->init_id;
	in->start_utc_ms = f->utc_ms;
	in->duration_ms = (uint32_t)((seg->duration_us + 500) / 1000);
	in->media_start_us = seg->start_us;
	in->flags = (f->discont ? RING_F_DISCONT : 0) | (seg->has_audio ? RING_F_AUDIO : 0);
	in->len = b->len;
	f->utc_ms += in->duration_ms;
	f->discont = false;
	fr.nseg++;
}

/* Top-level boxes of @type in @b. */
static int count_boxes(const struct fake_blob *b, const char *type)
{
	int n = 0;

	for (size_t off = 0; b->len - off >= 8;) {
		const uint8_t *p = b->data + off;
		size_t size = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];

		if (size < 8 || size > b->len - off)
			break;
		n += !memcmp(p + 4, type, 4);
		off += size;
	}
	return n;
}

/* One camera connection: the whole clip through a new segmenter run. */
static void record_run(int64_t utc_ms)
{
	struct feeder f = { .utc_ms = utc_ms, .discont = true };
	struct fmp4_sink sink = { feed_init, feed_data, feed_end, &f };
	AVFormatContext *ic = NULL;
	AVPacket *pkt = av_packet_alloc();
	struct fmp4_pick pick;
	struct fmp4 *m = NULL;
	int first = fr.nseg;

	assert_non_null(pkt);
	assert_int_equal(avformat_open_input(&ic, clip, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(ic, NULL) >= 0);
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	assert_true(pick.audio >= 0);
	assert_int_equal(fmp4_open(ic->streams[pick.video], ic->streams[pick.audio], SEG_MS, &sink,
				   "cam1", &m),
			 0);
	fmp4_set_chunk_bytes(m, CHUNK);
	while (av_read_frame(ic, pkt) >= 0) {
		enum fmp4_track tr = pkt->stream_index == pick.video ? FMP4_VIDEO : FMP4_AUDIO;

		assert_true(fmp4_write_take(m, tr, pkt) >= 0);
	}
	assert_int_equal(fmp4_finish(m), 0);
	fmp4_close(m);
	avformat_close_input(&ic);
	av_packet_free(&pkt);
	/* Every whole segment of the run is chunked; the last may be short. */
	for (int i = first; i < fr.nseg - 1; i++)
		assert_true(count_boxes(&fr.seg[i], "moof") > 1);
}

static int setup(void **state)
{
	(void)state;
	testutil_mkdtemp(tmpdir, sizeof(tmpdir), "export_test");
	snprintf(clip, sizeof(clip), "%s/clip.ts", tmpdir);
	snprintf(out, sizeof(out), "%s/out.mp4", tmpdir);
	return testutil_make_clip(clip) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < fr.ninit; i++)
		free(fr.init[i].data);
	for (int i = 0; i < fr.nseg; i++)
		free(fr.seg[i].data);
	testutil_rmtree(tmpdir);
	return 0;
}

/* Two connections with GAP_MS between them. */
static int fill_ring(void **state)
{
	(void)state;
	for (int i = 0; i < fr.ninit; i++)
		free(fr.init[i].data);
	for (int i = 0; i < fr.nseg; i++)
		free(fr.seg[i].data);
	memset(&fr, 0, sizeof(fr));
	record_run(T0);
	record_run(fr.info[fr.nseg - 1].start_utc_ms + fr.info[fr.nseg - 1].duration_ms + GAP_MS);
	unlink(out);
	return 0;
}

/* ---- checking an output ------------------------------------------------ */

struct probe {
	int video, audio;
	int64_t duration_us;
	int64_t max_step_us; /* largest video DTS step */
	int64_t first_dts_us;
};

static void probe_out(struct probe *p)
{
	AVFormatContext *ic = NULL;
	AVPacket *pkt = av_packet_alloc();
	int64_t prev = AV_NOPTS_VALUE;

	memset(p, 0, sizeof(*p));
	p->first_dts_us = AV_NOPTS_VALUE;
	assert_int_equal(avformat_open_input(&ic, out, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(ic, NULL) >= 0);
	p->duration_us = ic->duration;
	while (av_read_frame(ic, pkt) >= 0) {
		AVStream *st = ic->streams[pkt->stream_index];
		int64_t dts = av_rescale_q(pkt->dts, st->time_base, (AVRational){ 1, 1000000 });

		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
			if (p->first_dts_us == AV_NOPTS_VALUE)
				p->first_dts_us = dts;
			if (prev != AV_NOPTS_VALUE) {
				assert_true(dts > prev);
				if (dts - prev > p->max_step_us)
					p->max_step_us = dts - prev;
			}
			prev = dts;
			p->video++;
		} else {
			p->audio++;
		}
		av_packet_unref(pkt);
	}
	avformat_close_input(&ic);
	av_packet_free(&pkt);
}

static int64_t sum_ms(int first, int end)
{
	int64_t t = 0;

	for (int i = first; i < end; i++)
		t += fr.info[i].duration_ms;
	return t;
}

static uint64_t progress_done, progress_total;
static int progress_calls;

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	assert_true(done >= progress_done);
	assert_true(done <= total);
	progress_done = done;
	progress_total = total;
	progress_calls++;
}

static void test_whole_range(void **state)
{
	struct export_report rep = { 0 };
	struct probe p;
	struct stat st;
	char tmp[300];
	int n = fr.nseg;

	(void)state;
	progress_done = 0;
	progress_calls = 0;
	assert_int_equal(export_clip(RING, "cam1", T0, T0 + 3600000, out, on_progress, NULL, &rep),
			 0);
	assert_int_equal(rep.segments, n);
	assert_int_equal(rep.runs, 2);
	assert_int_equal(rep.gap_ms, GAP_MS);
	assert_int_equal(rep.segments_lost, 0);
	assert_int_equal(rep.first_utc_ms, T0);
	assert_int_equal(rep.last_utc_ms, fr.info[n - 1].start_utc_ms + fr.info[n - 1].duration_ms);
	assert_true(rep.bytes_in > 0);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(rep.bytes_out, st.st_size);
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	assert_int_not_equal(stat(tmp, &st), 0);
	assert_int_equal(progress_done, n);
	assert_int_equal(progress_total, n);
	assert_true(progress_calls >= n);

	probe_out(&p);
	assert_int_equal(p.video, 2 * 6 * FPS);
	assert_true(p.audio > 0);
	/* the mp4 edit list is in ms: the first DTS may move by a fraction */
	assert_true(llabs(p.first_dts_us) < 1000);
	/* closed up: no step over one frame, inside runs or where they join */
	assert_true(p.max_step_us <= FRAME_US + 1);
	assert_true(llabs(p.duration_us - sum_ms(0, n) * 1000) < 100000);
}

static void test_sub_range(void **state)
{
	struct export_report rep = { 0 };
	struct probe p;

	(void)state;
	/* meets segments 2, 3 and 4 of the first run */
	assert_int_equal(export_clip(RING, "cam1", T0 + 2500, T0 + 4500, out, NULL, NULL, &rep), 0);
	assert_int_equal(rep.segments, 3);
	assert_int_equal(rep.runs, 1);
	assert_int_equal(rep.gap_ms, 0);
	assert_int_equal(rep.first_utc_ms, fr.info[2].start_utc_ms);
	probe_out(&p);
	assert_true(llabs(p.first_dts_us) < 1000);
	assert_true(p.max_step_us <= FRAME_US + 1);
	assert_true(llabs(p.duration_us - sum_ms(2, 5) * 1000) < 100000);
}

static void test_evicted_meanwhile(void **state)
{
	struct export_report rep = { 0 };
	struct probe p;
	int n = fr.nseg;

	(void)state;
	fr.evicted_id = fr.info[3].id;
	assert_int_equal(export_clip(RING, "cam1", T0, T0 + 3600000, out, NULL, NULL, &rep), 0);
	fr.evicted_id = 0;
	assert_int_equal(rep.segments, n - 1);
	assert_int_equal(rep.segments_lost, 1);
	assert_int_equal(rep.runs, 3);
	assert_int_equal(rep.gap_ms, GAP_MS + fr.info[3].duration_ms);
	probe_out(&p);
	assert_true(p.max_step_us <= FRAME_US + 1);
	assert_true(llabs(p.duration_us - (sum_ms(0, n) - fr.info[3].duration_ms) * 1000) < 100000);
}

static void test_corrupt_keeps_old_file(void **state)
{
	static const char old[] = "previous export";
	char buf[64] = "";
	char tmp[300];
	struct stat st;
	FILE *fp;

	(void)state;
	fp = fopen(out, "w");
	assert_non_null(fp);
	fputs(old, fp);
	fclose(fp);
	fr.corrupt_id = fr.info[4].id;
	assert_int_equal(export_clip(RING, "cam1", T0, T0 + 3600000, out, NULL, NULL, NULL),
			 -EBADMSG);
	fr.corrupt_id = 0;
	fp = fopen(out, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, old);
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	assert_int_not_equal(stat(tmp, &st), 0);
}

static void test_nothing_there(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(export_clip(RING, "cam2", T0, T0 + 3600000, out, NULL, NULL, NULL),
			 -ENOENT);
	assert_int_equal(export_clip(RING, "cam1", T0 - 20000, T0 - 10000, out, NULL, NULL, NULL),
			 -ENOENT);
	assert_int_equal(export_clip(RING, "cam1", T0, T0, out, NULL, NULL, NULL), -EINVAL);
	assert_int_not_equal(stat(out, &st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_whole_range, fill_ring),
		cmocka_unit_test_setup(test_sub_range, fill_ring),
		cmocka_unit_test_setup(test_evicted_meanwhile, fill_ring),
		cmocka_unit_test_setup(test_corrupt_keeps_old_file, fill_ring),
		cmocka_unit_test_setup(test_nothing_there, fill_ring),
	};

	log_init("export_test", false, LOG_CRIT);
	av_log_set_level(AV_LOG_ERROR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
