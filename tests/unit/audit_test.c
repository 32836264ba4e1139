// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * audit_test - the hash-chained audit log (firmware/audit.h): A1 chaining
 * across two connections, A2 detection of edited, deleted, inserted,
 * swapped and unchained rows (the first bad row is named), A3 what a
 * truncated tail looks like, chaining of rows written before the chain
 * existed, and A4, the keyed chain: a chain recomputed without the key
 * (unkeyed SHA-256, or HMAC under another key) does not verify, the rows
 * from before the key are anchored by the first keyed row, and a wrong key
 * fails. Tampering is done with plain SQL on the database file, as
 * someone with the file would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "firmware/audit.h"
#include "lib/log.h"
#include "net/outbox.h"
#include "storage/statedb.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[64];
	struct statedb *db;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_mkdtemp(fx->dir, sizeof(fx->dir), "audit_test");
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	audit_key_set(NULL, 0); /* the key is process-wide */
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	audit_key_set(NULL, 0);
	statedb_close(fx->db);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

/* Plain SQL on the file, through the module's own connection. */
static void sql(struct fx *fx, const char *q)
{
	sqlite3 *db = statedb_lock(fx->db);
	int rc = sqlite3_exec(db, q, NULL, NULL, NULL);

	statedb_unlock(fx->db);
	assert_int_equal(rc, SQLITE_OK);
}

/* Row 1 is "audit-chain-started"; rows 2..n+1 are "act-0" ... */
static void put_rows(struct fx *fx, int n)
{
	char action[16], detail[32];

	for (int i = 0; i < n; i++) {
		snprintf(action, sizeof(action), "act-%d", i);
		snprintf(detail, sizeof(detail), "detail %d", i);
		assert_int_equal(
			audit_record(fx->db, 1700000000000LL + i, "alice", action, "cam1", detail),
			0);
	}
}

static void expect_bad(struct fx *fx, int64_t id, const char *why_part)
{
	struct audit_verify_report rep;

	assert_int_equal(audit_verify(fx->db, &rep), -EBADMSG);
	assert_int_equal(rep.first_bad_id, id);
	assert_non_null(strstr(rep.why, why_part));
}

static void test_chain_intact(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;
	uint8_t h[AUDIT_HASH_LEN];
	int64_t id;

	put_rows(fx, 5);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	assert_int_equal(rep.rows, 6);
	assert_int_equal(rep.first_bad_id, 0);
	assert_null(rep.why);
	assert_int_equal(audit_head(fx->db, &id, h), 0);
	assert_int_equal(id, 6);
}

static void test_edit_detected(void **state)
{
	struct fx *fx = *state;

	put_rows(fx, 5);
	sql(fx, "UPDATE audit SET detail = 'nothing happened' WHERE id = 3");
	expect_bad(fx, 3, "content changed");
}

static void test_edit_with_fake_hash_detected(void **state)
{
	struct fx *fx = *state;

	put_rows(fx, 5);
	/* The editor also copies the next row's hash: the chain breaks there. */
	sql(fx, "UPDATE audit SET actor = 'mallory' WHERE id = 4");
	sql(fx, "UPDATE audit SET hash = (SELECT hash FROM audit WHERE id = 5) WHERE id = 4");
	expect_bad(fx, 4, "content changed");
}

static void test_delete_detected(void **state)
{
	struct fx *fx = *state;

	put_rows(fx, 5);
	sql(fx, "DELETE FROM audit WHERE id = 3");
	expect_bad(fx, 4, "chain broken");
}

static void test_swap_detected(void **state)
{
	struct fx *fx = *state;

	put_rows(fx, 5);
	/* Swap rows 3 and 4 entirely (ids too): order by id sees 4's content at 3. */
	sql(fx, "UPDATE audit SET id = -3 WHERE id = 3;"
		"UPDATE audit SET id = 3 WHERE id = 4;"
		"UPDATE audit SET id = 4 WHERE id = -3");
	expect_bad(fx, 3, "");
}

static void test_insert_detected(void **state)
{
	struct fx *fx = *state;

	put_rows(fx, 3);
	sql(fx, "INSERT INTO audit(id, ts_ms, actor, action, object, detail, prev_hash, hash)"
		" SELECT 100, ts_ms, actor, action, object, detail, prev_hash, hash"
		" FROM audit WHERE id = 2");
	put_rows(fx, 1); /* chained after the fake row 100 */
	expect_bad(fx, 100, "chain broken");
}

