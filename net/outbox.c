// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The outbox tables, module "outbox" in state.db (guarantees in
 * net/outbox.h). Every statement goes through stmt_run(): writes under
 * the statedb lock, outbox_next() on the outbox's own read connection. A
 * write is its own transaction, so O1 holds when a call returns;
 * outbox_commit() groups its puts and acknowledgements in one.
 */
#include "net/outbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "storage/statedb.h"

/* Statements run for every object sent, prepared once (outbox_next() and
 * the acknowledgement of a row); the rest are prepared per call. */
enum ob_kept {
	OBK_DONE = 0,
	OBK_AGAIN,
	OBK_INIT_ACKED,
	OBK_N,
};

/* outbox_next() reads through a connection of its own (statedb_reader_open)
 * so that choosing the next row never waits behind a commit's sync on
 * another thread: the uplink's network thread picks rows while its
 * acknowledgements are committed beside it. */
/*
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

/* Append only: never edit a step, add one. */
static const char *const outbox_steps[] = {
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" prio INTEGER NOT NULL,"
	" kind INTEGER NOT NULL,"
	" path TEXT NOT NULL UNIQUE,"
	" camera TEXT NOT NULL DEFAULT '',"
	" ref INTEGER NOT NULL DEFAULT 0,"
	" init_id INTEGER NOT NULL DEFAULT 0,"
	" seq INTEGER NOT NULL DEFAULT 0,"
	" duration_ms INTEGER NOT NULL DEFAULT 0,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" start_ms INTEGER NOT NULL,"
	" len INTEGER NOT NULL DEFAULT 0,"
	" body BLOB,"
	" created_ms INTEGER NOT NULL,"
	" deadline_ms INTEGER NOT NULL DEFAULT 0,"
	" tries INTEGER NOT NULL DEFAULT 0,"
	" version INTEGER NOT NULL DEFAULT 0,"
	" next_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX outbox_order ON outbox(prio, start_ms, id);"
	"CREATE INDEX outbox_cam ON outbox(camera, kind, prio, seq);"
	"CREATE TABLE outbox_init ("
	" init_id INTEGER PRIMARY KEY,"
	" acked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE outbox_cmd ("
	" id TEXT PRIMARY KEY,"
	" ts_ms INTEGER NOT NULL);",
	/* outbox_next()'s list lasts until the next row comes due. */
	"CREATE INDEX outbox_due ON outbox(next_ms);",
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

static struct ob_arg arg_i64(int64_t v)
{
	return (struct ob_arg){ .type = OB_I64, .i = v };
}

static struct ob_arg arg_text(const char *s)
{
	return (struct ob_arg){ .type = OB_TEXT, .p = s };
}

/* One statement: what stmt_run() needs. */
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

static void bind_arg(sqlite3_stmt *st, int i, const struct ob_arg *a)
{
	if (a->type == OB_I64)
		sqlite3_bind_int64(st, i, a->i);
	else if (!a->p)
		sqlite3_bind_null(st, i);
	else if (a->type == OB_TEXT)
		sqlite3_bind_text(st, i, a->p, -1, SQLITE_STATIC);
	else
		sqlite3_bind_blob(st, i, a->p, a->len, SQLITE_STATIC);
}

static int stmt_prepare(sqlite3 *db, const struct ob_query *q, sqlite3_stmt **stp)
{
	if (!q->kept)
		return sqlite3_prepare_v2(db, q->sql, -1, stp, NULL);
	if (!*q->kept && sqlite3_prepare_v3(db, q->sql, -1, SQLITE_PREPARE_PERSISTENT, q->kept,
					    NULL) != SQLITE_OK)
		return SQLITE_ERROR;
	*stp = *q->kept;
	return SQLITE_OK;
}

/* Prepares (or takes the kept statement), binds, steps and finalizes (or
 * resets) statement @q on @db, which the caller holds locked. A SQLite
 * failure is logged with q->what and returns -EIO. */
static int stmt_run(sqlite3 *db, const struct ob_query *q)
{
	sqlite3_stmt *st = NULL;
	int ret = 0, rc;

	if (stmt_prepare(db, q, &st) != SQLITE_OK)
		goto fail;
	for (int i = 0; i < q->nargs; i++)
		bind_arg(st, i + 1, &q->args[i]);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = q->row ? q->row(st, q->arg) : 0;
		if (ret <= 0)
			goto out;
	}
	ret = 0;
	if (rc != SQLITE_DONE)
		goto fail;
	if (q->changesp)
		*q->changesp = sqlite3_changes(db);
	goto out;
fail:
	log_err("outbox: %s: %s", q->what, sqlite3_errmsg(db));
	ret = -EIO;
out:
	if (q->kept) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	return ret;
}

