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
 *
 * This file holds the connection, the schema and the statement cache;
 * the queries on them are in ring_index_query.c.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

int ring__db_fail(struct ring *ring, const char *what)
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
		ring__db_fail(ring, "prepare");
		return NULL;
	}
	ring->stmt[id] = st;
	return st;
}

int ring__exec(struct ring *ring, const char *sql)
{
	if (sqlite3_exec(ring->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ring__db_fail(ring, sql);
	return 0;
}

int ring__step_done(struct ring *ring, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return ring__db_fail(ring, what);
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
		ring__db_fail(ring, "rollback");
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
		return ring__db_fail(ring, "schema");
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
	if (ring->ro) {
		flags = SQLITE_OPEN_READONLY;
	} else if (create) {
		/* 0640 like the extents; SQLite would use 0644 less the umask,
		 * and give its -wal and -shm files the same mode. */
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

		if (fd < 0) {
			ret = -errno;
			log_err("ring %s: cannot create %s: %s", ring->dir, path, strerror(errno));
			return ret;
		}
		close(fd);
		flags |= SQLITE_OPEN_CREATE;
	}
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