static void test_unchained_detected(void **state)
{
	struct fx *fx = *state;

	put_rows(fx, 4);
	sql(fx, "UPDATE audit SET hash = NULL WHERE id = 2");
	expect_bad(fx, 2, "not chained");
}

static void test_truncated_tail_needs_anchor(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;
	uint8_t anchor[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	int64_t anchor_id, id;

	put_rows(fx, 5);
	assert_int_equal(audit_head(fx->db, &anchor_id, anchor), 0);
	sql(fx, "DELETE FROM audit WHERE id >= 5");
	/* A3: the shorter chain is still valid ... */
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	/* ... and only the anchor tells. */
	assert_int_equal(audit_head(fx->db, &id, h), 0);
	assert_true(id < anchor_id);
	assert_memory_not_equal(h, anchor, AUDIT_HASH_LEN);
}

static void test_two_connections_one_chain(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;
	struct statedb *other;

	assert_int_equal(statedb_open(fx->dir, &other), 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(audit_record(i % 2 ? other : fx->db, 0, "system", "tick", "", ""),
				 0);
	}
	statedb_close(other);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	assert_int_equal(rep.rows, 11);
}

static void test_legacy_rows_chained(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;

	/* What the core table held before this module migrated it: a
	 * state.db made by an older build, whose core schema created the
	 * first form (this module does now, when it is missing). */
	sql(fx, "CREATE TABLE audit (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
		" actor TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL,"
		" detail TEXT NOT NULL)");
	sql(fx, "INSERT INTO audit(ts_ms, actor, action, object, detail)"
		" VALUES (1, 'system', 'ring-created', '/r', ''),"
		" (2, 'system', 'camera-started', 'a', '')");
	assert_int_equal(audit_open(fx->db), 0);
	put_rows(fx, 2);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	assert_int_equal(rep.rows, 2 + 1 + 2);
	/* Chained once only: a row un-chained later stays bad. */
	sql(fx, "UPDATE audit SET prev_hash = NULL, hash = NULL WHERE id = 1");
	assert_int_equal(audit_open(fx->db), 0);
	expect_bad(fx, 1, "not chained");
}

static int count_cb(void *arg, int ncol, char **vals, char **names)
{
	(void)ncol;
	(void)names;
	*(int *)arg = (int)strtol(vals[0], NULL, 10);
	return 0;
}

/* The audit table is this module's alone: a new state.db has none until
 * audit_open() makes it (first form, then the module's steps). */
static void test_table_made_here(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;
	sqlite3 *db;
	int n = -1;

	db = statedb_lock(fx->db);
	assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM sqlite_master WHERE name = 'audit'",
				      count_cb, &n, NULL),
			 SQLITE_OK);
	statedb_unlock(fx->db);
	assert_int_equal(n, 0);
	put_rows(fx, 2);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	assert_int_equal(rep.rows, 1 + 2);
}

/* ---- the keyed chain (A4) ---- */

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void md_feed(mbedtls_md_context_t *md, bool mac, const void *p, size_t n)
{
	if (mac)
		mbedtls_md_hmac_update(md, p, n);
	else
		mbedtls_md_update(md, p, n);
}

static void md_str(mbedtls_md_context_t *md, bool mac, const char *s)
{
	uint8_t len[4];

	put_le(len, strlen(s), 4);
	md_feed(md, mac, len, 4);
	md_feed(md, mac, s, strlen(s));
}

/* What someone with the file but not the key does after editing a row:
 * recompute the hashes of rows @from to @to (0: the last), by the format
 * in audit.h, with plain SHA-256 (@key NULL) or HMAC under a key of their
 * own; @keyed is what the rows' keyed column is set to. */