/* stmt_run() under the statedb lock: one statement, its own transaction
 * (O1 holds when it returns). */
static int ob_run(struct outbox *ob, const struct ob_query *q)
{
	sqlite3 *db = statedb_lock(ob->db);
	int ret = stmt_run(db, q);

	statedb_unlock(ob->db);
	return ret;
}

/* After a committed write to the outbox table: outbox_next() starts over. */
static void ob_changed(struct outbox *ob)
{
	atomic_fetch_add(&ob->gen, 1);
}

int outbox_open(struct statedb *db, struct outbox **obp)
{
	const struct ob_query q = { .what = "open", .sql = "UPDATE outbox SET next_ms = 0" };
	struct outbox *ob;
	int ret;

	ret = statedb_migrate(db, "outbox", outbox_steps,
			      (int)(sizeof(outbox_steps) / sizeof(outbox_steps[0])));
	if (ret)
		return ret;
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return -ENOMEM;
	ob->db = db;
	atomic_init(&ob->gen, 0);
	pthread_mutex_init(&ob->rd_lock, NULL);
	ret = ob_run(ob, &q);
	if (!ret)
		ret = statedb_reader_open(db, &ob->rd);
	if (ret) {
		outbox_close(ob);
		return ret;
	}
	*obp = ob;
	return 0;
}

void outbox_close(struct outbox *ob)
{
	if (!ob)
		return;
	statedb_lock(ob->db);
	for (int i = 0; i < OBK_N; i++)
		sqlite3_finalize(ob->kept[i]);
	statedb_unlock(ob->db);
	for (int i = 0; i < OUTBOX_NPRIO; i++) {
		sqlite3_finalize(ob->rd_next[i]);
		sqlite3_finalize(ob->rd_cand[i]);
	}
	sqlite3_finalize(ob->rd_byid);
	sqlite3_finalize(ob->rd_due);
	statedb_reader_close(ob->rd);
	pthread_mutex_destroy(&ob->rd_lock);
	free(ob);
}

static const char sql_insert[] =
	"INSERT INTO outbox(prio, kind, path, camera, ref, seq, start_ms, len, body,"
	" created_ms, deadline_ms, init_id, duration_ms, flags)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
	" ON CONFLICT(path) DO ";
static const char sql_keep[] = "NOTHING";
static const char sql_replace[] =
	"UPDATE SET body = excluded.body, len = excluded.len, prio = min(prio, excluded.prio),"
	" version = version + 1,"
	" created_ms = min(created_ms, excluded.created_ms),"
	" deadline_ms = CASE WHEN deadline_ms = 0 THEN excluded.deadline_ms"
	"  WHEN excluded.deadline_ms = 0 THEN deadline_ms"
	"  ELSE min(deadline_ms, excluded.deadline_ms) END";

