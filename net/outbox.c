// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The outbox tables, module "outbox" in state.db (guarantees in
 * net/outbox.h), and every write to them. Every statement goes through
 * outbox__stmt_run(): writes here under the statedb lock, outbox_next()
 * (outbox_next.c) on the outbox's own read connection. A write is its
 * own transaction, so O1 holds when a call returns; outbox_commit()
 * groups its puts and acknowledgements in one.
 */
#include "net/outbox_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sql.h"
#include "storage/statedb.h"

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
	/* The newest playlist of each camera, kept after central has it:
	 * the live window's state across restarts (outbox_live_get()). */
	"CREATE TABLE outbox_live ("
	" camera TEXT PRIMARY KEY,"
	" body BLOB NOT NULL);",
	/* The outbox is the one record of a segment's upload (outbox_seg.c):
	 * per camera, the seq up to which every segment had its row. */
	"CREATE TABLE outbox_queued ("
	" camera TEXT PRIMARY KEY,"
	" seq INTEGER NOT NULL);"
	"CREATE INDEX outbox_ref ON outbox(kind, ref);",
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

int outbox__stmt_run(sqlite3 *db, const struct ob_query *q)
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
	/* A full or failing disk fails every write the same way: limited. */
	log_err_limited("outbox: %s: %s", q->what, sqlite3_errmsg(db));
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

/* outbox__stmt_run() under the statedb lock: one statement, its own
 * transaction (O1 holds when it returns). */
static int ob_run(struct outbox *ob, const struct ob_query *q)
{
	sqlite3 *db = statedb_lock(ob->db);
	int ret = outbox__stmt_run(db, q);

	statedb_unlock(ob->db);
	return ret;
}

/* After a committed write to the outbox table: outbox_next() starts over. */
static void ob_changed(struct outbox *ob)
{
	atomic_fetch_add(&ob->gen, 1);
}

int outbox__run(struct outbox *ob, const struct ob_query *q)
{
	int ret = ob->reader ? -EROFS : ob_run(ob, q);

	ob_changed(ob);
	return ret;
}

int outbox_open(struct statedb *db, struct outbox **obp)
{
	/* Not the dead rows (OUTBOX_DEAD): they are never sent again. */
	_Static_assert(OUTBOX_DEAD == 3, "the UPDATE below spells OUTBOX_DEAD");
	const struct ob_query q = { .what = "open",
				    .sql = "UPDATE outbox SET next_ms = 0 WHERE prio < 3" };
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
	const struct ob_arg largs[] = { arg_text(it->camera), args[8] };
	const struct ob_query live = { .what = it->path,
				       .sql = "INSERT OR REPLACE INTO outbox_live(camera, body)"
					      " VALUES (?1, ?2)",
				       .args = largs,
				       .nargs = NARGS(largs) };
	int ret;

	if (blen > OUTBOX_BODY_MAX || strnlen(it->path, OUTBOX_PATH_MAX) >= OUTBOX_PATH_MAX) {
		log_err("outbox: %s: body or path too long", it->path);
		return -E2BIG;
	}
	snprintf(sql, sizeof(sql), "%s%s", sql_insert, replace ? sql_replace : sql_keep);
	ret = outbox__stmt_run(db, &q);
	if (!ret && it->kind == OUTBOX_PLAYLIST && it->body)
		ret = outbox__stmt_run(db, &live);
	return ret;
}

int outbox_put(struct outbox *ob, const struct outbox_item *it, bool replace)
{
	sqlite3 *db;
	int ret;

	if (ob->reader)
		return -EROFS;
	/* Two tables: one transaction (and playlists are always replaced). */
	if (it->kind == OUTBOX_PLAYLIST)
		return outbox_commit(ob, it, 1, NULL, 0);
	db = statedb_lock(ob->db);
	ret = put_one(db, it, replace);

	statedb_unlock(ob->db);
	ob_changed(ob);
	return ret;
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
	int ret = outbox__stmt_run(db, &del);

	if (!ret && !changes) /* replaced meanwhile: due at once */
		ret = outbox__stmt_run(db, &again);
	if (!ret && a->init)
		ret = outbox__stmt_run(db, &acked);
	return ret;
}

/* Runs @body on the locked db inside one transaction: committed when it
 * returns 0, rolled back otherwise (all or nothing, O1 and O2). */
static int ob_txn(struct outbox *ob, const char *what, int (*body)(sqlite3 *db, void *arg),
		  void *arg)
{
	char w[48];
	int ret;

	if (ob->reader)
		return -EROFS;
	snprintf(w, sizeof(w), "outbox: %s", what);
	ret = sql_txn(statedb_lock(ob->db), w, body, arg);
	statedb_unlock(ob->db);
	ob_changed(ob);
	return ret;
}

struct commit_ctx {
	struct outbox *ob;
	const struct outbox_item *puts;
	size_t nputs;
	const struct outbox_ack *acks;
	size_t n;
};

static int commit_body(sqlite3 *db, void *arg)
{
	const struct commit_ctx *c = arg;
	int ret = 0;

	for (size_t i = 0; i < c->nputs && !ret; i++)
		ret = put_one(db, &c->puts[i], true);
	for (size_t i = 0; i < c->n && !ret; i++)
		ret = done_one(c->ob, db, &c->acks[i]);
	return ret;
}

