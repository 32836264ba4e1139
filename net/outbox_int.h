/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * outbox internals shared by net/outbox.c (tables, writes) and
 * net/outbox_next.c (the choice of the next row); not for other modules.
 */
#ifndef CAMGATE_NET_OUTBOX_INT_H
#define CAMGATE_NET_OUTBOX_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/lockorder.h"
#include "net/outbox.h"

/* Statements run for every object sent, prepared once (outbox_next() and
 * the acknowledgement of a row); the rest are prepared per call. */
enum ob_kept {
	OBK_DONE = 0,
	OBK_AGAIN,
	OBK_INIT_ACKED,
	OBK_N,
};

/*
 * outbox_next() reads through a connection of its own (statedb_reader_open)
 * so that choosing the next row never waits behind a commit's sync on
 * another thread: the uplink's network thread picks rows while its
 * acknowledgements are committed beside it.
 *
 * Between writes the O3 order does not change, so outbox_next() keeps it:
 * the ids of up to OUTBOX_CAND_MAX due rows in order, taken by one query
 * per priority, and hands out the first one not busy by its primary key
 * (rows are sent one at a time as slots free up; running the priority
 * queries for each cost more than the row). Every committed write to the
 * outbox table bumps @gen, which drops the list; so does the time when
 * the first row not yet due comes due.
 */
#define OUTBOX_CAND_MAX 128

struct outbox {
	struct statedb *db;
	bool reader;		   /* outbox_open_reader(): reads only, writes are -EROFS */
	sqlite3_stmt *kept[OBK_N]; /* under the statedb lock */
	atomic_uint_fast64_t gen;  /* bumped after each committed write */
	pthread_mutex_t rd_lock;
	sqlite3 *rd;			     /* under rd_lock, as is the rest */
	sqlite3_stmt *rd_next[OUTBOX_NPRIO]; /* on rd, one per priority */
	sqlite3_stmt *rd_cand[OUTBOX_NPRIO]; /* ditto, ids only */
	sqlite3_stmt *rd_byid;
	int64_t cand[OUTBOX_CAND_MAX];
	size_t ncand;
	bool cand_ok;  /* cand[] is the order as of cand_gen, cand_now */
	bool cand_all; /* cand[] holds every row due then */
	uint_fast64_t cand_gen;
	int64_t cand_now;
	int64_t cand_until; /* the earliest next_ms not due at cand_now */
	sqlite3_stmt *rd_due;
};

#define COLS                                                                                       \
	"id, prio, kind, path, camera, ref, seq, start_ms, len, body, created_ms,"                 \
	" deadline_ms, tries, version, init_id, duration_ms, flags"

/* One statement parameter, bound to ?N by its place in the array. */
enum ob_type { OB_I64 = 0, OB_TEXT, OB_BLOB };

struct ob_arg {
	int type;      /* enum ob_type */
	int64_t i;     /* OB_I64 */
	const void *p; /* OB_TEXT, OB_BLOB: borrowed; NULL binds SQL NULL */
	int len;       /* OB_BLOB */
};

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static inline struct ob_arg arg_i64(int64_t v)
{
	return (struct ob_arg){ .type = OB_I64, .i = v };
}

static inline struct ob_arg arg_text(const char *s)
{
	return (struct ob_arg){ .type = OB_TEXT, .p = s };
}

/* One statement: what outbox__stmt_run() needs. */
struct ob_query {
	const char *what; /* for the log line: a path, a camera, an operation */
	const char *sql;
	sqlite3_stmt **kept; /* NULL: prepare and finalize; else prepared once here */
	const struct ob_arg *args;
	int nargs;
	/* Reads the current row of a SELECT: 0 stops the statement there,
	 * > 0 asks for the next row, < 0 is an error returned as is. NULL:
	 * no rows expected. */
	int (*row)(sqlite3_stmt *st, void *arg);
	void *arg;
	int *changesp; /* may be NULL: rows a write changed */
};

/* Prepares (or takes the kept statement), binds, steps and finalizes (or
 * resets) statement @q on @db, which the caller holds (the statedb lock
 * or rd_lock). A SQLite failure is logged with q->what and returns -EIO. */
int outbox__stmt_run(sqlite3 *db, const struct ob_query *q);

/* rd_lock at the statedb's level of the lock order (lib/lockorder.h): the
 * ring's upload owner takes it inside the ring's lock; it is never taken
 * with the statedb lock held, nor the other way round. */
static inline void outbox__rd_lock(struct outbox *ob)
{
	lockorder_lock(&ob->rd_lock, LOCK_STATEDB);
}

static inline void outbox__rd_unlock(struct outbox *ob)
{
	lockorder_unlock(&ob->rd_lock, LOCK_STATEDB);
}

/* One write under the statedb lock, its own transaction; bumps @gen.
 * -EROFS on a reader (outbox_open_reader()). */
int outbox__run(struct outbox *ob, const struct ob_query *q);

/* outbox_seg.c: moves @camera's queued mark up to @seq, on the locked
 * @db, inside the caller's transaction. */
int outbox__queued_bump(sqlite3 *db, const char *camera, uint64_t seq);

#endif /* CAMGATE_NET_OUTBOX_INT_H */
