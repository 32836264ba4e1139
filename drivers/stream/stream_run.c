// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stream_run - a run is one segmenter (fmp4) over one unbroken timeline
 * of one connection; this file is the sink side of it: init segments are
 * registered with the stream's sink (and kept, to retry a failed
 * registration), media segments get their UTC, discont flag and init id
 * and go to the sink, and the per-segment stats are kept.
 */
#include "stream_int.h"

#include <errno.h>
#include <stdio.h>
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
	if (secs > 0) {
		s->stats.fps = fs->video_frames / secs;
		s->stats.bitrate_bps = (uint64_t)(len * 8 / secs);
	}
	pthread_mutex_unlock(&s->lock);
}

static void stream_on_segment(void *arg, const struct fmp4_seg *fs, const void *data, size_t len)
{
	struct stream *s = arg;
	struct stream_seg seg = {
		.start_utc_ms = s->seg_utc_ms,
		.duration_ms = (uint32_t)((fs->duration_us + 500) / 1000),
		.media_start_us = fs->start_us,
		.discont = s->discont_next,
		.has_audio = fs->has_audio,
		.utc_from_rtcp = s->seg_rtcp,
	};
	int ret;

	/* Without the sink's init id the segment cannot be stored; it is
	 * counted, and the next one stored is discont. */
	if (!s->init_ok && !s->init) {
		stream__fail(s, "segment dropped: no init segment");
		return;
	}
	if (!s->init_ok && stream_register_init(s) < 0)
		return;
	seg.init_id = s->init_id;
	ret = s->sink.segment(s->sink.arg, s->name, &seg, data, len);
	if (ret < 0) {
		stream__fail(s, "sink segment: %s", strerror(-ret));
		s->discont_next = true;
		return;
	}
	s->discont_next = false;
	stream_count_segment(s, fs, len);
	if (s->conn_segments++ == 0)
		backoff_reset(&s->backoff);
}

int stream__open_run(struct stream *s)
{
	const struct fmp4_sink sink = { stream_on_init, stream_on_segment, s };
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

void stream__end_run(struct stream *s)
{
	if (!s->mux)
		return;
	fmp4_finish(s->mux);
	fmp4_close(s->mux);
	s->mux = NULL;
}
