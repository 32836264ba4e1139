// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stream - one camera's ingest thread (see stream.h).
 *
 * States (stream_set_state() logs each change):
 *
 *   IDLE -> CONNECTING -> RECORDING --(error, EOF, stall)--> BACKOFF
 *               ^   |                                          |
 *               |   +--(open/probe failed)-------------------->|
 *               +-------------(backoff delay elapsed)----------+
 *   any --(stream_stop)--> STOPPED
 *
 * Guarantees:
 *  S1  Every blocking libavformat call ends within connect_timeout_ms
 *      (open and probe), stall_timeout_ms without a packet (reading), or
 *      promptly after stream_stop(): the interrupt callback checks a
 *      monotonic deadline and the stop flag.
 *  S2  A failed connection retries after backoff_next() from the first
 *      failure on; the backoff resets once a connection delivered a
 *      segment to the sink. The wait ends early on stream_stop().
 *  S3  stream_stop() hands the open (partial, keyframe-led) segment to
 *      the sink before it returns, less its last frame (S7); a segment
 *      of that keyframe alone is dropped.
 *  S4  The segmenter sees strictly increasing DTS per track (stream_ts.c);
 *      a timestamp jump ends the run: the open segment is handed over and
 *      a new run (new init, discont) starts at the next keyframe.
 *  S5  Audio never stops video: audio the muxer cannot carry is dropped
 *      with a note, and a muxer that refuses audio is reopened without.
 *  S6  Over TCP the RTSP socket is read through a read-ahead buffer
 *      (stream_sock.c) that is emptied before and after each connection
 *      and when its socket is closed.
 *  S7  Every stored segment ends on a whole access unit: when the reads
 *      of a connection end (stop, timeout, camera gone), the last video
 *      packet read, which libavformat's parsers may have flushed half
 *      received, is left out (fmp4_finish_eof()); one frame at most is
 *      lost, and only at the end of a connection.
 *
 * Threads: the stream thread owns everything but @lock's fields (stats)
 * and the stop flag; the interrupt callback runs on the stream thread.
 */
#include "stream.h"
#include "stream_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>

#include "drivers/stream/fmp4.h"
#include "lib/backoff.h"
#include "lib/log.h"
#include "lib/parse.h"

#define STREAM_PROBESIZE     (1 << 20) /* bytes read to find streams */
#define STREAM_ANALYZE_US    2000000   /* fast start: 2 s of media */
#define STREAM_UDP_BUF	     (1 << 20) /* socket buffer for RTP/UDP */
#define STREAM_RTCP_TRUST_MS 3000      /* RTCP vs arrival time */

#define STREAM_DEF_SEG_MS      4000
#define STREAM_DEF_CONNECT_MS  5000
#define STREAM_DEF_STALL_MS    10000
#define STREAM_DEF_BACKOFF_MIN 1000
#define STREAM_DEF_BACKOFF_MAX 60000

static const AVRational stream_us = { 1, 1000000 };

static const char *const stream_state_names[] = {
	[STREAM_IDLE] = "idle",		  [STREAM_CONNECTING] = "connecting",
	[STREAM_RECORDING] = "recording", [STREAM_BACKOFF] = "backoff",
	[STREAM_STOPPED] = "stopped",
};

const char *stream_state_name(enum stream_state st)
{
	if ((unsigned int)st >= sizeof(stream_state_names) / sizeof(stream_state_names[0]))
		return "?";
	return stream_state_names[st];
}

/* For the connect and stall timeouts only (seconds). libavformat calls
 * stream_interrupt() on nearly every read, and the packet loop reads the
 * clock per packet: the coarse clock is one tick old at worst (4 ms
 * here) and costs 6 ns instead of 30 (the clock was 2-4 % of a stream
 * thread's CPU in perf). */
static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stream_stopping(struct stream *s)
{
	return atomic_load_explicit(&s->stop, memory_order_relaxed);
}

