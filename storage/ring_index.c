// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_index - the ring's SQLite index, DIR/index.db.
 *
 * One connection per open ring, used only under the ring's mutex, so the
 * ring is the single writer of the file. WAL lets `camgate ring ls` read
 * while the daemon writes; synchronous=FULL makes a returned COMMIT
 * durable, which G1 needs. Statements are prepared once and cached.
 *
 * The index is a cache of the extents: every row can be rebuilt from the
 * record headers (ring_rebuild()), except `uploaded`, which restarts as
 * false, and init bytes never written to an extent, which nothing needs.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/log.h"

#define RING_SCHEMA_VERSION 1
#define RING_BUSY_MS	    5000

static const char ring_schema[] =
	"CREATE TABLE segs("
	" id INTEGER PRIMARY KEY," /* ring-wide record id */
	" camera TEXT NOT NULL, seq INTEGER NOT NULL,"
	" init_id INTEGER NOT NULL, start_utc_ms INTEGER NOT NULL,"
	" duration_ms INTEGER NOT NULL, media_start_us INTEGER NOT NULL,"
	" flags INTEGER NOT NULL, utc_src INTEGER NOT NULL,"
	" len INTEGER NOT NULL, extent INTEGER NOT NULL, off INTEGER NOT NULL,"
	" sha256 BLOB NOT NULL, uploaded INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX segs_cam_seq ON segs(camera, seq);"
	"CREATE INDEX segs_extent ON segs(extent, off);"
	"CREATE TABLE inits("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" camera TEXT NOT NULL, sha256 BLOB NOT NULL, data BLOB NOT NULL,"
	" UNIQUE(camera, sha256));"
	"CREATE TABLE init_recs("
	" rec_id INTEGER PRIMARY KEY, init_id INTEGER NOT NULL,"
	" extent INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL);"
	"CREATE INDEX init_recs_extent ON init_recs(extent, init_id);"
	"CREATE TABLE cameras(name TEXT PRIMARY KEY,"
	" last_seq INTEGER NOT NULL);"
	"PRAGMA user_version = 1;";

/* Column order read by ring__row_info(). */
#define SEG_COLS                                                                                   \
	"id, camera, seq, init_id, start_utc_ms, duration_ms,"                                     \
	" media_start_us, flags, utc_src, len, extent, off, uploaded, sha256"
/* Space a record takes: header plus payload, rounded up to RING_ALIGN. */
#define REC_BYTES "(((256 + len + 4095) / 4096) * 4096)"

static const char *const ring_sql[RS__COUNT] = {
	[RS_SEG_GET] = "SELECT " SEG_COLS " FROM segs WHERE id = ?1",
	[RS_SEG_PUT] = "INSERT OR REPLACE INTO segs(" SEG_COLS ")"
		       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		       " ?13, ?14)",
	[RS_SEG_BY_EXTENT] = "SELECT " SEG_COLS " FROM segs WHERE extent = ?1"
			     " ORDER BY id",
	[RS_SEG_DEL_EXTENT] = "DELETE FROM segs WHERE extent = ?1",
	[RS_SEG_UPLOADED] = "UPDATE segs SET uploaded = 1 WHERE id = ?1",
	[RS_SEG_LIST] = "SELECT " SEG_COLS " FROM segs"
			" WHERE (?1 IS NULL OR camera = ?1) AND start_utc_ms < ?3"
			" AND (start_utc_ms + duration_ms > ?2 OR start_utc_ms >= ?2)"
			" AND (camera, seq, id) > (?4, ?5, ?6)"
			" ORDER BY camera, seq, id LIMIT ?7",
	[RS_INITREC_GET] = "SELECT r.rec_id, r.init_id, r.extent, r.off,"
			   " r.len, i.camera, i.sha256 FROM init_recs r"
			   " JOIN inits i ON i.id = r.init_id WHERE r.rec_id = ?1",
	[RS_INITREC_PUT] = "INSERT OR REPLACE INTO init_recs"
			   "(rec_id, init_id, extent, off, len) VALUES(?1, ?2, ?3, ?4, ?5)",
	[RS_INITREC_HAS] = "SELECT 1 FROM init_recs WHERE init_id = ?1"
			   " AND extent = ?2 AND off < ?3 LIMIT 1",
	[RS_INITREC_DEL_EXTENT] = "DELETE FROM init_recs WHERE extent = ?1",
	[RS_INIT_FIND] = "SELECT id FROM inits WHERE camera = ?1"
			 " AND sha256 = ?2",
	[RS_INIT_GET] = "SELECT camera, sha256, data FROM inits WHERE id = ?1",
	[RS_INIT_PUT] = "INSERT INTO inits(id, camera, sha256, data)"
			" VALUES(?1, ?2, ?3, ?4)",
	[RS_CAM_SEQ] = "SELECT last_seq FROM cameras WHERE name = ?1",
	[RS_CAM_LAST_LEN] = "SELECT max(len) FROM (SELECT len FROM segs WHERE camera = ?1"
			    " ORDER BY seq DESC LIMIT 2)",
	[RS_CAM_BUMP] = "INSERT INTO cameras(name, last_seq) VALUES(?1, ?2)"
			" ON CONFLICT(name) DO UPDATE"
			" SET last_seq = max(last_seq, excluded.last_seq)",
	[RS_OFFSETS] = "SELECT off FROM segs WHERE extent = ?1 UNION"
		       " SELECT off FROM init_recs WHERE extent = ?1 ORDER BY 1",
	[RS_STAT_SEGS] = "SELECT count(*), coalesce(sum(" REC_BYTES "), 0),"
			 " coalesce(min(start_utc_ms), 0), coalesce(max(start_utc_ms), 0),"
			 " coalesce(sum(uploaded = 0), 0),"
			 " coalesce(sum(CASE WHEN start_utc_ms >= ?1"
			 " OR (?2 AND uploaded = 0) THEN " REC_BYTES " ELSE 0 END), 0)"
			 " FROM segs",
	[RS_STAT_INITS] = "SELECT coalesce(sum(" REC_BYTES "), 0)"
			  " FROM init_recs",
};

