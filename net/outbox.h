/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * outbox - what the gateway still owes central, durable in state.db.
 *
 * Every object the uplink sends is a row here before its first byte goes
 * out, and the row is deleted only after central answered 2xx. A crash,
 * a power cut or an outage of any length therefore loses nothing: the
 * next start finds the rows and sends them again (every PUT is idempotent).
 *
 * Guarantees (tests/unit/outbox_test.c):
 *  O1  outbox_put() returns 0 only after the row is committed.
 *  O2  A row leaves only through outbox_done() or outbox_commit()
 *      (and a dead segment row, one that can never be sent, through
 *      outbox_seg_prune() once the ring no longer holds its segment);
 *      the acknowledgements of one outbox_commit() call are committed
 *      together, all or none.
 *  O3  outbox_next() hands out rows by priority: URGENT (alarms, events,
 *      registry, status, command results) in insertion order; then LIVE
 *      newest first per camera: every camera's newest row, then every
 *      camera's second newest, and so on (newer start first within a
 *      round); then BACKLOG oldest media first (start_ms).
 *  O4  Paths are unique. Putting an existing path either keeps the old
 *      row (media: the bytes cannot change) or replaces its body while
 *      keeping the oldest created_ms and deadline (registry, playlist,
 *      status: only the newest version matters, but the R2 clock runs from
 *      the first unacknowledged change).
 *  O5  Retry times are monotonic-clock values of this process; outbox_open()
 *      makes every row due at once, so a restart retries immediately.
 *
 * Threads: any thread may call; statedb serialises the writes, and
 * outbox_next() reads on a connection of its own, so it does not wait
 * for another thread's commit. In practice the uplink threads do almost
 * all of it, and other threads only put rows.
 * Errors: 0 or negative errno; SQLite failures are logged here as -EIO.
 */
#ifndef CAMGATE_NET_OUTBOX_H
#define CAMGATE_NET_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbox; /* opaque */
struct sqlite3;
struct statedb;
struct ring_upload_owner;

#define OUTBOX_PATH_MAX	  256 /* object path below the gateway root */
#define OUTBOX_CAMERA_MAX 32
#define OUTBOX_BODY_MAX	  (1024 * 1024) /* inline bodies (JSON, playlists) */
#define OUTBOX_PEEK_MAX	  64		/* rows outbox_next() looks at per call */

enum outbox_prio {
	OUTBOX_URGENT = 0,
	OUTBOX_LIVE = 1,
	OUTBOX_BACKLOG = 2,
	OUTBOX_NPRIO = 3,
	/* Not a send priority: a segment row that can never be sent (its
	 * segment is corrupt, outbox_seg_dead()); outbox_next() never hands
	 * it out, outbox_stat() does not count it. */
	OUTBOX_DEAD = OUTBOX_NPRIO,
};

enum outbox_kind {
	OUTBOX_REGISTRY = 1, /* inline JSON */
	OUTBOX_INIT = 2,     /* ring init segment @ref */
	OUTBOX_SEGMENT = 3,  /* ring media segment @ref */
	OUTBOX_PLAYLIST = 4, /* inline m3u8 */
	OUTBOX_STATUS = 5,   /* inline JSON */
	OUTBOX_EVENT = 6,    /* inline JSON */
	OUTBOX_RESULT = 7,   /* inline JSON: a command's result */
};

struct outbox_item {
	int64_t id; /* set by outbox_next() */
	int prio;   /* enum outbox_prio */
	int kind;   /* enum outbox_kind */
	char path[OUTBOX_PATH_MAX];
	char camera[OUTBOX_CAMERA_MAX]; /* "" when not a camera's */
	uint64_t ref;			/* ring id (segment or init) */
	uint64_t init_id;		/* media: the init segment it needs */
	uint64_t seq;			/* per-camera segment seq */
	uint32_t duration_ms;		/* media */
	uint32_t flags;			/* media: RING_F_* */
	int64_t start_ms;		/* media UTC start; others: created_ms */
	uint64_t len;			/* body bytes, for the backlog figures */
	int64_t created_ms;		/* wall clock */
	int64_t deadline_ms;		/* registry (R2); 0 otherwise */
	uint32_t tries;
	uint32_t version; /* bumped by every replace (O4) */
	/* Inline body: borrowed by outbox_put(); malloc'ed by outbox_next()
	 * and owned by the caller, who frees it with outbox_item_clear(). */
	char *body;
};