static void stream_set_state(struct stream *s, enum stream_state st)
{
	enum stream_state old;

	pthread_mutex_lock(&s->lock);
	old = s->stats.state;
	s->stats.state = st;
	/* Down from the moment it stops reading; up again only at its next
	 * segment (stream_count_segment()), not at a connect that may stall. */
	if (st != STREAM_RECORDING && !s->stats.down_since_utc_ms)
		s->stats.down_since_utc_ms = time_now_ms();
	pthread_mutex_unlock(&s->lock);
	if (old == st)
		return;
	if (st == STREAM_RECORDING || st == STREAM_STOPPED)
		log_info("%s: %s -> %s", s->name, stream_state_name(old), stream_state_name(st));
	else
		log_debug("%s: %s -> %s", s->name, stream_state_name(old), stream_state_name(st));
}

void stream__fail(struct stream *s, const char *fmt, ...)
{
	char msg[sizeof(s->stats.last_error)];
	bool repeat;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&s->lock);
	repeat = !strcmp(msg, s->stats.last_error);
	memcpy(s->stats.last_error, msg, sizeof(msg));
	s->stats.errors++;
	pthread_mutex_unlock(&s->lock);
	if (repeat)
		log_debug("%s: %s (again)", s->name, msg);
	else
		log_warn("%s: %s (%s)", s->name, msg, s->url_log);
}

static void stream_fail_av(struct stream *s, const char *what, int averr)
{
	char msg[AV_ERROR_MAX_STRING_SIZE];

	if (stream_stopping(s))
		return; /* interrupted on purpose */
	/* A timeout surfaces as whatever the interrupted parser made of it. */
	if (s->tripped) {
		if (s->reading)
			stream__fail(s, "%s: no packet for %u ms", what, s->cfg.stall_timeout_ms);
		else
			stream__fail(s, "%s: no answer within %u ms", what,
				     s->cfg.connect_timeout_ms);
		return;
	}
	if (averr == AVERROR_EOF) {
		stream__fail(s, "%s: end of stream", what);
		return;
	}
	av_strerror(averr, msg, sizeof(msg));
	stream__fail(s, "%s: %s", what, msg);
}

/* libavformat polls this from every blocking call (S1). */
static int stream_interrupt(void *opaque)
{
	struct stream *s = opaque;
	int64_t now;

	if (stream_stopping(s) || s->tripped)
		return 1;
	now = mono_us();
	/* Latched: after an interrupted read libavformat still hands out
	 * what its parsers hold, which must not count as a live camera. */
	if (s->reading)
		s->tripped = now - s->last_pkt_us > (int64_t)s->cfg.stall_timeout_ms * 1000;
	else
		s->tripped = now > s->deadline_us;
	return s->tripped;
}

/* ---- one connection --------------------------------------------------- */

static int stream_open_input(struct stream *s)
{
	AVDictionary *opts = NULL;
	int ret;

	s->ic = avformat_alloc_context();
	if (!s->ic)
		return -ENOMEM;
	s->ic->interrupt_callback.callback = stream_interrupt;
	s->ic->interrupt_callback.opaque = s;
	av_dict_set(&opts, "rtsp_transport", s->cfg.udp ? "udp" : "tcp", 0);
	/* rtsp (lavf 59): socket I/O timeout in microseconds */
	av_dict_set_int(&opts, "timeout", (int64_t)s->cfg.stall_timeout_ms * 1000, 0);
	av_dict_set(&opts, "allowed_media_types", "video+audio", 0);
	av_dict_set(&opts, "user_agent", "camgate", 0);
	av_dict_set_int(&opts, "probesize", STREAM_PROBESIZE, 0);
	av_dict_set_int(&opts, "analyzeduration", STREAM_ANALYZE_US, 0);
	if (s->cfg.udp)
		av_dict_set_int(&opts, "buffer_size", STREAM_UDP_BUF, 0);
	ret = avformat_open_input(&s->ic, s->url, NULL, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		stream_fail_av(s, "open", ret);
		return ret;
	}
	ret = avformat_find_stream_info(s->ic, NULL);
	if (ret < 0) {
		stream_fail_av(s, "probe", ret);
		return ret;
	}
	return 0;
}

