// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * statedb_test - storage/statedb.h: statedb_quick_check() finds a b-tree
 * page damaged in the middle of state.db under a sound header (which
 * statedb_check() cannot see), names what quick_check said, and the
 * next statedb_open() moves that file aside (STATEDB_REPLACED).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	testutil_mkdtemp(fx->dir, sizeof(fx->dir), "statedb_test");
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

static int64_t one_int(struct fx *fx, const char *q)
{
	sqlite3 *c = statedb_lock(fx->db);
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(c, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	statedb_unlock(fx->db);
	return v;
}

/* A table of several pages, all in the main file (checkpointed): its
 * root page is an interior b-tree page in the middle of the file. */
static int64_t fill(struct fx *fx)
{
	sqlite3 *c = statedb_lock(fx->db);

	assert_int_equal(
		sqlite3_exec(c,
			     "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
			     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
			     " WHERE i < 400) INSERT INTO t(v) SELECT printf('%0200d', i)"
			     " FROM n;"
			     "PRAGMA wal_checkpoint(TRUNCATE);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	statedb_unlock(fx->db);
	return one_int(fx, "SELECT rootpage FROM sqlite_schema WHERE name = 't'");
}

static void test_sound_file_passes(void **state)
{
	struct fx *fx = *state;
	char why[128] = "x";

	fill(fx);
	assert_int_equal(statedb_quick_check(fx->db, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void test_middle_page_damage_found(void **state)
{
	struct fx *fx = *state;
	int64_t root = fill(fx), psize = one_int(fx, "PRAGMA page_size");
	char path[128], why[128], junk[512];
	enum statedb_origin o;
	struct dirent *de;
	int fd, aside = 0;
	DIR *d;

	assert_true(root > 1);
	snprintf(path, sizeof(path), "%s/state.db", fx->dir);
	memset(junk, 0xa5, sizeof(junk));
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	/* The page's own header and cell pointers, not the file's header. */
	assert_int_equal(pwrite(fd, junk, sizeof(junk), (root - 1) * psize), sizeof(junk));
	close(fd);
	/* The cheap check sees a sound header; quick_check does not. */
	assert_int_equal(statedb_check(fx->db), 0);
	assert_int_equal(statedb_quick_check(fx->db, why, sizeof(why)), -EBADMSG);
	assert_true(why[0] != '\0');
	assert_null(strchr(why, '\n')); /* one log line */
	print_message("quick_check said: %s\n", why);
	statedb_abandon(fx->db);
	statedb_close(fx->db);
	fx->db = NULL;
	snprintf(path, sizeof(path), "%s/state.db.damaged", fx->dir);
	assert_int_equal(access(path, F_OK), 0);
	/* The next open moves it aside and starts a new file. */
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(statedb_take_origin(fx->db, &o), 0);
	assert_int_equal(o, STATEDB_REPLACED);
	d = opendir(fx->dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		aside += !strncmp(de->d_name, "state.db.corrupt-", 17);
	closedir(d);
	assert_int_equal(aside, 1);
}

/* A -wal damaged in a frame's header: SQLite's recovery at the next
 * open drops that frame and the ones after it without an error, and the
 * file then passes quick_check. The mark statedb_abandon() leaves makes
 * that open move it aside all the same (here on a sound file: the mark
 * alone decides). */
static void test_abandoned_file_moved_aside(void **state)
{
	struct fx *fx = *state;
	enum statedb_origin o;

	fill(fx);
	assert_int_equal(statedb_take_origin(fx->db, &o), 0);
	statedb_abandon(fx->db);
	statedb_close(fx->db);
	fx->db = NULL;
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(statedb_take_origin(fx->db, &o), 0);
	assert_int_equal(o, STATEDB_REPLACED);
	assert_int_equal(one_int(fx, "SELECT count(*) FROM sqlite_schema WHERE name = 't'"), 0);
	/* Taken once: the open after that is an ordinary one. */
	statedb_close(fx->db);
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(statedb_take_origin(fx->db, &o), 0);
	assert_int_equal(o, STATEDB_OPENED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sound_file_passes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_middle_page_damage_found, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_file_moved_aside, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
