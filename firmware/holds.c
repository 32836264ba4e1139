// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Legal holds in state.db, and their in-memory copy the ring asks
 * (firmware/holds.h).
 */
#include "firmware/holds.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sql.h"
#include "storage/statedb.h"

#define HOLDS_MAX 256 /* active at once */

static const char *const holds_steps[] = {
	"CREATE TABLE hold (id INTEGER PRIMARY KEY, camera TEXT NOT NULL,"
	" from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, reason TEXT NOT NULL,"
	" created_by TEXT NOT NULL, created_ms INTEGER NOT NULL,"
	" released_by TEXT, released_ms INTEGER);",
};

struct span {
	char camera[32];
	int64_t from_ms, to_ms;
};

struct holds {
	struct statedb *db;
	pthread_mutex_t lock; /* spans */
	struct span spans[HOLDS_MAX];
	size_t n;
};

int holds_open(struct statedb *db, struct holds **hp)
{
	struct holds *h;
	int ret = statedb_migrate(db, "holds", holds_steps,
				  (int)(sizeof(holds_steps) / sizeof(holds_steps[0])));

	if (ret)
		return ret;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->db = db;
	pthread_mutex_init(&h->lock, NULL);
	ret = holds_reload(h);
	if (ret) {
		holds_close(h);
		return ret;
	}
	*hp = h;
	return 0;
}

void holds_close(struct holds *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int holds_add(struct holds *h, const struct hold *in, int64_t now_ms, int64_t *idp)
{
	sqlite3 *db;
	int ret;

	if (!in->reason[0] || in->from_ms >= in->to_ms || !in->camera[0])
		return -EINVAL;
	db = statedb_lock(h->db);
	ret = sql_exec(db, "holds: add",
		       "INSERT INTO hold (camera, from_ms, to_ms, reason, created_by, created_ms)"
		       " VALUES (?, ?, ?, ?, ?, ?)",
		       NULL, NULL, "tiitti", in->camera, in->from_ms, in->to_ms, in->reason, in->by,
		       now_ms);
	if (!ret)
		*idp = sqlite3_last_insert_rowid(db);
	statedb_unlock(h->db);
	return ret ? ret : holds_reload(h);
}

static void row_read(sqlite3_stmt *st, struct hold *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, 0);
	snprintf(o->camera, sizeof(o->camera), "%s", (const char *)sqlite3_column_text(st, 1));
	o->from_ms = sqlite3_column_int64(st, 2);
	o->to_ms = sqlite3_column_int64(st, 3);
	snprintf(o->reason, sizeof(o->reason), "%s", (const char *)sqlite3_column_text(st, 4));
	snprintf(o->by, sizeof(o->by), "%s", (const char *)sqlite3_column_text(st, 5));
	o->created_ms = sqlite3_column_int64(st, 6);
}

#define COLS "id, camera, from_ms, to_ms, reason, created_by, created_ms"

static int one_row(void *arg, sqlite3_stmt *st)
{
	row_read(st, arg);
	return 1;
}

int holds_get(struct holds *h, int64_t id, struct hold *out)
{
	int ret = sql_exec(statedb_lock(h->db), "holds: get",
			   "SELECT " COLS " FROM hold WHERE id = ? AND released_ms IS NULL",
			   one_row, out, "i", id);

	statedb_unlock(h->db);
	return ret == 1 ? 0 : ret ? ret : -ENOENT;
}

int holds_release(struct holds *h, int64_t id, const char *by, int64_t now_ms, struct hold *out)
{
	sqlite3 *db = statedb_lock(h->db);
	int ret = sql_exec(db, "holds: find",
			   "SELECT " COLS " FROM hold WHERE id = ? AND released_ms IS NULL",
			   one_row, out, "i", id);

	if (ret == 1)
		ret = sql_exec(db, "holds: release",
			       "UPDATE hold SET released_by = ?, released_ms = ? WHERE id = ?",
			       NULL, NULL, "tii", by, now_ms, id);
	else if (!ret)
		ret = -ENOENT;
	statedb_unlock(h->db);
	return ret ? ret : holds_reload(h);
}

struct list {
	int (*fn)(void *arg, const struct hold *hd);
	void *arg;
};

static int list_row(void *arg, sqlite3_stmt *st)
{
	struct list *l = arg;
	struct hold hd;

	row_read(st, &hd);
	return l->fn(l->arg, &hd);
}

/* The statedb lock is held through @fn's calls. */
int holds_list(struct holds *h, int (*fn)(void *arg, const struct hold *hd), void *arg)
{
	struct list l = { fn, arg };
	int ret = sql_exec(statedb_lock(h->db), "holds: list",
			   "SELECT " COLS " FROM hold WHERE released_ms IS NULL ORDER BY id",
			   list_row, &l, "");

	statedb_unlock(h->db);
	return ret;
}

static int span_add(void *arg, const struct hold *hd)
{
	struct holds *h = arg;

	if (h->n == HOLDS_MAX)
		return 1;
	snprintf(h->spans[h->n].camera, sizeof(h->spans[h->n].camera), "%s", hd->camera);
	h->spans[h->n].from_ms = hd->from_ms;
	h->spans[h->n].to_ms = hd->to_ms;
	h->n++;
	return 0;
}

int holds_reload(struct holds *h)
{
	struct holds tmp = { .n = 0 };
	int ret = holds_list(h, span_add, &tmp);

	if (ret < 0)
		return ret;
	pthread_mutex_lock(&h->lock);
	memcpy(h->spans, tmp.spans, tmp.n * sizeof(tmp.spans[0]));
	h->n = tmp.n;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

bool holds_covers(struct holds *h, const char *camera, int64_t start_ms, uint32_t dur_ms)
{
	bool hit = false;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n && !hit; i++)
		hit = !strcmp(h->spans[i].camera, camera) && start_ms < h->spans[i].to_ms &&
		      start_ms + (int64_t)dur_ms > h->spans[i].from_ms;
	pthread_mutex_unlock(&h->lock);
	return hit;
}
