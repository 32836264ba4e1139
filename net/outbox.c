// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The outbox tables, module "outbox" in state.db (guarantees in
 * net/outbox.h). One statement per call under the statedb lock; every
 * write is its own transaction, so O1 holds when a call returns.
 */
#include "net/outbox.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "storage/statedb.h"

struct outbox {
	struct statedb *db;
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
};

#define COLS                                                                                       \
	"id, prio, kind, path, camera, ref, seq, start_ms, len, body, created_ms,"                 \
	" deadline_ms, tries, version, init_id, duration_ms, flags"

/* Runs @sql with up to 4 int64 parameters (NULL-terminated text may
 * follow as @text at ?5). Sets *changesp when not NULL. */
static int exec_i64(struct outbox *ob, const char *sql, const int64_t *v, int nv, const char *text,
		    int *changesp)
{
	sqlite3 *db = statedb_lock(ob->db);
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (int i = 0; i < nv; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	if (text)
		sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	if (changesp)
		*changesp = sqlite3_changes(db);
	goto out;
fail:
	log_err("outbox: %s", sqlite3_errmsg(db));
	ret = -EIO;
out:
	sqlite3_finalize(st);
	statedb_unlock(ob->db);
	return ret;
}

int outbox_open(struct statedb *db, struct outbox **obp)
{
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
	ret = exec_i64(ob, "UPDATE outbox SET next_ms = 0", NULL, 0, NULL, NULL);
	if (ret) {
		free(ob);
		return ret;
	}
	*obp = ob;
	return 0;
}

void outbox_close(struct outbox *ob)
{
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

int outbox_put(struct outbox *ob, const struct outbox_item *it, bool replace)
{
	char sql[sizeof(sql_insert) + sizeof(sql_replace)];
	size_t blen = it->body ? strlen(it->body) : 0;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int ret = 0;

	if (blen > OUTBOX_BODY_MAX || strnlen(it->path, OUTBOX_PATH_MAX) >= OUTBOX_PATH_MAX) {
		log_err("outbox: %s: body or path too long", it->path);
		return -E2BIG;
	}
	snprintf(sql, sizeof(sql), "%s%s", sql_insert, replace ? sql_replace : sql_keep);
	db = statedb_lock(ob->db);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, it->prio);
	sqlite3_bind_int(st, 2, it->kind);
	sqlite3_bind_text(st, 3, it->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, it->camera, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)it->ref);
	sqlite3_bind_int64(st, 6, (int64_t)it->seq);
	sqlite3_bind_int64(st, 7, it->start_ms);
	sqlite3_bind_int64(st, 8, (int64_t)(it->body ? blen : it->len));
	if (it->body)
		sqlite3_bind_blob(st, 9, it->body, (int)blen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, it->created_ms);
	sqlite3_bind_int64(st, 11, it->deadline_ms);
	sqlite3_bind_int64(st, 12, (int64_t)it->init_id);
	sqlite3_bind_int64(st, 13, it->duration_ms);
	sqlite3_bind_int64(st, 14, it->flags);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	goto out;
fail:
	log_err("outbox: %s: %s", it->path, sqlite3_errmsg(db));
	ret = -EIO;
out:
	sqlite3_finalize(st);
	statedb_unlock(ob->db);
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

int outbox_next(struct outbox *ob, int64_t now_mono_ms, const int64_t *busy, size_t nbusy,
		struct outbox_item *it)
{
	sqlite3 *db = statedb_lock(ob->db);
	sqlite3_stmt *st = NULL;
	int ret = -ENOENT, rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT " COLS " FROM outbox WHERE next_ms <= ?1"
			       " ORDER BY prio, start_ms, id LIMIT ?2",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, now_mono_ms);
	sqlite3_bind_int64(st, 2, (int64_t)nbusy + OUTBOX_PEEK_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (is_busy(sqlite3_column_int64(st, 0), busy, nbusy))
			continue;
		ret = row_to_item(st, it);
		goto out;
	}
	if (rc == SQLITE_DONE)
		goto out;
fail:
	log_err("outbox: next: %s", sqlite3_errmsg(db));
	ret = -EIO;
out:
	sqlite3_finalize(st);
	statedb_unlock(ob->db);
	return ret;
}

void outbox_item_clear(struct outbox_item *it)
{
	free(it->body);
	it->body = NULL;
}

int outbox_done(struct outbox *ob, int64_t id, uint32_t version)
{
	int64_t v[2] = { id, version };
	int changes = 0;
	int ret = exec_i64(ob, "DELETE FROM outbox WHERE id = ?1 AND version = ?2", v, 2, NULL,
			   &changes);

	if (ret || changes)
		return ret;
	return exec_i64(ob, "UPDATE outbox SET next_ms = 0 WHERE id = ?1", v, 1, NULL, NULL);
}