_Static_assert(RING_REC_HDR_SIZE == 256 && RING_ALIGN == 4096,
	       "REC_BYTES hard-codes the record header size and alignment");

static int db_fail(struct ring *ring, const char *what)
{
	log_err("ring %s: index %s: %s", ring->dir, what, sqlite3_errmsg(ring->db));
	return -EIO;
}

sqlite3_stmt *ring__stmt(struct ring *ring, enum ring__stmt_id id)
{
	sqlite3_stmt *st = ring->stmt[id];

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(ring->db, ring_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL)) {
		db_fail(ring, "prepare");
		return NULL;
	}
	ring->stmt[id] = st;
	return st;
}

int ring__exec(struct ring *ring, const char *sql)
{
	if (sqlite3_exec(ring->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(ring, sql);
	return 0;
}

/* Runs a statement that returns no rows; resets it. */
static int step_done(struct ring *ring, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(ring, what);
	return 0;
}

int ring__txn_begin(struct ring *ring)
{
	return ring__exec(ring, "BEGIN IMMEDIATE");
}

void ring__txn_rollback(struct ring *ring)
{
	if (sqlite3_get_autocommit(ring->db))
		return;
	if (sqlite3_exec(ring->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		db_fail(ring, "rollback");
}

int ring__txn_commit(struct ring *ring, bool hook)
{
	int ret;

	if (hook && ring->io->commit_hook) {
		ret = ring->io->commit_hook(ring->io->ctx);
		if (ret < 0) {
			log_err("ring %s: index commit failed: %s", ring->dir, strerror(-ret));
			ring__txn_rollback(ring);
			return -EIO;
		}
	}
	ret = ring__exec(ring, "COMMIT");
	if (ret)
		ring__txn_rollback(ring);
	return ret;
}

static int schema_check(struct ring *ring)
{
	sqlite3_stmt *st = NULL;
	int version = -1;
	int ret;

	if (sqlite3_prepare_v2(ring->db, "PRAGMA user_version", -1, &st, NULL))
		return db_fail(ring, "schema");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version == RING_SCHEMA_VERSION)
		return 0;
	if (version != 0 || ring->ro) {
		log_err("ring %s: index schema version %d, want %d", ring->dir, version,
			RING_SCHEMA_VERSION);
		return -EBADMSG;
	}
	ret = ring__txn_begin(ring);
	if (ret)
		return ret;
	ret = ring__exec(ring, ring_schema);
	if (ret) {
		ring__txn_rollback(ring);
		return ret;
	}
	ret = ring__txn_commit(ring, false);
	ring->idx_new = !ret;
	return ret;
}

/* Lifetime eviction counters live in the index so `ring stat` in another
 * process sees them; the table is added to older indexes on open. */
#define COUNTERS_SQL                                                                               \
	"CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, v INTEGER NOT NULL)"

static int idx_pragmas(struct ring *ring)
{
	/* Appends and lookups touch a few pages of each B-tree; SQLite's
	 * default cache (2 MiB a connection) would otherwise fill up as the
	 * index grows over days and stay in the daemon's private memory. */
	if (ring__exec(ring, "PRAGMA cache_size = -512"))
		return -EIO;
	if (ring->ro)
		return ring__exec(ring, "PRAGMA query_only = 1");
	/* WAL: readers in other processes never block the writer.
	 * FULL: a COMMIT that returned is on disk (G1). */
	if (ring__exec(ring, "PRAGMA journal_mode = WAL") ||
	    ring__exec(ring, "PRAGMA synchronous = FULL") || ring__exec(ring, COUNTERS_SQL))
		return -EIO;
	return 0;
}

int ring__idx_open(struct ring *ring, bool create)
{
	char path[RING_PATH_MAX];
	int flags = SQLITE_OPEN_READWRITE;
	int ret;

	ret = ring__path(ring, RING_INDEX_NAME, path, sizeof(path));
	if (ret)
		return ret;
	if (ring->ro)
		flags = SQLITE_OPEN_READONLY;
	else if (create)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &ring->db, flags, NULL) != SQLITE_OK) {
		log_err("ring %s: cannot open %s: %s", ring->dir, path,
			ring->db ? sqlite3_errmsg(ring->db) : "out of memory");
		ret = -EIO;
		goto out_close;
	}
	sqlite3_busy_timeout(ring->db, RING_BUSY_MS);
	ret = idx_pragmas(ring);
	if (ret)
		goto out_close;
	ret = schema_check(ring);
	if (ret)
		goto out_close;
	return 0;

out_close:
	ring__idx_close(ring);
	return ret;
}

void ring__idx_close(struct ring *ring)
{
	for (int i = 0; i < RS__COUNT; i++) {
		sqlite3_finalize(ring->stmt[i]);
		ring->stmt[i] = NULL;
	}
	if (ring->db && sqlite3_close(ring->db) != SQLITE_OK)
		log_warn("ring %s: index close: %s", ring->dir, sqlite3_errmsg(ring->db));
	ring->db = NULL;
}

void ring__row_info(sqlite3_stmt *st, int col, struct ring_seg_info *info)
{
	const void *sha;
	const unsigned char *cam;

	memset(info, 0, sizeof(*info));
	info->id = (uint64_t)sqlite3_column_int64(st, col);
	cam = sqlite3_column_text(st, col + 1);
	if (cam)
		snprintf(info->camera, sizeof(info->camera), "%s", cam);
	info->seq = (uint64_t)sqlite3_column_int64(st, col + 2);
	info->init_id = (uint64_t)sqlite3_column_int64(st, col + 3);
	info->start_utc_ms = sqlite3_column_int64(st, col + 4);
	info->duration_ms = (uint32_t)sqlite3_column_int64(st, col + 5);
	info->media_start_us = sqlite3_column_int64(st, col + 6);
	info->flags = (uint32_t)sqlite3_column_int64(st, col + 7);
	info->utc_src = (uint8_t)sqlite3_column_int(st, col + 8);
	info->len = (uint64_t)sqlite3_column_int64(st, col + 9);
	info->extent = (uint32_t)sqlite3_column_int64(st, col + 10);
	info->offset = (uint64_t)sqlite3_column_int64(st, col + 11);
	info->uploaded = sqlite3_column_int(st, col + 12) != 0;
	sha = sqlite3_column_blob(st, col + 13);
	if (sha && sqlite3_column_bytes(st, col + 13) == RING_SHA_LEN)
		memcpy(info->sha256, sha, RING_SHA_LEN);
}

int ring__idx_seg_get(struct ring *ring, uint64_t id, struct ring_seg_info *info)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_GET);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ring__row_info(st, 0, info);
	else if (rc == SQLITE_DONE)
		ret = -ENOENT;
	else
		ret = db_fail(ring, "read segment");
	sqlite3_reset(st);
	return ret;
}

