/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uplink - everything the gateway sends to central, over verified TLS
 * (protocol: docs/uplink.md).
 *
 * One uplink thread owns a libcurl multi handle, the transfers, the live
 * playlists and the timers (status, commands). Other
 * threads hand it work through uplink_segment_added() (a bounded queue,
 * then curl_multi_wakeup) or write a durable outbox row themselves
 * (uplink_registry_changed(), uplink_event()) and wake it.
 *
 * Guarantees:
 *  U1  Nothing is sent that is not first a committed outbox row (O1), and
 *      a row leaves only on a 2xx from central (O2). The outbox is the one
 *      record of a segment's upload (net/outbox.h S1-S3): the deletion of
 *      its row is the acknowledgement, and the ring, which holds media
 *      only, asks the outbox before it evicts (integration step 1: the
 *      ring's upload owner). Rows are deleted in batches (one
 *      commit for up to UPLINK_ACK_BATCH rows); a crash before the commit
 *      repeats those PUTs after the restart, it loses nothing.
 *  U2  Every request is https with the TLS rules T1-T6 (net/tls.h);
 *      uplink_start() refuses a base URL that is not https://.
 *  U3  live.m3u8 of a camera lists only segments (and the init segment)
 *      central already acknowledged, newest last, at most live_window;
 *      only segments sent as live enter it, and only when newer than its
 *      newest (backlog is archive, not live view).
 *  U4  After an outage, URGENT rows go first (init segments, playlists,
 *      registry, events, status), then live: every camera's newest
 *      segment, then every camera's second newest, and so on through its
 *      live_window newest; then the backlog oldest first. A segment that
 *      falls out of the window before it is sent joins the backlog.
 *  U5  A dead or failing central sees at most one request at a time (a
 *      probe) until one succeeds; then parallel again at once. While it
 *      does not answer at all (name not resolved, connection refused) the
 *      probes come every backoff_min/2 .. 2 x backoff_min, so the link
 *      is back at most 2 x backoff_min after central; once it answers
 *      with trouble (408, 429, 5xx, TLS, stall, reset) they are spaced by
 *      exponential backoff with full jitter up to backoff_max, or by its
 *      Retry-After: no retry storm. The first 2xx resets both backoffs.
 *  U6  Segments the queue could not take (full) or that were recorded
 *      while no uplink ran, or all of them after state.db was lost, are
 *      found again by a scan of the ring for segments above their
 *      camera's queued mark (S1: owed, perhaps without a row), at start
 *      and after an overflow: a recovery path, not the acknowledgement.
 *  U7  A segment whose outbox row could not be written (state.db's disk
 *      full or failing) is not lost: the ring scan (U6) runs again every
 *      backoff_min .. UPLINK_STORE_RETRY_MAX_MS until a whole scan has
 *      written every row, and hooks.store_state tells the daemon while
 *      such segments are without a row (they stay above their camera's
 *      mark, owed and so pinned; the daemon's evict hook refuses too). A failed acknowledgement commit holds new
 *      requests by the same backoff, so the rows are not sent again in a
 *      tight loop.
 *
 * Memory: a media segment is never held whole. CURLOPT_READFUNCTION reads
 * it from the ring (ring_reader_read) straight into curl's upload buffer,
 * a piece at a time, checking it against the SHA-256 the ring recorded
 * (net/uplink_xfer.c). Only inline rows (the outbox's copy of a JSON
 * body or playlist) and init segments (ring_read_init) go through the
 * transfer slot's own buffer, which grows to the largest of those seen:
 * the bound is parallel x the largest init segment or inline body
 * (kilobytes), plus one ring reader per slot.
 *
 * Errors: 0 or negative errno as listed; detail is logged once.
 *
 * Integration (the daemon, `camgate run`), in this order:
 *  0. Once, after the ring and state.db are open, for the ring's life:
 *     register outbox_ring_owner() of an outbox_open_reader() on state.db
 *     with ring_set_upload_owner(), so the ring asks the outbox (the one
 *     record of what central holds) whether an uplink runs or not: while
 *     one is being replaced, or failed to start, a segment central
 *     acknowledged is still not taken for protected footage.
 *  1. Fill a struct uplink_cfg from the [uplink] settings; if base_url is
 *     empty, do not start the uplink and call
 *     ring_set_upload_required(ring, false). Otherwise call
 *     ring_set_upload_required(ring, true), then uplink_start() from the
 *     main thread after the ring and state.db are open. The cfg strings
 *     are copied; the hooks struct is copied, its arg is borrowed and
 *     must outlive uplink_stop().
 *     This module reports and never decides policy: register
 *     hooks.outcome to raise alarms and write audit rows for what it met,
 *     hooks.registry_deadline for the R2 deadline of a record and
 *     hooks.status_fill to judge the status tick's figures (the daemon
 *     does all three in firmware/uplink_policy.c). Without them nothing is
 *     alarmed or audited, and records carry "deadline": null.
 *  2. Stream threads: after ring_append() succeeded, with the
 *     ring_seg_info it filled, call uplink_segment_added(). It never
 *     blocks on the network or SQLite; -ENOBUFS only means the segment
 *     will be found by the next ring scan (U6), so just count it.
 *  3. Registry code: after a camera's record changed and was committed,
 *     call uplink_registry_changed(up, camera) (any thread; it calls the
 *     registry_record hook on that thread and commits a row).
 *  4. After alarm_raise() of anything central must hear (including those
 *     the hooks raise), call uplink_event(); uplink_status_now() for an
 *     immediate status.
 *  Layering: net/ includes lib/ and storage/ only (scripts/layer-check.sh).
 *  5. On SIGHUP with changed [uplink] settings: uplink_stop() then
 *     uplink_start() with the new cfg (rows are durable, nothing is lost).
 *  6. At shutdown: uplink_stop() before ring_close() and statedb_close().
 */
