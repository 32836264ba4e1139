// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stream_run - a run is one segmenter (fmp4) over one unbroken timeline
 * of one connection; this file is the sink side of it: init segments are
 * registered with the stream's sink (and kept, to retry a failed
 * registration), media segments are streamed to the sink fragment by
 * fragment (stream.h) and get their UTC, discont flag and init id at
 * close, and the per-segment stats are kept.
 */
#include "stream_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>

#include "lib/log.h"

static int stream_register_init(struct stream *s)
{
	int ret = s->sink.init(s->sink.arg, s->name, s->init, s->init_len, &s->init_id);

	if (ret < 0) {
		stream__fail(s, "sink init: %s", strerror(-ret));
		return ret;
	}
	s->init_ok = true;
	return 0;
}

static void stream_on_init(void *arg, const void *data, size_t len)
{
	struct stream *s = arg;
	uint8_t *p;

	s->init_ok = false;
	if (len > STREAM_INIT_CAP) {
		stream__fail(s, "init segment of %zu bytes over %u", len, STREAM_INIT_CAP);
		return;
	}
	p = realloc(s->init, len);
	if (!p) {
		stream__fail(s, "init segment: out of memory");
		return;
	}
	memcpy(p, data, len);
	s->init = p;
	s->init_len = len;
	stream_register_init(s);
}

static void stream_count_segment(struct stream *s, const struct fmp4_seg *fs, size_t len)
{
	double secs = (double)fs->duration_us / 1e6;

	pthread_mutex_lock(&s->lock);
	s->stats.segments++;
	s->stats.bytes += len;
	s->stats.last_segment_utc_ms = s->seg_utc_ms;
	s->stats.down_since_utc_ms = 0; /* it delivers */
	s->stats.sink_error = 0;
	if (secs > 0) {
		s->stats.fps = fs->video_frames / secs;
		s->stats.bitrate_bps = (uint64_t)(len * 8 / secs);
	}
	pthread_mutex_unlock(&s->lock);
	if (secs > 0 && !s->cfg.udp)
		stream__sock_lowat(&s->sock, (uint64_t)(len * 8 / secs));
}

/* A segment that was not kept: the stats must not read as if
 * recording went on (fps and bitrate are of what is kept). */
static void stream_count_refused(struct stream *s, int err)
{
	pthread_mutex_lock(&s->lock);
	s->stats.segments_refused++;
	s->stats.sink_error = err ? err : -EIO;
	if (s->stats.sink_error == -ENOSPC)
		s->stats.segments_refused_full++;
	else
		s->stats.refused_error = s->stats.sink_error;
	s->stats.fps = 0;
	s->stats.bitrate_bps = 0;
	pthread_mutex_unlock(&s->lock);
}

/* Without the sink's init id a segment cannot be stored. */
static int stream_need_init(struct stream *s)
{
	if (s->init_ok)
		return 0;
	if (!s->init) {
		stream__fail(s, "segment dropped: no init segment");
		return -ENOENT;
	}
	return stream_register_init(s);
}

static void stream_on_data(void *arg, const void *data, size_t len)
{
	struct stream *s = arg;
	int ret;

	if (s->seg_failed)
		return;
	if (!s->writer) {
		ret = stream_need_init(s);
		if (ret == 0) {
			ret = s->sink.open(s->sink.arg, s->name, s->init_id, &s->writer);
			if (ret < 0)
				stream__fail(s, "sink open: %s", strerror(-ret));
		}
		if (ret < 0) {
			s->seg_failed = true;
			s->seg_err = ret;
			return;
		}
	}
	ret = s->sink.write(s->sink.arg, s->writer, data, len);
	if (ret < 0) {
		stream__fail(s, "sink write: %s", strerror(-ret));
		s->seg_failed = true;
		s->seg_err = ret;
		return;
	}
	s->seg_len += len; /* for the stats; there is no buffer */
}

/* Close the streamed segment with its description; 0 or a negative
 * errno (logged here). */
static int stream_store(struct stream *s, struct stream_seg *seg)
{
	void *w = s->writer;
	int ret;

	s->writer = NULL;
	if (!w)
		return -ENODATA; /* never happens: a segment has bytes */
	seg->init_id = s->init_id;
	ret = s->sink.close(s->sink.arg, w, seg);
	if (ret < 0)
		stream__fail(s, "sink close: %s", strerror(-ret));
	return ret;
}

