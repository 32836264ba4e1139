/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uplink internals shared by net/uplink*.c; not for other modules.
 * Everything in struct uplink below the "uplink thread only" line is
 * touched by the uplink thread alone; the rest is guarded by @lock.
 */
#ifndef CAMGATE_NET_UPLINK_INT_H
#define CAMGATE_NET_UPLINK_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/backoff.h"
#include "lib/lockorder.h"
#include "net/outbox.h"
#include "net/uplink.h"
#include "storage/ring.h"

#define UPLINK_SLOTS	(UPLINK_PARALLEL_MAX + 1) /* + the command channel */
#define UPLINK_RESP_MAX (64 * 1024)		  /* response bytes kept (commands, errors) */
/* A command object larger than this is not read further: the transfer
 * stops there and the command is answered "refused" once. */
#define UPLINK_CMD_MAX	     (64 * 1024)
#define UPLINK_CMDS_MAX	     8	  /* command fetches per poll */
#define UPLINK_CAMERAS_MAX   256  /* live playlists kept */
#define UPLINK_SCAN_BATCH    1024 /* ring scan rows per pass */
#define UPLINK_NAME_MAX	     64	  /* a segment's file name */
#define UPLINK_REFUSED_HOLD  3	  /* refusals in a row that hold the link */
#define UPLINK_ACK_BATCH     32	  /* 2xx'd rows per outbox commit */
#define UPLINK_ACK_DELAY_MS  250  /* longest a backlog row waits for it */
#define UPLINK_BUSY_MAX	     (UPLINK_SLOTS + 2 * UPLINK_ACK_BATCH) /* rows outbox_next() skips */
#define UPLINK_DOWN_LOG_MS   60000 /* one line per minute while the link stays down */
#define UPLINK_STOP_DRAIN_MS 5000  /* at stop, how long transfers in flight may finish */
/* curl's upload buffer per transfer (its default is 64 KiB): a quarter
 * of the read callbacks, preads and hash updates per segment; larger
 * ones leave the L2 cache and were slower (bench/upload, docs). */
#define UPLINK_UPLOAD_BUF (256 * 1024)

enum uplink_xfer_kind {
	XF_NONE = 0,
	XF_ROW,	     /* PUT of an outbox row */
	XF_CMD_LIST, /* GET commands/ */
	XF_CMD_GET,  /* GET commands/<name> */
};

struct uplink_slot {
	int kind; /* enum uplink_xfer_kind */
	CURL *h;
	struct curl_slist *hdrs;
	struct outbox_item it;		  /* XF_ROW */
	char cmd_name[UPLINK_ID_MAX + 8]; /* XF_CMD_GET */
	unsigned char *buf;		  /* request body (grows, kept) */
	size_t buf_cap;
	struct ring_reader *rd; /* or a media segment's body, from the ring */
	int read_err;		/* what made the reader abort the request */
	size_t len;
	size_t off;
	char *resp; /* response body, UPLINK_RESP_MAX at most */
	size_t resp_len;
	bool too_big; /* XF_CMD_GET: the body passed UPLINK_CMD_MAX; stopped */
	char err[CURL_ERROR_SIZE];
	char url[UPLINK_URL_MAX];
};

/* A batch of acknowledged rows the ack thread commits (uplink_ack.c).
 * Filled by the uplink thread while the ack thread is idle, read-only to
 * both while it is queued. */
struct uplink_ack_job {
	struct outbox_item rows[UPLINK_ACK_BATCH]; /* copies without body */
	unsigned int n;
	struct outbox_item puts[UPLINK_ACK_BATCH]; /* playlists; bodies owned */
	unsigned int nputs;
	int commit_ret; /* the outbox commit's: not 0, requests wait (U7) */
};

struct live_entry {
	uint64_t msn; /* HLS media sequence number, fixed once given */
	bool disc;    /* EXT-X-DISCONTINUITY before it */
	uint64_t seq;
	uint64_t init_id;
	int64_t start_ms;
	uint32_t duration_ms;
	uint32_t flags;
	char name[UPLINK_NAME_MAX];
};

struct live_cam {
	char camera[RING_CAMERA_MAX];
	unsigned int n;
	uint64_t disc_seq; /* EXT-X-DISCONTINUITY-SEQUENCE */
	uint32_t target_s; /* EXT-X-TARGETDURATION: only ever grows */
	bool resumed;	   /* restored after a restart: the next entry is a discontinuity */
	struct live_entry win[UPLINK_LIVE_WINDOW_MAX];
};

