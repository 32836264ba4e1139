// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * outbox_next(): which row the uplink sends next (O3), read on the
 * outbox's own connection, from the order it keeps between writes
 * (net/outbox_int.h) or, past it, by the priority queries themselves.
 */
#include "net/outbox_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * index. LIVE (a few rows per camera, outbox_put_media() keeps it small)
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
		ret = outbox__stmt_run(ob->rd, &q);
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
		ret = outbox__stmt_run(ob->rd, &q);
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
		ret = outbox__stmt_run(ob->rd, &due);
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
		ret = outbox__stmt_run(ob->rd, &q);
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

	outbox__rd_lock(ob);
	if (!ob->cand_ok || ob->cand_gen != gen || now_mono_ms < ob->cand_now ||
	    now_mono_ms >= ob->cand_until)
		ret = cand_fill(ob, now_mono_ms, gen);
	if (!ret)
		ret = cand_take(ob, now_mono_ms, busy, nbusy, it, &found);
	/* Not answered from the list: rows past its end, or it went stale. */
	if (!ret && !found && (!ob->cand_all || !ob->cand_ok))
		ret = next_direct(ob, now_mono_ms, busy, nbusy, it, &found);
	outbox__rd_unlock(ob);
	return ret ? ret : found ? 0 : -ENOENT;
}

void outbox_item_clear(struct outbox_item *it)
{
	free(it->body);
	it->body = NULL;
}