static void rechain(struct fx *fx, int64_t from, int64_t to, const uint8_t *key, int keyed)
{
	sqlite3 *db = statedb_lock(fx->db);
	sqlite3_stmt *st = NULL, *up = NULL;
	uint8_t prev[32] = { 0 }, h[32], num[16];
	mbedtls_md_context_t md;
	bool mac = key != NULL;

	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT id, ts_ms, actor, action, object, detail, hash"
					    " FROM audit ORDER BY id",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "UPDATE audit SET prev_hash = ?, hash = ?, keyed = ?"
					    " WHERE id = ?",
					    -1, &up, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (id < from || (to && id > to)) {
			memcpy(prev, sqlite3_column_blob(st, 6), 32);
			continue;
		}
		put_le(num, (uint64_t)id, 8);
		put_le(num + 8, (uint64_t)sqlite3_column_int64(st, 1), 8);
		mbedtls_md_init(&md);
		assert_int_equal(
			mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), mac),
			0);
		if (mac)
			mbedtls_md_hmac_starts(&md, key, 32);
		else
			mbedtls_md_starts(&md);
		md_feed(&md, mac, prev, 32);
		md_feed(&md, mac, num, 16);
		for (int c = 2; c <= 5; c++)
			md_str(&md, mac, (const char *)sqlite3_column_text(st, c));
		if (mac)
			mbedtls_md_hmac_finish(&md, h);
		else
			mbedtls_md_finish(&md, h);
		mbedtls_md_free(&md);
		sqlite3_bind_blob(up, 1, prev, 32, SQLITE_TRANSIENT);
		sqlite3_bind_blob(up, 2, h, 32, SQLITE_TRANSIENT);
		sqlite3_bind_int(up, 3, keyed);
		sqlite3_bind_int64(up, 4, id);
		assert_int_equal(sqlite3_step(up), SQLITE_DONE);
		sqlite3_reset(up);
		memcpy(prev, h, 32);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	statedb_unlock(fx->db);
}

static void key_path(struct fx *fx, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/" AUDIT_KEY_NAME, fx->dir);
}

static void test_keyed_untouched_verifies(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;
	struct stat st;
	char path[128];

	assert_int_equal(audit_key_open(fx->db, fx->dir), 0);
	put_rows(fx, 5);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	assert_int_equal(rep.rows, 7); /* chain-started, chain-keyed, 5 */
	key_path(fx, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 48);
	/* Opened again (another process, a restart): the same key, no
	 * second "audit-chain-keyed" row. */
	assert_int_equal(audit_key_open(fx->db, fx->dir), 0);
	put_rows(fx, 1);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	assert_int_equal(rep.rows, 8);
}

/* The hostile tester's edit: change a row, recompute the SHA-256 chain
 * from there. It verified before the chain was keyed; now it fails at
 * the edited row, however the keyed flag is set, and with HMAC under a
 * key of the editor's own too. */
static void test_recomputed_chain_fails(void **state)
{
	static const uint8_t mallory_key[32] = { 0x4d, 0x61, 0x6c };
	struct fx *fx = *state;

	assert_int_equal(audit_key_open(fx->db, fx->dir), 0);
	put_rows(fx, 5);
	sql(fx, "UPDATE audit SET detail = 'nothing happened' WHERE id = 4");
	rechain(fx, 4, 0, NULL, 0);
	expect_bad(fx, 4, "not keyed");
	rechain(fx, 4, 0, NULL, 1);
	expect_bad(fx, 4, "content changed, or written under another key");
	rechain(fx, 4, 0, mallory_key, 1);
	expect_bad(fx, 4, "content changed, or written under another key");
	/* The whole chain rewritten unkeyed (a downgrade): fails at the first
	 * keyed row, which the key file names. */
	rechain(fx, 1, 0, NULL, 0);
	expect_bad(fx, 2, "not keyed");
}

static void test_wrong_key_fails(void **state)
{
	static const uint8_t other[32] = { 1, 2, 3 };
	struct fx *fx = *state;
	struct audit_verify_report rep;

	assert_int_equal(audit_key_open(fx->db, fx->dir), 0);
	put_rows(fx, 3);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	audit_key_set(other, 2);
	expect_bad(fx, 2, "written under another key");
	/* No key at all: keyed rows cannot be checked, and it says so. */
	audit_key_set(NULL, 0);
	assert_int_equal(audit_verify(fx->db, &rep), -ENOKEY);
	assert_int_equal(rep.first_bad_id, 2);
	/* The right key again. */
	assert_int_equal(audit_key_open(fx->db, fx->dir), 0);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
}

/* Rows from before the key keep their SHA-256 hashes (central has
 * copies); the first keyed row anchors them. */
static void test_unkeyed_rows_anchored_by_key(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;

	put_rows(fx, 3); /* rows 1-4, unkeyed */
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	/* Before the key: the tester's edit passed. */
	sql(fx, "UPDATE audit SET detail = 'nothing happened' WHERE id = 3");
	rechain(fx, 3, 0, NULL, 0);
	assert_int_equal(audit_verify(fx->db, &rep), 0);

	assert_int_equal(audit_key_open(fx->db, fx->dir), 0); /* row 5: keyed */
	put_rows(fx, 2);
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	assert_int_equal(rep.rows, 7);
	/* The same edit now: recomputing the unkeyed rows breaks the link
	 * into the first keyed row ... */
	sql(fx, "UPDATE audit SET detail = 'edited again' WHERE id = 2");
	rechain(fx, 2, 4, NULL, 0);
	expect_bad(fx, 5, "chain broken");
	/* ... and recomputing on through the keyed rows unkeys them. */
	rechain(fx, 2, 0, NULL, 0);
	expect_bad(fx, 5, "not keyed");
}

