// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fmp4_mux_test - the fMP4 segmenter (drivers/stream/fmp4.c, stream
 * picking in fmp4_pick.c) against clips the ffmpeg CLI encodes once per
 * run: H.264 with B-frames and a keyframe every 0.5 s, with AAC (kept)
 * or G.711 mu-law (dropped) audio, and MJPEG (refused). Segments are
 * checked by demuxing them back with libavformat: each alone starts on a
 * keyframe, all together give back the packets fed in, gapless; also a
 * run begun off a keyframe, small chunks (several fragments a segment), a
 * run closed unfinished, and what fmp4_open() rejects. The rest of
 * drivers/stream that needs no network is in stream_test.c.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libavformat/avformat.h>

#include "drivers/stream/fmp4.h"
#include "lib/log.h"
#include "tests/unit/testutil.h"

#define CLIP_FPS     24
#define CLIP_SECONDS 6
#define SEG_MS	     1000
#define MAX_SEGS     32
#define MAX_PKTS     512
#define FRAME_US     (1000000 / CLIP_FPS)

struct capture {
	int inits;
	int segs;
	uint8_t *init;
	size_t init_len;
	uint8_t *seg[MAX_SEGS];
	size_t seg_len[MAX_SEGS];
	int seg_chunks[MAX_SEGS]; /* data() calls */
	struct fmp4_seg meta[MAX_SEGS];
	int abandoned;
};

/* NAL payloads of the video packets fed in, in order. */
struct fed {
	int n;
	uint8_t *data[MAX_PKTS];
	int size[MAX_PKTS];
};

static char tmpdir[64];
static char clip_aac[256], clip_ulaw[256], clip_mjpeg[256];

static int make_clips(void **state)
{
	(void)state;
	testutil_mkdtemp(tmpdir, sizeof(tmpdir), "fmp4_mux_test");
	snprintf(clip_aac, sizeof(clip_aac), "%s/aac.ts", tmpdir);
	snprintf(clip_ulaw, sizeof(clip_ulaw), "%s/ulaw.nut", tmpdir);
	snprintf(clip_mjpeg, sizeof(clip_mjpeg), "%s/mjpeg.nut", tmpdir);
	const char *const ulaw[] = {
		"ffmpeg",	"-nostdin",
		"-hide_banner", "-loglevel",
		"error",	"-y",
		"-f",		"lavfi",
		"-i",		"testsrc=size=320x240:rate=24",
		"-f",		"lavfi",
		"-i",		"sine=frequency=440:sample_rate=8000",
		"-t",		"3",
		"-pix_fmt",	"yuv420p",
		"-c:v",		"libx264",
		"-preset",	"ultrafast",
		"-g",		"12",
		"-c:a",		"pcm_mulaw",
		"-f",		"nut",
		clip_ulaw,	NULL,
	};
	const char *const mjpeg[] = {
		"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
		"-y",	  "-f",	      "lavfi",	      "-i",	   "testsrc=size=160x120:rate=5",
		"-t",	  "1",	      "-c:v",	      "mjpeg",	   "-f",
		"nut",	  clip_mjpeg, NULL,
	};
	if (testutil_make_clip(clip_aac) || testutil_run(ulaw) || testutil_run(mjpeg))
		return -1;
	return 0;
}

static int remove_clips(void **state)
{
	(void)state;
	testutil_rmtree(tmpdir);
	return 0;
}

static void cap_init(void *arg, const void *data, size_t len)
{
	struct capture *c = arg;

	c->inits++;
	free(c->init);
	c->init = malloc(len);
	assert_non_null(c->init);
	memcpy(c->init, data, len);
	c->init_len = len;
}

static void cap_data(void *arg, const void *data, size_t len)
{
	struct capture *c = arg;
	uint8_t *p;

	assert_true(c->segs < MAX_SEGS);
	assert_int_equal(c->inits, 1); /* the init comes first */
	p = realloc(c->seg[c->segs], c->seg_len[c->segs] + len);
	assert_non_null(p);
	memcpy(p + c->seg_len[c->segs], data, len);
	c->seg[c->segs] = p;
	c->seg_len[c->segs] += len;
	c->seg_chunks[c->segs]++;
}