/* outbox_put() on the locked @db. */
static int put_one(sqlite3 *db, const struct outbox_item *it, bool replace)
{
	char sql[sizeof(sql_insert) + sizeof(sql_replace)];
	size_t blen = it->body ? strlen(it->body) : 0;
	const struct ob_arg args[] = {
		arg_i64(it->prio),
		arg_i64(it->kind),
		arg_text(it->path),
		arg_text(it->camera),
		arg_i64(it->ref),
		arg_i64(it->seq),
		arg_i64(it->start_ms),
		arg_i64(it->body ? blen : it->len),
		{ .type = OB_BLOB, .p = it->body, .len = (int)blen },
		arg_i64(it->created_ms),
		arg_i64(it->deadline_ms),
		arg_i64(it->init_id),
		arg_i64(it->duration_ms),
		arg_i64(it->flags),
	};
	const struct ob_query q = {
		.what = it->path, .sql = sql, .args = args, .nargs = NARGS(args)
	};

	if (blen > OUTBOX_BODY_MAX || strnlen(it->path, OUTBOX_PATH_MAX) >= OUTBOX_PATH_MAX) {
		log_err("outbox: %s: body or path too long", it->path);
		return -E2BIG;
	}
	snprintf(sql, sizeof(sql), "%s%s", sql_insert, replace ? sql_replace : sql_keep);
	return stmt_run(db, &q);
}

int outbox_put(struct outbox *ob, const struct outbox_item *it, bool replace)
{
	sqlite3 *db = statedb_lock(ob->db);
	int ret = put_one(db, it, replace);

	statedb_unlock(ob->db);
	ob_changed(ob);
	return ret;
}

static bool is_busy(int64_t id, const int64_t *busy, size_t nbusy)
{
	for (size_t i = 0; i < nbusy; i++)
		if (busy[i] == id)
			return true;
	return false;
}

static int row_to_item(sqlite3_stmt *st, struct outbox_item *it)
{
	const void *body = sqlite3_column_blob(st, 9);
	int blen = sqlite3_column_bytes(st, 9);

	memset(it, 0, sizeof(*it));
	it->id = sqlite3_column_int64(st, 0);
	it->prio = sqlite3_column_int(st, 1);
	it->kind = sqlite3_column_int(st, 2);
	snprintf(it->path, sizeof(it->path), "%s", (const char *)sqlite3_column_text(st, 3));
	snprintf(it->camera, sizeof(it->camera), "%s", (const char *)sqlite3_column_text(st, 4));
	it->ref = (uint64_t)sqlite3_column_int64(st, 5);
	it->seq = (uint64_t)sqlite3_column_int64(st, 6);
	it->start_ms = sqlite3_column_int64(st, 7);
	it->len = (uint64_t)sqlite3_column_int64(st, 8);
	it->created_ms = sqlite3_column_int64(st, 10);
	it->deadline_ms = sqlite3_column_int64(st, 11);
	it->tries = (uint32_t)sqlite3_column_int64(st, 12);
	it->version = (uint32_t)sqlite3_column_int64(st, 13);
	it->init_id = (uint64_t)sqlite3_column_int64(st, 14);
	it->duration_ms = (uint32_t)sqlite3_column_int64(st, 15);
	it->flags = (uint32_t)sqlite3_column_int64(st, 16);
	if (!body)
		return 0;
	it->body = malloc((size_t)blen + 1);
	if (!it->body)
		return -ENOMEM;
	memcpy(it->body, body, (size_t)blen);
	it->body[blen] = '\0';
	return 0;
}

/* O3, one query per priority. URGENT and BACKLOG walk the outbox_order
 * index. LIVE (a few rows per camera, outbox_demote() keeps it small)
 * is sorted by each row's rank within its camera, newest = 0, so every
 * camera's newest segment goes before any camera's second newest. */
#define NEXT_SQL(cols, prio, order)                                                                \
	"SELECT " cols " FROM outbox AS o WHERE prio = " prio " AND next_ms <= ?1 ORDER BY " order \
	" LIMIT ?2"
#define ORDER_URGENT "start_ms, id"
#define ORDER_LIVE                                                                                 \
	"(SELECT count(*) FROM outbox AS n WHERE n.camera = o.camera"                              \
	"  AND n.kind = o.kind AND n.prio = 1 AND n.seq > o.seq), start_ms DESC, id"