struct uplink {
	/* Copied configuration; strings owned. */
	struct uplink_cfg cfg;
	struct uplink_hooks hooks;
	char root[UPLINK_URL_MAX]; /* {base}/gateways/{gw}/ */
	struct ring *ring;
	struct statedb *sdb;
	struct outbox *ob;
	CURLM *multi;
	pthread_t thread;

	pthread_mutex_t lock; /* guards the fields down to the line */
	bool stop;
	bool status_now;
	bool rescan;
	bool scanning; /* a ring scan is running */
	/* Stored segments from the stream threads: the ring_seg_info the
	 * ring filled, kept whole (the one descriptor of a segment between
	 * the ring and its outbox row). */
	struct ring_seg_info queue[UPLINK_QUEUE_MAX];
	unsigned int q_head, q_len;
	struct uplink_stat st;

	/* The ack thread (uplink_ack.c); ack_lock guards job_state and
	 * ack_stop, and hands @job over between the two threads. */
	pthread_t ack_thread;
	bool ack_started;
	pthread_mutex_t ack_lock;
	pthread_cond_t ack_cond;
	int job_state;
	bool ack_stop;
	struct uplink_ack_job job;
	/* ---- uplink thread only ---- */
	struct uplink_slot slots[UPLINK_SLOTS];
	struct backoff link_backoff;  /* central answered with trouble (U5) */
	struct backoff probe_backoff; /* central did not answer at all (U5) */
	int64_t hold_until;	      /* mono: no new request before */
	/* A request stalled or its connection failed mid-way: libcurl keeps
	 * an HTTP/2 connection after one stream's failure, and one that died
	 * silently (central's host gone, a NAT entry dropped) would take
	 * every later request into the same stall. Until a request succeeds,
	 * requests do not reuse a connection (easy_setup). */
	bool renew_conn;
	/* mono: no new request before, because state.db would not take the
	 * last acknowledgement (U7). Apart from hold_until: a transfer that
	 * succeeds clears the link's hold, not this one, or two rows whose
	 * acknowledgements fail would clear each other's hold and be sent
	 * again as fast as central answers. */
	int64_t store_hold_until;
	int64_t down_logged;	  /* mono: the last link failure logged above debug */
	unsigned int down_quiet;  /* link failures logged at debug since then */
	unsigned int refused_run; /* refusals since the last 2xx */
	int trust;		  /* the last TRUST_* outcome told; -1: none yet */
	int64_t started_mono;
	int64_t next_status;		/* mono */
	int64_t next_cmds;		/* mono */
	uint64_t tput_bytes;		/* since the last status */
	int64_t tput_since;		/* mono */
	char scan_cam[RING_CAMERA_MAX]; /* ring scan cursor */
	uint64_t scan_seq;
	bool scan_more;
	uint64_t scan_min_id; /* this pass's lowest ring id; UINT64_MAX: none */
	/* U7: state.db refused a write. */
	bool store_failing;	      /* segments without a row: scans due */
	bool pass_clean;	      /* this scan pass began at the first segment, no failure */
	int64_t scan_at;	      /* mono: no scan before (while failing) */
	struct backoff store_backoff; /* between scans while failing */
	struct backoff ack_backoff;   /* after a failed outbox write here (U7) */
	struct live_cam *live[UPLINK_CAMERAS_MAX];
	unsigned int nlive;
	/* 2xx'd rows waiting for their batch (uplink_ack.c); copies without
	 * body. Busy for outbox_next() until committed. */
	struct outbox_item acks[UPLINK_ACK_BATCH];
	unsigned int nacks;
	int64_t ack_since; /* mono: when the oldest of them got its 2xx */
	bool ack_now;	   /* one live view waits for among them */
};

/* up->lock and ack_lock, innermost in the lock order (lib/lockorder.h):
 * nothing else, not even the other of the two, is taken inside them. */
static inline void uplink__lock(pthread_mutex_t *m)
{
	lockorder_lock(m, LOCK_UPLINK);
}

static inline void uplink__unlock(pthread_mutex_t *m)
{
	lockorder_unlock(m, LOCK_UPLINK);
}

/* uplink.c */
int64_t uplink__now(const struct uplink *up);
void uplink__wake(struct uplink *up);
/* Tell the daemon @o (hooks.outcome); a zero time_ms becomes now, NULL
 * strings "". */
