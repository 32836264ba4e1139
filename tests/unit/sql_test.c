// SPDX-License-Identifier: GPL-2.0-or-later
/* lib/sql: one statement in one call, and one transaction around a
 * caller's statements, on a real in-memory SQLite. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lib/sql.h"

struct rows {
	int n, stop_at;
	int64_t sum;
	char last[32];
	int nulls;
};

static int row_fn(void *arg, sqlite3_stmt *st)
{
	struct rows *r = arg;
	const unsigned char *t = sqlite3_column_text(st, 1);

	r->n++;
	r->sum += sqlite3_column_int64(st, 0);
	if (t)
		snprintf(r->last, sizeof(r->last), "%s", (const char *)t);
	else
		r->nulls++;
	return r->n == r->stop_at ? 7 : 0;
}

static void test_exec(void **state)
{
	static const uint8_t blob[3] = { 1, 0, 2 };
	struct rows r = { 0 };
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sql_exec(db, "t: create", "CREATE TABLE t (i INTEGER, s TEXT, b BLOB)",
				  NULL, NULL, ""),
			 0);
	assert_int_equal(sql_exec(db, "t: insert", "INSERT INTO t VALUES (?, ?, ?)", NULL, NULL,
				  "itb", (int64_t)5000000000, "five", blob, sizeof(blob)),
			 0);
	assert_int_equal(sql_exec(db, "t: insert", "INSERT INTO t VALUES (?, ?, NULL)", NULL, NULL,
				  "it", (int64_t)2, (const char *)NULL),
			 0);
	assert_int_equal(sqlite3_changes(db), 1);
	/* Every row reaches the callback; the blob went in whole. */
	assert_int_equal(
		sql_exec(db, "t: read", "SELECT i, s FROM t ORDER BY i DESC", row_fn, &r, NULL), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.sum, 5000000002);
	assert_string_equal(r.last, "five");
	assert_int_equal(r.nulls, 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(sql_exec(db, "t: blob", "SELECT length(b), s FROM t WHERE b = ?", row_fn,
				  &r, "b", blob, sizeof(blob)),
			 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.sum, 3);
	/* The callback stops the walk; its value comes back. */
	memset(&r, 0, sizeof(r));
	r.stop_at = 1;
	assert_int_equal(sql_exec(db, "t: read", "SELECT i, s FROM t", row_fn, &r, ""), 7);
	assert_int_equal(r.n, 1);
	/* Failures: bad SQL, a parameter too many, a bad format letter. */
	assert_int_equal(sql_exec(db, "t: bad", "SELEKT 1", NULL, NULL, ""), -EIO);
	assert_int_equal(
		sql_exec(db, "t: range", "SELECT ?", NULL, NULL, "ii", (int64_t)1, (int64_t)2),
		-EIO);
	assert_int_equal(sql_exec(db, "t: fmt", "SELECT ?", NULL, NULL, "x", 1), -EINVAL);
	/* A constraint failure is -EIO and leaves nothing behind. */
	assert_int_equal(
		sql_exec(db, "t: create", "CREATE TABLE u (k TEXT PRIMARY KEY)", NULL, NULL, ""),
		0);
	assert_int_equal(
		sql_exec(db, "u: insert", "INSERT INTO u VALUES (?)", NULL, NULL, "t", "a"), 0);
	assert_int_equal(
		sql_exec(db, "u: insert", "INSERT INTO u VALUES (?)", NULL, NULL, "t", "a"), -EIO);
	assert_int_equal(sqlite3_close(db), SQLITE_OK); /* nothing left unfinalized */
}

/* Inserts @arg's value twice: the second fails on the primary key when
 * the value is "dup". */
static int txn_body(sqlite3 *db, void *arg)
{
	const char *v = arg;
	int ret = sql_exec(db, "t: insert", "INSERT INTO t VALUES (?)", NULL, NULL, "t", v);

	if (!ret && !strcmp(v, "dup"))
		ret = sql_exec(db, "t: insert", "INSERT INTO t VALUES (?)", NULL, NULL, "t", v);
	return ret;
}

static int count_fn(void *arg, sqlite3_stmt *st)
{
	*(int64_t *)arg = sqlite3_column_int64(st, 0);
	return 0;
}

static void test_txn(void **state)
{
	int64_t n = -1;
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(
		sql_exec(db, "t: create", "CREATE TABLE t (k TEXT PRIMARY KEY)", NULL, NULL, ""),
		0);
	assert_int_equal(sql_txn(db, "t", txn_body, "one"), 0);
	/* The second insert fails: the first is rolled back with it. */
	assert_int_equal(sql_txn(db, "t", txn_body, "dup"), -EIO);
	assert_int_equal(sql_exec(db, "t: count", "SELECT count(*) FROM t", count_fn, &n, ""), 0);
	assert_int_equal(n, 1);
	assert_true(sqlite3_get_autocommit(db)); /* no transaction left open */
	/* Inside an open transaction BEGIN fails: -EIO, the body never runs. */
	assert_int_equal(sql_exec(db, "begin", "BEGIN", NULL, NULL, ""), 0);
	assert_int_equal(sql_txn(db, "t", txn_body, "two"), -EIO);
	assert_int_equal(sql_exec(db, "rollback", "ROLLBACK", NULL, NULL, ""), 0);
	assert_int_equal(sql_exec(db, "t: count", "SELECT count(*) FROM t", count_fn, &n, ""), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_txn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