static void cap_end(void *arg, const struct fmp4_seg *seg)
{
	struct capture *c = arg;

	assert_true(c->segs < MAX_SEGS);
	if (!seg) {
		c->abandoned++;
		free(c->seg[c->segs]);
		c->seg[c->segs] = NULL;
		c->seg_len[c->segs] = 0;
		c->seg_chunks[c->segs] = 0;
		return;
	}
	assert_true(c->seg_len[c->segs] > 0);
	c->meta[c->segs] = *seg;
	c->segs++;
}

static void cap_free(struct capture *c)
{
	free(c->init);
	for (int i = 0; i <= c->segs && i < MAX_SEGS; i++)
		free(c->seg[i]);
}

static void fed_free(struct fed *fd)
{
	for (int i = 0; i < fd->n; i++)
		free(fd->data[i]);
}

/* Split Annex B or 4-byte length-prefixed data into NAL units and call
 * @fn on each; trailing zero bytes before a start code are not payload. */
static int nal_list(const uint8_t *p, int n, bool annexb, const uint8_t **nal, int *nlen, int max)
{
	int count = 0, i = 0;

	if (!annexb) {
		while (i + 4 <= n && count < max) {
			int len = p[i] << 24 | p[i + 1] << 16 | p[i + 2] << 8 | p[i + 3];

			nal[count] = p + i + 4;
			nlen[count++] = len;
			i += 4 + len;
		}
		return count;
	}
	while (i + 3 <= n && !(p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1))
		i++;
	while (i + 3 <= n && count < max) {
		int start = i + 3, end = start;

		while (end + 3 <= n && !(p[end] == 0 && p[end + 1] == 0 && p[end + 2] == 1))
			end++;
		if (end + 3 > n)
			end = n;
		i = end;
		while (end > start && p[end - 1] == 0)
			end--;
		nal[count] = p + start;
		nlen[count++] = end - start;
	}
	return count;
}

static void assert_same_nals(const uint8_t *in, int in_len, const uint8_t *out, int out_len)
{
	const uint8_t *a[64], *b[64];
	int alen[64], blen[64];
	int na = nal_list(in, in_len, true, a, alen, 64);
	int nb = nal_list(out, out_len, false, b, blen, 64);

	assert_true(na > 0);
	assert_int_equal(na, nb);
	for (int i = 0; i < na; i++) {
		assert_int_equal(alen[i], blen[i]);
		assert_memory_equal(a[i], b[i], alen[i]);
	}
}

