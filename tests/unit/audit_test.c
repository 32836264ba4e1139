// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * audit_test - the hash-chained audit log (firmware/audit.h): A1 chaining
 * across two connections, A2 detection of edited, deleted, inserted,
 * swapped and unchained rows (the first bad row is named), A3 what a
 * truncated tail looks like, and chaining of rows written before the
 * chain existed. Tampering is done with plain SQL on the database file,
 * as someone with the file would.
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
#include <unistd.h>

#include "firmware/audit.h"
#include "lib/log.h"
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
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

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

	/* What the core table held before this module migrated it. */
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
		T(test_list_after),
#undef T
	};

	log_init("audit_test", LOG_DEST_PLAIN, getenv("AUDIT_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