static void stream_publish_pick(struct stream *s)
{
	const AVCodecParameters *v = s->ic->streams[s->pick.video]->codecpar;

	pthread_mutex_lock(&s->lock);
	snprintf(s->stats.video_codec, sizeof(s->stats.video_codec), "%s",
		 avcodec_get_name(v->codec_id));
	s->stats.audio_codec[0] = '\0';
	if (s->pick.audio >= 0)
		snprintf(s->stats.audio_codec, sizeof(s->stats.audio_codec), "%s",
			 avcodec_get_name(s->ic->streams[s->pick.audio]->codecpar->codec_id));
	snprintf(s->stats.note, sizeof(s->stats.note), "%s", s->pick.note);
	s->stats.width = (uint32_t)v->width;
	s->stats.height = (uint32_t)v->height;
	pthread_mutex_unlock(&s->lock);
}

static int stream_connect(struct stream *s)
{
	int ret;

	s->reading = false;
	s->tripped = false;
	s->deadline_us = mono_us() + (int64_t)s->cfg.connect_timeout_ms * 1000;
	s->conn_segments = 0;
	s->skew_warned = false;
	ret = stream_open_input(s);
	if (ret < 0)
		return ret;
	ret = fmp4_pick_streams(s->ic, &s->pick);
	if (ret < 0) {
		stream__fail(s, "%s", s->pick.note);
		return ret;
	}
	if (s->pick.note[0])
		log_notice("%s: %s", s->name, s->pick.note);
	stream_publish_pick(s);
	return stream__open_run(s);
}

/* UTC of a keyframe: the camera's RTCP sender-report mapping when the
 * RTSP session has one (start_time_realtime is the NTP time of the
 * stream's start) and it agrees with our clock, else the gateway's clock
 * at arrival. RTCP gives the capture instant without network and buffer
 * delays; a camera clock that is far off (never set, stepped, or media
 * timestamps that jumped) is not trusted. */
static int64_t stream_pkt_utc(struct stream *s, const AVPacket *pkt, bool *rtcpp)
{
	const AVStream *st = s->ic->streams[pkt->stream_index];
	int64_t rt = s->ic->start_time_realtime;
	int64_t now = real_ms(), utc, ref;

	*rtcpp = false;
	if (rt == AV_NOPTS_VALUE || rt <= 0 || pkt->pts == AV_NOPTS_VALUE)
		return now;
	ref = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
	utc = (rt + av_rescale_q(pkt->pts - ref, st->time_base, stream_us)) / 1000;
	if (llabs(utc - now) > STREAM_RTCP_TRUST_MS) {
		if (!s->skew_warned)
			log_warn("%s: camera clock (RTCP) differs from ours by %lld ms: using "
				 "arrival time",
				 s->name, (long long)(utc - now));
		s->skew_warned = true;
		return now;
	}
	*rtcpp = true;
	return utc;
}