/* Create or migrate the outbox tables in @db (borrowed; must outlive the
 * outbox) and make every row due (O5). -EIO, -EPROTO, -ENOMEM. */
int outbox_open(struct statedb *db, struct outbox **obp);
void outbox_close(struct outbox *ob); /* NULL is a no-op */

/* Insert @it (O1, O4). @replace selects the O4 rule. -E2BIG: body over
 * OUTBOX_BODY_MAX or path too long. -EIO. */
int outbox_put(struct outbox *ob, const struct outbox_item *it, bool replace);

/* The first due row (next_ms <= @now_mono_ms) whose id is not in
 * @busy[0..nbusy), by O3. -ENOENT: none due. -EIO, -ENOMEM. */
int outbox_next(struct outbox *ob, int64_t now_mono_ms, const int64_t *busy, size_t nbusy,
		struct outbox_item *it);
void outbox_item_clear(struct outbox_item *it);

/* Central acknowledged version @version of row @id: delete it (O2). If
 * the row was replaced meanwhile (newer version), it stays, due at once:
 * central holds an old body. A row already gone is not an error. */
int outbox_done(struct outbox *ob, int64_t id, uint32_t version);

struct outbox_ack {
	int64_t id;
	uint32_t version;
	bool init;    /* an OUTBOX_INIT row: also mark init @ref acknowledged */
	uint64_t ref; /* the row's ref */
};
/* outbox_done() for @n rows (@acks borrowed) in one transaction, with
 * the init segments among them marked acknowledged in the same one: one
 * commit (one sync) for a batch; @nputs rows are put first in the same
 * transaction (each by the O4 replace rule: inline bodies such as
 * playlists; @puts borrowed): what an acknowledgement makes due is
 * committed with it. Nothing is committed on failure. -EIO. */
int outbox_commit(struct outbox *ob, const struct outbox_item *puts, size_t nputs,
		  const struct outbox_ack *acks, size_t n);

/* @n rows put (each by the O4 keep rule: events, @its borrowed) and then
 * @also(@db, @arg), when not NULL, in one transaction: all or nothing. @also
 * runs with the statedb lock held, on its connection, inside that
 * transaction: it adds the caller's own statements (e.g. a cursor over
 * what the rows cover) and returns 0, or -errno to roll everything back.
 * -E2BIG, -EIO, or @also's error. */
int outbox_put_many(struct outbox *ob, const struct outbox_item *its, size_t n,
		    int (*also)(struct sqlite3 *db, void *arg), void *arg);

/* Row @id failed: count the try, due again at @next_mono_ms (a replaced
 * row keeps its schedule: the new body waits like the old). */
int outbox_retry(struct outbox *ob, int64_t id, int64_t next_mono_ms);

/* A media segment to queue, with the init segment it needs. */
struct outbox_media {
	struct outbox_item seg;	 /* OUTBOX_SEGMENT; an existing path is kept (O4) */
	struct outbox_item init; /* OUTBOX_INIT, init.ref its id: put the first time seen */
	/* Every earlier segment of seg.camera has a row (or had one and was
	 * acknowledged): its camera's queued mark moves up to seg.seq in the
	 * same transaction (S1 below). False when the caller cannot tell. */
	bool queued;
};
/* Queue @n segments (@m borrowed) in one transaction: for each, its init
 * segment if that was never seen (marked seen with its row, so a crash
 * cannot leave one seen without a row), then the segment; then, with
 * @demote_keep > 0, for each camera among them, its LIVE media rows
 * past the @demote_keep newest become BACKLOG. All or nothing (O1).
 * -E2BIG, -EIO. */