static AVFormatContext *open_clip(const char *path)
{
	AVFormatContext *ic = NULL;

	assert_int_equal(avformat_open_input(&ic, path, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(ic, NULL) >= 0);
	return ic;
}

/* Feed every packet of @ic through a run; @skip drops that many video
 * packets first (so the run begins off a keyframe). */
static void segment_clip(AVFormatContext *ic, const struct fmp4_pick *pick, struct capture *cap,
			 struct fed *fd, int skip, uint32_t chunk)
{
	struct fmp4_sink sink = { cap_init, cap_data, cap_end, cap };
	const AVStream *as = pick->audio >= 0 ? ic->streams[pick->audio] : NULL;
	AVPacket *pkt = av_packet_alloc();
	struct fmp4 *f = NULL;
	bool keyed = false;

	assert_non_null(pkt);
	assert_int_equal(fmp4_open(ic->streams[pick->video], as, SEG_MS, &sink, "test", &f), 0);
	if (chunk)
		fmp4_set_chunk_bytes(f, chunk);
	while (av_read_frame(ic, pkt) >= 0) {
		enum fmp4_track tr = FMP4_AUDIO;

		if (pkt->stream_index == pick->video) {
			tr = FMP4_VIDEO;
			if (skip > 0) {
				skip--;
				av_packet_unref(pkt);
				continue;
			}
			keyed |= pkt->flags & AV_PKT_FLAG_KEY;
			if (keyed) {
				assert_true(fd->n < MAX_PKTS);
				fd->data[fd->n] = malloc(pkt->size);
				memcpy(fd->data[fd->n], pkt->data, pkt->size);
				fd->size[fd->n++] = pkt->size;
			}
		} else if (pkt->stream_index != pick->audio) {
			av_packet_unref(pkt);
			continue;
		}
		assert_true(fmp4_write_take(f, tr, pkt) >= 0);
		assert_int_equal(pkt->size, 0); /* taken */
	}
	assert_int_equal(fmp4_finish(f), 0);
	fmp4_close(f);
	av_packet_free(&pkt);
}

static char *write_file(const char *name, const struct capture *c, int first, int count)
{
	static char path[300];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(c->init, 1, c->init_len, fp), c->init_len);
	for (int i = first; i < first + count; i++)
		assert_int_equal(fwrite(c->seg[i], 1, c->seg_len[i], fp), c->seg_len[i]);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* Each segment alone (with the init) demuxes and starts on a keyframe. */
static void check_each_segment(const struct capture *c)
{
	AVPacket *pkt = av_packet_alloc();

	for (int i = 0; i < c->segs; i++) {
		AVFormatContext *ic = NULL;
		char *path = write_file("one.mp4", c, i, 1);
		int frames = 0;

		assert_int_equal(avformat_open_input(&ic, path, NULL, NULL), 0);
		while (av_read_frame(ic, pkt) >= 0) {
			if (ic->streams[pkt->stream_index]->codecpar->codec_type ==
			    AVMEDIA_TYPE_VIDEO) {
				if (!frames)
					assert_true(pkt->flags & AV_PKT_FLAG_KEY);
				frames++;
			}
			av_packet_unref(pkt);
		}
		assert_int_equal(frames, c->meta[i].video_frames);
		avformat_close_input(&ic);
		unlink(path);
	}
	av_packet_free(&pkt);
}

/* The whole run demuxes back to the same packets, gapless. */
static void check_concat(const struct capture *c, const struct fed *fd, bool want_audio)
{
	char *path = write_file("all.mp4", c, 0, c->segs);
	AVPacket *pkt = av_packet_alloc();
	AVFormatContext *ic = NULL;
	int64_t prev_dts = AV_NOPTS_VALUE, step = 0;
	int n = 0, audio = 0;

	assert_int_equal(avformat_open_input(&ic, path, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(ic, NULL) >= 0);
	while (av_read_frame(ic, pkt) >= 0) {
		AVStream *st = ic->streams[pkt->stream_index];

		if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) {
			/* AudioSpecificConfig reached the moov */
			assert_true(st->codecpar->extradata_size >= 2);
			audio++;
			av_packet_unref(pkt);
			continue;
		}
		assert_true(n < fd->n);
		assert_same_nals(fd->data[n], fd->size[n], pkt->data, pkt->size);
		if (prev_dts != AV_NOPTS_VALUE) {
			int64_t d = av_rescale_q(pkt->dts - prev_dts, st->time_base,
						 (AVRational){ 1, 1000000 });

			assert_true(d > 0 && d <= FRAME_US + 1);
			step = d;
		}
		prev_dts = pkt->dts;
		n++;
		av_packet_unref(pkt);
	}
	assert_true(step > 0);
	assert_int_equal(n, fd->n);
	if (want_audio)
		assert_true(audio > 0);
	else
		assert_int_equal(audio, 0);
	avformat_close_input(&ic);
	av_packet_free(&pkt);
	unlink(path);
}

static void test_aac_clip(void **state)
{
	AVFormatContext *ic = open_clip(clip_aac);
	struct capture cap = { 0 };
	struct fed fd = { 0 };
	struct fmp4_pick pick;
	int64_t total = 0;

	(void)state;
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	assert_true(pick.audio >= 0);
	assert_string_equal(pick.note, "");
	segment_clip(ic, &pick, &cap, &fd, 0, 0);
	avformat_close_input(&ic);

	assert_int_equal(cap.inits, 1);
	assert_true(cap.segs >= CLIP_SECONDS - 1 && cap.segs <= CLIP_SECONDS + 1);
	for (int i = 0; i < cap.segs; i++) {
		const struct fmp4_seg *m = &cap.meta[i];

		assert_int_equal(m->start_us, total);
		if (i < cap.segs - 1) {
			/* cut at the first keyframe at or past 1 s */
			assert_false(m->partial);
			assert_true(m->duration_us >= SEG_MS * 1000 - 1);
			assert_true(m->duration_us < SEG_MS * 1000 + 500000);
		} else {
			assert_true(m->partial);
		}
		assert_true(m->has_audio);
		total += m->duration_us;
	}
	assert_true(llabs(total - CLIP_SECONDS * 1000000LL) <= FRAME_US + 1);
	check_each_segment(&cap);
	check_concat(&cap, &fd, true);
	cap_free(&cap);
	fed_free(&fd);
}

static void test_starts_on_keyframe(void **state)
{
	AVFormatContext *ic = open_clip(clip_aac);
	struct capture cap = { 0 };
	struct fed fd = { 0 };
	struct fmp4_pick pick;

	(void)state;
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	segment_clip(ic, &pick, &cap, &fd, 5, 0);
	avformat_close_input(&ic);
	assert_int_equal(cap.inits, 1);
	assert_true(cap.segs > 0);
	assert_int_equal(cap.meta[0].start_us, 0);
	check_each_segment(&cap);
	check_concat(&cap, &fd, true);
	cap_free(&cap);
	fed_free(&fd);
}

/* Top-level boxes of @type in @p[0..@len). */
static int count_boxes(const uint8_t *p, size_t len, const char *type)
{
	int n = 0;

	for (size_t off = 0; len - off >= 8;) {
		const uint8_t *b = p + off;
		size_t size = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];

		if (size < 8 || size > len - off)
			break;
		n += !memcmp(b + 4, type, 4);
		off += size;
	}
	return n;
}