/* Probing a camera decodes a few frames and buffers a second or two of
 * packets, and the muxer's fragment buffers come and go: megabytes freed
 * but scattered between live allocations, so malloc cannot shrink its
 * heaps by itself. Hand the free pages back (glibc returns the whole
 * pages inside free chunks of every arena) after a connection's first
 * segment, and otherwise at most every STREAM_TRIM_MS for the process:
 * each trim costs madvise calls and page faults when the pages are
 * used again, so not on every segment of every camera. */
#ifdef __GLIBC__
static void stream_trim(bool first)
{
	static _Atomic int64_t last_ms;
	struct timespec ts;
	int64_t now, prev;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	prev = atomic_load(&last_ms);
	if (!first && now - prev < STREAM_TRIM_MS)
		return;
	if (!atomic_compare_exchange_strong(&last_ms, &prev, now) && !first)
		return; /* another stream just did */
	malloc_trim(0);
}
#else
static void stream_trim(bool first)
{
	(void)first; /* other C libraries: no malloc_trim() */
}
#endif

/* @fs NULL: the segment is abandoned (fmp4.h). */
static void stream_on_end(void *arg, const struct fmp4_seg *fs)
{
	struct stream *s = arg;
	size_t len = s->seg_len;
	int ret = -ECANCELED;

	if (fs && !s->seg_failed) {
		struct stream_seg seg = {
			.start_utc_ms = s->seg_utc_ms,
			.duration_ms = (uint32_t)((fs->duration_us + 500) / 1000),
			.media_start_us = fs->start_us,
			.discont = s->discont_next,
			.has_audio = fs->has_audio,
			.utc_from_rtcp = s->seg_rtcp,
		};

		ret = stream_store(s, &seg);
	}
	if (fs && ret < 0)
		stream_count_refused(s, s->seg_failed ? s->seg_err : ret);
	if (s->writer)
		s->sink.close(s->sink.arg, s->writer, NULL);
	s->writer = NULL;
	s->seg_failed = false;
	s->seg_err = 0;
	s->seg_len = 0;
	if (ret < 0) {
		s->discont_next = true;
		return;
	}
	s->discont_next = false;
	stream_count_segment(s, fs, len);
	if (s->conn_segments == 0)
		backoff_reset(&s->backoff);
	stream_trim(s->conn_segments++ == 0);
}

int stream__open_run(struct stream *s)
{
	const struct fmp4_sink sink = { stream_on_init, stream_on_data, stream_on_end, s };
	AVStream *v = s->ic->streams[s->pick.video];
	AVStream *a = s->pick.audio >= 0 ? s->ic->streams[s->pick.audio] : NULL;
	int ret;

	ret = fmp4_open(v, a, s->cfg.segment_ms, &sink, s->name, &s->mux);
	if (ret == -EPROTO && a) {
		pthread_mutex_lock(&s->lock);
		snprintf(s->stats.note, sizeof(s->stats.note),
			 "audio %s dropped: the mp4 muxer refused it",
			 avcodec_get_name(a->codecpar->codec_id));
		s->stats.audio_codec[0] = '\0';
		pthread_mutex_unlock(&s->lock);
		log_notice("%s: audio %s dropped, recording video only", s->name,
			   avcodec_get_name(a->codecpar->codec_id));
		a->discard = AVDISCARD_ALL;
		s->pick.audio = -1;
		ret = fmp4_open(v, NULL, s->cfg.segment_ms, &sink, s->name, &s->mux);
	}
	if (ret < 0) {
		stream__fail(s, "segmenter: %s", strerror(-ret));
		return ret;
	}
	s->discont_next = true;
	s->init_ok = false;
	for (int i = 0; i < FMP4_TRACKS; i++)
		stream__ts_reset(&s->ts[i], i == FMP4_VIDEO ? v->time_base
					    : a		    ? a->time_base
							    : v->time_base);
	return 0;
}

void stream__end_run(struct stream *s, bool input_ended)
{
	if (!s->mux)
		return;
	if (input_ended)
		fmp4_finish_eof(s->mux);
	else
		fmp4_finish(s->mux);
	fmp4_close(s->mux);
	s->mux = NULL;
}