#define ORDER_BACKLOG "start_ms, id"

static const char *const next_sql[OUTBOX_NPRIO] = {
	[OUTBOX_URGENT] = NEXT_SQL(COLS, "0", ORDER_URGENT),
	[OUTBOX_LIVE] = NEXT_SQL(COLS, "1", ORDER_LIVE),
	[OUTBOX_BACKLOG] = NEXT_SQL(COLS, "2", ORDER_BACKLOG),
};

static const char *const cand_sql[OUTBOX_NPRIO] = {
	[OUTBOX_URGENT] = NEXT_SQL("id", "0", ORDER_URGENT),
	[OUTBOX_LIVE] = NEXT_SQL("id", "1", ORDER_LIVE),
	[OUTBOX_BACKLOG] = NEXT_SQL("id", "2", ORDER_BACKLOG),
};

struct next_ctx {
	const int64_t *busy;
	size_t nbusy;
	struct outbox_item *it;
	bool found;
};

static int next_row(sqlite3_stmt *st, void *arg)
{
	struct next_ctx *nc = arg;

	if (is_busy(sqlite3_column_int64(st, 0), nc->busy, nc->nbusy))
		return 1;
	nc->found = true;
	return row_to_item(st, nc->it);
}

/* The first due row not in @busy by O3, by running the priority queries
 * (outbox_next()'s way when its list cannot answer). */
static int next_direct(struct outbox *ob, int64_t now, const int64_t *busy, size_t nbusy,
		       struct outbox_item *it, bool *foundp)
{
	struct next_ctx nc = { .busy = busy, .nbusy = nbusy, .it = it };
	const struct ob_arg args[] = { arg_i64(now), arg_i64(nbusy + OUTBOX_PEEK_MAX) };
	struct ob_query q = {
		.what = "next", .args = args, .nargs = NARGS(args), .row = next_row, .arg = &nc
	};
	int ret = 0;

	for (int p = 0; p < OUTBOX_NPRIO && !ret && !nc.found; p++) {
		q.sql = next_sql[p];
		q.kept = &ob->rd_next[p];
		ret = stmt_run(ob->rd, &q);
	}
	if (ret && nc.found)
		outbox_item_clear(it);
	*foundp = !ret && nc.found;
	return ret;
}

static int due_row(sqlite3_stmt *st, void *arg)
{
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		*(int64_t *)arg = sqlite3_column_int64(st, 0);
	return 0;
}

static int cand_row(sqlite3_stmt *st, void *arg)
{
	struct outbox *ob = arg;

	ob->cand[ob->ncand++] = sqlite3_column_int64(st, 0);
	return ob->ncand < OUTBOX_CAND_MAX;
}

/* The list of due rows in O3 order as of generation @gen. */
static int cand_fill(struct outbox *ob, int64_t now, uint_fast64_t gen)
{
	struct ob_arg args[] = { arg_i64(now), arg_i64(OUTBOX_CAND_MAX) };
	struct ob_query q = {
		.what = "next", .args = args, .nargs = NARGS(args), .row = cand_row, .arg = ob
	};
	int ret = 0;

	ob->cand_ok = false;
	ob->ncand = 0;
	for (int p = 0; p < OUTBOX_NPRIO && !ret && ob->ncand < OUTBOX_CAND_MAX; p++) {
		args[1] = arg_i64((int64_t)(OUTBOX_CAND_MAX - ob->ncand));
		q.sql = cand_sql[p];
		q.kept = &ob->rd_cand[p];
		ret = stmt_run(ob->rd, &q);
	}
	if (!ret) {
		const struct ob_query due = {
			.what = "next",
			.sql = "SELECT min(next_ms) FROM outbox WHERE next_ms > ?1",
			.kept = &ob->rd_due,
			.args = args,
			.nargs = 1,
			.row = due_row,
			.arg = &ob->cand_until
		};

		ob->cand_until = INT64_MAX;
		ret = stmt_run(ob->rd, &due);
	}
	if (ret)
		return ret;
	/* A full list may have left rows out; an exact fit is taken as such. */
	ob->cand_all = ob->ncand < OUTBOX_CAND_MAX;
	ob->cand_gen = gen;
	ob->cand_now = now;
	ob->cand_ok = true;
	return 0;
}

