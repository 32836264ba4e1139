// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The chain format and guarantees A1-A3 are in firmware/audit.h.
 *
 * The core schema (storage/statedb.c) created audit(id, ts_ms, actor,
 * action, object, detail); this module adds prev_hash and hash in its own
 * migration steps. A row's id is chosen here (last id + 1) inside the
 * same BEGIN IMMEDIATE transaction that reads the previous hash, so the
 * hash can cover the id and two writers never fork the chain.
 */
#include "firmware/audit.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "lib/log.h"
#include "lib/parse.h"
#include "storage/statedb.h"

/* Append only: step N takes module "audit" from version N to N+1. */
static const char *const audit_steps[] = {
	"ALTER TABLE audit ADD COLUMN prev_hash BLOB;"
	"ALTER TABLE audit ADD COLUMN hash BLOB;",
};
#define AUDIT_NSTEPS ((int)(sizeof(audit_steps) / sizeof(audit_steps[0])))

#define AUDIT_COLS "id, ts_ms, actor, action, object, detail, prev_hash, hash"

static const uint8_t zero_hash[AUDIT_HASH_LEN];

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define sha256_starts mbedtls_sha256_starts
#define sha256_update mbedtls_sha256_update
#define sha256_finish mbedtls_sha256_finish
#else
#define sha256_starts mbedtls_sha256_starts_ret
#define sha256_update mbedtls_sha256_update_ret
#define sha256_finish mbedtls_sha256_finish_ret
#endif

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void hash_str(mbedtls_sha256_context *c, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint8_t len[4];

	put_le(len, n, 4);
	sha256_update(c, len, sizeof(len));
	if (n)
		sha256_update(c, (const uint8_t *)s, n);
}

/* The canonical hash of audit.h; @r->hash is not read. */
static void row_hash(const struct audit_row *r, uint8_t out[AUDIT_HASH_LEN])
{
	mbedtls_sha256_context c;
	uint8_t num[16];

	put_le(num, (uint64_t)r->id, 8);
	put_le(num + 8, (uint64_t)r->ts_ms, 8);
	mbedtls_sha256_init(&c);
	sha256_starts(&c, 0);
	sha256_update(&c, r->prev_hash, AUDIT_HASH_LEN);
	sha256_update(&c, num, sizeof(num));
	hash_str(&c, r->actor);
	hash_str(&c, r->action);
	hash_str(&c, r->object);
	hash_str(&c, r->detail);
	sha256_finish(&c, out);
	mbedtls_sha256_free(&c);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

/* Reads an AUDIT_COLS row; false when a hash column is missing or short. */
static bool row_read(sqlite3_stmt *st, struct audit_row *r)
{
	bool ok = true;

	r->id = sqlite3_column_int64(st, 0);
	r->ts_ms = sqlite3_column_int64(st, 1);
	r->actor = col_text(st, 2);
	r->action = col_text(st, 3);
	r->object = col_text(st, 4);
	r->detail = col_text(st, 5);
	for (int i = 0; i < 2; i++) {
		uint8_t *dst = i ? r->hash : r->prev_hash;
		const void *b = sqlite3_column_blob(st, 6 + i);

		if (b && sqlite3_column_bytes(st, 6 + i) == AUDIT_HASH_LEN) {
			memcpy(dst, b, AUDIT_HASH_LEN);
		} else {
			memset(dst, 0, AUDIT_HASH_LEN);
			ok = false;
		}
	}
	return ok;
}

static int db_fail(sqlite3 *db, const char *what)
{
	log_err_limited("audit: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

static int module_version(struct statedb *sdb, int *verp)
{
	sqlite3 *db = statedb_lock(sdb);
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db, "SELECT version FROM schema WHERE module = 'audit'", -1, &st,
				NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*verp = sqlite3_column_int(st, 0);
	else if (rc == SQLITE_DONE)
		*verp = 0;
	else
		ret = db_fail(db, "schema version");
	sqlite3_finalize(st);
	statedb_unlock(sdb);
	return ret;
}

/* The newest row as the chain's tail; zero hash and id 0 when empty. */
static int tail_get(sqlite3 *db, int64_t *idp, uint8_t hash[AUDIT_HASH_LEN])
{
	sqlite3_stmt *st = NULL;
	struct audit_row r;
	int rc;

	*idp = 0;
	memcpy(hash, zero_hash, AUDIT_HASH_LEN);
	if (sqlite3_prepare_v2(db, "SELECT " AUDIT_COLS " FROM audit ORDER BY id DESC LIMIT 1", -1,
			       &st, NULL) != SQLITE_OK)
		return db_fail(db, "read tail");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_read(st, &r);
		*idp = r.id;
		memcpy(hash, r.hash, AUDIT_HASH_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, "read tail");
}

/* Inserts @r chained after the tail; in the caller's transaction. */
static int insert_locked(sqlite3 *db, struct audit_row *r)
{
	sqlite3_stmt *st = NULL;
	int ret;

	ret = tail_get(db, &r->id, r->prev_hash);
	if (ret)
		return ret;
	r->id++;
	row_hash(r, r->hash);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO audit(" AUDIT_COLS ") VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "insert");
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->ts_ms);
	sqlite3_bind_text(st, 3, r->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, r->prev_hash, AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, r->hash, AUDIT_HASH_LEN, SQLITE_STATIC);
	ret = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, "insert");
	sqlite3_finalize(st);
	return ret;
}

