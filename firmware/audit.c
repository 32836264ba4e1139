// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The chain format and guarantees A1-A3 are in firmware/audit.h.
 *
 * This module owns the audit table: its first form audit(id, ts_ms,
 * actor, action, object, detail) (once made by storage/statedb.c's core
 * schema, so old databases have it), then prev_hash, hash and keyed in its
 * own migration steps, and the ship cursor. A row's id is chosen here (last id + 1) inside the
 * same BEGIN IMMEDIATE transaction that reads the previous hash, so the
 * hash can cover the id and two writers never fork the chain.
 *
 * The audit key (audit_key_open()) is process-wide: set once before the
 * threads start, read under the statedb lock afterwards. The key file
 * itself is audit_key.c's.
 */
#include "firmware/audit.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "firmware/audit_int.h"

#include "lib/log.h"
#include "lib/parse.h"
#include "lib/sql.h"
#include "storage/statedb.h"

/* The table's first form, created here when missing, before the steps
 * below. storage/statedb.c's core step 0 created it until this module
 * owned the whole schema, so every state.db made before already has it
 * (and the steps it ran, recorded under "audit"). */
static const char audit_first_form[] = "CREATE TABLE IF NOT EXISTS audit ("
				       " id INTEGER PRIMARY KEY,"
				       " ts_ms INTEGER NOT NULL,"
				       " actor TEXT NOT NULL," /* account, "system" or "central" */
				       " action TEXT NOT NULL,"
				       " object TEXT NOT NULL,"
				       " detail TEXT NOT NULL)";

/* Append only: step N takes module "audit" from version N to N+1. */
static const char *const audit_steps[] = {
	"ALTER TABLE audit ADD COLUMN prev_hash BLOB;"
	"ALTER TABLE audit ADD COLUMN hash BLOB;",
	"ALTER TABLE audit ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;",
};
#define AUDIT_NSTEPS ((int)(sizeof(audit_steps) / sizeof(audit_steps[0])))

/* Append only: module "audit_uplink", the ship cursor (audit_shipped()). */
static const char *const ship_steps[] = {
	"CREATE TABLE audit_shipped (id INTEGER NOT NULL);"
	"INSERT INTO audit_shipped (id) VALUES (0);",
};
#define SHIP_NSTEPS ((int)(sizeof(ship_steps) / sizeof(ship_steps[0])))

#define AUDIT_COLS "id, ts_ms, actor, action, object, detail, prev_hash, hash, keyed"
#define PATH_CAP   4096

static const uint8_t zero_hash[AUDIT_HASH_LEN];

/* The chain key; !set: rows are written unkeyed (tests, tools). */
static struct {
	bool set;
	int64_t first_id; /* every row from this id on must be keyed */
	uint8_t key[AUDIT_KEY_LEN];
} chain_key;

/* SHA-256 or HMAC-SHA256 over the canonical bytes, fed in pieces. */
struct digest {
	mbedtls_md_context_t md;
	bool mac;
};

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void feed(struct digest *d, const void *p, size_t n)
{
	if (d->mac)
		mbedtls_md_hmac_update(&d->md, p, n);
	else
		mbedtls_md_update(&d->md, p, n);
}

static void hash_str(struct digest *d, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint8_t len[4];

	put_le(len, n, 4);
	feed(d, len, sizeof(len));
	if (n)
		feed(d, s, n);
}

/* The canonical hash of audit.h, keyed when @r->keyed; @r->hash is not
 * read. -ENOKEY: keyed, and no key loaded. -ENOMEM. */
static int row_hash(const struct audit_row *r, uint8_t out[AUDIT_HASH_LEN])
{
	struct digest d = { .mac = r->keyed };
	uint8_t num[16];
	int rc;

	if (r->keyed && !chain_key.set)
		return -ENOKEY;
	put_le(num, (uint64_t)r->id, 8);
	put_le(num + 8, (uint64_t)r->ts_ms, 8);
	mbedtls_md_init(&d.md);
	rc = mbedtls_md_setup(&d.md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), d.mac);
	if (!rc)
		rc = d.mac ? mbedtls_md_hmac_starts(&d.md, chain_key.key, AUDIT_KEY_LEN)
			   : mbedtls_md_starts(&d.md);
	if (!rc) {
		feed(&d, r->prev_hash, AUDIT_HASH_LEN);
		feed(&d, num, sizeof(num));
		hash_str(&d, r->actor);
		hash_str(&d, r->action);
		hash_str(&d, r->object);
		hash_str(&d, r->detail);
		rc = d.mac ? mbedtls_md_hmac_finish(&d.md, out) : mbedtls_md_finish(&d.md, out);
	}
	mbedtls_md_free(&d.md);
	return rc ? -ENOMEM : 0;
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
	r->keyed = sqlite3_column_int(st, 8) != 0;
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