static int byid_row(sqlite3_stmt *st, void *arg)
{
	struct next_ctx *nc = arg;

	nc->found = true;
	return row_to_item(st, nc->it);
}

/* The first listed row not in @busy. *foundp false: none, or the list
 * no longer matches the table (then it is dropped). */
static int cand_take(struct outbox *ob, int64_t now, const int64_t *busy, size_t nbusy,
		     struct outbox_item *it, bool *foundp)
{
	struct next_ctx nc = { .it = it };
	struct ob_arg args[] = { arg_i64(0), arg_i64(now) };
	const struct ob_query q = { .what = "next",
				    .sql = "SELECT " COLS
					   " FROM outbox WHERE id = ?1 AND next_ms <= ?2",
				    .kept = &ob->rd_byid,
				    .args = args,
				    .nargs = NARGS(args),
				    .row = byid_row,
				    .arg = &nc };
	int ret;

	*foundp = false;
	for (size_t i = 0; i < ob->ncand; i++) {
		if (is_busy(ob->cand[i], busy, nbusy))
			continue;
		args[0] = arg_i64(ob->cand[i]);
		ret = stmt_run(ob->rd, &q);
		if (ret) {
			if (nc.found)
				outbox_item_clear(it);
			return ret;
		}
		if (!nc.found) /* changed under us by a write not yet counted */
			ob->cand_ok = false;
		*foundp = nc.found;
		return 0;
	}
	return 0;
}

int outbox_next(struct outbox *ob, int64_t now_mono_ms, const int64_t *busy, size_t nbusy,
		struct outbox_item *it)
{
	/* Read before the queries: a write that lands during them leaves an
	 * older generation on the list, so the next call starts over. */
	uint_fast64_t gen = atomic_load(&ob->gen);
	bool found = false;
	int ret = 0;

	pthread_mutex_lock(&ob->rd_lock);
	if (!ob->cand_ok || ob->cand_gen != gen || now_mono_ms < ob->cand_now ||
	    now_mono_ms >= ob->cand_until)
		ret = cand_fill(ob, now_mono_ms, gen);
	if (!ret)
		ret = cand_take(ob, now_mono_ms, busy, nbusy, it, &found);
	/* Not answered from the list: rows past its end, or it went stale. */
	if (!ret && !found && (!ob->cand_all || !ob->cand_ok))
		ret = next_direct(ob, now_mono_ms, busy, nbusy, it, &found);
	pthread_mutex_unlock(&ob->rd_lock);
	return ret ? ret : found ? 0 : -ENOENT;
}

void outbox_item_clear(struct outbox_item *it)
{
	free(it->body);
	it->body = NULL;
}

/* One acknowledgement on the locked db (O2, O4). */
static int done_one(struct outbox *ob, sqlite3 *db, const struct outbox_ack *a)
{
	const struct ob_arg args[] = { arg_i64(a->id), arg_i64(a->version) };
	const struct ob_arg init[] = { arg_i64(a->ref) };
	int changes = 0;
	const struct ob_query del = { .what = "done",
				      .sql = "DELETE FROM outbox WHERE id = ?1 AND version = ?2",
				      .kept = &ob->kept[OBK_DONE],
				      .args = args,
				      .nargs = NARGS(args),
				      .changesp = &changes };
	const struct ob_query again = { .what = "done",
					.sql = "UPDATE outbox SET next_ms = 0 WHERE id = ?1",
					.kept = &ob->kept[OBK_AGAIN],
					.args = args,
					.nargs = 1 };
	const struct ob_query acked = { .what = "done",
					.sql = "INSERT OR REPLACE INTO outbox_init(init_id, acked)"
					       " VALUES (?1, 1)",
					.kept = &ob->kept[OBK_INIT_ACKED],
					.args = init,
					.nargs = NARGS(init) };
	int ret = stmt_run(db, &del);

	if (!ret && !changes) /* replaced meanwhile: due at once */
		ret = stmt_run(db, &again);
	if (!ret && a->init)
		ret = stmt_run(db, &acked);
	return ret;
}