static int stream_feed(struct stream *s, enum fmp4_track tr, AVPacket *pkt)
{
	int jump = stream__ts_fix(&s->ts[tr], pkt, s->last_pkt_us);
	bool key = tr == FMP4_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY);
	int64_t utc = 0;
	bool rtcp = false;
	int ret;

	if (jump == STREAM_TS_DROP) {
		av_packet_unref(pkt);
		return 0;
	}
	if (jump == STREAM_TS_FIXED || jump == STREAM_TS_JUMP) {
		pthread_mutex_lock(&s->lock);
		if (jump == STREAM_TS_FIXED)
			s->stats.dts_fixed++;
		else
			s->stats.discontinuities++;
		pthread_mutex_unlock(&s->lock);
	}
	if (jump == STREAM_TS_JUMP) {
		log_notice("%s: timestamp jump on %s, new run", s->name,
			   tr == FMP4_VIDEO ? "video" : "audio");
		stream__end_run(s, false);
		ret = stream__open_run(s);
		if (ret < 0) {
			av_packet_unref(pkt);
			return ret;
		}
		stream__ts_fix(&s->ts[tr], pkt, s->last_pkt_us);
	}
	if (key) {
		utc = stream_pkt_utc(s, pkt, &rtcp);
		pthread_mutex_lock(&s->lock);
		s->stats.last_keyframe_utc_ms = utc;
		pthread_mutex_unlock(&s->lock);
	}
	ret = fmp4_write_take(s->mux, tr, pkt);
	if (ret == 1) {
		s->seg_utc_ms = utc;
		s->seg_rtcp = rtcp;
	} else if (ret == -E2BIG) {
		/* No keyframe for too long: drop the segment, start afresh. */
		stream__fail(s, "segment over %u bytes: dropped", FMP4_SEG_CAP);
		fmp4_close(s->mux);
		s->mux = NULL;
		return stream__open_run(s);
	} else if (ret < 0) {
		stream__fail(s, "segmenter: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int stream_read_loop(struct stream *s)
{
	const int64_t stall_us = (int64_t)s->cfg.stall_timeout_ms * 1000;
	int64_t last_video_us;
	int ret;

	s->reading = true;
	s->tripped = false;
	s->last_pkt_us = last_video_us = mono_us();
	for (;;) {
		enum fmp4_track tr;

		ret = av_read_frame(s->ic, s->pkt);
		if (ret < 0) {
			stream_fail_av(s, "read", ret);
			return ret;
		}
		/* What the parsers flush after a timeout is not a sign of life. */
		if (!s->tripped)
			s->last_pkt_us = mono_us();
		/* Audio alone does not keep a camera alive: nothing is
		 * recorded without video. */
		if (s->last_pkt_us - last_video_us > stall_us) {
			av_packet_unref(s->pkt);
			stream__fail(s, "read: no video for %u ms", s->cfg.stall_timeout_ms);
			return -ETIMEDOUT;
		}
		if (s->pkt->stream_index == s->pick.video) {
			tr = FMP4_VIDEO;
			last_video_us = s->last_pkt_us;
		} else if (s->pkt->stream_index == s->pick.audio) {
			tr = FMP4_AUDIO;
		} else {
			av_packet_unref(s->pkt);
			continue;
		}
		ret = stream_feed(s, tr, s->pkt);
		if (ret < 0)
			return ret;
	}
}

static int stream_session(struct stream *s)
{
	int ret;

	stream__sock_reset(&s->sock);
	ret = stream_connect(s);

	if (ret == 0) {
		stream_set_state(s, STREAM_RECORDING);
		ret = stream_read_loop(s);
	}
	stream__end_run(s, true);
	avformat_close_input(&s->ic);
	stream__sock_reset(&s->sock);
	s->reading = false;
	s->tripped = false;
	return ret;
}

/* Sleep @ms unless stream_stop() comes first (S2). */
static void stream_sleep(struct stream *s, uint32_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	while (!stream_stopping(s) && pthread_cond_timedwait(&s->wake, &s->lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->lock);
}

static void *stream_main(void *arg)
{
	struct stream *s = arg;
	bool first = true;

	/* Interleaved RTP is read in small pieces: read ahead (S6). */
	if (!s->cfg.udp && stream__sock_usable())
		stream__sock_attach(&s->sock);
	while (!stream_stopping(s)) {
		if (!first) {
			pthread_mutex_lock(&s->lock);
			s->stats.reconnects++;
			pthread_mutex_unlock(&s->lock);
		}
		first = false;
		stream_set_state(s, STREAM_CONNECTING);
		stream_session(s);
		if (stream_stopping(s))
			break;
		stream_set_state(s, STREAM_BACKOFF);
		stream_sleep(s, backoff_next(&s->backoff));
	}
	stream__sock_detach();
	stream_set_state(s, STREAM_STOPPED);
	return NULL;
}

/* ---- lifecycle --------------------------------------------------------- */

static int stream_set_cfg(struct stream *s, const struct stream_cfg *cfg)
{
	int ret;

	if (!cfg->name || !cfg->name[0] || strlen(cfg->name) >= sizeof(s->name) || !cfg->url ||
	    !cfg->url[0])
		return -EINVAL;
	snprintf(s->name, sizeof(s->name), "%s", cfg->name);
	ret = stream__build_url(cfg->url, cfg->username, cfg->password, s->url, sizeof(s->url),
				s->url_log, sizeof(s->url_log));
	if (ret < 0)
		return ret;
	s->cfg = *cfg;
	s->cfg.name = s->name;
	s->cfg.url = s->url_log;
	s->cfg.username = NULL;
	s->cfg.password = NULL;
	if (!s->cfg.segment_ms)
		s->cfg.segment_ms = STREAM_DEF_SEG_MS;
	if (!s->cfg.connect_timeout_ms)
		s->cfg.connect_timeout_ms = STREAM_DEF_CONNECT_MS;
	if (!s->cfg.stall_timeout_ms)
		s->cfg.stall_timeout_ms = STREAM_DEF_STALL_MS;
	if (!s->cfg.backoff_min_ms)
		s->cfg.backoff_min_ms = STREAM_DEF_BACKOFF_MIN;
	if (!s->cfg.backoff_max_ms)
		s->cfg.backoff_max_ms = STREAM_DEF_BACKOFF_MAX;
	if (s->cfg.segment_ms < FMP4_SEG_MS_MIN || s->cfg.segment_ms > FMP4_SEG_MS_MAX ||
	    s->cfg.backoff_min_ms > s->cfg.backoff_max_ms)
		return -EINVAL;
	return 0;
}

static int stream_init_sync(struct stream *s)
{
	pthread_condattr_t ca;
	int ret;

	ret = pthread_condattr_init(&ca);
	if (ret)
		return -ret;
	ret = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret) {
		pthread_cond_destroy(&s->wake);
		return -ret;
	}
	return 0;
}

/* "cam NAME" in top -H and gdb; the kernel keeps 15 bytes. */
static void stream_name_thread(struct stream *s)
{
	char comm[16];

	snprintf(comm, sizeof(comm), "cam %.11s", s->name);
	pthread_setname_np(s->thread, comm);
}

int stream_start(const struct stream_cfg *cfg, const struct stream_sink *sink,
		 struct stream **streamp)
{
	struct stream *s;
	int ret;

	if (!cfg || !sink || !sink->init || !streamp)
		return -EINVAL;
	if (!sink->open || !sink->write || !sink->close)
		return -EINVAL;
	stream_log_libav();
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	ret = stream_set_cfg(s, cfg);
	if (ret < 0)
		goto out_free;
	s->sink = *sink;
	s->pkt = av_packet_alloc();
	if (!s->pkt) {
		ret = -ENOMEM;
		goto out_free;
	}
	backoff_init(&s->backoff, s->cfg.backoff_min_ms, s->cfg.backoff_max_ms, backoff_seed(s));
	atomic_init(&s->stop, false);
	ret = stream_init_sync(s);
	if (ret < 0)
		goto out_free;
	s->stats.state = STREAM_IDLE;
	s->stats.down_since_utc_ms = time_now_ms();
	ret = pthread_create(&s->thread, NULL, stream_main, s);
	if (ret) {
		log_err("%s: cannot start its thread: %s", s->name, strerror(ret));
		ret = -ret;
		goto out_sync;
	}
	stream_name_thread(s);
	*streamp = s;
	return 0;
out_sync:
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
out_free:
	av_packet_free(&s->pkt);
	free(s);
	return ret;
}

void stream_stop(struct stream *stream)
{
	struct stream *s = stream;

	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	av_packet_free(&s->pkt);
	free(s->init);
	free(s);
}

void stream_get_stats(struct stream *stream, struct stream_stats *st)
{
	pthread_mutex_lock(&stream->lock);
	*st = stream->stats;
	pthread_mutex_unlock(&stream->lock);
}