/* Chains one unchained row after @prev; *idp is its id, 0 when none left. */
static int seal_one(sqlite3 *db, int64_t *idp, uint8_t prev[AUDIT_HASH_LEN])
{
	sqlite3_stmt *st = NULL, *up = NULL;
	struct audit_row r;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT " AUDIT_COLS " FROM audit WHERE id > ? ORDER BY id LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "seal");
	sqlite3_bind_int64(st, 1, *idp);
	rc = sqlite3_step(st);
	*idp = 0;
	if (rc == SQLITE_ROW) {
		row_read(st, &r);
		memcpy(r.prev_hash, prev, AUDIT_HASH_LEN);
		row_hash(&r, prev);
		*idp = r.id;
		if (sqlite3_prepare_v2(db, "UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?",
				       -1, &up, NULL) != SQLITE_OK)
			ret = db_fail(db, "seal");
	} else if (rc != SQLITE_DONE) {
		ret = db_fail(db, "seal");
	}
	if (up) {
		sqlite3_bind_blob(up, 1, r.prev_hash, AUDIT_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(up, 2, prev, AUDIT_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(up, 3, r.id);
		if (sqlite3_step(up) != SQLITE_DONE)
			ret = db_fail(db, "seal");
	}
	sqlite3_finalize(up);
	sqlite3_finalize(st);
	return ret;
}

/* Once, right after the migration: chain the rows written before it. */
static int seal_legacy(struct statedb *sdb)
{
	sqlite3 *db = statedb_lock(sdb);
	uint8_t prev[AUDIT_HASH_LEN];
	char detail[64];
	struct audit_row r = { .actor = "system",
			       .action = "audit-chain-started",
			       .object = "audit" };
	int64_t id = 0;
	uint64_t n = 0;
	int ret;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		ret = db_fail(db, "begin");
		goto out;
	}
	memcpy(prev, zero_hash, sizeof(prev));
	do {
		ret = seal_one(db, &id, prev);
		n += id != 0;
	} while (!ret && id);
	snprintf(detail, sizeof(detail), "%llu earlier rows chained", (unsigned long long)n);
	r.detail = detail;
	r.ts_ms = time_now_ms();
	if (!ret)
		ret = insert_locked(db, &r);
	if (!ret && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		ret = db_fail(db, "commit");
	if (ret)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	else
		log_notice("audit: hash chain started, %llu earlier rows chained",
			   (unsigned long long)n);
out:
	statedb_unlock(sdb);
	return ret;
}

int audit_open(struct statedb *sdb)
{
	int ver = 0, ret;

	ret = module_version(sdb, &ver);
	if (ret || ver == AUDIT_NSTEPS)
		return ret;
	ret = statedb_migrate(sdb, "audit", audit_steps, AUDIT_NSTEPS);
	if (!ret && ver == 0)
		ret = seal_legacy(sdb);
	return ret;
}

int audit_record(struct statedb *sdb, int64_t ts_ms, const char *actor, const char *action,
		 const char *object, const char *detail)
{
	struct audit_row r = {
		.ts_ms = ts_ms ? ts_ms : time_now_ms(),
		.actor = actor ? actor : "",
		.action = action ? action : "",
		.object = object ? object : "",
		.detail = detail ? detail : "",
	};
	sqlite3 *db;
	int ret;

	ret = audit_open(sdb);
	if (ret)
		return -EIO;
	db = statedb_lock(sdb);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		ret = db_fail(db, "begin");
	else
		ret = insert_locked(db, &r);
	if (!ret && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		ret = db_fail(db, "commit");
	if (ret)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	statedb_unlock(sdb);
	if (ret)
		return -EIO;
	log_info("audit: %s %s %s: %s", r.actor, r.action, r.object, r.detail);
	return 0;
}

int audit_list(struct statedb *sdb, int64_t after_id, int max, audit_row_fn fn, void *arg)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	struct audit_row r;
	int rc = SQLITE_DONE, ret = audit_open(sdb);

	if (ret)
		return ret;
	db = statedb_lock(sdb);
	if (sqlite3_prepare_v2(db,
			       "SELECT " AUDIT_COLS " FROM audit WHERE id > ? ORDER BY id LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = db_fail(db, "list");
		goto out;
	}
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, max > 0 ? max : -1);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_read(st, &r);
		ret = fn(arg, &r);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(db, "list");
out:
	sqlite3_finalize(st);
	statedb_unlock(sdb);
	return ret;
}

int audit_head(struct statedb *sdb, int64_t *idp, uint8_t hash[AUDIT_HASH_LEN])
{
	int ret = audit_open(sdb);

	if (ret)
		return ret;
	ret = tail_get(statedb_lock(sdb), idp, hash);
	statedb_unlock(sdb);
	return ret;
}

/* Why @r does not follow @prev, or NULL when it does. */
static const char *row_problem(const struct audit_row *r, bool chained,
			       const uint8_t prev[AUDIT_HASH_LEN])
{
	uint8_t h[AUDIT_HASH_LEN];

	if (!chained)
		return "not chained";
	if (memcmp(r->prev_hash, prev, AUDIT_HASH_LEN))
		return "chain broken: a row before it was deleted, inserted or moved";
	row_hash(r, h);
	if (memcmp(h, r->hash, AUDIT_HASH_LEN))
		return "content changed";
	return NULL;
}

int audit_verify(struct statedb *sdb, struct audit_verify_report *rep)
{
	uint8_t prev[AUDIT_HASH_LEN];
	sqlite3_stmt *st = NULL;
	struct audit_row r;
	sqlite3 *db;
	int rc, ret = audit_open(sdb);

	memset(rep, 0, sizeof(*rep));
	if (ret)
		return ret;
	memcpy(prev, zero_hash, sizeof(prev));
	db = statedb_lock(sdb);
	if (sqlite3_prepare_v2(db, "SELECT " AUDIT_COLS " FROM audit ORDER BY id", -1, &st, NULL) !=
	    SQLITE_OK) {
		ret = db_fail(db, "verify");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bool chained = row_read(st, &r);

		rep->rows++;
		rep->why = row_problem(&r, chained, prev);
		if (rep->why) {
			rep->first_bad_id = r.id;
			log_err("audit: row %lld: %s", (long long)r.id, rep->why);
			ret = -EBADMSG;
			goto out;
		}
		memcpy(prev, r.hash, AUDIT_HASH_LEN);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(db, "verify");
out:
	sqlite3_finalize(st);
	statedb_unlock(sdb);
	return ret;
}
