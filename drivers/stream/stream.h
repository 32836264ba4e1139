/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream - one camera: RTSP ingest with libavformat, remuxed without
 * transcoding into CMAF-style fragmented MP4 segments.
 *
 * Each stream owns one thread. The thread connects, reads packets,
 * sanitises DTS, and cuts a segment at the first video keyframe past the
 * target duration. Init segments (one per codec configuration) and media
 * segments are handed to the sink; a discontinuity (reconnect, timestamp
 * jump, codec change) starts a new init/segment run. Every blocking
 * libavformat call is bounded by a timeout and by an interrupt callback
 * that stream_stop() trips. Failures retry from the first one with capped
 * exponential backoff and full jitter (lib/backoff.h); no packets for
 * stall_timeout_ms forces a reconnect.
 *
 * Threads: stream_start() spawns the thread; the sink runs on it.
 * stream_get_stats() may be called from any thread.
 * Ownership: the cfg strings are copied; the sink's arg is borrowed and
 * must outlive the stream.
 */
#ifndef CAMGATE_DRIVERS_STREAM_H
#define CAMGATE_DRIVERS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream; /* opaque */

/* A zero duration means the default given beside it. stall_timeout_ms
 * is also the socket I/O timeout. */
struct stream_cfg {
	const char *name;     /* camera name, for logs and the sink */
	const char *url;      /* rtsp://host[:port]/path */
	const char *username; /* NULL or "": none */
	const char *password;
	bool udp;		     /* default false: TCP interleaved */
	uint32_t segment_ms;	     /* target segment duration; 4000 */
	uint32_t connect_timeout_ms; /* open and probe; 5000 */
	uint32_t stall_timeout_ms;   /* no packet: reconnect; 10000 */
	uint32_t backoff_min_ms;     /* 1000 */
	uint32_t backoff_max_ms;     /* 60000 */
};

/* What a segment is, beside its bytes. */
struct stream_seg {
	uint64_t init_id; /* as returned by the sink's init() */
	int64_t start_utc_ms;
	uint32_t duration_ms;
	int64_t media_start_us;
	bool discont; /* first after reconnect or jump */
	bool has_audio;
	bool utc_from_rtcp; /* else arrival time */
};

/* The sink stores what the stream produces. The callbacks run on the
 * stream's thread and return 0 or a negative errno; an error is logged
 * by the sink and counted by the stream, which drops that segment and
 * goes on (the next one stored is discont). @data is borrowed for the
 * call only.
 *
 * A media segment reaches the sink streamed: open() at the segment's
 * first bytes gives a writer; write() gets each fragment the muxer
 * flushes (about FMP4_CHUNK_BYTES of samples), in order; close() ends the
 * writer, with the segment's description to keep it, or with @seg NULL to
 * drop what was written (a write failed, or the muxer did). After a
 * failed write() the segment's later fragments are not offered; its
 * close(NULL) follows. The stream holds no more than one fragment.
 * Initialise it by field names; all four callbacks are required. */
struct stream_sink {
	int (*init)(void *arg, const char *camera, const void *data, size_t len,
		    uint64_t *init_idp);
	void *arg;
	/* *writerp is set only on success; the sink owns the writer. */
	int (*open)(void *arg, const char *camera, uint64_t init_id, void **writerp);
	int (*write)(void *arg, void *writer, const void *data, size_t len);
	int (*close)(void *arg, void *writer, const struct stream_seg *seg);
};

enum stream_state {
	STREAM_IDLE,
	STREAM_CONNECTING,
	STREAM_RECORDING,
	STREAM_BACKOFF,
	STREAM_STOPPED,
};
const char *stream_state_name(enum stream_state st);

struct stream_stats {
	enum stream_state state;
	char video_codec[16]; /* "h264", "hevc", "" */
	char audio_codec[16]; /* kept audio codec, "" if none */
	char note[96];	      /* e.g. "audio pcm_mulaw dropped" */
	char last_error[128];
	uint32_t width, height;
	double fps;	      /* measured over the last segment */
	uint64_t bitrate_bps; /* measured over the last segment */
	int64_t last_keyframe_utc_ms;
	int64_t last_segment_utc_ms;
	/* Wall clock when the stream last stopped delivering (or started
	 * trying), by its own health: a stall, an error, EOF or a failed
	 * connect. 0 once a segment came after that: it delivers. A connect
	 * alone (RECORDING without a segment yet) does not clear it. */
	int64_t down_since_utc_ms;
	uint64_t segments;
	uint64_t bytes;
	uint64_t reconnects;
	uint64_t errors;
	uint64_t dts_fixed; /* non-monotonic DTS repaired */
	uint64_t discontinuities;
	/* The sink's error for the last segment (-ENOSPC: the store is
	 * full), 0 once one is stored. While it is not 0 nothing is being
	 * kept: fps and bitrate_bps read 0, though packets still arrive. */
	int sink_error;
	uint64_t segments_refused; /* segments the sink did not keep */
	/* Of those, refused because the store was full (-ENOSPC); the
	 * others failed for another reason (an I/O error, a read-only
	 * disk), and the last such error is kept (0: none yet). */
	uint64_t segments_refused_full;
	int refused_error;
};

/* Start recording. -ENOMEM; -EINVAL (a sink without init, open,
 * write or close; bad cfg: empty name or url, name
 * of 64 bytes or more, url without "scheme://", username with a colon,
 * segment_ms outside 100..600000, backoff_min_ms > backoff_max_ms);
 * -E2BIG (url with credentials over 1023 bytes); or pthread's error.
 * The username and password go into the URL's userinfo, percent-encoded,
 * unless the URL has userinfo already; logs and stats never show them. */
int stream_start(const struct stream_cfg *cfg, const struct stream_sink *sink,
		 struct stream **streamp);
/* Interrupt, finish the open segment (handed to the sink), join, free.
 * NULL is a no-op. */
void stream_stop(struct stream *stream);
void stream_get_stats(struct stream *stream, struct stream_stats *st);

/* Route libavformat's own messages into lib/log at debug level (the
 * stream logs what matters once, with the camera's name). Idempotent,
 * any thread; stream_start() calls it. */
void stream_log_libav(void);

#endif /* CAMGATE_DRIVERS_STREAM_H */
