// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The per-camera hash chain in state.db; the formula in storage/chain.h.
 */
#include "storage/chain.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"
#include "lib/sql.h"
#include "storage/statedb.h"

static const char *const chain_steps[] = {
	"CREATE TABLE chain_entry ("
	" camera TEXT NOT NULL, pos INTEGER NOT NULL, kind INTEGER NOT NULL,"
	" seq INTEGER NOT NULL, start_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,"
	" hash BLOB NOT NULL, reason TEXT NOT NULL DEFAULT '', value BLOB NOT NULL,"
	" PRIMARY KEY (camera, pos)) WITHOUT ROWID;"
	"CREATE INDEX chain_entry_seq ON chain_entry (camera, seq);"
	"CREATE TABLE chain_checkpoint ("
	" camera TEXT NOT NULL, first_pos INTEGER NOT NULL, last_pos INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL, body TEXT NOT NULL, queued INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (camera, last_pos)) WITHOUT ROWID;",
};

struct chain {
	struct statedb *db;
};

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int chain_step(const uint8_t prev[CHAIN_LEN], const struct chain_entry *e, uint8_t out[CHAIN_LEN])
{
	uint8_t buf[2 * CHAIN_LEN + 1 + CHAIN_CAMERA_MAX + 8 + 8 + 4], *p = buf;
	size_t clen = strnlen(e->camera, CHAIN_CAMERA_MAX);

	if (clen >= CHAIN_CAMERA_MAX)
		return -EINVAL;
	memcpy(p, prev, CHAIN_LEN);
	p += CHAIN_LEN;
	memcpy(p, e->hash, CHAIN_LEN);
	p += CHAIN_LEN;
	*p++ = (uint8_t)clen;
	memcpy(p, e->camera, clen);
	p += clen;
	put_be(p, e->seq, 8);
	put_be(p + 8, (uint64_t)e->start_utc_ms, 8);
	put_be(p + 16, e->duration_ms, 4);
	p += 20;
	return sha256_oneshot(buf, (size_t)(p - buf), out);
}

int chain_gap_hash(const char *reason, uint8_t out[CHAIN_LEN])
{
	char buf[16 + CHAIN_REASON_MAX];
	int n = snprintf(buf, sizeof(buf), "camgate-gap:%s", reason);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return sha256_oneshot(buf, (size_t)n, out);
}

int chain_open(struct statedb *db, struct chain **chp)
{
	struct chain *ch;
	int ret = statedb_migrate(db, "chain", chain_steps,
				  (int)(sizeof(chain_steps) / sizeof(chain_steps[0])));

	if (ret)
		return ret;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->db = db;
	*chp = ch;
	return 0;
}

void chain_close(struct chain *ch)
{
	free(ch);
}

#define ENTRY_COLS "pos, kind, camera, seq, start_ms, duration_ms, hash, reason, value"

static void blob_copy(sqlite3_stmt *st, int col, uint8_t out[CHAIN_LEN])
{
	const void *b = sqlite3_column_blob(st, col);

	memset(out, 0, CHAIN_LEN);
	if (b && sqlite3_column_bytes(st, col) == CHAIN_LEN)
		memcpy(out, b, CHAIN_LEN);
}

static void entry_read(sqlite3_stmt *st, struct chain_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->pos = (uint64_t)sqlite3_column_int64(st, 0);
	e->kind = sqlite3_column_int(st, 1);
	snprintf(e->camera, sizeof(e->camera), "%s", (const char *)sqlite3_column_text(st, 2));
	e->seq = (uint64_t)sqlite3_column_int64(st, 3);
	e->start_utc_ms = sqlite3_column_int64(st, 4);
	e->duration_ms = (uint32_t)sqlite3_column_int64(st, 5);
	blob_copy(st, 6, e->hash);
	snprintf(e->reason, sizeof(e->reason), "%s", (const char *)sqlite3_column_text(st, 7));
	blob_copy(st, 8, e->value);
}

static int entry_row(void *arg, sqlite3_stmt *st)
{
	entry_read(st, arg);
	return 1;
}

static int last_locked(sqlite3 *db, const char *camera, struct chain_entry *e)
{
	int ret = sql_exec(db, "chain: last entry",
			   "SELECT " ENTRY_COLS " FROM chain_entry WHERE camera = ?"
			   " ORDER BY pos DESC LIMIT 1",
			   entry_row, e, "t", camera);

	return ret == 1 ? 0 : ret ? ret : -ENOENT;
}

int chain_last(struct chain *ch, const char *camera, struct chain_entry *e)
{
	int ret = last_locked(statedb_lock(ch->db), camera, e);

	statedb_unlock(ch->db);
	return ret;
}

int chain_append(struct chain *ch, struct chain_entry *e)
{
	static const uint8_t zero[CHAIN_LEN];
	struct chain_entry last;
	sqlite3 *db = statedb_lock(ch->db);
	int ret = last_locked(db, e->camera, &last);

	if (ret == -ENOENT) {
		last.pos = 0;
		memcpy(last.value, zero, CHAIN_LEN);
		ret = 0;
	}
	if (!ret) {
		e->pos = last.pos + 1;
		ret = chain_step(last.value, e, e->value);
	}
	if (!ret)
		ret = sql_exec(db, "chain: append",
			       "INSERT INTO chain_entry (" ENTRY_COLS
			       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       NULL, NULL, "iitiiibtb", (int64_t)e->pos, (int64_t)e->kind,
			       e->camera, (int64_t)e->seq, e->start_utc_ms, (int64_t)e->duration_ms,
			       e->hash, (size_t)CHAIN_LEN, e->reason, e->value, (size_t)CHAIN_LEN);
	statedb_unlock(ch->db);
	return ret;
}