int outbox_retry(struct outbox *ob, int64_t id, int64_t next_mono_ms)
{
	int64_t v[2] = { id, next_mono_ms };

	return exec_i64(ob, "UPDATE outbox SET tries = tries + 1, next_ms = ?2 WHERE id = ?1", v, 2,
			NULL, NULL);
}

int outbox_demote(struct outbox *ob, const char *camera, unsigned int keep)
{
	int64_t v[4] = { OUTBOX_BACKLOG, OUTBOX_LIVE, OUTBOX_SEGMENT, keep };

	return exec_i64(ob,
			"UPDATE outbox SET prio = ?1 WHERE prio = ?2 AND kind = ?3 AND camera = ?5"
			" AND seq <= (SELECT seq FROM outbox WHERE prio = ?2 AND kind = ?3"
			"  AND camera = ?5 ORDER BY seq DESC LIMIT 1 OFFSET ?4)",
			v, 4, camera, NULL);
}

int outbox_init_seen(struct outbox *ob, uint64_t init_id, bool *newp)
{
	int64_t v[1] = { (int64_t)init_id };
	int changes = 0;
	int ret = exec_i64(ob, "INSERT OR IGNORE INTO outbox_init(init_id) VALUES (?1)", v, 1, NULL,
			   &changes);

	if (!ret)
		*newp = changes > 0;
	return ret;
}

int outbox_init_set_acked(struct outbox *ob, uint64_t init_id)
{
	int64_t v[1] = { (int64_t)init_id };

	return exec_i64(ob, "INSERT OR REPLACE INTO outbox_init(init_id, acked) VALUES (?1, 1)", v,
			1, NULL, NULL);
}

int outbox_cmd_seen(struct outbox *ob, const char *id, int64_t now_ms, bool *newp)
{
	int64_t v[1] = { now_ms };
	int changes = 0;
	int ret = exec_i64(ob, "INSERT OR IGNORE INTO outbox_cmd(id, ts_ms) VALUES (?5, ?1)", v, 1,
			   id, &changes);

	if (!ret)
		*newp = changes > 0;
	return ret;
}

/* One-row query: *valp = first column (int) != 0, false when no row. */
static int query_bool(struct outbox *ob, const char *sql, int64_t v, const char *text, bool *valp)
{
	sqlite3 *db = statedb_lock(ob->db);
	sqlite3_stmt *st = NULL;
	int ret = 0, rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, v);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	*valp = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
	goto out;
fail:
	log_err("outbox: %s", sqlite3_errmsg(db));
	ret = -EIO;
out:
	sqlite3_finalize(st);
	statedb_unlock(ob->db);
	return ret;
}

int outbox_init_acked(struct outbox *ob, uint64_t init_id, bool *ackedp)
{
	return query_bool(ob, "SELECT acked FROM outbox_init WHERE init_id = ?1", (int64_t)init_id,
			  NULL, ackedp);
}

int outbox_cmd_known(struct outbox *ob, const char *id, bool *knownp)
{
	return query_bool(ob, "SELECT 1 FROM outbox_cmd WHERE id = ?1", 0, id, knownp);
}

static int stat_prio(sqlite3 *db, struct outbox_stat *st)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT prio, count(*), total(len), min(start_ms) FROM outbox"
			       " GROUP BY prio",
			       -1, &q, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int p = sqlite3_column_int(q, 0);

		if (p < 0 || p >= OUTBOX_NPRIO)
			continue;
		st->rows[p] = (uint64_t)sqlite3_column_int64(q, 1);
		st->bytes[p] = (uint64_t)sqlite3_column_double(q, 2);
		st->oldest_ms[p] = sqlite3_column_int64(q, 3);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int stat_registry(sqlite3 *db, struct outbox_stat *st)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT path, created_ms, deadline_ms,"
			       " (SELECT count(*) FROM outbox WHERE kind = ?1)"
			       " FROM outbox WHERE kind = ?1 ORDER BY created_ms LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int(q, 1, OUTBOX_REGISTRY);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		snprintf(st->registry_path, sizeof(st->registry_path), "%s",
			 (const char *)sqlite3_column_text(q, 0));
		st->registry_created_ms = sqlite3_column_int64(q, 1);
		st->registry_deadline_ms = sqlite3_column_int64(q, 2);
		st->registry_rows = (uint64_t)sqlite3_column_int64(q, 3);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int outbox_stat(struct outbox *ob, struct outbox_stat *st)
{
	sqlite3 *db = statedb_lock(ob->db);
	int ret;

	memset(st, 0, sizeof(*st));
	ret = stat_prio(db, st);
	if (!ret)
		ret = stat_registry(db, st);
	if (ret)
		log_err("outbox: stat: %s", sqlite3_errmsg(db));
	statedb_unlock(ob->db);
	return ret;
}