/* F6: with a small chunk a segment is several fragments, still one
 * keyframe-led segment that plays alone and tiles with the others. */
static void test_chunked(void **state)
{
	AVFormatContext *ic = open_clip(clip_aac);
	struct capture cap = { 0 };
	struct fed fd = { 0 };
	struct fmp4_pick pick;
	int multi = 0;

	(void)state;
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	segment_clip(ic, &pick, &cap, &fd, 0, 4096);
	avformat_close_input(&ic);
	assert_int_equal(cap.inits, 1);
	assert_int_equal(cap.abandoned, 0);
	assert_true(cap.segs >= CLIP_SECONDS - 1);
	for (int i = 0; i < cap.segs; i++)
		multi += count_boxes(cap.seg[i], cap.seg_len[i], "moof") > 1;
	assert_true(multi >= cap.segs - 1);
	check_each_segment(&cap);
	check_concat(&cap, &fd, true);
	cap_free(&cap);
	fed_free(&fd);
}

/* Closing a run without fmp4_finish() abandons what the sink has of the
 * open segment. */
static void test_close_abandons(void **state)
{
	AVFormatContext *ic = open_clip(clip_aac);
	struct capture cap = { 0 };
	struct fmp4_sink sink = { cap_init, cap_data, cap_end, &cap };
	AVPacket *pkt = av_packet_alloc();
	struct fmp4_pick pick;
	struct fmp4 *f = NULL;
	int n = 0;

	(void)state;
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	assert_int_equal(fmp4_open(ic->streams[pick.video], NULL, SEG_MS, &sink, "test", &f), 0);
	fmp4_set_chunk_bytes(f, 4096);
	while (n < 20 && av_read_frame(ic, pkt) >= 0) {
		if (pkt->stream_index != pick.video) {
			av_packet_unref(pkt);
			continue;
		}
		assert_true(fmp4_write_take(f, FMP4_VIDEO, pkt) >= 0);
		n++;
	}
	assert_true(cap.seg_chunks[0] > 0); /* fragments went out */
	fmp4_close(f);
	assert_int_equal(cap.abandoned, 1);
	assert_int_equal(cap.segs, 0);
	avformat_close_input(&ic);
	av_packet_free(&pkt);
	cap_free(&cap);
}