int outbox_commit(struct outbox *ob, const struct outbox_item *puts, size_t nputs,
		  const struct outbox_ack *acks, size_t n)
{
	const struct ob_query begin = { .what = "done", .sql = "BEGIN IMMEDIATE" };
	const struct ob_query commit = { .what = "done", .sql = "COMMIT" };
	sqlite3 *db;
	int ret;

	if (!n && !nputs)
		return 0;
	db = statedb_lock(ob->db);
	ret = stmt_run(db, &begin);
	if (ret)
		goto out;
	for (size_t i = 0; i < nputs && !ret; i++)
		ret = put_one(db, &puts[i], true);
	for (size_t i = 0; i < n && !ret; i++)
		ret = done_one(ob, db, &acks[i]);
	if (!ret)
		ret = stmt_run(db, &commit);
	if (ret)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	statedb_unlock(ob->db);
	ob_changed(ob);
	return ret;
}

int outbox_done_many(struct outbox *ob, const struct outbox_ack *acks, size_t n)
{
	return outbox_commit(ob, NULL, 0, acks, n);
}

int outbox_done(struct outbox *ob, int64_t id, uint32_t version)
{
	const struct outbox_ack a = { .id = id, .version = version };

	return outbox_done_many(ob, &a, 1);
}

int outbox_retry(struct outbox *ob, int64_t id, int64_t next_mono_ms)
{
	const struct ob_arg args[] = { arg_i64(id), arg_i64(next_mono_ms) };
	const struct ob_query q = {
		.what = "retry",
		.sql = "UPDATE outbox SET tries = tries + 1, next_ms = ?2 WHERE id = ?1",
		.args = args,
		.nargs = NARGS(args),
	};
	int ret = ob_run(ob, &q);

	ob_changed(ob);
	return ret;
}

int outbox_demote(struct outbox *ob, const char *camera, unsigned int keep)
{
	const struct ob_arg args[] = { arg_i64(OUTBOX_BACKLOG), arg_i64(OUTBOX_LIVE),
				       arg_i64(OUTBOX_SEGMENT), arg_i64(keep), arg_text(camera) };
	const struct ob_query q = {
		.what = camera,
		.sql = "UPDATE outbox SET prio = ?1 WHERE prio = ?2 AND kind = ?3 AND camera = ?5"
		       " AND seq <= (SELECT seq FROM outbox WHERE prio = ?2 AND kind = ?3"
		       "  AND camera = ?5 ORDER BY seq DESC LIMIT 1 OFFSET ?4)",
		.args = args,
		.nargs = NARGS(args),
	};
	int ret = ob_run(ob, &q);

	ob_changed(ob);
	return ret;
}

int outbox_init_seen(struct outbox *ob, uint64_t init_id, bool *newp)
{
	const struct ob_arg args[] = { arg_i64(init_id) };
	int changes = 0;
	const struct ob_query q = {
		.what = "init",
		.sql = "INSERT OR IGNORE INTO outbox_init(init_id) VALUES (?1)",
		.args = args,
		.nargs = NARGS(args),
		.changesp = &changes,
	};
	int ret = ob_run(ob, &q);

	if (!ret)
		*newp = changes > 0;
	return ret;
}

int outbox_init_set_acked(struct outbox *ob, uint64_t init_id)
{
	const struct ob_arg args[] = { arg_i64(init_id) };
	const struct ob_query q = {
		.what = "init",
		.sql = "INSERT OR REPLACE INTO outbox_init(init_id, acked) VALUES (?1, 1)",
		.args = args,
		.nargs = NARGS(args),
	};

	return ob_run(ob, &q);
}