void uplink__report(struct uplink *up, struct uplink_outcome *o);

/* uplink_xfer.c: @c's authentication (bearer, basic or SigV4) on easy
 * handle @h; also for the probe's own requests (uplink_probe.c). Pair it
 * with tls_apply(). -EINVAL: libcurl refused an option. */
int uplink__auth_apply(const struct uplink_cfg *c, CURL *h);
/* uplink_xfer.c: start a slot's transfer; completion of one. */
int uplink__start_row(struct uplink *up, struct uplink_slot *s, struct outbox_item *it);
int uplink__start_get(struct uplink *up, struct uplink_slot *s, int kind, const char *name);
void uplink__done(struct uplink *up, struct uplink_slot *s, CURLcode rc);
void uplink__slot_free(struct uplink_slot *s);

/* uplink_seg.c: segments into rows. Queued notes into LIVE rows; a ring
 * scan (U6) when one is due. */
void uplink__drain_notes(struct uplink *up);
void uplink__scan(struct uplink *up);

/* uplink_ack.c: acknowledged rows, committed in batches by the ack
 * thread (U1). Start and stop it around the uplink thread's life. */
int uplink__ack_start(struct uplink *up);
void uplink__ack_stop(struct uplink *up);
void uplink__ack_add(struct uplink *up, const struct outbox_item *it);
/* Hand the waiting rows to the ack thread if one of the batch rules says
 * so (@force: always, and wait until they are committed); returns how
 * long until the next rule fires, in ms, or -1. */
int64_t uplink__ack_flush(struct uplink *up, int64_t mono, bool idle, bool force);
/* The ids of rows acknowledged but not yet committed, into @busy (room
 * for 2 * UPLINK_ACK_BATCH); returns how many. */
size_t uplink__ack_busy(const struct uplink *up, int64_t *busy);
/* U7: an outbox write of the uplink thread failed (acknowledgement,
 * drop, retry): no new request before a backoff (at most
 * UPLINK_STORE_RETRY_MAX_MS), so a row state.db will not let go is not
 * picked again at once. */
void uplink__store_hold(struct uplink *up);

/* uplink_obj.c: objects and their bodies. */
int uplink__put_json(struct uplink *up, int kind, const char *path, struct cJSON *obj,
		     int64_t created_ms, int64_t deadline_ms);
int uplink__status(struct uplink *up);
/* Live segment @it was acknowledged: its playlist, if it changed, is
 * rendered into @job (committed with it). */
int uplink__live_ack(struct uplink *up, const struct outbox_item *it, struct uplink_ack_job *job);
/* Would live segment @it enter its camera's playlist (newer than its
 * newest)? Then its acknowledgement is committed at once. */
bool uplink__live_moves(struct uplink *up, const struct outbox_item *it);
int uplink__live_init_acked(struct uplink *up, const char *camera, struct uplink_ack_job *job);
void uplink__live_free(struct uplink *up);
/* Render @lc as an HLS media playlist into @buf; pure (unit-tested).
 * -E2BIG when @cap is too small; the number of bytes otherwise. */
int uplink__playlist(const struct live_cam *lc, char *buf, size_t cap);
/* The reverse: @lc (camera kept) from a playlist uplink__playlist()
 * wrote, marked resumed. -EPROTO: not such a playlist (@lc then empty). */
int uplink__playlist_parse(struct live_cam *lc, const char *text);
/* Append acknowledged segment @e to @lc (U3): only newer than the newest,
 * oldest dropped beyond @window. Returns true when @lc changed. Pure. */
bool uplink__live_add(struct live_cam *lc, const struct live_entry *e, unsigned int window);

/* uplink_cmd.c: the command channel. */
/* The URL polled for commands into @buf: {root}commands/, or with SigV4
 * an S3 ListObjectsV2 of that prefix. -E2BIG if it does not fit. */
int uplink__cmd_list_url(const struct uplink *up, char *buf, size_t cap);
void uplink__cmd_list_done(struct uplink *up, const char *body, size_t len);
void uplink__cmd_get_done(struct uplink *up, const char *name, const char *body, size_t len);
/* The command object @name was over UPLINK_CMD_MAX bytes: answer it. */
void uplink__cmd_too_big(struct uplink *up, const char *name);

#endif /* CAMGATE_NET_UPLINK_INT_H */