int ring__idx_seg_put(struct ring *ring, const struct ring_seg_info *info)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_PUT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)info->id);
	sqlite3_bind_text(st, 2, info->camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)info->seq);
	sqlite3_bind_int64(st, 4, (int64_t)info->init_id);
	sqlite3_bind_int64(st, 5, info->start_utc_ms);
	sqlite3_bind_int64(st, 6, info->duration_ms);
	sqlite3_bind_int64(st, 7, info->media_start_us);
	sqlite3_bind_int64(st, 8, info->flags);
	sqlite3_bind_int(st, 9, info->utc_src);
	sqlite3_bind_int64(st, 10, (int64_t)info->len);
	sqlite3_bind_int64(st, 11, info->extent);
	sqlite3_bind_int64(st, 12, (int64_t)info->offset);
	sqlite3_bind_int(st, 13, info->uploaded);
	sqlite3_bind_blob(st, 14, info->sha256, RING_SHA_LEN, SQLITE_TRANSIENT);
	return step_done(ring, st, "insert segment");
}

int ring__idx_initrec_get(struct ring *ring, uint64_t rec_id, struct ring__rec *rec)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INITREC_GET);
	struct ring_seg_info *in = &rec->info;
	const void *sha;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)rec_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(rec, 0, sizeof(*rec));
		rec->kind = RING_REC_INIT;
		in->id = (uint64_t)sqlite3_column_int64(st, 0);
		in->init_id = (uint64_t)sqlite3_column_int64(st, 1);
		in->extent = (uint32_t)sqlite3_column_int64(st, 2);
		in->offset = (uint64_t)sqlite3_column_int64(st, 3);
		in->len = (uint64_t)sqlite3_column_int64(st, 4);
		snprintf(in->camera, sizeof(in->camera), "%s",
			 (const char *)sqlite3_column_text(st, 5));
		sha = sqlite3_column_blob(st, 6);
		if (sha && sqlite3_column_bytes(st, 6) == RING_SHA_LEN)
			memcpy(in->sha256, sha, RING_SHA_LEN);
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = db_fail(ring, "read init record");
	}
	sqlite3_reset(st);
	return ret;
}