static int pos_row(void *arg, sqlite3_stmt *st)
{
	*(uint64_t *)arg = (uint64_t)sqlite3_column_int64(st, 0);
	return 0;
}

int chain_checkpointed(struct chain *ch, const char *camera, uint64_t *posp)
{
	int ret;

	*posp = 0;
	ret = sql_exec(statedb_lock(ch->db), "chain: last checkpoint",
		       "SELECT COALESCE(MAX(last_pos), 0) FROM chain_checkpoint WHERE camera = ?",
		       pos_row, posp, "t", camera);
	statedb_unlock(ch->db);
	return ret;
}

struct walk {
	chain_entry_fn fn;
	void *arg;
};

static int walk_row(void *arg, sqlite3_stmt *st)
{
	struct walk *w = arg;
	struct chain_entry e;

	entry_read(st, &e);
	return w->fn(w->arg, &e);
}

/* The statedb lock is held through @fn's calls: @fn must not call back
 * into the chain. */
int chain_walk(struct chain *ch, const char *camera, uint64_t from_pos, uint64_t to_pos,
	       chain_entry_fn fn, void *arg)
{
	struct walk w = { fn, arg };
	int ret = sql_exec(statedb_lock(ch->db), "chain: walk",
			   "SELECT " ENTRY_COLS " FROM chain_entry WHERE camera = ?"
			   " AND pos BETWEEN ? AND ? ORDER BY pos",
			   walk_row, &w, "tii", camera, (int64_t)from_pos, (int64_t)to_pos);

	statedb_unlock(ch->db);
	return ret;
}

int chain_find_seq(struct chain *ch, const char *camera, uint64_t seq, struct chain_entry *e)
{
	int ret = sql_exec(statedb_lock(ch->db), "chain: find",
			   "SELECT " ENTRY_COLS " FROM chain_entry WHERE camera = ? AND seq = ?"
			   " AND kind = 0 ORDER BY pos LIMIT 1",
			   entry_row, e, "ti", camera, (int64_t)seq);

	statedb_unlock(ch->db);
	return ret == 1 ? 0 : ret ? ret : -ENOENT;
}

int chain_checkpoint_put(struct chain *ch, const char *camera, uint64_t first_pos,
			 uint64_t last_pos, int64_t created_ms, const char *body)
{
	int ret =
		sql_exec(statedb_lock(ch->db), "chain: checkpoint",
			 "INSERT OR REPLACE INTO chain_checkpoint"
			 " (camera, first_pos, last_pos, created_ms, body) VALUES (?, ?, ?, ?, ?)",
			 NULL, NULL, "tiiit", camera, (int64_t)first_pos, (int64_t)last_pos,
			 created_ms, body);

	statedb_unlock(ch->db);
	return ret;
}

struct cp_walk {
	chain_cp_fn fn;
	void *arg;
};

static int cp_row(void *arg, sqlite3_stmt *st)
{
	struct cp_walk *w = arg;

	return w->fn(w->arg, (const char *)sqlite3_column_text(st, 0),
		     (uint64_t)sqlite3_column_int64(st, 1),
		     (const char *)sqlite3_column_text(st, 2));
}

/* As chain_walk(): the lock is held through @fn. @camera NULL: all. */
int chain_checkpoint_walk(struct chain *ch, const char *camera, uint64_t from_pos, uint64_t to_pos,
			  bool unqueued_only, chain_cp_fn fn, void *arg)
{
	struct cp_walk w = { fn, arg };
	int ret =
		sql_exec(statedb_lock(ch->db), "chain: checkpoints",
			 "SELECT camera, last_pos, body FROM chain_checkpoint"
			 " WHERE (?1 IS NULL OR camera = ?1) AND last_pos >= ?2 AND first_pos <= ?3"
			 " AND (?4 = 0 OR queued = 0) ORDER BY created_ms, camera, last_pos",
			 cp_row, &w, "tiii", camera, (int64_t)from_pos, (int64_t)to_pos,
			 (int64_t)unqueued_only);

	statedb_unlock(ch->db);
	return ret;
}

int chain_checkpoint_queued(struct chain *ch, const char *camera, uint64_t last_pos)
{
	int ret =
		sql_exec(statedb_lock(ch->db), "chain: queued",
			 "UPDATE chain_checkpoint SET queued = 1 WHERE camera = ? AND last_pos = ?",
			 NULL, NULL, "ti", camera, (int64_t)last_pos);

	statedb_unlock(ch->db);
	return ret;
}

int chain_prune(struct chain *ch, const char *camera, int64_t before_ms)
{
	sqlite3 *db = statedb_lock(ch->db);
	int ret = sql_exec(db, "chain: prune entries",
			   "DELETE FROM chain_entry WHERE camera = ?1"
			   " AND pos < (SELECT COALESCE(MAX(pos), 0) FROM chain_entry"
			   "            WHERE camera = ?1 AND start_ms < ?2)"
			   " AND pos < (SELECT COALESCE(MAX(last_pos), 0) FROM chain_checkpoint"
			   "            WHERE camera = ?1 AND queued = 1)",
			   NULL, NULL, "ti", camera, before_ms);

	if (!ret)
		ret = sql_exec(db, "chain: prune checkpoints",
			       "DELETE FROM chain_checkpoint WHERE camera = ?1 AND queued = 1"
			       " AND last_pos < (SELECT COALESCE(MIN(pos), 0) FROM chain_entry"
			       "                 WHERE camera = ?1)",
			       NULL, NULL, "t", camera);
	statedb_unlock(ch->db);
	return ret;
}