int outbox_cmd_seen(struct outbox *ob, const char *id, int64_t now_ms, bool *newp)
{
	const struct ob_arg args[] = { arg_text(id), arg_i64(now_ms) };
	int changes = 0;
	const struct ob_query q = {
		.what = id,
		.sql = "INSERT OR IGNORE INTO outbox_cmd(id, ts_ms) VALUES (?1, ?2)",
		.args = args,
		.nargs = NARGS(args),
		.changesp = &changes,
	};
	int ret = ob_run(ob, &q);

	if (!ret)
		*newp = changes > 0;
	return ret;
}

/* A one-row query's first column as a bool; false when there is no row. */
static int first_bool(sqlite3_stmt *st, void *arg)
{
	*(bool *)arg = sqlite3_column_int(st, 0) != 0;
	return 0;
}

/* One-parameter query whose first row's first column is a truth value;
 * no row is false. *out is set only on success. */
static int ob_bool(struct outbox *ob, const char *what, const char *sql, struct ob_arg a, bool *out)
{
	bool v = false;
	const struct ob_query q = {
		.what = what,
		.sql = sql,
		.args = &a,
		.nargs = 1,
		.row = first_bool,
		.arg = &v,
	};
	int ret = ob_run(ob, &q);

	if (!ret)
		*out = v;
	return ret;
}

int outbox_init_acked(struct outbox *ob, uint64_t init_id, bool *ackedp)
{
	return ob_bool(ob, "init", "SELECT acked FROM outbox_init WHERE init_id = ?1",
		       arg_i64((int64_t)init_id), ackedp);
}

int outbox_cmd_known(struct outbox *ob, const char *id, bool *knownp)
{
	return ob_bool(ob, id, "SELECT 1 FROM outbox_cmd WHERE id = ?1", arg_text(id), knownp);
}

static int stat_prio_row(sqlite3_stmt *q, void *arg)
{
	struct outbox_stat *st = arg;
	int p = sqlite3_column_int(q, 0);

	if (p >= 0 && p < OUTBOX_NPRIO) {
		st->rows[p] = (uint64_t)sqlite3_column_int64(q, 1);
		st->bytes[p] = (uint64_t)sqlite3_column_double(q, 2);
		st->oldest_ms[p] = sqlite3_column_int64(q, 3);
	}
	return 1;
}

static int stat_registry_row(sqlite3_stmt *q, void *arg)
{
	struct outbox_stat *st = arg;

	snprintf(st->registry_path, sizeof(st->registry_path), "%s",
		 (const char *)sqlite3_column_text(q, 0));
	st->registry_created_ms = sqlite3_column_int64(q, 1);
	st->registry_deadline_ms = sqlite3_column_int64(q, 2);
	st->registry_rows = (uint64_t)sqlite3_column_int64(q, 3);
	return 0;
}

int outbox_stat(struct outbox *ob, struct outbox_stat *st)
{
	const struct ob_arg args[] = { arg_i64(OUTBOX_REGISTRY) };
	const struct ob_query prio = {
		.what = "stat",
		.sql = "SELECT prio, count(*), total(len), min(start_ms) FROM outbox GROUP BY prio",
		.row = stat_prio_row,
		.arg = st,
	};
	const struct ob_query reg = {
		.what = "stat",
		.sql = "SELECT path, created_ms, deadline_ms,"
		       " (SELECT count(*) FROM outbox WHERE kind = ?1)"
		       " FROM outbox WHERE kind = ?1 ORDER BY created_ms LIMIT 1",
		.args = args,
		.nargs = NARGS(args),
		.row = stat_registry_row,
		.arg = st,
	};
	sqlite3 *db = statedb_lock(ob->db);
	int ret;

	memset(st, 0, sizeof(*st));
	ret = stmt_run(db, &prio);
	if (!ret)
		ret = stmt_run(db, &reg);
	statedb_unlock(ob->db);
	return ret;
}