int ring__idx_initrec_put(struct ring *ring, const struct ring__rec *rec)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INITREC_PUT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)rec->info.id);
	sqlite3_bind_int64(st, 2, (int64_t)rec->info.init_id);
	sqlite3_bind_int64(st, 3, rec->info.extent);
	sqlite3_bind_int64(st, 4, (int64_t)rec->info.offset);
	sqlite3_bind_int64(st, 5, (int64_t)rec->info.len);
	return step_done(ring, st, "insert init record");
}

int ring__idx_initrec_has(struct ring *ring, uint64_t init_id, uint32_t e, uint64_t before_off,
			  bool *hasp)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INITREC_HAS);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)init_id);
	sqlite3_bind_int64(st, 2, e);
	sqlite3_bind_int64(st, 3, (int64_t)before_off);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ring, "find init record");
	*hasp = rc == SQLITE_ROW;
	return 0;
}

int ring__idx_init_get(struct ring *ring, uint64_t init_id, char camera[RING_CAMERA_MAX],
		       uint8_t sha[RING_SHA_LEN], void **datap, size_t *lenp)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INIT_GET);
	const void *blob;
	size_t len;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)init_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = db_fail(ring, "read init");
		goto out;
	}
	snprintf(camera, RING_CAMERA_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
	blob = sqlite3_column_blob(st, 1);
	if (!blob || sqlite3_column_bytes(st, 1) != RING_SHA_LEN) {
		ret = -EBADMSG;
		goto out;
	}
	memcpy(sha, blob, RING_SHA_LEN);
	if (datap) {
		blob = sqlite3_column_blob(st, 2);
		len = (size_t)sqlite3_column_bytes(st, 2);
		*datap = malloc(len ? len : 1);
		if (!*datap) {
			ret = -ENOMEM;
			goto out;
		}
		if (len)
			memcpy(*datap, blob, len);
		*lenp = len;
	}
out:
	sqlite3_reset(st);
	return ret;
}

int ring__idx_init_find(struct ring *ring, const char *camera, const uint8_t sha[RING_SHA_LEN],
			uint64_t *idp)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INIT_FIND);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, sha, RING_SHA_LEN, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*idp = (uint64_t)sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		ret = -ENOENT;
	else
		ret = db_fail(ring, "find init");
	sqlite3_reset(st);
	return ret;
}

int ring__idx_init_put(struct ring *ring, uint64_t id, const char *camera,
		       const uint8_t sha[RING_SHA_LEN], const void *data, size_t len, uint64_t *idp)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INIT_PUT);
	int ret;

	if (!st)
		return -EIO;
	if (id)
		sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_text(st, 2, camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, sha, RING_SHA_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_TRANSIENT);
	ret = step_done(ring, st, "insert init");
	if (!ret && idp)
		*idp = (uint64_t)sqlite3_last_insert_rowid(ring->db);
	return ret;
}