#ifndef CAMGATE_NET_UPLINK_H
#define CAMGATE_NET_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/tls.h"

struct uplink; /* opaque */
struct ring;
struct ring_seg_info;
struct statedb;
struct cJSON;

#define UPLINK_PARALLEL_MAX    16
#define UPLINK_LIVE_WINDOW_MAX 32
#define UPLINK_QUEUE_MAX       512 /* segment notes between threads */
#define UPLINK_URL_MAX	       1024
#define UPLINK_ID_MAX	       64 /* gateway id, camera, command id */
/* U7: cap on the retry delay after a state.db write failed; short, since
 * recording waits for it. */
#define UPLINK_STORE_RETRY_MAX_MS 5000

enum uplink_auth {
	UPLINK_AUTH_NONE = 0, /* TLS client certificate only, or open */
	UPLINK_AUTH_BEARER,   /* Authorization: Bearer <token> */
	UPLINK_AUTH_BASIC,    /* username + password, over TLS only */
	UPLINK_AUTH_SIGV4,    /* AWS SigV4: username = access key id, password = secret */
};

struct uplink_cfg {
	const char *base_url;	/* https://host[:port][/prefix]; required */
	const char *gateway_id; /* [A-Za-z0-9._-], < UPLINK_ID_MAX */
	struct tls_cfg tls;
	int auth;	       /* enum uplink_auth */
	const char *token;     /* bearer */
	const char *username;  /* basic, sigv4 */
	const char *password;  /* basic, sigv4 */
	const char *sigv4;     /* "aws:amz:REGION:SERVICE", e.g. "aws:amz:us-east-1:s3" */
	unsigned int parallel; /* transfers at once, 1..UPLINK_PARALLEL_MAX */
	uint64_t rate_bps;     /* send cap in bytes/s over all transfers; 0: none */
	int64_t connect_timeout_ms;
	int64_t stall_timeout_ms;    /* no byte moved for this long: abort */
	int64_t transfer_timeout_ms; /* whole request */
	int64_t backoff_min_ms;
	int64_t backoff_max_ms;
	int64_t status_interval_ms;
	int64_t commands_interval_ms; /* 0: do not poll commands */
	unsigned int live_window;     /* segments in live.m3u8, 1..UPLINK_LIVE_WINDOW_MAX */
	const char *firmware_version; /* for status.json */
	/* Wall clock (UTC ms); NULL: the system's. Tests inject a fixed one. */
	int64_t (*clock_ms)(void *arg);
	void *clock_arg;
};

/* Fill @cfg with the defaults documented in docs/uplink.md (strings NULL). */
void uplink_cfg_defaults(struct uplink_cfg *cfg);

/* What the uplink went through, for uplink_hooks.outcome. The uplink
 * only reports; what follows (alarms, audit rows) is the daemon's call. */