int outbox_commit(struct outbox *ob, const struct outbox_item *puts, size_t nputs,
		  const struct outbox_ack *acks, size_t n)
{
	struct commit_ctx c = { .ob = ob, .puts = puts, .nputs = nputs, .acks = acks, .n = n };

	return n || nputs ? ob_txn(ob, "done", commit_body, &c) : 0;
}

struct put_many_ctx {
	const struct outbox_item *its;
	size_t n;
	int (*also)(struct sqlite3 *db, void *arg);
	void *arg;
};

static int put_many_body(sqlite3 *db, void *arg)
{
	const struct put_many_ctx *c = arg;
	int ret = 0;

	for (size_t i = 0; i < c->n && !ret; i++)
		ret = put_one(db, &c->its[i], false);
	if (!ret && c->also)
		ret = c->also(db, c->arg);
	return ret;
}

int outbox_put_many(struct outbox *ob, const struct outbox_item *its, size_t n,
		    int (*also)(struct sqlite3 *db, void *arg), void *arg)
{
	struct put_many_ctx c = { .its = its, .n = n, .also = also, .arg = arg };

	return n || also ? ob_txn(ob, "put", put_many_body, &c) : 0;
}

int outbox_done(struct outbox *ob, int64_t id, uint32_t version)
{
	const struct outbox_ack a = { .id = id, .version = version };

	return outbox_commit(ob, NULL, 0, &a, 1);
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

	return outbox__run(ob, &q);
}

/* Keeps the @keep newest LIVE media rows of @camera; its older LIVE media
 * become BACKLOG (outbox_put_media()). */
static int demote_one(sqlite3 *db, const char *camera, unsigned int keep)
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

	return outbox__stmt_run(db, &q);
}

/* Remembers init segment @init_id; *newp: the first time it is seen. */
static int init_seen_one(sqlite3 *db, uint64_t init_id, bool *newp)
{
	const struct ob_arg args[] = { arg_i64((int64_t)init_id) };
	int changes = 0;
	const struct ob_query q = {
		.what = "init",
		.sql = "INSERT OR IGNORE INTO outbox_init(init_id) VALUES (?1)",
		.args = args,
		.nargs = NARGS(args),
		.changesp = &changes,
	};
	int ret = outbox__stmt_run(db, &q);

	*newp = !ret && changes > 0;
	return ret;
}

static bool seen_camera(const struct outbox_media *m, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(m[j].seg.camera, m[i].seg.camera))
			return true;
	return false;
}

struct media_ctx {
	const struct outbox_media *m;
	size_t n;
	unsigned int demote_keep;
};

static int media_body(sqlite3 *db, void *arg)
{
	const struct media_ctx *c = arg;
	const struct outbox_media *m = c->m;
	bool fresh;
	int ret = 0;

	for (size_t i = 0; i < c->n && !ret; i++) {
		ret = init_seen_one(db, m[i].init.ref, &fresh);
		if (!ret && fresh)
			ret = put_one(db, &m[i].init, false);
		if (!ret)
			ret = put_one(db, &m[i].seg, false);
		if (!ret && m[i].queued)
			ret = outbox__queued_bump(db, m[i].seg.camera, m[i].seg.seq);
	}
	for (size_t i = 0; i < c->n && !ret && c->demote_keep; i++)
		if (!seen_camera(m, i))
			ret = demote_one(db, m[i].seg.camera, c->demote_keep);
	return ret;
}

int outbox_put_media(struct outbox *ob, const struct outbox_media *m, size_t n,
		     unsigned int demote_keep)
{
	struct media_ctx c = { .m = m, .n = n, .demote_keep = demote_keep };

	return n ? ob_txn(ob, "media", media_body, &c) : 0;
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
	int ret = ob->reader ? -EROFS : ob_run(ob, &q);

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

static int first_text(sqlite3_stmt *st, void *arg)
{
	const void *p = sqlite3_column_blob(st, 0);
	int len = sqlite3_column_bytes(st, 0);
	char *s = malloc((size_t)len + 1);

	if (!s)
		return -ENOMEM;
	if (len)
		memcpy(s, p, (size_t)len);
	s[len] = '\0';
	*(char **)arg = s;
	return 0;
}

int outbox_live_get(struct outbox *ob, const char *camera, char **bodyp)
{
	char *body = NULL;
	const struct ob_arg a = arg_text(camera);
	const struct ob_query q = {
		.what = camera,
		.sql = "SELECT body FROM outbox_live WHERE camera = ?1",
		.args = &a,
		.nargs = 1,
		.row = first_text,
		.arg = &body,
	};
	int ret = ob_run(ob, &q);

	if (ret)
		return ret;
	if (!body)
		return -ENOENT;
	*bodyp = body;
	return 0;
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
	ret = outbox__stmt_run(db, &prio);
	if (!ret)
		ret = outbox__stmt_run(db, &reg);
	statedb_unlock(ob->db);
	return ret;
}