int outbox_put_media(struct outbox *ob, const struct outbox_media *m, size_t n,
		     unsigned int demote_keep);

/* Central holds init @init_id: *ackedp. */
int outbox_init_acked(struct outbox *ob, uint64_t init_id, bool *ackedp);

/* The newest playlist body put for @camera (a row of kind
 * OUTBOX_PLAYLIST, by outbox_put() or outbox_commit(): committed with
 * it, and kept after central acknowledged it), malloc'ed into *bodyp for
 * the caller to free: what the live window looked like before a restart.
 * -ENOENT: none was ever put. -EIO, -ENOMEM. */
int outbox_live_get(struct outbox *ob, const char *camera, char **bodyp);

/* Command @id from central: *newp false when it was handled before. */
int outbox_cmd_seen(struct outbox *ob, const char *id, int64_t now_ms, bool *newp);
/* Read-only: was command @id handled before? */
int outbox_cmd_known(struct outbox *ob, const char *id, bool *knownp);

/*
 * Segments: the outbox is the one record of a media segment's upload
 * (why: docs/architecture.md); the ring holds media only and asks here
 * (outbox_ring_owner()).
 *  S1  A segment of @camera with seq S is owed to central while its
 *      OUTBOX_SEGMENT row exists (in OUTBOX_DEAD too: central never got
 *      it), or while S is above the camera's queued mark: the highest seq
 *      up to which every segment had its row committed
 *      (outbox_media.queued). Central holds it when neither is true:
 *      its row was deleted by an acknowledgement.
 *  S2  Acknowledging a segment is the deletion of its row, one
 *      transaction with the rest of its batch (outbox_commit()).
 *  S3  A state.db lost or new has no mark: every segment the ring holds
 *      is owed again (sent again; PUTs are idempotent), never one
 *      taken for acknowledged that was not.
 */
/* S1 for the segment (@camera, @seq, ring id @ref): *owedp. Read on the
 * outbox's own connection; any thread. -EIO (logged). */
int outbox_seg_owed(struct outbox *ob, const char *camera, uint64_t seq, uint64_t ref, bool *owedp);
/* @camera's queued mark. -ENOENT: none yet. -EIO. */
int outbox_seg_queued(struct outbox *ob, const char *camera, uint64_t *seqp);
/* Segment rows (any priority, dead ones too) and the payload bytes of
 * those starting before @before_ms. -EIO. */
int outbox_seg_pending(struct outbox *ob, int64_t before_ms, uint64_t *segsp, uint64_t *bytesp);
/* Row @id can never be sent (corrupt segment): it stays, as the record
 * that central does not hold the segment, in OUTBOX_DEAD. -EIO. */
int outbox_seg_dead(struct outbox *ob, int64_t id);
/* Deletes the dead rows of segments with a ring id below @below_ref (the
 * ring no longer holds them). -EIO. */
int outbox_seg_prune(struct outbox *ob, uint64_t below_ref);
/* Fills @owner with outbox_seg_owed() and outbox_seg_pending() on @ob,
 * for ring_set_upload_owner(); @ob must outlive that registration. */
void outbox_ring_owner(struct outbox *ob, struct ring_upload_owner *owner);
/* An outbox for reading only (the command line, beside a running
 * daemon): no migration, no write (those fail with -EROFS); a state.db
 * whose outbox is older than this firmware answers -EIO (logged).
 * Closed with outbox_close(). -EIO, -ENOMEM. */
int outbox_open_reader(struct statedb *db, struct outbox **obp);

struct outbox_stat {
	uint64_t rows[OUTBOX_NPRIO];
	uint64_t bytes[OUTBOX_NPRIO];
	int64_t oldest_ms[OUTBOX_NPRIO]; /* start_ms; 0 when empty */
	uint64_t registry_rows;
	int64_t registry_created_ms; /* oldest unacknowledged change; 0: none */
	int64_t registry_deadline_ms;
	char registry_path[OUTBOX_PATH_MAX];
};
int outbox_stat(struct outbox *ob, struct outbox_stat *st);

#endif /* CAMGATE_NET_OUTBOX_H */