enum uplink_outcome_kind {
	UPLINK_OUT_TRUST_FAILED,    /* central's certificate or pin did not verify
				     * (once per change); detail: why */
	UPLINK_OUT_TRUST_OK,	    /* the first 2xx after start or after TRUST_FAILED;
				     * detail: the gateway's root URL */
	UPLINK_OUT_REFUSED,	    /* central refused an object (4xx); camera, path,
				     * detail: why; tries: earlier refusals of it */
	UPLINK_OUT_CORRUPT_SEGMENT, /* a segment failed its checksum in the ring and
				     * was dropped from the outbox; camera, path */
	UPLINK_OUT_COMMAND,	    /* a command from central was answered: id,
				     * command ("?" when none was named), status,
				     * detail: the message sent back */
	UPLINK_OUT_ACKED,	    /* central acknowledged a registry record and
				     * the outbox let its row go; path */
};

struct uplink_outcome {
	enum uplink_outcome_kind kind;
	int64_t time_ms;    /* the uplink's clock (uplink_cfg.clock_ms) */
	const char *camera; /* "" when none; all strings borrowed, never NULL */
	const char *path;   /* object name below the gateway's root, or "" */
	const char *detail;
	const char *id;	     /* COMMAND */
	const char *command; /* COMMAND */
	const char *status;  /* COMMAND: "done", "refused" or "failed" */
	unsigned int tries;  /* REFUSED */
};

/* What the uplink knows at a status tick, for the daemon's decisions on
 * it (the R2 registry-deadline alarm). */
struct uplink_figures {
	int64_t now_ms;		      /* the uplink's clock */
	uint64_t registry_rows;	      /* registry records central has not acknowledged */
	int64_t registry_oldest_ms;   /* the oldest of them was changed at; 0: none */
	int64_t registry_deadline_ms; /* its deadline (uplink_hooks.registry_deadline) */
	const char *registry_path;    /* its object name; "" when none */
};

struct uplink_hooks {
	/* The registry record of @camera as a new cJSON object holding the
	 * R2 fields (the uplink adds gateway, camera, changed_at, deadline
	 * from registry_deadline and, if absent, version), or NULL when the
	 * camera is not in the
	 * registry (a removal is then sent). Called on the thread that calls
	 * uplink_registry_changed() and on the uplink thread (re-send
	 * command): must be thread-safe. NULL hook: records hold only what
	 * the uplink adds. */
	struct cJSON *(*registry_record)(void *arg, const char *camera);
	/* Calls @fn for every camera in the registry (re-send command). */
	int (*registry_each)(void *arg, int (*fn)(void *fnarg, const char *camera), void *fnarg);
	/* R2: the deadline (UTC ms) by which central must hold a registry
	 * change made at @changed_ms; 0: none (the record's "deadline" is
	 * then null). Any thread that calls uplink_registry_changed(). */
	int64_t (*registry_deadline)(void *arg, int64_t changed_ms);
	/* The status tick: adds the daemon's fields to status.json (e.g.
	 * "alarms", "cameras": state, bitrate, fps, last segment, reconnects,
	 * clock offset) after the uplink's own, and decides what @fig calls
	 * for (alarms). Uplink thread, before each status push. */
	void (*status_fill)(void *arg, struct cJSON *status, const struct uplink_figures *fig);
	/* The set-setting command: apply @key = @value if the gateway allows
	 * central to set it (its policy, not this module's). Return 0,
	 * -ENOTSUP when @key is not settable remotely (the command is then
	 * refused), other -errno on failure; @msg says why. Uplink thread. */
	int (*set_setting)(void *arg, const char *key, const char *value, char *msg, size_t cap);
	/* A command the uplink has no handler of its own for (@name, @args
	 * borrowed; @args may be NULL): the gateway's policy decides
	 * (firmware/daemon_policy.c: blocklist, ptz, holidays ...). Return
	 * 0 done, -ENOSYS when the gateway does not know it either (refused
	 * as unknown), -ENOTSUP refused, other -errno failed; @msg says why.
	 * Uplink thread; must not block on the network. */
	int (*command)(void *arg, const char *name, const struct cJSON *args, char *msg,
		       size_t cap);
	/* Something happened the daemon may act on (@o, borrowed for the
	 * call). Uplink thread; must not block on the network. */
	void (*outcome)(void *arg, const struct uplink_outcome *o);
	/* U7: @failing true when a segment's outbox row could not be written
	 * (the segment has no row until a ring scan succeeds), false once a
	 * whole scan wrote every row. Called on changes only, uplink thread;
	 * must not block. */
	void (*store_state)(void *arg, bool failing);
	void *arg;
};