static int module_version(struct statedb *sdb, const char *module, int *verp)
{
	sqlite3 *db = statedb_lock(sdb);
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db, "SELECT version FROM schema WHERE module = ?", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
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
	r->keyed = chain_key.set;
	ret = row_hash(r, r->hash);
	if (ret)
		return ret;
	if (sqlite3_prepare_v2(
		    db, "INSERT INTO audit(" AUDIT_COLS ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
		    &st, NULL) != SQLITE_OK)
		return db_fail(db, "insert");
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->ts_ms);
	sqlite3_bind_text(st, 3, r->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, r->prev_hash, AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, r->hash, AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, r->keyed);
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
		r.keyed = false; /* the keyed chain starts later, at audit_key_open() */
		ret = row_hash(&r, prev);
		*idp = r.id;
		if (!ret && sqlite3_prepare_v2(db,
					       "UPDATE audit SET prev_hash = ?, hash = ?, keyed = 0"
					       " WHERE id = ?",
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

struct seal_ctx {
	uint64_t n; /* rows chained */
};

static int seal_body(sqlite3 *db, void *arg)
{
	struct seal_ctx *c = arg;
	uint8_t prev[AUDIT_HASH_LEN];
	char detail[64];
	struct audit_row r = { .actor = "system",
			       .action = "audit-chain-started",
			       .object = "audit" };
	int64_t id = 0;
	int ret;

	memcpy(prev, zero_hash, sizeof(prev));
	do {
		ret = seal_one(db, &id, prev);
		c->n += id != 0;
	} while (!ret && id);
	if (ret)
		return ret;
	snprintf(detail, sizeof(detail), "%llu earlier rows chained", (unsigned long long)c->n);
	r.detail = detail;
	r.ts_ms = time_now_ms();
	return insert_locked(db, &r);
}

/* Once, right after the migration: chain the rows written before it. */
static int seal_legacy(struct statedb *sdb)
{
	struct seal_ctx c = { 0 };
	int ret = sql_txn(statedb_lock(sdb), "audit: seal", seal_body, &c);

	statedb_unlock(sdb);
	if (!ret)
		log_notice("audit: hash chain started, %llu earlier rows chained",
			   (unsigned long long)c.n);
	return ret;
}

int audit_open(struct statedb *sdb)
{
	int ver = 0, ship_ver = 0, ret;

	ret = module_version(sdb, "audit", &ver);
	if (!ret)
		ret = module_version(sdb, "audit_uplink", &ship_ver);
	if (ret || (ver == AUDIT_NSTEPS && ship_ver == SHIP_NSTEPS))
		return ret;
	if (ver == 0) {
		ret = sql_exec(statedb_lock(sdb), "audit: create", audit_first_form, NULL, NULL,
			       NULL);
		statedb_unlock(sdb);
	}
	if (!ret)
		ret = statedb_migrate(sdb, "audit", audit_steps, AUDIT_NSTEPS);
	if (!ret && ver == 0)
		ret = seal_legacy(sdb);
	if (!ret)
		ret = statedb_migrate(sdb, "audit_uplink", ship_steps, SHIP_NSTEPS);
	return ret;
}

int audit_shipped(struct statedb *sdb, int64_t *idp)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = audit_open(sdb);

	*idp = 0;
	if (ret)
		return ret;
	db = statedb_lock(sdb);
	rc = sqlite3_prepare_v2(db, "SELECT id FROM audit_shipped", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*idp = sqlite3_column_int64(st, 0);
	else
		ret = db_fail(db, "ship cursor");
	sqlite3_finalize(st);
	statedb_unlock(sdb);
	return ret;
}

int audit_ship_advance(struct sqlite3 *db, void *arg)
{
	const struct audit_ship *s = arg;
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (sqlite3_prepare_v2(db, "UPDATE audit_shipped SET id = ?1 WHERE id = ?2", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(db, "ship cursor");
	sqlite3_bind_int64(st, 1, s->to);
	sqlite3_bind_int64(st, 2, s->from);
	if (sqlite3_step(st) != SQLITE_DONE) {
		ret = db_fail(db, "ship cursor");
	} else if (sqlite3_changes(db) != 1) {
		log_err("audit: ship cursor is no longer at row %lld; nothing shipped",
			(long long)s->from);
		ret = -ESTALE;
	}
	sqlite3_finalize(st);
	return ret;
}

static int insert_body(sqlite3 *db, void *arg)
{
	return insert_locked(db, arg);
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
	int ret;

	ret = audit_open(sdb);
	if (ret)
		return -EIO;
	ret = sql_txn(statedb_lock(sdb), "audit: record", insert_body, &r);
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

/* Does @r follow @prev? 0: yes. -EBADMSG: no, *whyp says why. -ENOKEY,
 * -ENOMEM: cannot tell. *keyed_seen: a keyed row came before (no row may
 * be unkeyed after one). */
static int row_check(const struct audit_row *r, bool chained, const uint8_t prev[AUDIT_HASH_LEN],
		     bool *keyed_seen, const char **whyp)
{
	uint8_t h[AUDIT_HASH_LEN];
	int ret;

	*whyp = NULL;
	if (!chained)
		*whyp = "not chained";
	else if (memcmp(r->prev_hash, prev, AUDIT_HASH_LEN))
		*whyp = "chain broken: a row before it was deleted, inserted or moved";
	else if (!r->keyed && (*keyed_seen || (chain_key.set && r->id >= chain_key.first_id)))
		*whyp = "not keyed: rewritten without the audit key";
	if (*whyp)
		return -EBADMSG;
	ret = row_hash(r, h);
	if (ret)
		return ret;
	if (memcmp(h, r->hash, AUDIT_HASH_LEN)) {
		*whyp = r->keyed ? "content changed, or written under another key"
				 : "content changed";
		return -EBADMSG;
	}
	*keyed_seen = *keyed_seen || r->keyed;
	return 0;
}

int audit_verify(struct statedb *sdb, struct audit_verify_report *rep)
{
	uint8_t prev[AUDIT_HASH_LEN];
	sqlite3_stmt *st = NULL;
	bool keyed_seen = false;
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
		ret = row_check(&r, chained, prev, &keyed_seen, &rep->why);
		if (ret) {
			rep->first_bad_id = r.id;
			if (ret == -EBADMSG)
				log_err("audit: row %lld: %s", (long long)r.id, rep->why);
			else if (ret == -ENOKEY)
				log_err("audit: row %lld is keyed, and no %s is loaded",
					(long long)r.id, AUDIT_KEY_NAME);
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

void audit_key_set(const uint8_t *key, int64_t first_id)
{
	mbedtls_platform_zeroize(&chain_key, sizeof(chain_key));
	if (!key)
		return;
	memcpy(chain_key.key, key, AUDIT_KEY_LEN);
	chain_key.first_id = first_id;
	chain_key.set = true;
}

/* First use: a new key whose first keyed row is the marker chained after
 * the rows already there, in one transaction; the file is made inside it,
 * so no other writer gets a row in between. -EEXIST: another process made
 * the key first. */
struct key_ctx {
	const char *dir, *path;
	uint8_t key[AUDIT_KEY_LEN];
	int64_t tail;
};

static int key_body(sqlite3 *db, void *arg)
{
	struct key_ctx *c = arg;
	uint8_t tail_hash[AUDIT_HASH_LEN];
	struct audit_row r = { .actor = "system",
			       .action = "audit-chain-keyed",
			       .object = "audit" };
	char detail[160];
	int ret;

	ret = tail_get(db, &c->tail, tail_hash);
	if (!ret && getrandom(c->key, sizeof(c->key), 0) != (ssize_t)sizeof(c->key)) {
		log_err("audit: getrandom: %s", strerror(errno));
		ret = -EIO;
	}
	if (!ret)
		ret = audit__key_create(c->dir, c->path, c->key, c->tail + 1);
	if (ret)
		return ret;
	audit_key_set(c->key, c->tail + 1);
	snprintf(detail, sizeof(detail),
		 "HMAC-SHA256 from this row on; rows 1-%lld stay on the SHA-256 chain, "
		 "anchored here",
		 (long long)c->tail);
	r.detail = detail;
	r.ts_ms = time_now_ms();
	return insert_locked(db, &r);
}

/* First use: a new key whose first keyed row is the marker chained after
 * the rows already there, in one transaction; the file is made inside it,
 * so no other writer gets a row in between. -EEXIST: another process made
 * the key first. */
static int key_start(struct statedb *sdb, const char *dir, const char *path)
{
	struct key_ctx c = { .dir = dir, .path = path };
	int ret = sql_txn(statedb_lock(sdb), "audit: key", key_body, &c);

	statedb_unlock(sdb);
	mbedtls_platform_zeroize(c.key, sizeof(c.key));
	if (!ret)
		log_notice("audit: chain keyed from row %lld (%s)", (long long)c.tail + 1, path);
	return ret;
}

int audit_key_open(struct statedb *sdb, const char *state_dir)
{
	uint8_t key[AUDIT_KEY_LEN];
	char path[PATH_CAP];
	int64_t first = 0;
	int ret;

	if (snprintf(path, sizeof(path), "%s/" AUDIT_KEY_NAME, state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = audit_open(sdb);
	if (ret)
		return ret;
	ret = audit__key_read(path, key, &first);
	if (ret == -ENOENT) {
		ret = key_start(sdb, state_dir, path);
		if (ret == -EEXIST) /* lost the race: the winner's key */
			ret = audit__key_read(path, key, &first);
		else if (!ret)
			return 0;
	}
	if (!ret)
		audit_key_set(key, first);
	mbedtls_platform_zeroize(key, sizeof(key));
	return ret;
}