/* One integer about @camera; 0 when there is no row or it is NULL. */
static int cam_int(struct ring *ring, enum ring__stmt_id id, const char *camera, const char *what,
		   uint64_t *outp)
{
	sqlite3_stmt *st = ring__stmt(ring, id);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, camera, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*outp = (uint64_t)sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*outp = 0;
	else
		ret = db_fail(ring, what);
	sqlite3_reset(st);
	return ret;
}

int ring__idx_cam_seq(struct ring *ring, const char *camera, uint64_t *last_seqp)
{
	return cam_int(ring, RS_CAM_SEQ, camera, "read camera seq", last_seqp);
}

int ring__idx_cam_last_len(struct ring *ring, const char *camera, uint64_t *lenp)
{
	return cam_int(ring, RS_CAM_LAST_LEN, camera, "read segment sizes", lenp);
}

int ring__idx_cam_bump(struct ring *ring, const char *camera, uint64_t seq)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_CAM_BUMP);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	return step_done(ring, st, "update camera seq");
}

int ring__idx_del_extent(struct ring *ring, uint32_t e)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_DEL_EXTENT);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e);
	ret = step_done(ring, st, "evict segments");
	if (ret)
		return ret;
	st = ring__stmt(ring, RS_INITREC_DEL_EXTENT);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e);
	return step_done(ring, st, "evict init records");
}

int ring__idx_count_evicted(struct ring *ring, uint64_t segs, uint64_t pinned)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO counters(name, v) VALUES('evicted_segs', %" PRIu64 "), "
		 "('evicted_pinned', %" PRIu64
		 ") ON CONFLICT(name) DO UPDATE SET v = v + excluded.v",
		 segs, pinned);
	return ring__exec(ring, sql);
}

static void idx_counters(struct ring *ring, struct ring_stat *st)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(ring->db, "SELECT name, v FROM counters", -1, &q, NULL))
		return; /* an index from before the counters: none yet */
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		uint64_t v = (uint64_t)sqlite3_column_int64(q, 1);

		if (!strcmp(name, "evicted_segs"))
			st->evicted_segs = v;
		else if (!strcmp(name, "evicted_pinned"))
			st->evicted_pinned = v;
	}
	sqlite3_finalize(q);
}

int ring__idx_offsets(struct ring *ring, uint32_t e, uint64_t **offp, size_t *np)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_OFFSETS);
	uint64_t *off = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(off, cap * sizeof(*off));
			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			off = grown;
		}
		off[n++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(ring, "read offsets");
out:
	sqlite3_reset(st);
	if (ret) {
		free(off);
		return ret;
	}
	*offp = off;
	*np = n;
	return 0;
}

int ring__idx_mark_uploaded(struct ring *ring, uint64_t seg_id)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_UPLOADED);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)seg_id);
	ret = step_done(ring, st, "mark uploaded");
	if (ret)
		return ret;
	return sqlite3_changes(ring->db) ? 0 : -ENOENT;
}

/* Fills @batch with up to RING_LIST_BATCH rows after the key in @last. */
int ring__idx_list(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
		   const struct ring_seg_info *last, struct ring_seg_info *batch, size_t *np)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_LIST);
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (!st)
		return -EIO;
	if (camera)
		sqlite3_bind_text(st, 1, camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	sqlite3_bind_text(st, 4, last->camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, (int64_t)last->seq);
	sqlite3_bind_int64(st, 6, (int64_t)last->id);
	sqlite3_bind_int(st, 7, RING_LIST_BATCH);
	while (n < RING_LIST_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ring__row_info(st, 0, &batch[n++]);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(ring, "list");
	*np = n;
	return 0;
}

int ring__idx_stat(struct ring *ring, struct ring_stat *st)
{
	sqlite3_stmt *q = ring__stmt(ring, RS_STAT_SEGS);
	int rc;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, ring->floor_ms);
	sqlite3_bind_int(q, 2, ring->upload_required);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		st->segs = (uint64_t)sqlite3_column_int64(q, 0);
		st->bytes_used = (uint64_t)sqlite3_column_int64(q, 1);
		st->oldest_utc_ms = sqlite3_column_int64(q, 2);
		st->newest_utc_ms = sqlite3_column_int64(q, 3);
		st->segs_pending_upload = (uint64_t)sqlite3_column_int64(q, 4);
		st->bytes_pinned = (uint64_t)sqlite3_column_int64(q, 5);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return db_fail(ring, "stat");
	q = ring__stmt(ring, RS_STAT_INITS);
	if (!q)
		return -EIO;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		st->bytes_used += (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	idx_counters(ring, st);
	return rc == SQLITE_ROW ? 0 : db_fail(ring, "stat");
}