/* Validate @cfg, open the outbox in @sdb and start the uplink thread.
 * @ring and @sdb are borrowed and must outlive uplink_stop(); @hooks may
 * be NULL. -EINVAL: bad setting (logged: not https, bad id, bad pin ...).
 * -ENOENT/-EACCES: a TLS file. -ENOMEM, -EIO. */
int uplink_start(const struct uplink_cfg *cfg, const struct uplink_hooks *hooks, struct ring *ring,
		 struct statedb *sdb, struct uplink **upp);
/* Stop the thread and free everything. Transfers in flight may finish
 * for up to 5 s (UPLINK_STOP_DRAIN_MS), so what central stored is also
 * acknowledged here; none starts. Those still running then are abandoned:
 * their rows stay and are sent again next time. What central acknowledged
 * is committed before it returns. NULL is a no-op. Any thread but the
 * uplink's own. */
void uplink_stop(struct uplink *up);

/* A segment was stored in the ring (@info as ring_append() filled it).
 * Any thread; never blocks on I/O. -ENOBUFS: queue full (U6 recovers). */
int uplink_segment_added(struct uplink *up, const struct ring_seg_info *info);

/* @camera's registry record changed: commit its row, wake the uplink.
 * Any thread. -EINVAL: bad camera name. -EIO, -ENOMEM. */
int uplink_registry_changed(struct uplink *up, const char *camera);
/* Queue every camera's record again (the resend-registry command). */
int uplink_registry_resend(struct uplink *up);

/* An event central must hear at once (alarm raised or cleared, security
 * event): committed as events/..., then a status push. @type is a short
 * code ("alarm", "security"); strings borrowed. Any thread. */
int uplink_event(struct uplink *up, const char *type, const char *camera, const char *message);

struct uplink_ev { /* strings borrowed */
	const char *type;
	const char *camera; /* NULL: "" */
	const char *message;
};
struct sqlite3;
/* uplink_event() for @n events, committed in one state.db transaction
 * together with @also(@db, @arg) when not NULL (outbox_put_many()): a
 * caller's cursor over what the events carry moves with them or not at
 * all. Then one wake and one status push. Any thread. -ENOMEM, -EIO,
 * -E2BIG, or @also's error (nothing committed). */
int uplink_events(struct uplink *up, const struct uplink_ev *evs, size_t n,
		  int (*also)(struct sqlite3 *db, void *arg), void *arg);

/* Push status.json now rather than at the next interval. Any thread. */
void uplink_status_now(struct uplink *up);

struct uplink_stat {
	bool link_up;		 /* last request reached central */
	int64_t last_success_ms; /* wall clock; 0: never */
	uint64_t sent_objects;
	uint64_t sent_bytes;
	uint64_t failures; /* failed requests */
	uint64_t queue_overflows;
	uint64_t lost_segments; /* evicted or corrupt before sending */
	uint64_t pending_rows;	/* outbox rows */
	uint64_t pending_notes; /* queued, not yet rows; +1 while a ring scan is due */
	unsigned int in_flight;
	bool store_failing; /* U7: segments without an outbox row */
	char last_error[256];
};
/* Snapshot; any thread. */
int uplink_stat(struct uplink *up, struct uplink_stat *st);

/* Queue the JSON @body (borrowed) as the object @path below the gateway
 * root, once (an existing row of that path is kept): objects firmware
 * composes itself, such as the chain checkpoints (docs/integrity.md).
 * -E2BIG, -EIO. */
int uplink_put_object(struct uplink *up, const char *path, const char *body, int64_t created_ms);

/* Object names below {base}/gateways/{gateway}/ (docs/uplink.md).
 * -E2BIG: @cap too small. */
int uplink_segment_path(const char *camera, uint64_t seq, int64_t start_ms, char *buf, size_t cap);
int uplink_init_path(const char *camera, uint64_t init_id, char *buf, size_t cap);

/* True for [A-Za-z0-9._-]{1,UPLINK_ID_MAX-1} not starting with '.'. */
bool uplink_id_ok(const char *id);

#endif /* CAMGATE_NET_UPLINK_H */