static void test_bad_key_file_kept(void **state)
{
	struct fx *fx = *state;
	char path[128], junk[48] = "not a key";
	FILE *f;

	key_path(fx, path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	assert_int_equal(audit_key_open(fx->db, fx->dir), -EBADMSG);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	assert_string_equal(junk, "not a key");
}

struct seen {
	int n;
	int64_t last;
	char first_action[32];
};

static int collect(void *arg, const struct audit_row *r)
{
	struct seen *s = arg;

	if (!s->n)
		snprintf(s->first_action, sizeof(s->first_action), "%s", r->action);
	s->n++;
	assert_true(r->id > s->last);
	s->last = r->id;
	return 0;
}

static void test_list_after(void **state)
{
	struct fx *fx = *state;
	struct seen s = { 0 };

	put_rows(fx, 6);
	assert_int_equal(audit_list(fx->db, 2, 3, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.first_action, "act-1");
	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_list(fx->db, 0, 0, collect, &s), 0);
	assert_int_equal(s.n, 7);
}

static int64_t outbox_rows(struct fx *fx)
{
	sqlite3 *db = statedb_lock(fx->db);
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	statedb_unlock(fx->db);
	return n;
}

/* The ship cursor moves with the outbox rows of what it passes, in their
 * transaction, and only from where the shipper read it: a stale cursor
 * commits neither the cursor nor the rows. */
static void test_ship_cursor_with_outbox(void **state)
{
	struct fx *fx = *state;
	struct outbox_item it[2] = {
		{ .prio = OUTBOX_URGENT, .kind = OUTBOX_EVENT, .path = "events/a.json" },
		{ .prio = OUTBOX_URGENT, .kind = OUTBOX_EVENT, .path = "events/b.json" },
	};
	struct audit_ship mark = { .from = 0, .to = 2 };
	struct outbox *ob;
	int64_t cur = -1;

	it[0].body = it[1].body = (char *)"{}";
	put_rows(fx, 4);
	assert_int_equal(outbox_open(fx->db, &ob), 0);
	assert_int_equal(audit_shipped(fx->db, &cur), 0);
	assert_int_equal(cur, 0);
	assert_int_equal(outbox_put_many(ob, it, 2, audit_ship_advance, &mark), 0);
	assert_int_equal(audit_shipped(fx->db, &cur), 0);
	assert_int_equal(cur, 2);
	assert_int_equal(outbox_rows(fx), 2);
	/* From 0 again (a second shipper, a repeat): refused, all of it. */
	snprintf(it[0].path, sizeof(it[0].path), "events/c.json");
	snprintf(it[1].path, sizeof(it[1].path), "events/d.json");
	mark.to = 4;
	assert_int_equal(outbox_put_many(ob, it, 2, audit_ship_advance, &mark), -ESTALE);
	assert_int_equal(audit_shipped(fx->db, &cur), 0);
	assert_int_equal(cur, 2);
	assert_int_equal(outbox_rows(fx), 2);
	mark.from = 2;
	assert_int_equal(outbox_put_many(ob, it, 2, audit_ship_advance, &mark), 0);
	assert_int_equal(audit_shipped(fx->db, &cur), 0);
	assert_int_equal(cur, 4);
	assert_int_equal(outbox_rows(fx), 4);
	outbox_close(ob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_chain_intact),
		T(test_edit_detected),
		T(test_edit_with_fake_hash_detected),
		T(test_delete_detected),
		T(test_swap_detected),
		T(test_insert_detected),
		T(test_unchained_detected),
		T(test_truncated_tail_needs_anchor),
		T(test_two_connections_one_chain),
		T(test_legacy_rows_chained),
		T(test_table_made_here),
		T(test_list_after),
		T(test_ship_cursor_with_outbox),
		T(test_keyed_untouched_verifies),
		T(test_recomputed_chain_fails),
		T(test_wrong_key_fails),
		T(test_unkeyed_rows_anchored_by_key),
		T(test_bad_key_file_kept),
#undef T
	};

	log_init("audit_test", LOG_DEST_PLAIN, getenv("AUDIT_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