/* Feed the first @n video packets of @ic to @f (video only). */
static void feed_video(struct fmp4 *f, AVFormatContext *ic, const struct fmp4_pick *pick, int n)
{
	AVPacket *pkt = av_packet_alloc();
	int i = 0;

	while (i < n && av_read_frame(ic, pkt) >= 0) {
		if (pkt->stream_index != pick->video) {
			av_packet_unref(pkt);
			continue;
		}
		assert_true(fmp4_write_take(f, FMP4_VIDEO, pkt) >= 0);
		i++;
	}
	assert_int_equal(i, n);
	av_packet_free(&pkt);
}

/* A run whose input ended leaves out the last video packet (the one a
 * demuxer's parser flush may have cut short): the open segment ends
 * where that packet would have begun, one frame shorter than with
 * fmp4_finish(), and a segment of that packet alone is abandoned. */
static void test_finish_eof(void **state)
{
	/* 1 s segments at 24 fps, a keyframe every 12 frames: the second
	 * segment opens with packet 24. */
	const int per_seg = SEG_MS / 1000 * CLIP_FPS;
	const struct fmp4_sink sink = { cap_init, cap_data, cap_end, NULL };
	struct fmp4_sink sk = sink;
	AVFormatContext *ic = open_clip(clip_aac);
	struct capture cap = { 0 };
	struct fmp4_pick pick;
	struct fmp4 *f = NULL;

	(void)state;
	sk.arg = &cap;
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	assert_int_equal(fmp4_open(ic->streams[pick.video], NULL, SEG_MS, &sk, "test", &f), 0);
	feed_video(f, ic, &pick, per_seg + 6);
	assert_int_equal(fmp4_finish_eof(f), 0);
	fmp4_close(f);
	assert_int_equal(cap.segs, 2);
	assert_int_equal(cap.abandoned, 0);
	assert_int_equal(cap.meta[0].video_frames, per_seg);
	assert_int_equal(cap.meta[1].video_frames, 5); /* of the 6 fed */
	assert_true(cap.meta[1].partial);
	assert_int_equal(cap.meta[1].duration_us, 5 * 1000000 / CLIP_FPS);
	check_each_segment(&cap);
	avformat_close_input(&ic);
	cap_free(&cap);

	/* The keyframe that opened the second segment came last. */
	memset(&cap, 0, sizeof(cap));
	ic = open_clip(clip_aac);
	assert_int_equal(fmp4_open(ic->streams[pick.video], NULL, SEG_MS, &sk, "test", &f), 0);
	feed_video(f, ic, &pick, per_seg + 1);
	assert_int_equal(fmp4_finish_eof(f), 0);
	fmp4_close(f);
	assert_int_equal(cap.segs, 1);
	assert_int_equal(cap.meta[0].video_frames, per_seg);
	check_each_segment(&cap);
	avformat_close_input(&ic);
	cap_free(&cap);
}

static void test_mulaw_dropped(void **state)
{
	AVFormatContext *ic = open_clip(clip_ulaw);
	struct capture cap = { 0 };
	struct fed fd = { 0 };
	struct fmp4_pick pick;

	(void)state;
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	assert_int_equal(pick.audio, -1);
	assert_string_equal(pick.note, "audio pcm_mulaw dropped: not supported in fMP4");
	segment_clip(ic, &pick, &cap, &fd, 0, 0);
	avformat_close_input(&ic);
	assert_int_equal(cap.inits, 1);
	assert_true(cap.segs >= 2);
	for (int i = 0; i < cap.segs; i++)
		assert_false(cap.meta[i].has_audio);
	check_concat(&cap, &fd, false);
	cap_free(&cap);
	fed_free(&fd);
}

static void test_mjpeg_refused(void **state)
{
	AVFormatContext *ic = open_clip(clip_mjpeg);
	struct fmp4_pick pick;

	(void)state;
	assert_int_equal(fmp4_pick_streams(ic, &pick), -ENOTSUP);
	assert_non_null(strstr(pick.note, "mjpeg refused"));
	avformat_close_input(&ic);
}

