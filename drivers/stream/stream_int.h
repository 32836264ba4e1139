/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream internals shared by stream.c (thread, connection, lifecycle),
 * stream_run.c (segmenter runs and the sink side), stream_ts.c (DTS
 * sanitation) and stream_util.c (URL, libavformat log glue). Not for use
 * outside drivers/stream (the unit tests excepted).
 */
#ifndef CAMGATE_DRIVERS_STREAM_INT_H
#define CAMGATE_DRIVERS_STREAM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

#include "drivers/stream/fmp4.h"
#include "drivers/stream/stream.h"
#include "lib/backoff.h"

#define STREAM_URL_MAX	1024
#define STREAM_NAME_MAX 64
#define STREAM_INIT_CAP (1u << 20) /* init segment copy kept */
#define STREAM_TRIM_MS	1000	   /* malloc_trim() at most this often */

/* A DTS step back by more than this is a jump, not jitter to repair. */
#define STREAM_TS_BACK_US 200000
/* A DTS step ahead of the wall clock's progress by more than this is a
 * jump. A step the wall clock explains (packets really missing) is kept:
 * the sample before it simply lasts longer. */
#define STREAM_TS_JUMP_US 5000000

#define STREAM_SOCK_BUF (16u << 10) /* RTSP connection read-ahead */

#define STREAM_LOWAT_MS	 30 /* wake-up batching on the socket */
#define STREAM_LOWAT_MAX (16u << 10)

/* Read-ahead of the stream thread's RTSP socket (stream_sock.c). */
struct stream_sock {
	int fd;	    /* the socket the bytes came from, -1: none */
	size_t off; /* buf[off..len) is not read yet */
	size_t len;
	int lowat_want; /* SO_RCVLOWAT to set on the socket, 0: none */
	int lowat_set;	/* what the socket has */
	uint8_t buf[STREAM_SOCK_BUF];
};

/* DTS sanitation state of one track. */
struct stream_ts {
	AVRational tb;
	int64_t last_dts;     /* AV_NOPTS_VALUE: nothing seen yet */
	int64_t last_step;    /* last positive DTS step */
	int64_t last_mono_us; /* arrival of the last packet */
};

enum stream_ts_verdict {
	STREAM_TS_OK,	 /* timestamps were fine */
	STREAM_TS_FIXED, /* repaired: DTS bumped, or PTS raised to DTS */
	STREAM_TS_JUMP,	 /* discontinuity: state untouched */
	STREAM_TS_DROP,	 /* no timestamp at all and nothing to derive */
};

struct stream {
	char name[STREAM_NAME_MAX];
	char url[STREAM_URL_MAX];     /* with credentials: never logged */
	char url_log[STREAM_URL_MAX]; /* without them */
	struct stream_cfg cfg;	      /* strings point into this struct */
	struct stream_sink sink;
	pthread_t thread;
	atomic_bool stop;

	pthread_mutex_t lock; /* guards stats and the wake cond */
	pthread_cond_t wake;
	struct stream_stats stats;

	/* Below: the stream thread's own. */
	struct backoff backoff;
	bool reading;	     /* interrupt: stall rule, else deadline */
	bool tripped;	     /* a timeout rule fired: latched */
	int64_t deadline_us; /* monotonic, connect phase */
	int64_t last_pkt_us; /* monotonic, last packet read */
	AVFormatContext *ic;
	AVPacket *pkt;
	struct fmp4 *mux;
	struct fmp4_pick pick;
	struct stream_ts ts[FMP4_TRACKS];
	uint8_t *init; /* this run's init, kept for retries */
	size_t init_len;
	uint64_t init_id;
	bool init_ok;	   /* the sink holds this run's init */
	bool discont_next; /* next stored segment starts a run */
	bool skew_warned;
	int64_t seg_utc_ms; /* UTC of the open segment's keyframe */
	bool seg_rtcp;
	uint64_t conn_segments; /* delivered on this connection */
	struct stream_sock sock;

	/* The open segment on its way to the sink (stream.h): the sink's
	 * writer, opened at its first bytes. */
	void *writer;
	bool seg_failed; /* a write failed: the rest of it is dropped */
	int seg_err;	 /* why it failed, as the sink said (-errno) */
	size_t seg_len;	 /* bytes written so far, for the stats */
};

/* Record a failure: count it, keep its text, log it once (a repeat of
 * the same failure, as while a camera is down, only at debug level). */
void stream__fail(struct stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open a run over the picked streams (a muxer that refuses the audio is
 * reopened without it, S5); the next segment is flagged discont. */
int stream__open_run(struct stream *s);
/* Hand the open segment over (S3) and free the run. @input_ended: the
 * connection's reads ended (end of stream, error, timeout, stop), so the
 * last video packet read may be a parser's flush of a partial access
 * unit and is left out (S7); false: a timestamp jump, all is whole. */
void stream__end_run(struct stream *s, bool input_ended);

void stream__ts_reset(struct stream_ts *t, AVRational tb);
/* Make @pkt's DTS strictly increasing and PTS >= DTS; @now_us is its
 * monotonic arrival time. Returns an enum stream_ts_verdict. */
int stream__ts_fix(struct stream_ts *t, AVPacket *pkt, int64_t now_us);

/* The libavformat whose RTSP read pattern stream_sock.c was verified
 * against (Debian 12's FFmpeg 5.1). */
#define STREAM_SOCK_LAVF_MAJOR 59
#define STREAM_SOCK_LAVF_MINOR 27
/* True when @lavf_version (avformat_version()) is that one. */
bool stream__sock_verified(unsigned int lavf_version);
/* The read-ahead may be attached: the loaded libavformat is verified
 * (logged once when not). Any thread. */
bool stream__sock_usable(void);

/* From now on recv(), poll() and close() on the calling thread go
 * through @sk (stream_sock.c), which the thread must not free before
 * stream__sock_detach(). Other threads are not affected. */
void stream__sock_attach(struct stream_sock *sk);
void stream__sock_detach(void);
/* Forget buffered bytes: before and after each connection. */
void stream__sock_reset(struct stream_sock *sk);
/* Wake the thread only when about STREAM_LOWAT_MS of a stream of
 * @bitrate_bps is queued (0: at every byte, as during the handshake). */
void stream__sock_lowat(struct stream_sock *sk, uint64_t bitrate_bps);

/* Put @user:@pass (percent-encoded) into @url's userinfo unless @user is
 * empty or @url already has userinfo; @log_out gets the URL without any
 * userinfo, for logs. -EINVAL: not scheme://...; -E2BIG: too long. */
int stream__build_url(const char *url, const char *user, const char *pass, char *out, size_t cap,
		      char *log_out, size_t log_cap);

#endif /* CAMGATE_DRIVERS_STREAM_INT_H */