static void test_open_rejects(void **state)
{
	AVFormatContext *ic = open_clip(clip_aac);
	struct capture cap = { 0 };
	struct fmp4_sink sink = { cap_init, cap_data, cap_end, &cap };
	struct fmp4_pick pick;
	struct fmp4 *f = NULL;

	(void)state;
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	assert_int_equal(fmp4_open(ic->streams[pick.audio], NULL, SEG_MS, &sink, "test", &f),
			 -EINVAL);
	assert_int_equal(fmp4_open(ic->streams[pick.video], NULL, 10, &sink, "test", &f), -EINVAL);
	assert_null(f);
	/* a run that never saw a keyframe finishes with nothing */
	assert_int_equal(fmp4_open(ic->streams[pick.video], NULL, SEG_MS, &sink, "test", &f), 0);
	assert_int_equal(fmp4_finish(f), 0);
	fmp4_close(f);
	fmp4_close(NULL);
	assert_int_equal(cap.inits, 0);
	assert_int_equal(cap.segs, 0);
	avformat_close_input(&ic);
}

/* Sink of the long run below: counts, keeps nothing. */
static void null_init(void *arg, const void *data, size_t len)
{
	(void)arg, (void)data, (void)len;
}

static void null_data(void *arg, const void *data, size_t len)
{
	(void)data;
	*(size_t *)arg += len;
}

static void null_end(void *arg, const struct fmp4_seg *seg)
{
	(void)arg, (void)seg;
}

/* One pass of the clip's video into f, its timestamps moved on by
 * round clip lengths (the clip is exactly CLIP_SECONDS). */
static void feed_round(struct fmp4 *f, int round)
{
	AVFormatContext *ic = open_clip(clip_aac);
	struct fmp4_pick pick;
	AVPacket *pkt = av_packet_alloc();
	int64_t off;

	assert_non_null(pkt);
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	off = av_rescale_q((int64_t)round * CLIP_SECONDS, (AVRational){ 1, 1 },
			   ic->streams[pick.video]->time_base);
	while (av_read_frame(ic, pkt) >= 0) {
		if (pkt->stream_index != pick.video) {
			av_packet_unref(pkt);
			continue;
		}
		pkt->dts += off;
		pkt->pts += off;
		assert_true(fmp4_write_take(f, FMP4_VIDEO, pkt) >= 0);
	}
	av_packet_free(&pkt);
	avformat_close_input(&ic);
}

/* F6 over a long run: a camera's muxer lives for days, one fragment per
 * chunk. libavformat's mp4 muxer keeps an index entry of every fragment
 * for the mfra trailer unless told to skip it (skip_trailer); that list
 * grew by the fragment, about 1 MiB an hour a camera, in the 64-camera
 * soak. The heap in use after 20 passes of the clip must be what it was
 * after 2. */
static void test_long_run_memory_flat(void **state)
{
	AVFormatContext *ic = open_clip(clip_aac);
	struct fmp4_pick pick;
	size_t bytes = 0;
	struct fmp4_sink sink = { null_init, null_data, null_end, &bytes };
	struct fmp4 *f = NULL;
	size_t base = 0, now;

	(void)state;
	assert_int_equal(fmp4_pick_streams(ic, &pick), 0);
	assert_int_equal(fmp4_open(ic->streams[pick.video], NULL, SEG_MS, &sink, "long", &f), 0);
	avformat_close_input(&ic);
	fmp4_set_chunk_bytes(f, 1024);
	for (int r = 0; r < 20; r++) {
		feed_round(f, r);
		if (r == 1)
			base = mallinfo2().uordblks;
	}
	now = mallinfo2().uordblks;
	assert_true(bytes > 20 * 100 * 1024);
	if (now > base + 4096)
		fail_msg("heap grew by %zu bytes over 18 passes", now - base);
	assert_int_equal(fmp4_finish(f), 0);
	fmp4_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aac_clip),
		cmocka_unit_test(test_starts_on_keyframe),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_close_abandons),
		cmocka_unit_test(test_mulaw_dropped),
		cmocka_unit_test(test_mjpeg_refused),
		cmocka_unit_test(test_open_rejects),
		cmocka_unit_test(test_finish_eof),
		cmocka_unit_test(test_long_run_memory_flat),
	};

	log_init("fmp4_mux_test", false, LOG_ERR);
	av_log_set_level(AV_LOG_ERROR);
	return cmocka_run_group_tests(tests, make_clips, remove_clips);
}
